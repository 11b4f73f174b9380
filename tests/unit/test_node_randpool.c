/* The sessions' random numbers in blocks (node/xfer/randpool.h): one call of the source per
 * RANDPOOL_WORDS numbers, every number of a block handed out exactly once, and the next block
 * drawn afresh when one is used up. The source here writes a counter, so each word is known. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "node/xfer/randpool.h"

static unsigned fills;
static uint64_t counter;

static void counting_fill(void *buf, size_t len)
{
	uint64_t w[RANDPOOL_WORDS];
	assert_int_equal(len, sizeof w);
	for (unsigned i = 0; i < RANDPOOL_WORDS; i++)
		w[i] = ++counter;
	memcpy(buf, w, len);
	fills++;
}

static void test_one_fill_per_block(void **state)
{
	(void)state;
	struct randpool p;
	fills = 0;
	counter = 0;
	randpool_init(&p, counting_fill);
	assert_int_equal(fills, 0); /* nothing drawn before the first number is asked for */
	for (unsigned i = 0; i < RANDPOOL_WORDS; i++)
		randpool_next(&p);
	assert_int_equal(fills, 1);
	randpool_next(&p);
	assert_int_equal(fills, 2);
}

static void test_every_word_once(void **state)
{
	(void)state;
	struct randpool p;
	uint8_t seen[3 * RANDPOOL_WORDS + 1] = { 0 };
	fills = 0;
	counter = 0;
	randpool_init(&p, counting_fill);
	for (unsigned i = 0; i < 3 * RANDPOOL_WORDS; i++) {
		uint64_t v = randpool_next(&p);
		assert_true(v >= 1 && v <= 3 * RANDPOOL_WORDS);
		/* Numbers from a block come before any of the next. */
		assert_true(v > (uint64_t)(i / RANDPOOL_WORDS) * RANDPOOL_WORDS);
		assert_int_equal(seen[v], 0);
		seen[v] = 1;
	}
	assert_int_equal(fills, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_fill_per_block),
		cmocka_unit_test(test_every_word_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
