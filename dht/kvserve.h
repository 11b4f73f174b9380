/* dht/kvserve.h: the serving side of the replicated store inside the Chord core (struct dht,
 * dht/core.h): answers to store requests, replication to the successors, hand-off of keys. A
 * client of rpc.c over the local container (store.c); kv.c's operations and chord.c use it.
 * Private to dht/. */
#ifndef DHT_KVSERVE_H
#define DHT_KVSERVE_H

#include "dht/core.h"
#include "dht/store.h"

/* Is KEY ours, i.e. in (predecessor, self]? Without a predecessor, only when alone. */
bool kv_owns(const struct dht *d, const struct dht_id *key);
/* Answer the store request REQ from FROM (proven by rpc.c, or ourselves) into OUT (left with type
 * 0 when there is no answer). */
void kv_answer(struct dht *d, const struct dht_msg *req, const struct dht_node *from,
	       struct dht_msg *out);
/* Serve a store request (PUT, GET, ANNOUNCE, GET_PEERS, REPLICATE) from FROM, answering it.
 * Return true if it was one. */
bool kv_on_request(struct dht *d, const struct dht_msg *m, const struct dht_node *from);
/* Push every entry we own to our replicas (NOW marks them refreshed); call ORPHAN with ARG for
 * each entry we hold and do not own. */
void kv_replicate(struct dht *d, uint64_t now, void (*orphan)(void *arg, struct store_entry *e),
		  void *arg);
/* Our predecessor changed from OLD (if HAD_OLD) to the node now in d->rt.pred: hand over keys. */
void kv_pred_changed(struct dht *d, bool had_old, const struct dht_node *old);
/* Leaving: hand the keys we own to our successor. */
void kv_handoff_all(struct dht *d);

#endif
