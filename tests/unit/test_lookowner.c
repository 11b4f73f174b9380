/* The owner rules (dht/lookowner.h), through their public API: SELF is believed; an OWNER
 * answer, a node no list names, or one with a live predecessor is not; a stale list's candidate
 * waits for its anchor; after a crash the successor of dead entries waits until it found its
 * predecessor dead, and a yes that hangs on slow nodes names them; a read takes the node after
 * the silent ones. Dead hints: the nearest the key, either way round the ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/lookowner.h"

#define BITS 8

static struct dht_id id(uint64_t v)
{
	struct dht_id x;
	id_from_u64(&x, v, BITS);
	return x;
}

/* The lookup's state: the key 50 lies in (40, 60]; the owner list is 60, 70, 80. */
struct world {
	struct dht_node own[3];
	struct dht_id lower, dead[4], slow[4];
	struct lookowner_view v;
};

static void world_init(struct world *w, bool fresh)
{
	memset(w, 0, sizeof *w);
	for (int i = 0; i < 3; i++)
		w->own[i].id = id(60 + 10 * (uint64_t)i);
	w->lower = id(40);
	w->v.own = w->own;
	w->v.nown = 3;
	w->v.lower = &w->lower;
	w->v.fresh = fresh;
	w->v.dead = w->dead;
	w->v.slow = w->slow;
}

static void dead(struct world *w, uint64_t v)
{
	w->dead[w->v.ndead++] = id(v);
}

/* The answer of a node asked as owner: STATUS, with its predecessor PRED (0: none). */
static struct dht_msg answer(uint8_t status, uint64_t pred)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_FOUND;
	m.u.found.status = status;
	m.u.found.has_pred = pred != 0;
	m.u.found.pred.id = id(pred);
	return m;
}

static enum owner_verdict judge(const struct world *w, uint64_t x, uint8_t status, uint64_t pred,
				size_t *nneed, struct dht_id need[LOOKOWNER_MAX_NEED])
{
	struct dht_id who = id(x);
	struct dht_msg m = answer(status, pred);
	return lookowner_judge(&w->v, &who, &m, need, nneed);
}

static void test_plain_answers(void **state)
{
	(void)state;
	struct world w;
	struct dht_id need[LOOKOWNER_MAX_NEED];
	size_t nneed;
	world_init(&w, true);
	assert_int_equal(judge(&w, 60, DHT_FOUND_SELF, 45, &nneed, need), OWNER_YES);
	assert_int_equal(judge(&w, 60, DHT_FOUND_OWNER, 0, &nneed, need), OWNER_NO);
	assert_int_equal(judge(&w, 90, DHT_FOUND_NEXT, 0, &nneed, need), OWNER_NO);
	/* A live predecessor would have made it say SELF had the key been its. */
	assert_int_equal(judge(&w, 60, DHT_FOUND_NEXT, 45, &nneed, need), OWNER_NO);
	/* No predecessor: the anchor's fresh first successor is believed, a stale one's is not. */
	assert_int_equal(judge(&w, 60, DHT_FOUND_NEXT, 0, &nneed, need), OWNER_YES);
	assert_int_equal(nneed, 0);
	world_init(&w, false);
	assert_int_equal(judge(&w, 60, DHT_FOUND_NEXT, 0, &nneed, need), OWNER_STALE);
}

static void test_after_a_crash(void **state)
{
	(void)state;
	struct world w;
	struct dht_id need[LOOKOWNER_MAX_NEED];
	size_t nneed;
	world_init(&w, true);
	/* 70, deep in the list, while 60 before it may be alive. */
	assert_int_equal(judge(&w, 70, DHT_FOUND_NEXT, 0, &nneed, need), OWNER_STALE);
	dead(&w, 60);
	/* 60 timed out here, but 70 still names it: wait until 70 found it dead too. */
	assert_int_equal(judge(&w, 70, DHT_FOUND_NEXT, 60, &nneed, need), OWNER_WAIT);
	assert_int_equal(judge(&w, 70, DHT_FOUND_NEXT, 0, &nneed, need), OWNER_YES);
	/* A dead node between the anchor and the first entry is a skip too. */
	world_init(&w, true);
	dead(&w, 55);
	assert_int_equal(judge(&w, 60, DHT_FOUND_NEXT, 55, &nneed, need), OWNER_WAIT);
}

