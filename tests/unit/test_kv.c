/* The replicated store on the tiny network: put/get on a ring of one, values read from every
 * node, replicas surviving the crash of an owner and its successor, handoff on graceful leave and
 * on join, announcements with a random subset of at most 50, expiry, and the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "dht/item.h"
#include "dht/kv.h"
#include "tests/unit/tinynet.h"

/* Announced peers are told apart by port: the owner records the announcer's own IP. */
#define PEER_PORT 6000

struct vres {
	bool done;
	enum dht_status status;
	char value[DHT_MAX_VALUE + 1];
	size_t npeers;
	struct dht_addr peers[KV_MAX_PEERS_REPLY];
	unsigned owner;
};

static void value_cb(void *arg, const struct dht_value_result *res)
{
	struct vres *v = arg;
	v->done = true;
	v->status = res->status;
	v->owner = (unsigned)id_low64(&res->owner.id);
	if (res->nvalues) {
		memcpy(v->value, res->values[0].item.value, res->values[0].item.vlen);
		v->value[res->values[0].item.vlen] = '\0';
	}
	v->npeers = res->npeers;
	if (res->npeers)
		memcpy(v->peers, res->peers, res->npeers * sizeof res->peers[0]);
}

static void wait_done(struct net *net, struct vres *v)
{
	for (int i = 0; i < 2000 && !v->done; i++)
		run_for(net, 10000);
	assert_true(v->done);
}

static struct dht_id key_of(unsigned k)
{
	struct dht_id id;
	id_from_u64(&id, k, 8);
	return id;
}

/* VALUE under KEY with FLAGS, signed by the tests' writer (a fixed key) with SEQ. */
static struct dht_item signed_flags(const struct dht_id *key, const char *value, uint64_t seq,
				    uint8_t flags)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	static const uint8_t seed[crypto_sign_SEEDBYTES] = { 7 };
	crypto_sign_seed_keypair(pk, sk, seed);
	struct dht_item it = { .flags = flags, .value = (const uint8_t *)value,
			       .vlen = (uint16_t)strlen(value), .seq = seq };
	item_sign(&it, key, sk);
	return it;
}

static struct dht_item signed_seq(const struct dht_id *key, const char *value, uint64_t seq)
{
	return signed_flags(key, value, seq, 0);
}

/* The same, each with a higher seq. */
static struct dht_item signed_item(const struct dht_id *key, const char *value)
{
	static uint64_t seq = 1000;
	return signed_seq(key, value, ++seq);
}

static enum dht_status put(struct net *net, struct tnode *t, unsigned k, const char *value,
			   uint32_t ttl)
{
	struct vres v = { 0 };
	struct dht_id key = key_of(k);
	struct dht_item it = signed_item(&key, value);
	assert_int_equal(dht_put(t->d, &key, &it, ttl, NULL, value_cb, &v), 0);
	wait_done(net, &v);
	return v.status;
}

static struct vres get(struct net *net, struct tnode *t, unsigned k)
{
	struct vres v = { 0 };
	struct dht_id key = key_of(k);
	assert_int_equal(dht_get(t->d, &key, NULL, value_cb, &v), 0);
	wait_done(net, &v);
	return v;
}

static void test_one_node_put_get(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 100, 8);
	dht_create(a->d);
	run_for(net, SEC);
	assert_int_equal(put(net, a, 7, "hello", 0), DHT_OK);
	struct vres v = get(net, a, 7);
	assert_int_equal(v.status, DHT_OK);
	assert_string_equal(v.value, "hello");
	assert_int_equal(get(net, a, 8).status, DHT_ERR_NOT_FOUND);
	assert_int_equal(dht_kv_count(a->d), 1);
	/* A value above the limit is refused before anything is sent. */
	char big[DHT_MAX_VALUE + 2];
	memset(big, 'x', sizeof big);
	struct dht_id key = key_of(9);
	struct dht_item it = { .value = (const uint8_t *)big, .vlen = DHT_MAX_VALUE + 1 };
	assert_int_equal(dht_put(a->d, &key, &it, 0, NULL, value_cb, NULL), -1);
	net_free(net);
}

/* No entry point calls back before it returns, not even for a key its node owns and answers
 * from its own state: the callback waits for the next dht_tick(), whose deadline (now) the core
 * announces and returns. */
