/* Node identities (issue 11): the signed statement of an id proof against known answers
 * (computed apart from this code, with Python's cryptography package), its checks, and the core
 * taking only nodes that prove their ids, once per neighbour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <sodium.h>

#include "dht/idproof.h"
#include "dht/proof.h"
#include "tests/unit/tinynet.h"

static uint8_t seed[32], pk[32], sk[64];

static int setup(void **state)
{
	(void)state;
	for (int i = 0; i < 32; i++)
		seed[i] = (uint8_t)i;
	return crypto_sign_seed_keypair(pk, sk, seed);
}

static void hex(const char *h, uint8_t *out, size_t n)
{
	assert_int_equal(sodium_hex2bin(out, n, h, strlen(h), NULL, NULL, NULL), 0);
}

/* Nonce a0..af, from 127.0.0.1:4000 to id 01..14 at 127.0.0.2:4001, 160-bit ring. */
static struct idproof_claim claim(void)
{
	struct idproof_claim c = { .bits = 160 };
	for (int i = 0; i < DHT_PROOF_NONCE_LEN; i++)
		c.nonce[i] = (uint8_t)(0xa0 + i);
	c.challenger = (struct dht_addr){ .family = 4, .ip = { 127, 0, 0, 1 }, .port = 4000 };
	c.prover.addr = (struct dht_addr){ .family = 4, .ip = { 127, 0, 0, 2 }, .port = 4001 };
	for (int i = 0; i < ID_BYTES; i++)
		c.prover.id.b[i] = (uint8_t)(i + 1);
	return c;
}

static void test_known_answers(void **state)
{
	(void)state;
	struct idproof_claim c = claim();
	uint8_t buf[IDPROOF_MAX], want[69], sig[64], want_sig[64], want_pk[32];
	hex("6468746e6f64652069642070726f6f662031a0a0a1a2a3a4a5a6a7a8a9aaabacadaeaf047f0000010fa0"
	    "0102030405060708090a0b0c0d0e0f1011121314047f0000020fa1",
	    want, sizeof want);
	assert_int_equal(idproof_encode(&c, buf), sizeof want);
	assert_memory_equal(buf, want, sizeof want);
	hex("03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8", want_pk, 32);
	assert_memory_equal(pk, want_pk, 32);
	hex("076846fa9995f6a4df187f261e42dfa83e5f5426c4b62c487ee12830f71514818cffd8485a394a630ebdcc"
	    "f973d229b00d08ee0ce75e0eb24290cd9091ffed0a",
	    want_sig, sizeof want_sig);
	assert_int_equal(idproof_sign(&c, sk, sig), 0);
	assert_memory_equal(sig, want_sig, sizeof sig);
	/* The open ring's id of this key: BLAKE2b-160 of it. */
	struct dht_id id;
	uint8_t want_id[20];
	hex("f0a594d2978da8803f696325ea0aaa5045cf2e94", want_id, sizeof want_id);
	memcpy(id.b, want_id, sizeof want_id);
	assert_true(idproof_id_ok(&id, pk, 160));
	/* IPv6 and no-address encode too; an unknown family does not. */
	c.challenger.family = 6;
	assert_int_equal(idproof_encode(&c, buf), (int)sizeof want + 12);
	c.prover.addr.family = 0;
	assert_int_equal(idproof_encode(&c, buf), (int)sizeof want + 12 - 4);
	c.prover.addr.family = 5;
	assert_int_equal(idproof_encode(&c, buf), -1);
	assert_int_equal(idproof_sign(&c, sk, sig), -1);
}

static void test_checks(void **state)
{
	(void)state;
	struct idproof_claim c = claim();
	uint8_t sig[64];
	assert_int_equal(idproof_sign(&c, sk, sig), 0);
	/* A chosen id is taken only where chosen ids are trusted. */
	assert_int_equal(idproof_check(&c, pk, sig, true), IDPROOF_OK);
	assert_int_equal(idproof_check(&c, pk, sig, false), IDPROOF_NOT_KEYS);
	/* The key's own id passes in an open ring. */
	id_from_key(&c.prover.id, pk, sizeof pk, 160);
	assert_int_equal(idproof_sign(&c, sk, sig), 0);
	assert_int_equal(idproof_check(&c, pk, sig, false), IDPROOF_OK);
	/* Change any bound field and the signature no longer checks. */
	struct idproof_claim x = c;
	x.nonce[3] ^= 1;
	assert_int_equal(idproof_check(&x, pk, sig, true), IDPROOF_BAD_SIG);
	x = c; /* a relay: the holder signed for the impostor, who asked from elsewhere */
	x.challenger.port++;
	assert_int_equal(idproof_check(&x, pk, sig, true), IDPROOF_BAD_SIG);
	x = c;
	x.prover.addr.ip[3] = 9;
	assert_int_equal(idproof_check(&x, pk, sig, true), IDPROOF_BAD_SIG);
	x = c;
	x.bits = 32;
	assert_int_equal(idproof_check(&x, pk, sig, true), IDPROOF_BAD_SIG);
	/* Another key's signature over the same claim. */
	uint8_t pk2[32], sk2[64], sig2[64];
	crypto_sign_keypair(pk2, sk2);
	assert_int_equal(idproof_sign(&c, sk2, sig2), 0);
	assert_int_equal(idproof_check(&c, pk, sig2, true), IDPROOF_BAD_SIG);
	assert_true(idproof_pair_ok(pk, sk));
	assert_false(idproof_pair_ok(pk2, sk));
	assert_string_equal(idproof_result_str(IDPROOF_NOT_KEYS),
			    "its id is not the hash of the key it signed with");
}

