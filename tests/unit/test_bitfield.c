/* Bitfields: known wire bytes, spare-bit rejection, and random operation
 * sequences (fixed seeds) checked against a plain bool-array model at sizes around word edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "dht/bytes.h"
#include "dht/rng.h"
#include "transfer/bitfield.h"

static const uint32_t sizes[] = { 1, 7, 8, 9, 63, 64, 65, 127, 128, 130, 1000, 1024 };
#define NSIZES (sizeof sizes / sizeof sizes[0])
#define MODEL_MAX 1024

static void test_limits(void **state)
{
	(void)state;
	assert_null(bitfield_new(0));
	assert_null(bitfield_new(BITFIELD_MAX_BITS + 1));
	struct bitfield *bf = bitfield_new(BITFIELD_MAX_BITS);
	assert_non_null(bf);
	bitfield_set_all(bf);
	assert_int_equal(bitfield_count(bf), BITFIELD_MAX_BITS);
	assert_int_equal(bitfield_wire_len(BITFIELD_MAX_BITS), BITFIELD_MAX_BYTES);
	bitfield_free(bf);
	bitfield_free(NULL);
}

static void test_set_clear_test(void **state)
{
	(void)state;
	struct bitfield *bf = bitfield_new(70);
	assert_true(bitfield_none(bf));
	assert_int_equal(bitfield_set(bf, 0), 0);
	assert_int_equal(bitfield_set(bf, 69), 0);
	assert_int_equal(bitfield_set(bf, 69), 0); /* idempotent: the count stays right */
	assert_int_equal(bitfield_set(bf, 70), -1);
	assert_int_equal(bitfield_clear(bf, 70), -1);
	assert_false(bitfield_test(bf, 70));
	assert_true(bitfield_test(bf, 0) && bitfield_test(bf, 69) && !bitfield_test(bf, 1));
	assert_int_equal(bitfield_count(bf), 2);
	assert_int_equal(bitfield_clear(bf, 0), 0);
	assert_int_equal(bitfield_clear(bf, 0), 0);
	assert_int_equal(bitfield_count(bf), 1);
	assert_int_equal(bitfield_first_missing(bf), 0);
	bitfield_set_all(bf);
	assert_true(bitfield_all(bf));
	assert_int_equal(bitfield_first_missing(bf), BITFIELD_NONE);
	assert_int_equal(bitfield_next_set(bf, 69), 69);
	assert_int_equal(bitfield_next_set(bf, 70), BITFIELD_NONE);
	bitfield_clear_all(bf);
	assert_int_equal(bitfield_count(bf), 0);
	assert_int_equal(bitfield_next_set(bf, 0), BITFIELD_NONE);
	assert_int_equal(bitfield_next_clear(bf, 69), 69);
	bitfield_free(bf);
}

static void test_wire_known_answer(void **state)
{
	(void)state;
	struct bitfield *bf = bitfield_new(12);
	bitfield_set(bf, 0);
	bitfield_set(bf, 7);
	bitfield_set(bf, 8);
	bitfield_set(bf, 11);
	uint8_t buf[4] = { 0xee, 0xee, 0xee, 0xee };
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	assert_int_equal(bitfield_encode(bf, &w), 0);
	assert_int_equal(w.len, 2);
	const uint8_t want[] = { 0x81, 0x90, 0xee };
	assert_memory_equal(buf, want, sizeof want);
	/* Too small a writer: nothing is written and the writer goes bad. */
	bw_init(&w, buf, 1);
	assert_int_equal(bitfield_encode(bf, &w), -1);
	assert_true(w.bad);

	bitfield_set_all(bf);
	bw_init(&w, buf, sizeof buf);
	assert_int_equal(bitfield_encode(bf, &w), 0);
	assert_int_equal(buf[1], 0xf0); /* spare bits stay zero */
	bitfield_free(bf);
}

static void test_decode_rejects(void **state)
{
	(void)state;
	struct bitfield *bf = bitfield_new(12);
	bitfield_set(bf, 3);
	const uint8_t spare[] = { 0xff, 0xf8 }; /* bit 12 is past the end */
	const uint8_t good[] = { 0xff, 0xf0 };
	const uint8_t longer[] = { 0xff, 0xf0, 0x00 };
	assert_int_equal(bitfield_decode(bf, spare, sizeof spare), -1);
	assert_int_equal(bitfield_decode(bf, good, 1), -1);
	assert_int_equal(bitfield_decode(bf, longer, sizeof longer), -1);
	assert_int_equal(bitfield_count(bf), 1); /* untouched by the failures */
	assert_true(bitfield_test(bf, 3));
	assert_int_equal(bitfield_decode(bf, good, sizeof good), 0);
	assert_true(bitfield_all(bf));
	bitfield_free(bf);

	bf = bitfield_new(16); /* no spare bits at all */
	const uint8_t full[] = { 0x00, 0x01 };
	assert_int_equal(bitfield_decode(bf, full, sizeof full), 0);
	assert_int_equal(bitfield_next_set(bf, 0), 15);
	bitfield_free(bf);
}

