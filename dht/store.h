/* dht/store.h: the local key-value container behind the replicated store: entries keyed by id,
 * holding values (one per writer, dht/item.h: the highest sequence number wins) and announced
 * peer addresses, each with its own expiry, with byte, per-key and per-IP limits. It does not
 * check signatures (the callers do: kvserve.c and kvtrust.c). Pure data: the caller passes the
 * time. The store owns its entries; pointers it returns stay valid until the next call that
 * changes the store. */
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

#define STORE_MAX_WRITERS 8 /* values under one key: one per writer */
/* What one value costs beyond its bytes, for the size limit and its client's quota. */
#define STORE_ITEM_OVERHEAD (sizeof(struct store_item) + 16)

/* One writer's value under a key (an immutable value's writer is all zeros). A tombstone stays,
 * so that a replay of an older value is refused, until it expires. */
struct store_item {
	struct dht_item item;   /* its value points at bytes the store owns */
	uint64_t expires;
	struct dht_addr client; /* the IP that put it, charged for it (family 0: a copy) */
};

/* One key's entry: values, announced peers, or both at once (a put and an announce under one
 * key do not touch each other's part). */
struct store_entry {
	struct dht_id key;
	uint64_t expires;   /* the latest of the items' and the peers' */
	uint64_t refreshed; /* when an owner last pushed (or a client last wrote) it */
	bool offered;       /* pushed to the owner once because no owner refreshed it */
	size_t nitems;
	struct store_item *items; /* STORE_MAX_WRITERS of room, allocated with the first */
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

enum store_result { STORE_OK = 0, STORE_FULL, STORE_NO_MEMORY, STORE_STALE, STORE_CAS };
/* STORE_FULL: the store's bytes, the writers or peers under one key, or the client's quota.
 * STORE_STALE: the writer's value there is newer: a higher seq, or the same seq and a greater
 * signature (two versions of one seq: all nodes keep the same one).
 * STORE_CAS: the writer's seq there is not the one the put expected. */

/* Store ITEM (checked by the caller) under KEY as its writer's value, expiring at EXPIRES; NOW
 * marks the entry refreshed; announcements and other writers' values stay. It replaces the
 * writer's live value only with a higher seq (the same version again only refreshes it). CAS
 * (NULL: none) is the seq the writer's live value must have (0: none there). CLIENT is the
 * proven address of the client that put it, charged within its quota; NULL is a copy from
 * another node. */
enum store_result store_put(struct store *s, const struct dht_id *key,
			    const struct dht_item *item, uint64_t expires, uint64_t now,
			    const struct dht_addr *client, const uint64_t *cas);
/* Add or refresh PEER under KEY, expiring at EXPIRES (a value under KEY stays). A CLIENT's
 * announcement (not a copy from the owner) is refused (STORE_FULL) beyond PEER's IP's quota. */
enum store_result store_announce(struct store *s, const struct dht_id *key,
				 const struct dht_addr *peer, uint64_t expires, uint64_t now,
				 bool client);

/* KEY's live entry (a live value or a live peer), or NULL. */
struct store_entry *store_get(struct store *s, const struct dht_id *key, uint64_t now);
/* The latest expiry among E's peers (0 if none). */
uint64_t store_peers_expire(const struct store_entry *e);
/* How many values E holds live at NOW (tombstones too when DEAD). */
size_t store_values(const struct store_entry *e, uint64_t now, bool dead);
/* E's INDEXth value live at NOW, or the one of the writer PK (tombstones too when DEAD); NULL
 * if there is none. */
const struct store_item *store_value_at(const struct store_entry *e, size_t index, uint64_t now,
					bool dead);
const struct store_item *store_value_of(const struct store_entry *e,
					const uint8_t pk[DHT_ITEM_PK_LEN], uint64_t now, bool dead);
/* Does KEY hold ITEM (the very same version, live at NOW)? What the store took was checked, so
 * the same bytes again need no second check. */
bool store_holds(struct store *s, const struct dht_id *key, const struct dht_item *item,
		 uint64_t now);
/* The latest expiry among E's items (0 if none). */
uint64_t store_items_expire(const struct store_entry *e);

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
