/* dht/lookstats.h: histograms of the core's finished lookups (every lookup, the ring's own
 * finger repairs included, as dht_stats.lookups counts them): hops and latency, cumulative
 * from the node's start, for metrics. The core owns the histograms; the accessor lends them. */
#ifndef DHT_LOOKSTATS_H
#define DHT_LOOKSTATS_H

#include <stdint.h>

#include "dht/types.h"

#define LOOKSTATS_HOP_BUCKETS 10 /* hops <= 0, 1, 2, 4, 6, 8, 12, 16, 24, 32 (then +Inf) */
#define LOOKSTATS_MS_BUCKETS 10  /* ms <= 1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000 */

struct dht_lookup_hist {
	/* Counts per bucket, not cumulative; [N] is above the last bound. Successful lookups. */
	uint64_t hops[LOOKSTATS_HOP_BUCKETS + 1];
	uint64_t ms[LOOKSTATS_MS_BUCKETS + 1];
	uint64_t count, hops_sum, us_sum;
};

extern const unsigned lookstats_hop_bounds[LOOKSTATS_HOP_BUCKETS];
extern const unsigned lookstats_ms_bounds[LOOKSTATS_MS_BUCKETS];

struct dht;
/* The histograms of D's finished successful lookups. */
const struct dht_lookup_hist *dht_lookup_hist(const struct dht *d);
/* Count RES (a lookup that just finished) into H. */
void lookstats_record(struct dht_lookup_hist *h, const struct dht_lookup_result *res);

#endif
