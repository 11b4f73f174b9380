/* The Chord core, step by step, on a tiny in-test network: a handful of cores wired through the
 * simulator's event queue with a fixed 10 ms latency and 8-bit ids chosen by hand, so that each
 * protocol step (create, join, stabilize, rectify, lookups, leave, crash, id taken) can be checked
 * exactly. Larger and random rings are the simulator's job (tests/sim). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dht/kv.h"
#include "tests/unit/tinynet.h"

static void test_one_node_ring(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 100, 8);
	dht_create(a->d);
	run_for(net, 5 * SEC);
	assert_int_equal(succ_of(a), 100);
	for (unsigned k = 0; k < 256; k += 17) {
		struct lres l = lookup(net, a, k);
		assert_int_equal(l.status, DHT_OK);
		assert_int_equal(l.owner, 100);
		assert_int_equal(l.hops, 0);
	}
	net_free(net);
}

struct nres {
	bool done;
	size_t nsucc;
	unsigned succ[DHT_MAX_NODES];
};

static void neighbors_cb(void *arg, const struct dht_neighbors *res)
{
	struct nres *q = arg;
	q->done = true;
	q->nsucc = res->status == DHT_OK ? res->nsucc : 0;
	for (size_t i = 0; i < q->nsucc; i++)
		q->succ[i] = (unsigned)id_low64(&res->succ[i].id);
}

/* Issue 8: `dhtctl status` of a 3-node ring (r = 8) listed nodes again and again, and the node
 * itself. The core reports each successor once, in ring order, and itself only when alone; the
 * list it acts on still wraps (Zave), as dht_successor_list shows. */
static void test_successors_distinct_in_small_rings(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 100, 8), *b = add_node(net, 150, 8), *c = add_node(net, 20, 8);
	struct dht_node s[32];
	dht_create(a->d);
	run_for(net, SEC);
	assert_int_equal(dht_successors(a->d, s, 32), 1);
	assert_int_equal(id_low64(&s[0].id), 100);
	join_via(b, 0);
	join_via(c, 0);
	run_for(net, 10 * SEC);
	static const unsigned want[3][2] = { { 150, 20 }, { 20, 100 }, { 100, 150 } };
	for (int i = 0; i < 3; i++) {
		assert_int_equal(dht_successors(net->n[i].d, s, 32), 2);
		assert_int_equal(id_low64(&s[0].id), want[i][0]);
		assert_int_equal(id_low64(&s[1].id), want[i][1]);
		assert_int_equal(dht_successor_list(net->n[i].d, s, 32), 8);
	}
	/* What a ring walk hears from another node is reported the same way. */
	struct nres q = { 0 };
	struct dht_addr addr;
	addr_of(b->idx, &addr);
	assert_int_equal(dht_query_neighbors(a->d, &addr, neighbors_cb, &q), 0);
	run_for(net, SEC);
	assert_true(q.done);
	assert_int_equal(q.nsucc, 2);
	assert_int_equal(q.succ[0], 20);
	assert_int_equal(q.succ[1], 100);
	net_free(net);
}

static void test_two_nodes_rectify_and_stabilize(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 10, 8), *b = add_node(net, 200, 8);
	dht_create(a->d);
	join_via(b, 0);
	run_for(net, 5 * SEC);
	assert_true(net->join_done[1]);
	assert_int_equal(net->join_status[1], DHT_OK);
	assert_int_equal(succ_of(a), 200);
	assert_int_equal(succ_of(b), 10);
	struct dht_node p;
	assert_int_equal(dht_predecessor(a->d, &p), 0);
	assert_int_equal(id_low64(&p.id), 200);
	assert_int_equal(dht_predecessor(b->d, &p), 0);
	assert_int_equal(id_low64(&p.id), 10);
	/* Keys in (10, 200] belong to 200, the rest to 10, asked from either side. */
	unsigned keys[] = { 0, 9, 10, 11, 199, 200, 201, 255 };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		for (int from = 0; from < 2; from++) {
			struct lres l = lookup(net, &net->n[from], keys[i]);
			assert_int_equal(l.status, DHT_OK);
			assert_int_equal(l.owner, true_owner(net, keys[i]));
		}
	}
	net_free(net);
}

