/* dht/kvtrust.h: who may push REPLICATE to us (inside the Chord core, struct dht, dht/core.h).
 * Copies come from a key's owner to its k successors and hand-offs from a neighbour, so a push is
 * taken from a node we hold at its address (predecessor, successor, finger), or from one that
 * has shown us, in its own successor list, that we are among its first k successors: that list
 * is asked for (GET_NEIGH) the first time such a node pushes, and the answer holds for a few
 * replication periods. A client of rpc.c; kvserve.c asks it. Private to dht/. */
#ifndef DHT_KVTRUST_H
#define DHT_KVTRUST_H

#include "dht/core.h"

/* May FROM (proven at its address by rpc.c) push copies to us now? If not known yet, a check
 * starts, and a later push is taken once FROM's answer lists us. */
bool kvtrust_allowed(struct dht *d, const struct dht_node *from);

#endif
