/* Lookup histograms: hops and milliseconds of each successful lookup, in fixed buckets chosen
 * for rings of a few to a few thousand nodes (hops ~ log2 N / 2) on loopback or a LAN. Failed
 * lookups are only counted (dht_stats.lookups_failed): their hops say nothing of the ring. */
#include "dht/lookstats.h"

#include "dht/core.h"

const unsigned lookstats_hop_bounds[LOOKSTATS_HOP_BUCKETS] = { 0, 1, 2, 4, 6, 8, 12, 16, 24, 32 };
const unsigned lookstats_ms_bounds[LOOKSTATS_MS_BUCKETS] = { 1, 2, 5, 10, 25, 50, 100, 250, 1000,
							     5000 };

static unsigned bucket(const unsigned *bounds, unsigned n, uint64_t v)
{
	unsigned i = 0;
	while (i < n && v > bounds[i])
		i++;
	return i;
}

void lookstats_record(struct dht_lookup_hist *h, const struct dht_lookup_result *res)
{
	if (res->status != DHT_OK)
		return;
	uint64_t ms_ceil = (res->elapsed_us + 999) / 1000;
	h->hops[bucket(lookstats_hop_bounds, LOOKSTATS_HOP_BUCKETS, res->hops)]++;
	h->ms[bucket(lookstats_ms_bounds, LOOKSTATS_MS_BUCKETS, ms_ceil)]++;
	h->count++;
	h->hops_sum += res->hops;
	h->us_sum += res->elapsed_us;
}

const struct dht_lookup_hist *dht_lookup_hist(const struct dht *d)
{
	return &d->lhist;
}
