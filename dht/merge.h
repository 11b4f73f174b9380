/* dht/merge.h: ring unification inside the Chord core (struct dht, dht/core.h), after Shafaat,
 * Ghodsi and Haridi, "Handling network partitions and mergers in structured overlay networks"
 * (P2P 2007). Nodes we lost contact with stay in a passive list (routing.h); now and then one is
 * probed, and one that answers may belong to another ring (a partition healed): we look our own
 * id up in its ring and link to the successor found there, which stabilization zips into one
 * ring. A client of lookup.c, rpc.c and routing.c; ring.c drives it. Private to dht/. */
#ifndef DHT_MERGE_H
#define DHT_MERGE_H

#include "dht/core.h"

/* Start probing from NOW on (the node has just joined). */
void merge_start(struct dht *d, uint64_t now);
/* Probe the next lost node if a probe is due at NOW (joined nodes only). */
void merge_tick(struct dht *d, uint64_t now);
/* When merge_tick() has work next. */
uint64_t merge_next_deadline(const struct dht *d);

#endif
