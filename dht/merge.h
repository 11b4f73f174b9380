/* dht/merge.h: ring unification inside the Chord core (struct dht, dht/core.h), after Shafaat,
 * Ghodsi and Haridi, "Handling network partitions and mergers in structured overlay networks"
 * (P2P 2007). Nodes we lost contact with stay in a passive list (routing.h); now and then one is
 * probed (as is a node a discovery beacon told of), and one that answers may belong to another
 * ring (a partition healed, or two rings founded apart): we look our own
 * id up in its ring and link to the successor found there, which stabilization zips into one
 * ring. A client of lookup.c, rpc.c and routing.c; ring.c drives it. Private to dht/. */
#ifndef DHT_MERGE_H
#define DHT_MERGE_H

#include "dht/core.h"

/* Start probing from NOW on (the node has just joined). */
void merge_start(struct dht *d, uint64_t now);
/* Probe the next lost node if a probe is due at NOW (joined nodes only). */
void merge_tick(struct dht *d, uint64_t now);
/* A node heard of outside the ring's own messages (a discovery beacon on the local network): if
 * it lies where our ring has no node, between our predecessor and our successor, it may be of
 * another ring; keep it (the last one wins) to probe next, as a lost node is probed. */
void merge_hint(struct dht *d, const struct dht_node *node);
/* Note NODE as lost now (routing_note_lost with the core's clock). */
void merge_note_lost(struct dht *d, const struct dht_node *node);
/* When merge_tick() has work next. */
uint64_t merge_next_deadline(const struct dht *d);

#endif