/* dht_new() takes no key pair put together wrong, and in an open ring no id but the key's. */
static void test_config(void **state)
{
	(void)state;
	struct net *net = net_new();
	net->n[0].net = net;
	struct dht_config cfg;
	tiny_config(&cfg, 4);
	addr_of(0, &cfg.self.addr);
	assert_null(dht_new(&cfg, &env, &net->n[0])); /* no key */
	uint8_t s[32] = { 1 };
	dht_config_seed_key(&cfg, s);
	struct dht *d = dht_new(&cfg, &env, &net->n[0]);
	assert_non_null(d);
	dht_free(d);
	id_from_u64(&cfg.self.id, (id_low64(&cfg.self.id) + 1) % 256, 8);
	assert_null(dht_new(&cfg, &env, &net->n[0])); /* not the key's id */
	cfg.trust_chosen_ids = true;
	d = dht_new(&cfg, &env, &net->n[0]);
	assert_non_null(d);
	dht_free(d);
	cfg.sign_pk[0] ^= 1;
	assert_null(dht_new(&cfg, &env, &net->n[0])); /* halves that do not match */
	net_free(net);
}

static uint64_t proofs_of(struct net *net)
{
	uint64_t n = 0;
	for (int i = 0; i < net->count; i++)
		n += dht_get_stats(net->n[i].d)->proofs;
	return n;
}

static bool in_lists(struct tnode *t, unsigned id)
{
	struct dht_node buf[32], p;
	size_t n = dht_successor_list(t->d, buf, 32);
	for (size_t i = 0; i < n; i++)
		if (id_low64(&buf[i].id) == id)
			return true;
	return dht_predecessor(t->d, &p) == 0 && id_low64(&p.id) == id;
}

/* An open ring forms with proofs, and a neighbour proves itself once, not per message. */
static void test_open_ring_proves_once(void **state)
{
	(void)state;
	struct net *net = net_new();
	for (uint8_t i = 0; i < 5; i++)
		add_open_node(net, i, 4, false);
	dht_create(net->n[0].d);
	for (int i = 1; i < 5; i++) {
		join_via(&net->n[i], 0);
		run_for(net, 2 * SEC);
		assert_int_equal(net->join_status[i], DHT_OK);
	}
	run_for(net, 10 * SEC);
	assert_ring_correct(net);
	uint64_t proofs = proofs_of(net);
	assert_true(proofs >= 8); /* each node proved itself to its successor and predecessor */
	run_for(net, 60 * SEC);
	assert_int_equal(proofs_of(net), proofs);
	for (int i = 0; i < 5; i++)
		assert_int_equal(dht_get_stats(net->n[i].d)->ids_refused, 0);
	net_free(net);
}

/* Two open nodes A and V (ids their keys'), with room for two ids between V and A. A takes
 * chosen ids if TRUST_A. */
static void open_pair(struct net *net, struct tnode **a, struct tnode **v, bool trust_a)
{
	for (uint8_t k = 0;; k += 2) {
		net->count = 0;
		*a = add_open_node(net, k, 4, trust_a);
		*v = add_open_node(net, (uint8_t)(k + 1), 4, false);
		if ((self_id(*a) - self_id(*v) + 256) % 256 >= 4)
			return;
		dht_free((*a)->d);
		dht_free((*v)->d);
	}
}

static struct tnode *pair_ring(struct net *net, struct tnode **a, struct tnode **v, bool trust_a)
{
	open_pair(net, a, v, trust_a);
	dht_create((*a)->d);
	join_via(*v, 0);
	run_for(net, 5 * SEC);
	assert_int_equal(net->join_status[1], DHT_OK);
	assert_int_equal(succ_of(*v), self_id(*a));
	/* M claims the id just after V's: V's successor and A's predecessor, were it taken. */
	struct tnode *m = add_node(net, (self_id(*v) + 1) % 256, 4);
	join_via(m, 0);
	return m;
}