/* Compare every query against the model. */
static void check_model(const struct bitfield *bf, const bool *model, uint32_t n)
{
	uint32_t count = 0, first_clear = BITFIELD_NONE;
	for (uint32_t i = n; i-- > 0;) {
		assert_int_equal(bitfield_test(bf, i), model[i]);
		count += model[i];
		if (!model[i])
			first_clear = i;
	}
	assert_int_equal(bitfield_count(bf), count);
	assert_int_equal(bitfield_first_missing(bf), first_clear);
	assert_int_equal(bitfield_all(bf), count == n);
	for (uint32_t from = 0; from <= n; from++) {
		uint32_t s = BITFIELD_NONE, c = BITFIELD_NONE;
		for (uint32_t i = from; i < n; i++) {
			if (model[i] && s == BITFIELD_NONE)
				s = i;
			if (!model[i] && c == BITFIELD_NONE)
				c = i;
		}
		assert_int_equal(bitfield_next_set(bf, from), s);
		assert_int_equal(bitfield_next_clear(bf, from), c);
	}
}

static void test_random_against_model(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 42);
	for (size_t s = 0; s < NSIZES; s++) {
		uint32_t n = sizes[s];
		bool model[MODEL_MAX] = { false };
		struct bitfield *bf = bitfield_new(n);
		for (int step = 0; step < 200; step++) {
			uint32_t i = (uint32_t)rng_below(&r, n);
			bool set = rng_below(&r, 3) != 0; /* drift towards full */
			assert_int_equal(set ? bitfield_set(bf, i) : bitfield_clear(bf, i), 0);
			model[i] = set;
			if (step % 40 == 0)
				check_model(bf, model, n);
		}
		check_model(bf, model, n);
		/* Round trip through the wire form. */
		uint8_t buf[MODEL_MAX / 8];
		struct bwriter w;
		bw_init(&w, buf, sizeof buf);
		assert_int_equal(bitfield_encode(bf, &w), 0);
		assert_int_equal(w.len, bitfield_wire_len(n));
		struct bitfield *back = bitfield_new(n);
		assert_int_equal(bitfield_decode(back, buf, w.len), 0);
		check_model(back, model, n);
		struct bitfield *dup = bitfield_dup(back);
		check_model(dup, model, n);
		bitfield_free(dup);
		bitfield_free(back);
		bitfield_free(bf);
	}
}

static void test_wanted(void **state)
{
	(void)state;
	struct rng r;
	rng_seed(&r, 7);
	for (size_t s = 0; s < NSIZES; s++) {
		uint32_t n = sizes[s];
		struct bitfield *theirs = bitfield_new(n), *mine = bitfield_new(n);
		for (uint32_t i = 0; i < n; i++) {
			if (rng_below(&r, 2))
				bitfield_set(theirs, i);
			if (rng_below(&r, 4) != 0)
				bitfield_set(mine, i);
		}
		bool any = false;
		for (uint32_t from = 0; from <= n; from++) {
			uint32_t want = BITFIELD_NONE;
			for (uint32_t i = from; i < n && want == BITFIELD_NONE; i++)
				if (bitfield_test(theirs, i) && !bitfield_test(mine, i))
					want = i;
			any |= want != BITFIELD_NONE;
			assert_int_equal(bitfield_next_wanted(theirs, mine, from), want);
		}
		assert_int_equal(bitfield_interesting(theirs, mine), any);
		assert_int_equal(bitfield_copy(mine, theirs), 0);
		assert_false(bitfield_interesting(theirs, mine));
		bitfield_free(theirs);
		bitfield_free(mine);
	}
	struct bitfield *a = bitfield_new(10), *b = bitfield_new(11);
	bitfield_set_all(a);
	assert_int_equal(bitfield_next_wanted(a, b, 0), BITFIELD_NONE);
	assert_int_equal(bitfield_copy(b, a), -1);
	assert_int_equal(bitfield_count(b), 0);
	bitfield_free(a);
	bitfield_free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_set_clear_test),
		cmocka_unit_test(test_wire_known_answer),
		cmocka_unit_test(test_decode_rejects),
		cmocka_unit_test(test_random_against_model),
		cmocka_unit_test(test_wanted),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