static void test_id_taken(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 50, 8), *b = add_node(net, 150, 8), *c;
	dht_create(a->d);
	join_via(b, 0);
	run_for(net, 3 * SEC);
	c = add_node(net, 150, 8);
	join_via(c, 0);
	run_for(net, 3 * SEC);
	assert_true(net->join_done[2]);
	assert_int_equal(net->join_status[2], DHT_ERR_ID_TAKEN);
	assert_int_equal(dht_get_state(c->d), DHT_IDLE);
	net_free(net);
}

static void test_join_unreachable(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 50, 8), *b = add_node(net, 150, 8);
	a->alive = false; /* never started: nobody answers */
	join_via(b, 0);
	run_for(net, 30 * SEC);
	assert_true(net->join_done[1]);
	assert_int_equal(net->join_status[1], DHT_ERR_TIMEOUT);
	net_free(net);
}

static void test_ring_of_twelve(void **state)
{
	(void)state;
	unsigned rs[] = { 2, 3, 8, 16 };
	for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
		struct net *net = ring12(rs[i]);
		assert_ring_correct(net);
		all_lookups_correct(net);
		net_free(net);
	}
}

static void test_graceful_leave(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	for (int i = 3; i < 12; i += 3) {
		dht_leave(net->n[i].d);
		net->n[i].alive = false;
	}
	run_for(net, 10 * SEC);
	assert_ring_correct(net);
	all_lookups_correct(net);
	net_free(net);
}

static void test_crash_and_repair(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	/* Three neighbours at once: r = 4 still leaves a live successor to everyone. */
	net->n[4].alive = net->n[5].alive = net->n[6].alive = false;
	run_for(net, 20 * SEC);
	assert_ring_correct(net);
	all_lookups_correct(net);
	net_free(net);
}

static void test_lookup_during_repair_routes_around(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	net->n[6].alive = false; /* owner of (128, 130]; nobody has noticed yet */
	struct lres l = lookup(net, &net->n[0], 129);
	assert_int_equal(l.status, DHT_OK);
	assert_int_equal(l.owner, 170);
	net_free(net);
}

/* Issue 14: a dead hop on the way costs about one round trip, not three tries. The route from 5
 * to 200 goes through 170 (5's finger), which crashed unnoticed: 5 must ask the next node
 * (130) once 170 is overdue by its own measured round trip (20 ms here), not after 170's retries
 * (500 ms with the old fixed 100 ms minimum). */
static void test_dead_hop_costs_one_round_trip(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	net->n[7].alive = false;
	struct lres l = lookup(net, &net->n[0], 200);
	assert_int_equal(l.status, DHT_OK);
	assert_int_equal(l.owner, 201);
	assert_true(l.elapsed_us < 150000);
	/* Each hop on the ring answers in time: one question at a time, no extra hops. */
	l = lookup(net, &net->n[0], 100);
	assert_int_equal(l.owner, 128);
	assert_true(l.hops <= 3);
	net_free(net);
}

/* A liar (issue 10): every FIND it answers, it claims the key is its own (SELF). */
static void liar_send(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len)
{
	struct dht_msg m;
	if (dht_msg_decode(&m, buf, len, 8) == DHT_DECODE_OK && m.type == DHT_FOUND) {
		m.u.found.status = DHT_FOUND_SELF;
		m.u.found.nnodes = 0;
		env_send_msg(arg, to, &m);
		return;
	}
	env_send(arg, to, buf, len);
}

static const struct dht_env liar_env = { liar_send, env_set_timer, env_now, env_random, NULL, NULL };

/* Issue 10: one hop answering SELF for every key it is asked about on the way (not as the
 * owner) does not end lookups at itself: every lookup from every node still finds the owner. */
static void test_lying_hop_is_not_the_owner(void **state)
{
	(void)state;
	struct net *net = net_new();
	for (int i = 0; i < 12; i++) /* the liar: 170 */
		add_node_with(net, ids12[i], 4, i == 7 ? &liar_env : &env);
	dht_create(net->n[0].d);
	for (int i = 1; i < 12; i++) {
		join_via(&net->n[i], i == 7 ? 0 : (int)rng_below(&net->rng, (uint64_t)i));
		run_for(net, 2 * SEC);
	}
	run_for(net, 30 * SEC);
	assert_ring_correct(net);
	all_lookups_correct(net);
	net_free(net);
}

