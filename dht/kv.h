/* dht/kv.h: the replicated key-value store on top of the ring, part of the same core (struct
 * dht) and driven by the same dht_input()/dht_tick(). A value lives at its key's successor and
 * is replicated to the next k successors; keys move to a node that joins in front of them, and
 * a node that leaves gracefully hands its keys on. Values expire after their TTL. Two kinds:
 * values (put/get: signed items, one per writer, dht/item.h) and peer announcements
 * (announce/get_peers: a multi-valued key whose values are the addresses of the peers that
 * announced, like a tracker's list). One key may hold both at once; a put leaves the key's
 * announcements alone, and an announce its values.
 * Result pointers passed to callbacks are valid only during the callback. The operations below
 * are entry points of the core like those of dht/chord.h, and follow the same rules. */
#ifndef DHT_KV_H
#define DHT_KV_H

#include <stddef.h>
#include <stdint.h>

#include "dht/types.h"

struct dht;

#define KV_MAX_VALUE 1000     /* bytes in one value */
#define KV_MAX_WRITERS 8      /* values under one key (store.h's STORE_MAX_WRITERS) */

/* One value read back: ITEM's value points into the result, valid during the callback. */
struct dht_value {
	struct dht_item item;
	uint32_t ttl_s;
};
#define KV_MAX_PEERS_REPLY 50 /* peers in one get_peers answer (the seeds' tracker) */

struct dht_value_result {
	enum dht_status status; /* DHT_OK, or DHT_ERR_NOT_FOUND, DHT_ERR_TOO_LARGE, ... */
	struct dht_id key;
	const struct dht_lookup_result *lookup; /* how the owner was found (hops, path); may be NULL */
	struct dht_node owner;                 /* the node that answered */
	size_t nvalues;                        /* get: at most KV_MAX_WRITERS, each checked */
	const struct dht_value *values;
	size_t npeers;                         /* get_peers: at most KV_MAX_PEERS_REPLY */
	const struct dht_addr *peers;
};

typedef void dht_value_cb(void *arg, const struct dht_value_result *res);

/* Store ITEM (signed by its writer, or immutable: dht/item.h; its value at most KV_MAX_VALUE
 * bytes, copied) under KEY for TTL_S seconds (0: the default), replacing its writer's earlier
 * value if ITEM's seq is higher, only if that value's seq is *CAS (0: none) when CAS is not
 * NULL. CB is called once: DHT_OK when the owner has stored it, or an error (DHT_ERR_FORGED,
 * DHT_ERR_STALE, DHT_ERR_CAS, ...). Return 0, or -1 if not joined, the value is too large or
 * memory runs out (CB is then not called). */
int dht_put(struct dht *d, const struct dht_id *key, const struct dht_item *item,
	    uint32_t ttl_s, const uint64_t *cas, dht_value_cb *cb, void *arg);

/* Read KEY's values (only WRITER's, a public key, if it is not NULL) from its owner, falling
 * back to the owner's successors (the replicas) if the owner has none. Values whose signature
 * does not check are left out (and counted). DHT_ERR_NOT_FOUND if nobody has one. */
int dht_get(struct dht *d, const struct dht_id *key, const uint8_t *writer, dht_value_cb *cb,
	    void *arg);

/* Add PEER to KEY's announcements for TTL_S seconds (0: the default); refresh by announcing
 * again before it runs out. */
int dht_announce(struct dht *d, const struct dht_id *key, const struct dht_addr *peer,
		 uint32_t ttl_s, dht_value_cb *cb, void *arg);

/* Up to MAX (<= KV_MAX_PEERS_REPLY) announced peers of KEY, a random subset if there are more. */
int dht_get_peers(struct dht *d, const struct dht_id *key, unsigned max, dht_value_cb *cb,
		  void *arg);

/* What one node reports about itself: used to walk the ring (dhtctl ring). */
struct dht_neighbors {
	enum dht_status status;
	struct dht_node node;  /* its id (as it says) and the address asked */
	bool has_pred;
	struct dht_node pred;
	size_t nsucc;
	const struct dht_node *succ;  /* each node once, as dht_successors() reports */
	uint64_t rtt_us;
};
typedef void dht_neighbors_cb(void *arg, const struct dht_neighbors *res);

/* Ask the node at ADDR for its predecessor and successor list. */
int dht_query_neighbors(struct dht *d, const struct dht_addr *addr, dht_neighbors_cb *cb,
			void *arg);

/* The local store, for status output. */
enum dht_kv_kind { KV_VALUE = 1, KV_PEERS = 2 };
struct dht_kv_entry_info {
	struct dht_id key;
	enum dht_kv_kind kind;
	size_t bytes;   /* value bytes, or number of peers */
	uint32_t ttl_s; /* seconds left (for peers: of the longest-lived one) */
	bool owned;     /* we are the key's successor (the rest are replicas) */
};
size_t dht_kv_count(const struct dht *d);
size_t dht_kv_bytes(const struct dht *d);
/* Call FN for each entry, at most MAX times; a key holding a value and announcements is reported
 * twice, once per kind. */
void dht_kv_foreach(const struct dht *d, size_t max,
		    void (*fn)(void *arg, const struct dht_kv_entry_info *e), void *arg);

#endif
