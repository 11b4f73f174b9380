/* dht/guard.h: what the request layer (rpc.c) knows about the addresses it talks to, to refuse
 * what a hostile neighbour sends: address tokens (a keyed hash of an IP under a secret that
 * rotates, given to askers and checked when echoed), the tokens other nodes gave us, and a token
 * bucket per source IP. Every table is bounded: a full one forgets its least recently used entry.
 * Pure data: the caller passes the time and fresh secrets. The guard owns its tables. */
#ifndef DHT_GUARD_H
#define DHT_GUARD_H

#include <stdbool.h>
#include <stdint.h>

#include "dht/msg.h"

#define GUARD_SECRET_LEN 32
#define GUARD_ROTATE_US (300 * 1000000ULL) /* a token lives one or two of these */

struct guard;

/* A guard allowing RATE datagrams a second from one IP, in bursts of BURST; NULL if memory runs
 * out. SECRET seeds the first token secret. */
struct guard *guard_new(uint32_t rate, uint32_t burst, const uint8_t secret[GUARD_SECRET_LEN]);
void guard_free(struct guard *g); /* accepts NULL */

/* Is a new secret due at NOW? Then the caller passes one to guard_rotate(). */
bool guard_rotate_due(const struct guard *g, uint64_t now);
void guard_rotate(struct guard *g, uint64_t now, const uint8_t secret[GUARD_SECRET_LEN]);

/* The token we give the node at A, and whether TOKEN is one we gave A's IP (under the current
 * secret or the one before). */
void guard_token(const struct guard *g, const struct dht_addr *a, uint8_t out[DHT_TOKEN_LEN]);
bool guard_token_ok(const struct guard *g, const struct dht_addr *a,
		    const uint8_t token[DHT_TOKEN_LEN]);

/* Remember the token the node at A gave us (learned from its answers or proven requests); copy
 * it into OUT and return true if we have one (NOW marks it used). */
void guard_learn(struct guard *g, const struct dht_addr *a, const uint8_t token[DHT_TOKEN_LEN],
		 uint64_t now);
bool guard_echo(struct guard *g, const struct dht_addr *a, uint8_t out[DHT_TOKEN_LEN],
		uint64_t now);

/* Take one datagram from A's IP out of its bucket at NOW: false if the bucket is empty. */
bool guard_allow(struct guard *g, const struct dht_addr *a, uint64_t now);

#endif
