/* dht/kvtrust.h: taking REPLICATE, inside the Chord core (struct dht, dht/core.h). Copies come
 * from a key's owner to its k successors and hand-offs from a neighbour, so a push is taken at
 * once from a node we hold at its address (predecessor, successor, finger); from any other node
 * only once it has shown us, in its own successor list (asked with GET_NEIGH the first time it
 * pushes), that we are among its first k successors. Its pushes are held meanwhile (a few
 * datagrams), and taken for a few replication periods after. TTLs are cut to the cap. A client
 * of rpc.c and store.c; kvserve.c hands it every REPLICATE, chord.c frees it. Private to
 * dht/. */
#ifndef DHT_KVTRUST_H
#define DHT_KVTRUST_H

#include "dht/core.h"

/* Take (now, later, or never) the REPLICATE M from FROM, proven at its address by rpc.c. */
void kvtrust_replicate(struct dht *d, const struct dht_msg *m, const struct dht_node *from);

/* Free what pushes held for checks still pending (the core is freed). */
void kvtrust_free(struct dht *d);

#endif
