/* dht/store.h: the local key-value container behind the replicated store: entries keyed by id,
 * either one value or a set of announced peer addresses (each with its own expiry), with byte
 * and per-key limits. Pure data: the caller passes the time. The store owns its entries; pointers
 * it returns stay valid until the next call that changes the store. */
#ifndef DHT_STORE_H
#define DHT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"
#include "dht/rng.h"

struct store;

struct store_peer {
	struct dht_addr addr;
	uint64_t expires;
};

/* One key's entry: a value, announced peers, or both at once (a put and an announce under one
 * key do not touch each other's part). */
struct store_entry {
	struct dht_id key;
	struct dht_addr writer; /* who put the value (family 0: unknown, e.g. a replica's copy) */
	uint64_t expires;   /* the latest of the value's and the peers' */
	uint64_t refreshed; /* when an owner last pushed (or a client last wrote) it */
	bool offered;       /* pushed to the owner once because no owner refreshed it */
	uint8_t *value;     /* NULL: no value */
	uint16_t vlen;
	uint64_t value_expires;
	size_t npeers, cappeers;
	struct store_peer *peers;
};

#define STORE_HASH_KEY_LEN 16

/* A store holding at most MAX_BYTES (values, peers and a fixed overhead per entry), at most
 * MAX_PEERS peers under one key, and at most QUOTA bytes (0: no limit) of values written by one
 * IP and of peers at one IP, its table hashed under HASH_KEY (random, and secret: whoever knows
 * it can choose colliding keys). NULL if memory runs out. */
struct store *store_new(size_t max_bytes, unsigned max_peers, size_t quota,
			const uint8_t hash_key[STORE_HASH_KEY_LEN]);
void store_free(struct store *s); /* accepts NULL */

enum store_result { STORE_OK = 0, STORE_FULL, STORE_NO_MEMORY, STORE_NOT_WRITER };
/* STORE_FULL: the store's bytes, the peers under one key, or the writer's quota. */

/* Set KEY's value (replacing any earlier value; announcements stay), expiring at EXPIRES; NOW
 * marks it refreshed. WRITER (the client's proven address) may replace only a value it wrote,
 * or one that expired or whose writer is unknown (STORE_NOT_WRITER otherwise), within its
 * quota; NULL is a copy from the owner, which replaces the value and keeps the writer. */
enum store_result store_put(struct store *s, const struct dht_id *key, const void *value,
			    uint16_t len, uint64_t expires, uint64_t now,
			    const struct dht_addr *writer);
/* Add or refresh PEER under KEY, expiring at EXPIRES (a value under KEY stays). A CLIENT's
 * announcement (not a copy from the owner) is refused (STORE_FULL) beyond PEER's IP's quota. */
enum store_result store_announce(struct store *s, const struct dht_id *key,
				 const struct dht_addr *peer, uint64_t expires, uint64_t now,
				 bool client);

/* KEY's live entry (a live value or a live peer), or NULL. */
struct store_entry *store_get(struct store *s, const struct dht_id *key, uint64_t now);
/* The latest expiry among E's peers (0 if none). */
uint64_t store_peers_expire(const struct store_entry *e);
/* Does E hold a value that is live at NOW? */
bool store_value_live(const struct store_entry *e, uint64_t now);

/* Copy up to MAX of KEY's live peers into OUT, a uniformly random subset if there are more
 * (chosen with R). Return how many. */
size_t store_peers(struct store *s, const struct dht_id *key, uint64_t now, struct dht_addr *out,
		   size_t max, struct rng *r);

void store_remove(struct store *s, const struct dht_id *key);
/* Drop expired values and peers in the next slice of the table (an eighth of it, or at least a
 * few thousand slots): bounded work per call. Return true when a sweep of the whole table ended
 * with this call. */
bool store_expire(struct store *s, uint64_t now);

size_t store_count(const struct store *s);
size_t store_bytes(const struct store *s);
/* The longest run of occupied table slots: the most one lookup may scan (for tests). */
size_t store_longest_run(const struct store *s);

/* Visit every entry (live or not yet expired by store_expire). FN must not change the store,
 * except for the entry's own refreshed and offered fields. */
void store_foreach(struct store *s, void (*fn)(void *arg, struct store_entry *e), void *arg);

#endif
