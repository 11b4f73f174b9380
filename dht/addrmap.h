/* dht/addrmap.h: a bounded hash map from a transport address to a small fixed-size record, for
 * what the request layer remembers per peer (dht/guard.c). It grows with the addresses it meets
 * up to MAX entries; a full map forgets its least recently used entry to take a new one, so many
 * addresses make it forget, never grow past the bound. Slots are a keyed hash of the address, so
 * that nobody can line addresses up in one cluster. The map owns its records; a pointer it
 * returns is valid until the next call that adds an entry. */
#ifndef DHT_ADDRMAP_H
#define DHT_ADDRMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"

struct addrmap;

/* A map of records of REC_SIZE bytes, at most MAX of them, hashed under SEED. NULL if memory
 * runs out. */
struct addrmap *addrmap_new(size_t rec_size, size_t max, uint64_t seed);
void addrmap_free(struct addrmap *m); /* accepts NULL */

/* A's record, or NULL; NOW marks it used. */
void *addrmap_get(struct addrmap *m, const struct dht_addr *a, uint64_t now);
/* A's record, added zeroed if there is none (*ADDED then true), evicting the least recently
 * used entry if the map is full. NULL if memory runs out. */
void *addrmap_put(struct addrmap *m, const struct dht_addr *a, uint64_t now, bool *added);

#endif
