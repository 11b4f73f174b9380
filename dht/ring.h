/* dht/ring.h: ring membership and maintenance inside the Chord core (struct dht, dht/core.h):
 * create, join, leave, and Zave's stabilize, rectify, check-predecessor and fix-fingers, with
 * the requests that serve them (PING, GET_NEIGH, JOIN, NOTIFY, LEAVE). A client of lookup.c and
 * rpc.c. Private to dht/. */
#ifndef DHT_RING_H
#define DHT_RING_H

#include "dht/core.h"

/* Become a ring of one. */
void ring_create(struct dht *d);
/* Start joining through VIA; CB (may be NULL) gets the outcome. Return 0 or -1 (no memory). */
int ring_join(struct dht *d, const struct dht_addr *via, dht_join_cb *cb, void *arg);
/* Tell predecessor and successor that we leave. */
void ring_leave(struct dht *d);
/* Serve M if it is a ring request; return false if it is not one. */
bool ring_on_request(struct dht *d, const struct dht_msg *m, const struct dht_node *from);
/* Run the maintenance due at NOW (joined nodes only). */
void ring_tick(struct dht *d, uint64_t now);
uint64_t ring_next_deadline(const struct dht *d);
/* A node did not answer a lookup hop: forget it as a finger; stabilize at once if it is our
 * first successor, check it at once if it is our predecessor. */
void ring_suspect(struct dht *d, const struct dht_id *id);

#endif