/* A node that claims an id it cannot prove, joining next to a victim: refused at its JOIN. */
static void test_impostor_join_refused(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a, *v, *m = pair_ring(net, &a, &v, false);
	run_for(net, 20 * SEC);
	assert_true(net->join_done[2]);
	assert_int_equal(net->join_status[2], DHT_ERR_TIMEOUT);
	assert_int_equal(dht_get_state(m->d), DHT_IDLE);
	assert_false(in_lists(a, self_id(m)));
	assert_false(in_lists(v, self_id(m)));
	assert_int_equal(dht_get_stats(a->d)->ids_refused, 1);
	assert_int_equal(succ_of(v), self_id(a));
	net_free(net);
}

/* M is taken by A, which trusts chosen ids: it becomes A's predecessor. V learns of it through
 * stabilization as a closer successor, asks it to prove its id, refuses it and keeps A; the
 * refusal is remembered, so M is not asked again every round. */
static void test_impostor_candidate_refused(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a, *v, *m = pair_ring(net, &a, &v, true);
	run_for(net, 5 * SEC);
	assert_int_equal(net->join_status[2], DHT_OK);
	struct dht_node p;
	assert_int_equal(dht_predecessor(a->d, &p), 0);
	assert_int_equal(id_low64(&p.id), self_id(m));
	run_for(net, 30 * SEC);
	assert_false(in_lists(v, self_id(m)));
	assert_int_equal(succ_of(v), self_id(a));
	assert_int_equal(dht_get_stats(v->d)->ids_refused, 1);
	net_free(net);
}

static unsigned waits_used(const struct dht *d)
{
	unsigned n = 0;
	for (size_t i = 0; i < PROOF_MAX_WAIT; i++)
		n += d->proof.wait[i].used;
	return n;
}

static void never(struct dht *d, const struct dht_node *node, unsigned tag, uint32_t txid,
		  enum proof_result r)
{
	(void)d, (void)node, (void)tag, (void)txid, (void)r;
	fail_msg("a proof ended inside proof_ask");
}

static const struct proof_handler for_notice = { never, true }, own = { never, false };

/* The table of proofs under way is bounded, and proofs for notices give way: one sender gets one
 * at a time whatever ids it names, many senders fill the table but our own proofs still go out,
 * and only our own fill it for good. */
static void test_wait_table(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *t = add_open_node(net, 1, 4, false);
	struct dht *d = t->d;
	dht_create(d);
	struct dht_node n;
	memset(&n, 0, sizeof n);
	addr_of(5, &n.addr);
	for (unsigned id = 0; id < 40; id++) {
		id_from_u64(&n.id, id, 8);
		assert_int_equal(proof_ask(d, &n, &for_notice, 0, id), 0);
	}
	assert_int_equal(waits_used(d), 1);
	for (int a = 0; a < 40; a++) { /* other ports of a node that is not there */
		n.addr.port = (uint16_t)(100 + a);
		assert_int_equal(proof_ask(d, &n, &for_notice, 0, 0), 0);
	}
	assert_int_equal(waits_used(d), PROOF_MAX_WAIT);
	for (int k = 0; k < PROOF_MAX_WAIT; k++) {
		n.addr.port = (uint16_t)(200 + k);
		assert_int_equal(proof_ask(d, &n, &own, 0, 0), 0);
	}
	n.addr.port = 300;
	assert_int_equal(proof_ask(d, &n, &own, 0, 0), -1);
	assert_int_equal(proof_ask(d, &n, &for_notice, 0, 0), -1);
	/* Answers to requests whose entries went to others end nothing: run them all out. */
	memset(d->proof.wait, 0, sizeof d->proof.wait);
	run_for(net, 10 * SEC);
	net_free(net);
}

/* A neighbour that stops answering is forgotten: it proves itself again before it is taken
 * again. Its key shows while it is known. */
static void test_forgotten_when_dead(void **state)
{
	(void)state;
	struct net *net = net_new();
	for (uint8_t i = 0; i < 3; i++)
		add_open_node(net, i, 4, false);
	dht_create(net->n[0].d);
	for (int i = 1; i < 3; i++) {
		join_via(&net->n[i], 0);
		run_for(net, 2 * SEC);
	}
	run_for(net, 5 * SEC);
	struct tnode *a = &net->n[0];
	struct dht_node pred;
	uint8_t pk[32];
	assert_int_equal(dht_predecessor(a->d, &pred), 0);
	assert_int_equal(dht_node_key(a->d, &pred, pk), 0);
	for (int i = 1; i < 3; i++)
		if (id_eq(&dht_self(net->n[i].d)->id, &pred.id))
			net->n[i].alive = false;
	assert_int_equal(dht_node_key(a->d, dht_self(a->d), pk), 0);
	run_for(net, 15 * SEC);
	assert_int_equal(dht_node_key(a->d, &pred, pk), -1);
	net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_checks),
		cmocka_unit_test(test_config),
		cmocka_unit_test(test_open_ring_proves_once),
		cmocka_unit_test(test_impostor_join_refused),
		cmocka_unit_test(test_impostor_candidate_refused),
		cmocka_unit_test(test_wait_table),
		cmocka_unit_test(test_forgotten_when_dead),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