/* Two rings of three built apart (each joined through its own founder): a beacon of a node of
 * the other ring reaches a node whose (pred, succ) it falls in, and the two become one ring;
 * a beacon of a node where our ring has one (or of ourselves) is not taken up. */
static void test_merge_hint_unifies_rings(void **state)
{
	(void)state;
	struct net *net = net_new();
	const unsigned ids[] = { 10, 90, 170, 50, 130, 210 }; /* A: 0..2, B: 3..5 */
	for (int i = 0; i < 6; i++)
		add_node(net, ids[i], 4);
	dht_create(net->n[0].d);
	dht_create(net->n[3].d);
	for (int i = 1; i < 3; i++) {
		join_via(&net->n[i], 0);
		join_via(&net->n[i + 3], 3);
		run_for(net, 2 * SEC);
	}
	run_for(net, 10 * SEC);
	assert_int_equal(succ_of(&net->n[0]), 90);
	assert_int_equal(succ_of(&net->n[3]), 130);
	/* 170 lies outside 50's (210, 130): 50's own ring has node 130 and 210 around it. Ignored,
	 * and so is 50 itself. */
	dht_merge_hint(net->n[3].d, dht_self(net->n[2].d));
	dht_merge_hint(net->n[3].d, dht_self(net->n[3].d));
	assert_int_equal(dht_get_stats(net->n[3].d)->merge_hints, 0);
	run_for(net, 10 * SEC);
	assert_int_equal(succ_of(&net->n[3]), 130);
	/* 50 lies in 10's (10, 90): a node of another ring. */
	dht_merge_hint(net->n[0].d, dht_self(net->n[3].d));
	assert_int_equal(dht_get_stats(net->n[0].d)->merge_hints, 1);
	run_for(net, 30 * SEC);
	assert_ring_correct(net);
	assert_int_equal(succ_of(&net->n[0]), 50);
	assert_true(dht_get_stats(net->n[0].d)->merges >= 1);
	all_lookups_correct(net);
	net_free(net);
}

/* A crashed neighbour goes on the passive list and is probed for hours, not for ever: after
 * six hours it is dropped (and probed no more). */
static void test_lost_node_ages_out(void **state)
{
	(void)state;
	struct net *net = net_new();
	for (int i = 0; i < 3; i++)
		add_node(net, 40 + 80 * (unsigned)i, 3);
	dht_create(net->n[0].d);
	join_via(&net->n[1], 0);
	run_for(net, 2 * SEC);
	join_via(&net->n[2], 0);
	run_for(net, 10 * SEC);
	net->n[2].alive = false;
	run_for(net, 5 * 3600 * SEC);
	assert_int_equal(dht_get_stats(net->n[1].d)->lost_aged, 0);
	uint64_t sent = dht_get_stats(net->n[1].d)->sent;
	run_for(net, 3600 * SEC + 60 * SEC);
	assert_int_equal(dht_get_stats(net->n[1].d)->lost_aged, 1);
	/* With nothing left to probe, the next hour costs only maintenance of the pair. */
	sent = dht_get_stats(net->n[1].d)->sent - sent;
	uint64_t sent2 = dht_get_stats(net->n[1].d)->sent;
	run_for(net, 3600 * SEC);
	assert_true(dht_get_stats(net->n[1].d)->sent - sent2 < sent);
	net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_node_ring),
		cmocka_unit_test(test_successors_distinct_in_small_rings),
		cmocka_unit_test(test_two_nodes_rectify_and_stabilize),
		cmocka_unit_test(test_id_taken),
		cmocka_unit_test(test_join_unreachable),
		cmocka_unit_test(test_ring_of_twelve),
		cmocka_unit_test(test_graceful_leave),
		cmocka_unit_test(test_crash_and_repair),
		cmocka_unit_test(test_lookup_during_repair_routes_around),
		cmocka_unit_test(test_dead_hop_costs_one_round_trip),
		cmocka_unit_test(test_lying_hop_is_not_the_owner),
		cmocka_unit_test(test_merge_hint_unifies_rings),
		cmocka_unit_test(test_lost_node_ages_out),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