static void test_slow_nodes_are_needed(void **state)
{
	(void)state;
	struct world w;
	struct dht_id need[LOOKOWNER_MAX_NEED];
	size_t nneed;
	world_init(&w, true);
	w.slow[w.v.nslow++] = id(60);
	assert_int_equal(judge(&w, 70, DHT_FOUND_NEXT, 0, &nneed, need), OWNER_YES);
	assert_int_equal(nneed, 1);
	struct dht_id sixty = id(60);
	assert_true(id_eq(&need[0], &sixty));
	/* Named as predecessor and skipped: needed once, and still a wait. */
	assert_int_equal(judge(&w, 70, DHT_FOUND_NEXT, 60, &nneed, need), OWNER_WAIT);
	assert_int_equal(nneed, 1);
}

/* Issue 14: a read takes the node after the silent ones (dead or slow), from a stale list too,
 * but never past a live entry or a live predecessor, nor a node that says OWNER. */
static void test_replica_for_reads(void **state)
{
	(void)state;
	struct world w;
	struct dht_id x70 = id(70), x60 = id(60), x90 = id(90);
	struct dht_msg self = answer(DHT_FOUND_SELF, 60), pred60 = answer(DHT_FOUND_PRED, 60),
		       nopred = answer(DHT_FOUND_NEXT, 0), owner = answer(DHT_FOUND_OWNER, 0),
		       pred65 = answer(DHT_FOUND_PRED, 65);
	world_init(&w, false);
	assert_true(lookowner_replica(&w.v, &x70, &self));
	/* 60 before 70 has not been silent: it may own the key. */
	assert_false(lookowner_replica(&w.v, &x70, &pred60));
	assert_false(lookowner_replica(&w.v, &x70, &nopred));
	w.slow[w.v.nslow++] = id(60);
	assert_true(lookowner_replica(&w.v, &x70, &pred60));
	assert_true(lookowner_replica(&w.v, &x70, &nopred));
	assert_false(lookowner_replica(&w.v, &x70, &owner));
	assert_false(lookowner_replica(&w.v, &x70, &pred65)); /* a live node after 60 */
	assert_false(lookowner_replica(&w.v, &x90, &nopred)); /* no list names it */
	/* The first entry, its predecessor dead. */
	world_init(&w, true);
	dead(&w, 55);
	struct dht_msg pred55 = answer(DHT_FOUND_PRED, 55);
	assert_true(lookowner_replica(&w.v, &x60, &pred55));
	/* The write rules still wait for 55 to be found dead by 60 itself. */
	struct dht_id need[LOOKOWNER_MAX_NEED];
	size_t nneed;
	assert_int_equal(lookowner_judge(&w.v, &x60, &pred55, need, &nneed), OWNER_WAIT);
}

static void test_hints_nearest_the_key(void **state)
{
	(void)state;
	const uint64_t dv[] = { 10, 95, 103, 200, 99, 150 };
	struct dht_id d[6], out[DHT_MAX_DEAD], key = id(100);
	for (int i = 0; i < 6; i++)
		d[i] = id(dv[i]);
	assert_int_equal(lookowner_hints(&key, BITS, d, 6, out), DHT_MAX_DEAD);
	const uint64_t want[] = { 99, 103, 95, 150 };
	for (int i = 0; i < DHT_MAX_DEAD; i++)
		assert_int_equal(id_low64(&out[i]), want[i]);
	/* Round the ring's end: 250 is as near 2 as 10 is, and came first. */
	key = id(2);
	d[0] = id(250);
	d[1] = id(10);
	assert_int_equal(lookowner_hints(&key, BITS, d, 2, out), 2);
	assert_int_equal(id_low64(&out[0]), 250);
	assert_int_equal(id_low64(&out[1]), 10);
	assert_int_equal(lookowner_hints(&key, BITS, d, 0, out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_answers),
		cmocka_unit_test(test_after_a_crash),
		cmocka_unit_test(test_slow_nodes_are_needed),
		cmocka_unit_test(test_replica_for_reads),
		cmocka_unit_test(test_hints_nearest_the_key),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
