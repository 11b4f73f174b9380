/* Routing state at n = 8: adopting a successor's list keeps it ordered (cut where it would jump
 * over us), forgetting a node, the owner inside the successor list, closest preceding nodes, and
 * finger bookkeeping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/routing.h"

static struct dht_node nd(unsigned v)
{
	struct dht_node n;
	memset(&n, 0, sizeof n);
	id_from_u64(&n.id, v, 8);
	n.addr.family = 4;
	n.addr.ip[3] = (uint8_t)v;
	return n;
}

static void list_of(struct dht_node *out, const unsigned *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		out[i] = nd(v[i]);
}

static void assert_succ(const struct routing *rt, const unsigned *v, size_t n)
{
	assert_int_equal(rt->nsucc, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(id_low64(&rt->succ[i].id), v[i]);
}

static void test_init_alone(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(100);
	routing_init(&rt, &self, 8, 4);
	assert_succ(&rt, (unsigned[]){ 100 }, 1);
	assert_false(rt.has_pred);
	struct dht_id k;
	for (unsigned v = 0; v < 256; v++) {
		id_from_u64(&k, v, 8);
		assert_int_equal(routing_owner_in_succ(&rt, &k), 0);
	}
}

static void test_adopt_truncates_to_r(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(10), head = nd(20), l[8];
	routing_init(&rt, &self, 8, 4);
	list_of(l, (unsigned[]){ 30, 40, 50, 60, 70 }, 5);
	routing_adopt(&rt, &head, l, 5);
	assert_succ(&rt, (unsigned[]){ 20, 30, 40, 50 }, 4);
}

static void test_adopt_cuts_where_list_jumps_over_self(void **state)
{
	(void)state;
	struct routing rt;
	/* We (10) just joined between 250 and 20; 20's list wraps round a small ring that does not
	 * know us yet: 60, 250, 20, ... Copying past 250 would jump over us. */
	struct dht_node self = nd(10), head = nd(20), l[8];
	routing_init(&rt, &self, 8, 8);
	list_of(l, (unsigned[]){ 60, 250, 20, 60 }, 4);
	routing_adopt(&rt, &head, l, 4);
	assert_succ(&rt, (unsigned[]){ 20, 60, 250 }, 3);
	/* A list that wraps onto us is kept whole. */
	list_of(l, (unsigned[]){ 60, 10, 20, 60 }, 4);
	routing_adopt(&rt, &head, l, 4);
	assert_succ(&rt, (unsigned[]){ 20, 60, 10, 20, 60 }, 5);
	/* Repeated entries other than ourselves jump over us. */
	list_of(l, (unsigned[]){ 20, 20 }, 2);
	routing_adopt(&rt, &head, l, 2);
	assert_succ(&rt, (unsigned[]){ 20 }, 1);
}

/* Issue 8: in a ring smaller than r+1 the list wraps onto us and repeats; the distinct view
 * names each node once, and us only when we are alone. */
static void test_distinct_successors(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(10), head = nd(20), l[8], out[8];
	routing_init(&rt, &self, 8, 8);
	assert_int_equal(routing_distinct_succ(&rt, out, 8), 1);
	assert_int_equal(id_low64(&out[0].id), 10);
	list_of(l, (unsigned[]){ 60, 10, 20, 60, 10, 20, 60 }, 7);
	routing_adopt(&rt, &head, l, 7);
	assert_succ(&rt, (unsigned[]){ 20, 60, 10, 20, 60, 10, 20, 60 }, 8);
	assert_int_equal(routing_distinct_succ(&rt, out, 8), 2);
	assert_int_equal(id_low64(&out[0].id), 20);
	assert_int_equal(id_low64(&out[1].id), 60);
	assert_int_equal(routing_distinct_succ(&rt, out, 1), 1);
	/* A ring of two: the other node only. */
	list_of(l, (unsigned[]){ 10, 20, 10, 20 }, 4);
	routing_adopt(&rt, &head, l, 4);
	assert_int_equal(routing_distinct_succ(&rt, out, 8), 1);
	assert_int_equal(id_low64(&out[0].id), 20);
}

