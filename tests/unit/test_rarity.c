/* The rarest-first order (transfer/rarity.h) against a plain model: after every change of counts
 * and every unlisting, in many random orders, the listed chunks run in order of count, each
 * exactly once, rarity_from() starts where it should, unlisted chunks keep their counts and
 * show in the word set; ties come out in random order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dht/rng.h"
#include "transfer/rarity.h"

static uint64_t rnd64(void *arg)
{
	return rng_next(arg);
}

enum { N = 150, PEERS = 12 };

/* Check R against the model: COUNT per chunk, LISTED per chunk. */
static void check(const struct rarity *r, const uint32_t *count, const bool *listed)
{
	uint32_t len, nlisted = 0;
	bool seen[N] = { false };
	for (uint32_t c = 0; c < N; c++) {
		assert_int_equal(rarity_count(r, c), count[c]);
		assert_int_equal(rarity_listed(r, c), listed[c]);
		bool bit = (rarity_unlisted(r)[c / 64] >> (c % 64)) & 1;
		assert_int_equal(bit, !listed[c]);
		nlisted += listed[c];
	}
	const uint32_t *o = rarity_from(r, 0, &len);
	assert_int_equal(len, nlisted);
	for (uint32_t i = 0; i < len; i++) {
		assert_true(listed[o[i]] && !seen[o[i]]);
		seen[o[i]] = true;
		if (i > 0)
			assert_true(count[o[i - 1]] <= count[o[i]]);
	}
	for (uint32_t min = 0; min <= PEERS + 1; min++) {
		uint32_t want = 0;
		for (uint32_t c = 0; c < N; c++)
			want += listed[c] && count[c] >= min;
		const uint32_t *from = rarity_from(r, min, &len);
		assert_int_equal(len, want);
		if (len > 0)
			assert_ptr_equal(from, o + (nlisted - len));
	}
}

static void test_order_follows_counts(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct rng g, t;
		rng_seed(&t, seed * 7);
		struct rarity *r = rarity_new(N, rnd64, &g);
		rng_seed(&g, seed);
		assert_non_null(r);
		assert_int_equal(rarity_reserve(r, PEERS), 0);
		uint32_t count[N] = { 0 };
		bool listed[N];
		for (uint32_t c = 0; c < N; c++)
			listed[c] = true;
		for (int step = 0; step < 3000; step++) {
			uint32_t c = (uint32_t)rng_below(&t, N);
			uint64_t what = rng_below(&t, 20);
			if (what == 0) {
				rarity_unlist(r, c);
				listed[c] = false;
			} else if (what < 11 && count[c] < PEERS) {
				rarity_move(r, c, true);
				count[c]++;
			} else if (count[c] > 0) {
				rarity_move(r, c, false);
				count[c]--;
			}
			if (step % 97 == 0)
				check(r, count, listed);
		}
		check(r, count, listed);
		rarity_free(r);
	}
}

/* Equal counts come out in random order: over seeds, the first listed chunk is many chunks,
 * and the same seed gives the same order. */
static void test_ties_random(void **state)
{
	(void)state;
	bool first[N] = { false };
	unsigned distinct = 0;
	for (uint64_t seed = 1; seed <= 200; seed++) {
		struct rng g;
		rng_seed(&g, seed);
		struct rarity *r = rarity_new(N, rnd64, &g);
		assert_int_equal(rarity_reserve(r, 2), 0);
		/* Every chunk moves up and back: ties re-shuffled on the way. */
		for (uint32_t c = 0; c < N; c++)
			rarity_move(r, c, true);
		uint32_t len;
		uint32_t c0 = rarity_from(r, 0, &len)[0];
		distinct += !first[c0];
		first[c0] = true;
		rarity_free(r);
		rng_seed(&g, seed);
		r = rarity_new(N, rnd64, &g);
		assert_int_equal(rarity_reserve(r, 2), 0);
		for (uint32_t c = 0; c < N; c++)
			rarity_move(r, c, true);
		assert_int_equal(rarity_from(r, 0, &len)[0], c0);
		rarity_free(r);
	}
	assert_true(distinct > 50);
}

static void test_bad_arguments(void **state)
{
	(void)state;
	struct rng g;
	assert_null(rarity_new(0, rnd64, &g));
	assert_null(rarity_new(BITFIELD_MAX_BITS + 1, rnd64, &g));
	assert_null(rarity_new(10, NULL, &g));
	rarity_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_follows_counts),
		cmocka_unit_test(test_ties_random),
		cmocka_unit_test(test_bad_arguments),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
