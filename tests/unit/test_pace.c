/* A peer's pace (transfer/pace.h): depth before and after measuring, the round trip taken from
 * the first block after an idle pipeline, the rate from windows of at least a round trip, queue
 * times, and time-outs within their bounds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "transfer/pace.h"

#define BLK 16384u

static void test_depth(void **state)
{
	(void)state;
	struct pace p;
	memset(&p, 0, sizeof p);
	assert_int_equal(pace_depth(&p, BLK, 4, 2, 256), 4);
	/* 1 MiB/s over 100 ms, twice: 209,715 bytes, 12.8 blocks, so 13 + 1. */
	pace_set(&p, 1u << 20, 100000);
	assert_int_equal(pace_depth(&p, BLK, 4, 2, 256), 14);
	assert_int_equal(pace_depth(&p, BLK, 4, 2, 10), 10);
	pace_set(&p, 1000, 1000);
	assert_int_equal(pace_depth(&p, BLK, 4, 2, 256), 2);
}

static void test_measured_from_deliveries(void **state)
{
	(void)state;
	struct pace p;
	memset(&p, 0, sizeof p);
	uint64_t now = 5000000;
	pace_busy(&p, now);
	/* The first block 80 ms later: that is the round trip; too soon for a rate. */
	pace_delivered(&p, BLK, now += 80000);
	assert_int_equal(p.rtt_us, 80000);
	assert_int_equal(p.rate, 0);
	/* Blocks every 16 ms: the window closes at 112 ms, the first past 100 ms (and the round
	 * trip), on 3 blocks; the next one, 112 ms and 7 blocks later, moves the rate a quarter of
	 * the way to its sample. */
	pace_delivered(&p, BLK, now += 16000);
	assert_int_equal(p.rate, 0);
	pace_delivered(&p, BLK, now += 16000);
	uint64_t first = (uint64_t)3 * BLK * 1000000 / 112000;
	assert_int_equal(p.rate, first);
	for (int i = 0; i < 7; i++)
		pace_delivered(&p, BLK, now += 16000);
	assert_int_equal(p.rate, (3 * first + (uint64_t)7 * BLK * 1000000 / 112000) / 4);
	/* A later, longer round trip moves the estimate only an eighth of the way. */
	pace_busy(&p, now);
	pace_delivered(&p, BLK, now += 160000);
	assert_int_equal(p.rtt_us, (7 * 80000 + 160000) / 8);
	assert_int_equal(p.last_progress, now);
}

static void test_queue_and_timeout(void **state)
{
	(void)state;
	struct pace p;
	memset(&p, 0, sizeof p);
	assert_int_equal(pace_queue_us(&p, 3, BLK, 777), 777);
	assert_int_equal(pace_timeout(&p, 3, BLK, 5000000, 60000000), 60000000);
	pace_set(&p, BLK, 100000); /* a block a second */
	assert_int_equal(pace_queue_us(&p, 3, BLK, 777), 3000000);
	/* Three times (rtt + queue): 3 * 3.1 s. */
	assert_int_equal(pace_timeout(&p, 3, BLK, 5000000, 60000000), 9300000);
	assert_int_equal(pace_timeout(&p, 0, BLK, 5000000, 60000000), 5000000);
	assert_int_equal(pace_timeout(&p, 100, BLK, 5000000, 60000000), 60000000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_depth),
		cmocka_unit_test(test_measured_from_deliveries),
		cmocka_unit_test(test_queue_and_timeout),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