static void test_forget(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(10), head = nd(20), l[8];
	routing_init(&rt, &self, 8, 8);
	list_of(l, (unsigned[]){ 30, 10, 20, 30 }, 4);
	routing_adopt(&rt, &head, l, 4);
	rt.has_pred = true;
	rt.pred = nd(30);
	routing_set_finger(&rt, 6, &l[0]);
	assert_true(routing_forget(&rt, &head.id));
	assert_succ(&rt, (unsigned[]){ 30, 10, 30 }, 3);
	assert_true(routing_forget(&rt, &l[0].id));
	assert_succ(&rt, (unsigned[]){ 10 }, 1);
	assert_false(rt.has_pred);
	assert_false(rt.finger_ok[6]);
	/* Forgetting the last one leaves us alone, our own successor. */
	assert_true(routing_forget(&rt, &self.id));
	assert_succ(&rt, (unsigned[]){ 10 }, 1);
}

/* The passive list: each lost node once (keeping when it was first lost), never self, the one
 * lost longest ago replaced when full, and an entry removed on request. */
static void test_passive_list(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(10), n;
	routing_init(&rt, &self, 8, 4);
	routing_note_lost(&rt, &self, 1);
	assert_int_equal(rt.nlost, 0);
	/* Lost at times 100, 99, 98, ...: the last one listed is the oldest. */
	for (unsigned v = 1; v <= ROUTING_MAX_LOST; v++) {
		n = nd(20 + v);
		routing_note_lost(&rt, &n, 101 - v);
	}
	n = nd(21);
	routing_note_lost(&rt, &n, 500);
	assert_int_equal(rt.nlost, ROUTING_MAX_LOST);
	assert_int_equal(rt.lost_at[0], 100);
	/* Full: the next one takes the slot of the node lost longest ago. */
	n = nd(99);
	routing_note_lost(&rt, &n, 600);
	assert_int_equal(rt.nlost, ROUTING_MAX_LOST);
	assert_true(id_eq(&rt.lost[ROUTING_MAX_LOST - 1].id, &n.id));
	assert_int_equal(rt.lost_at[ROUTING_MAX_LOST - 1], 600);
	n = nd(22);
	routing_drop_lost(&rt, &n.id);
	assert_int_equal(rt.nlost, ROUTING_MAX_LOST - 1);
	for (unsigned i = 0; i < rt.nlost; i++)
		assert_false(id_eq(&rt.lost[i].id, &n.id));
}

/* The passive list ages: entries lost more than MAX_AGE ago go, younger ones stay in order. */
static void test_passive_list_ages(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(10), n;
	routing_init(&rt, &self, 8, 4);
	for (unsigned v = 0; v < 4; v++) {
		n = nd(30 + v);
		routing_note_lost(&rt, &n, 1000 * (v + 1));
	}
	/* Nothing is old enough yet; and ages below zero do not wrap. */
	assert_int_equal(routing_age_lost(&rt, 500, 1000), 0);
	assert_int_equal(routing_age_lost(&rt, 2000, 1000), 0);
	assert_int_equal(rt.nlost, 4);
	/* At 3500 with a 1500 cap: lost at 1000 goes; 2000 and later stay. */
	assert_int_equal(routing_age_lost(&rt, 3500, 1500), 1);
	assert_int_equal(rt.nlost, 3);
	n = nd(31);
	assert_true(id_eq(&rt.lost[0].id, &n.id));
	assert_int_equal(rt.lost_at[2], 4000);
	assert_int_equal(routing_age_lost(&rt, 100000, 1), 3);
	assert_int_equal(rt.nlost, 0);
}

