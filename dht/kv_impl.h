/* dht/kv_impl.h: the replicated store's protocol inside the Chord core (struct dht,
 * dht/core.h): the client operations
 * behind dht_put(), dht_get(), dht_announce(), dht_get_peers() and dht_query_neighbors(), and the
 * replication timer. A client of lookup.c, kvserve.c and rpc.c. Private to dht/. */
#ifndef DHT_KV_IMPL_H
#define DHT_KV_IMPL_H

#include "dht/core.h"
#include "dht/kv.h"

int kv_init(struct dht *d);
void kv_free(struct dht *d);
/* The operations of dht/kv.h, without re-announcing the deadline (the caller does). */
int kv_put(struct dht *d, const struct dht_id *key, const struct dht_item *item, uint32_t ttl_s,
	   const uint64_t *cas, dht_value_cb *cb, void *arg);
int kv_get(struct dht *d, const struct dht_id *key, const uint8_t *writer, dht_value_cb *cb,
	   void *arg);
int kv_announce(struct dht *d, const struct dht_id *key, const struct dht_addr *peer,
		uint32_t ttl_s, dht_value_cb *cb, void *arg);
int kv_get_peers(struct dht *d, const struct dht_id *key, unsigned max, dht_value_cb *cb,
		 void *arg);
int kv_query_neighbors(struct dht *d, const struct dht_addr *addr, dht_neighbors_cb *cb,
		       void *arg);
void kv_tick(struct dht *d, uint64_t now);
uint64_t kv_next_deadline(const struct dht *d);
/* The node has just joined (or created) a ring: replication starts a period from now. */
void kv_joined(struct dht *d);
/* Finish every operation still waiting (call after their requests are forgotten). */
void kv_fail_all(struct dht *d, enum dht_status status);

#endif