static void test_no_callback_inside_the_call(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 100, 8);
	dht_create(a->d);
	run_for(net, SEC);
	struct dht_id key = key_of(7);
	struct dht_addr peer;
	addr_of(9, &peer);
	struct vres v[4];
	struct lres l = { 0 };
	memset(v, 0, sizeof v);
	struct dht_item it = signed_item(&key, "x");
	assert_int_equal(dht_put(a->d, &key, &it, 0, NULL, value_cb, &v[0]), 0);
	assert_int_equal(dht_get(a->d, &key, NULL, value_cb, &v[1]), 0);
	assert_int_equal(dht_announce(a->d, &key, &peer, 0, value_cb, &v[2]), 0);
	assert_int_equal(dht_get_peers(a->d, &key, 5, value_cb, &v[3]), 0);
	assert_int_equal(dht_lookup(a->d, &key, lookup_cb, &l), 0);
	uint64_t now = evq_now(net->q);
	assert_false(l.done);
	for (int i = 0; i < 4; i++)
		assert_false(v[i].done);
	assert_int_equal(a->wake, now);
	assert_int_not_equal(dht_tick(a->d), now); /* all done: nothing more at this instant */
	assert_true(l.done);
	assert_int_equal(l.status, DHT_OK);
	for (int i = 0; i < 4; i++) {
		assert_true(v[i].done);
		assert_int_equal(v[i].status, DHT_OK);
	}
	net_free(net);
}

static void put_all(struct net *net)
{
	char value[32];
	for (unsigned k = 0; k < 256; k += 5) {
		snprintf(value, sizeof value, "value-%u", k);
		assert_int_equal(put(net, &net->n[k % 12], k, value, 0), DHT_OK);
	}
}

static void assert_all_readable(struct net *net)
{
	char want[32];
	for (int i = 0; i < net->count; i++) {
		if (!net->n[i].alive)
			continue;
		for (unsigned k = 0; k < 256; k += 5) {
			struct vres v = get(net, &net->n[i], k);
			snprintf(want, sizeof want, "value-%u", k);
			assert_int_equal(v.status, DHT_OK);
			assert_string_equal(v.value, want);
		}
	}
}

static void test_read_from_every_node_and_replicas(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	put_all(net);
	run_for(net, 6 * SEC);
	assert_all_readable(net);
	/* Every key is held by its owner and its 3 successors: 4 copies each. */
	size_t copies = 0;
	for (int i = 0; i < net->count; i++)
		copies += dht_kv_count(net->n[i].d);
	assert_int_equal(copies, 4 * 52);
	net_free(net);
}

static void test_owner_and_successor_crash(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	put_all(net);
	run_for(net, 6 * SEC);
	/* 128 and 130 die at once: keys in (90, 130] now live at 170, from the replicas. */
	net->n[5].alive = net->n[6].alive = false;
	run_for(net, 20 * SEC);
	assert_all_readable(net);
	net_free(net);
}

static void test_graceful_leave_hands_over(void **state)
{
	(void)state;
	struct net *net = ring12(2); /* one replica only: the handoff matters */
	put_all(net);
	run_for(net, 6 * SEC);
	for (int i = 2; i < 12; i += 2) {
		dht_leave(net->n[i].d);
		net->n[i].alive = false;
		run_for(net, 3 * SEC);
	}
	assert_all_readable(net);
	net_free(net);
}

static void test_join_takes_over_keys(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	put_all(net);
	run_for(net, 6 * SEC);
	/* 100 joins inside (90, 128]: keys 95..100 move to it. */
	struct tnode *t = add_node(net, 100, 4);
	join_via(t, 0);
	run_for(net, 10 * SEC);
	assert_all_readable(net);
	struct vres v = get(net, &net->n[0], 95);
	assert_int_equal(v.owner, 100);
	net_free(net);
}