static void test_owner_in_succ(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(200), head = nd(250), l[8];
	routing_init(&rt, &self, 8, 4);
	list_of(l, (unsigned[]){ 5, 40 }, 2);
	routing_adopt(&rt, &head, l, 2);
	struct dht_id k;
	unsigned keys[] = { 201, 250, 251, 0, 5, 6, 40, 41, 199, 200 };
	int want[] = { 0, 0, 1, 1, 1, 2, 2, -1, -1, -1 };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		id_from_u64(&k, keys[i], 8);
		assert_int_equal(routing_owner_in_succ(&rt, &k), want[i]);
	}
}

static void test_closest_preceding(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(0), head = nd(10), l[4], f;
	routing_init(&rt, &self, 8, 3);
	list_of(l, (unsigned[]){ 20, 30 }, 2);
	routing_adopt(&rt, &head, l, 2);
	f = nd(70);
	routing_set_finger(&rt, 6, &f);
	f = nd(130);
	routing_set_finger(&rt, 7, &f);
	rt.has_pred = true;
	rt.pred = nd(240);
	struct dht_node out[8];
	struct dht_id key, skip;
	id_from_u64(&key, 100, 8);
	size_t n = routing_closest_preceding(&rt, &key, NULL, 0, out, 8);
	assert_int_equal(n, 4);
	unsigned want[] = { 70, 30, 20, 10 };
	for (size_t i = 0; i < n; i++)
		assert_int_equal(id_low64(&out[i].id), want[i]);
	/* Skipped ids are left out, and MAX is honoured. */
	id_from_u64(&skip, 70, 8);
	n = routing_closest_preceding(&rt, &key, &skip, 1, out, 2);
	assert_int_equal(n, 2);
	assert_int_equal(id_low64(&out[0].id), 30);
	assert_int_equal(id_low64(&out[1].id), 20);
	/* A key just past the predecessor: everything precedes it, the predecessor most closely. */
	id_from_u64(&key, 250, 8);
	n = routing_closest_preceding(&rt, &key, NULL, 0, out, 1);
	assert_int_equal(n, 1);
	assert_int_equal(id_low64(&out[0].id), 240);
}

static void test_fingers(void **state)
{
	(void)state;
	struct routing rt;
	struct dht_node self = nd(0), head = nd(5), f;
	routing_init(&rt, &self, 8, 2);
	routing_adopt(&rt, &head, NULL, 0);
	/* Starts 1, 2 and 4 are in (0, 5]: fingers 0..2 are the successor; 3 is the first to look up. */
	assert_int_equal(routing_finger_lo(&rt), 3);
	struct dht_id s;
	routing_finger_start(&rt, 7, &s);
	assert_int_equal(id_low64(&s), 128);
	/* Node 40 answers for start 8: it also covers 16 and 32, not 64. */
	f = nd(40);
	routing_set_finger(&rt, 3, &f);
	assert_true(rt.finger_ok[3] && rt.finger_ok[4] && rt.finger_ok[5]);
	assert_false(rt.finger_ok[6]);
	f = nd(200);
	routing_set_finger(&rt, 6, &f);
	struct dht_node out[8];
	unsigned idx[8];
	size_t n = routing_distinct_fingers(&rt, out, idx, 8);
	assert_int_equal(n, 2);
	assert_int_equal(idx[0], 3);
	assert_int_equal(idx[1], 6);
	assert_int_equal(id_low64(&out[1].id), 200);
	routing_init(&rt, &self, 8, 2);
	assert_int_equal(routing_finger_lo(&rt), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init_alone),
		cmocka_unit_test(test_adopt_truncates_to_r),
		cmocka_unit_test(test_adopt_cuts_where_list_jumps_over_self),
		cmocka_unit_test(test_distinct_successors),
		cmocka_unit_test(test_forget),
		cmocka_unit_test(test_passive_list),
		cmocka_unit_test(test_passive_list_ages),
		cmocka_unit_test(test_owner_in_succ),
		cmocka_unit_test(test_closest_preceding),
		cmocka_unit_test(test_fingers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
