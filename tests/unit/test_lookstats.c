/* Lookup histograms (dht/lookstats.h): each successful lookup lands in the first bucket whose
 * bound it does not exceed (hops as counted, latency rounded up to whole milliseconds), past
 * the last bound in the overflow bucket; sums and counts add up; failed lookups are left out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/lookstats.h"

static void record(struct dht_lookup_hist *h, enum dht_status st, unsigned hops, uint64_t us)
{
	struct dht_lookup_result r;
	memset(&r, 0, sizeof r);
	r.status = st;
	r.hops = hops;
	r.elapsed_us = us;
	lookstats_record(h, &r);
}

static void test_buckets(void **state)
{
	(void)state;
	struct dht_lookup_hist h;
	memset(&h, 0, sizeof h);
	record(&h, DHT_OK, 0, 10);        /* hops <= 0, ms 1 */
	record(&h, DHT_OK, 3, 1000);      /* hops <= 4, ms <= 1 (exactly 1 ms) */
	record(&h, DHT_OK, 4, 1001);      /* hops <= 4, ms <= 2 */
	record(&h, DHT_OK, 40, 9000000);  /* both past the last bound */
	record(&h, DHT_ERR_TIMEOUT, 7, 5000);
	assert_int_equal(h.count, 4);
	assert_int_equal(h.hops_sum, 47);
	assert_int_equal(h.us_sum, 10 + 1000 + 1001 + 9000000);
	assert_int_equal(h.hops[0], 1);
	assert_int_equal(h.hops[3], 2);
	assert_int_equal(h.hops[LOOKSTATS_HOP_BUCKETS], 1);
	assert_int_equal(h.ms[0], 2);
	assert_int_equal(h.ms[1], 1);
	assert_int_equal(h.ms[LOOKSTATS_MS_BUCKETS], 1);
	uint64_t all = 0;
	for (unsigned i = 0; i <= LOOKSTATS_HOP_BUCKETS; i++)
		all += h.hops[i];
	assert_int_equal(all, h.count);
	for (unsigned i = 1; i < LOOKSTATS_MS_BUCKETS; i++)
		assert_true(lookstats_ms_bounds[i - 1] < lookstats_ms_bounds[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_buckets) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