static void test_announce_and_get_peers(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	struct dht_id key = key_of(77);
	for (unsigned i = 0; i < 80; i++) {
		struct vres v = { 0 };
		struct dht_addr peer;
		memset(&peer, 0, sizeof peer);
		peer.family = 4;
		peer.ip[0] = 10;
		peer.port = (uint16_t)(PEER_PORT + i); /* the owner keeps the port, not the IP */
		assert_int_equal(dht_announce(net->n[i % 12].d, &key, &peer, 60, value_cb, &v), 0);
		wait_done(net, &v);
		assert_int_equal(v.status, DHT_OK);
	}
	bool seen[80] = { false };
	for (int round = 0; round < 20; round++) {
		struct vres v = { 0 };
		assert_int_equal(dht_get_peers(net->n[round % 12].d, &key, 50, value_cb, &v), 0);
		wait_done(net, &v);
		assert_int_equal(v.status, DHT_OK);
		assert_int_equal(v.npeers, 50);
		for (size_t i = 0; i < v.npeers; i++)
			seen[v.peers[i].port - PEER_PORT] = true;
	}
	/* Random subsets: over 20 answers every one of the 80 peers shows up. */
	for (int i = 0; i < 80; i++)
		assert_true(seen[i]);
	/* Announcements expire with their TTL. */
	run_for(net, 70 * SEC);
	struct vres v = { 0 };
	assert_int_equal(dht_get_peers(net->n[3].d, &key, 50, value_cb, &v), 0);
	wait_done(net, &v);
	assert_int_equal(v.status, DHT_ERR_NOT_FOUND);
	net_free(net);
}


static enum dht_status announce(struct net *net, struct tnode *t, unsigned k, unsigned ip)
{
	struct vres v = { 0 };
	struct dht_id key = key_of(k);
	struct dht_addr peer;
	memset(&peer, 0, sizeof peer);
	peer.family = 4;
	peer.ip[0] = 10;
	peer.port = (uint16_t)(PEER_PORT + ip); /* the owner keeps the port, not the IP */
	assert_int_equal(dht_announce(t->d, &key, &peer, 600, value_cb, &v), 0);
	wait_done(net, &v);
	return v.status;
}

static void test_rejoined_owner_gets_keys_back(void **state)
{
	(void)state;
	/* A and B; B owns key 100. B crashes, A alone collects more announcements; B comes back
	 * (a new process, same id) and joins through A: it must receive every peer A holds. */
	struct net *net = net_new();
	struct tnode *a = add_node(net, 10, 4), *b = add_node(net, 200, 4);
	dht_create(a->d);
	join_via(b, 0);
	run_for(net, 5 * SEC);
	assert_int_equal(announce(net, a, 100, 1), DHT_OK);
	run_for(net, 6 * SEC);
	b->alive = false;
	run_for(net, 20 * SEC);
	assert_int_equal(announce(net, a, 100, 2), DHT_OK);
	struct tnode *b2 = add_node(net, 200, 4);
	join_via(b2, 0);
	run_for(net, 5 * SEC);
	struct vres v = { 0 };
	struct dht_id key = key_of(100);
	assert_int_equal(dht_get_peers(a->d, &key, 50, value_cb, &v), 0);
	wait_done(net, &v);
	assert_int_equal(v.status, DHT_OK);
	assert_int_equal(v.owner, 200);
	assert_int_equal(v.npeers, 2);
	net_free(net);
}

static struct vres get_peers(struct net *net, struct tnode *t, unsigned k)
{
	struct vres v = { 0 };
	struct dht_id key = key_of(k);
	assert_int_equal(dht_get_peers(t->d, &key, 10, value_cb, &v), 0);
	wait_done(net, &v);
	return v;
}

/* Check that key K holds VALUE and exactly the one peer announced as port PEER_PORT + IP. */
static void assert_both(struct net *net, struct tnode *t, unsigned k, const char *value,
			unsigned ip)
{
	struct vres v = get(net, t, k);
	assert_int_equal(v.status, DHT_OK);
	assert_string_equal(v.value, value);
	v = get_peers(net, t, k);
	assert_int_equal(v.status, DHT_OK);
	assert_int_equal(v.npeers, 1);
	assert_int_equal(v.peers[0].port, PEER_PORT + ip);
}

/* Issue 8: a key holds a value and announcements at once, whichever came first, at its owner,
 * at the replicas that take over when the owner crashes, and at a node that joins in front. */
static void test_value_and_announcements_coexist(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	assert_int_equal(put(net, &net->n[0], 110, "v2", 0), DHT_OK);
	assert_int_equal(announce(net, &net->n[3], 110, 9), DHT_OK);
	assert_int_equal(announce(net, &net->n[1], 120, 8), DHT_OK);
	assert_int_equal(put(net, &net->n[2], 120, "v3", 0), DHT_OK);
	assert_both(net, &net->n[7], 110, "v2", 9);
	assert_both(net, &net->n[8], 120, "v3", 8);
	run_for(net, 6 * SEC);
	/* 100 joins inside (90, 128]: key 95 moves to it, with both parts. */
	assert_int_equal(put(net, &net->n[0], 95, "v4", 0), DHT_OK);
	assert_int_equal(announce(net, &net->n[0], 95, 7), DHT_OK);
	struct tnode *t = add_node(net, 100, 4);
	join_via(t, 0);
	run_for(net, 10 * SEC);
	assert_both(net, &net->n[4], 95, "v4", 7);
	assert_int_equal(get(net, &net->n[4], 95).owner, 100);
	/* The owner of 110 and 120 (128) crashes: its successor answers from the replicas. */
	net->n[5].alive = false;
	run_for(net, 20 * SEC);
	assert_both(net, &net->n[0], 110, "v2", 9);
	assert_both(net, &net->n[0], 120, "v3", 8);
	net_free(net);
}

static void test_ttl_expiry(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	assert_int_equal(put(net, &net->n[0], 33, "short-lived", 5), DHT_OK);
	assert_int_equal(get(net, &net->n[7], 33).status, DHT_OK);
	run_for(net, 6 * SEC);
	assert_int_equal(get(net, &net->n[7], 33).status, DHT_ERR_NOT_FOUND);
	net_free(net);
}

/* A newcomer that takes keys and keeps none (issue 10): it never pushes copies on, and answers
 * every GET and GET_PEERS with "not found". */
static void hole_send(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len)
{
	struct dht_msg m;
	if (dht_msg_decode(&m, buf, len, 8) != DHT_DECODE_OK || m.type == DHT_REPLICATE)
		return;
	if (m.type == DHT_VALUE || m.type == DHT_PEERS) {
		if (m.type == DHT_VALUE) {
			m.u.value.status = DHT_ERR_NOT_FOUND;
			m.u.value.count = 0;
			m.u.value.nnodes = 0;
		} else {
			m.u.peers.status = DHT_ERR_NOT_FOUND;
			m.u.peers.npeers = 0;
		}
		env_send_msg(arg, to, &m);
		return;
	}
	env_send(arg, to, buf, len);
}

static const struct dht_env hole_env = { hole_send, env_set_timer, env_now, env_random, NULL, NULL };

/* Issue 11: an owner that tampers with the copies it pushes: it spoils their signatures
 * (FORGE), or sends a newer version than it holds itself (NEWER: what a replica may hold after
 * a partition healed). */
static enum { TAMPER_NONE, TAMPER_FORGE, TAMPER_NEWER, TAMPER_DROP } tamper;
static struct dht_item newer;

static void tamper_send(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len)
{
	struct dht_msg m;
	if (tamper == TAMPER_NONE || dht_msg_decode(&m, buf, len, 8) != DHT_DECODE_OK ||
	    m.type != DHT_REPLICATE) {
		env_send(arg, to, buf, len);
		return;
	}
	if (tamper == TAMPER_DROP)
		return;
	for (uint8_t i = 0; i < m.u.repl.n; i++) {
		struct dht_item *it = &m.u.repl.e[i].item;
		if (m.u.repl.e[i].kind != DHT_ENTRY_VALUE)
			continue;
		if (tamper == TAMPER_FORGE)
			it->sig[0] ^= 1;
		else
			*it = newer;
	}
	env_send_msg(arg, to, &m);
}

static const struct dht_env tamper_env = { tamper_send, env_set_timer, env_now, env_random, NULL,
					   NULL };

/* Four nodes, the one at 100 pushing through tamper_send; key 90 is its own. */
static struct net *tamper_ring(void)
{
	static const unsigned ids[] = { 50, 100, 150, 200 };
	struct net *net = net_new();
	for (int i = 0; i < 4; i++)
		add_node_with(net, ids[i], 4, i == 1 ? &tamper_env : &env);
	dht_create(net->n[0].d);
	for (int i = 1; i < 4; i++) {
		join_via(&net->n[i], 0);
		run_for(net, 2 * SEC);
	}
	run_for(net, 20 * SEC);
	return net;
}

/* Replicas check the signatures of what an owner pushes: forged copies are refused, counted,
 * and never stored, so a read after the owner died finds nothing rather than a forgery. */
static void test_replicas_refuse_forged_copies(void **state)
{
	(void)state;
	struct net *net = tamper_ring();
	tamper = TAMPER_FORGE;
	assert_int_equal(put(net, &net->n[0], 90, "signed", 0), DHT_OK);
	run_for(net, 12 * SEC);
	uint64_t forged = 0;
	for (int i = 0; i < 4; i++) {
		forged += dht_get_stats(net->n[i].d)->values_forged;
		assert_int_equal(dht_kv_count(net->n[i].d), i == 1 ? 1 : 0);
	}
	assert_true(forged >= 3);
	struct vres v = get(net, &net->n[2], 90);
	assert_int_equal(v.status, DHT_OK);
	assert_string_equal(v.value, "signed");
	tamper = TAMPER_NONE;
	net_free(net);
}

/* Issue 11: a delete is a tombstone the owner answers with, so a read does not fall back to a
 * replica that still holds the deleted value (here the owner's pushes of the tombstone are
 * lost). */
static void test_deleted_value_does_not_resurface(void **state)
{
	(void)state;
	struct net *net = tamper_ring();
	struct dht_id key = key_of(90);
	struct vres v = { 0 };
	assert_int_equal(put(net, &net->n[0], 90, "soon deleted", 0), DHT_OK);
	run_for(net, SEC);
	tamper = TAMPER_DROP;
	struct dht_item del = signed_flags(&key, "", 1u << 30, DHT_ITEM_TOMBSTONE);
	assert_int_equal(dht_put(net->n[0].d, &key, &del, 0, NULL, value_cb, &v), 0);
	wait_done(net, &v);
	assert_int_equal(v.status, DHT_OK);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(get(net, &net->n[i], 90).status, DHT_ERR_NOT_FOUND);
		memset(&v, 0, sizeof v);
		assert_int_equal(dht_get(net->n[i].d, &key, del.pk, value_cb, &v), 0);
		wait_done(net, &v);
		assert_int_equal(v.status, DHT_ERR_NOT_FOUND);
	}
	tamper = TAMPER_NONE;
	net_free(net);
}

/* Issue 12: a replica that holds a newer version of a writer's value than the owner keeps it
 * when the owner pushes the older one, and sends it back: every node ends with the higher seq. */
static void test_newer_copy_wins_everywhere(void **state)
{
	(void)state;
	struct net *net = tamper_ring();
	struct dht_id key = key_of(90);
	struct dht_item old = signed_seq(&key, "old", 1);
	struct vres v = { 0 };
	newer = signed_seq(&key, "newer", 2);
	tamper = TAMPER_NEWER; /* the first push carries seq 2; the owner keeps seq 1 */
	assert_int_equal(dht_put(net->n[0].d, &key, &old, 0, NULL, value_cb, &v), 0);
	wait_done(net, &v);
	assert_int_equal(v.status, DHT_OK);
	run_for(net, SEC);
	tamper = TAMPER_NONE;
	run_for(net, 12 * SEC);
	uint64_t stale = 0;
	for (int i = 0; i < 4; i++) {
		stale += dht_get_stats(net->n[i].d)->values_stale;
		v = get(net, &net->n[i], 90);
		assert_int_equal(v.status, DHT_OK);
		assert_string_equal(v.value, "newer");
	}
	assert_true(stale >= 1);
	net_free(net);
}

/* Issue 10: keys are not dropped because a newcomer claimed them: it joins in front of their
 * owner, keeps nothing for a minute (ten replication periods), then vanishes; every key is still
 * readable everywhere. */
static void test_newcomer_that_keeps_nothing(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	put_all(net);
	run_for(net, 6 * SEC);
	struct tnode *hole = add_node_with(net, 120, 4, &hole_env); /* takes (90, 120]: six keys */
	join_via(hole, 0);
	run_for(net, 60 * SEC);
	hole->alive = false;
	run_for(net, 20 * SEC);
	assert_all_readable(net);
	net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_node_put_get),
		cmocka_unit_test(test_value_and_announcements_coexist),
		cmocka_unit_test(test_no_callback_inside_the_call),
		cmocka_unit_test(test_read_from_every_node_and_replicas),
		cmocka_unit_test(test_owner_and_successor_crash),
		cmocka_unit_test(test_graceful_leave_hands_over),
		cmocka_unit_test(test_join_takes_over_keys),
		cmocka_unit_test(test_announce_and_get_peers),
		cmocka_unit_test(test_rejoined_owner_gets_keys_back),
		cmocka_unit_test(test_ttl_expiry),
		cmocka_unit_test(test_newcomer_that_keeps_nothing),
		cmocka_unit_test(test_replicas_refuse_forged_copies),
		cmocka_unit_test(test_newer_copy_wins_everywhere),
		cmocka_unit_test(test_deleted_value_does_not_resurface),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
