/* dht/id.h: n-bit identifiers on the Chord circle (8 <= n <= 160) and arithmetic mod 2^n.
 * An id is a plain value (20 bytes, big-endian, always < 2^n); nothing here allocates.
 * n is a property of the whole network and is passed to every function that needs it. */
#ifndef DHT_ID_H
#define DHT_ID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ID_MIN_BITS 8
#define ID_MAX_BITS 160
#define ID_BYTES 20
#define ID_HEX_MAX (ID_MAX_BITS / 4 + 1) /* digits plus the NUL */

struct dht_id {
	uint8_t b[ID_BYTES];
};

/* Return true if BITS is a valid identifier width for a network. */
bool id_bits_valid(unsigned bits);

/* Return <0, 0, >0 as A is below, equal to or above B as plain integers. */
int id_cmp(const struct dht_id *a, const struct dht_id *b);
bool id_eq(const struct dht_id *a, const struct dht_id *b);
/* Return true if ID is one of the N ids of LIST (a short list: this is a linear scan). */
bool id_list_has(const struct dht_id *list, size_t n, const struct dht_id *id);

/* OUT = (A + B) mod 2^BITS, and OUT = (A - B) mod 2^BITS (the clockwise distance from B to A).
 * OUT may alias either operand. */
void id_add(struct dht_id *out, const struct dht_id *a, const struct dht_id *b, unsigned bits);
void id_sub(struct dht_id *out, const struct dht_id *a, const struct dht_id *b, unsigned bits);

/* OUT = (A + 2^I) mod 2^BITS, for I < BITS: the start of finger I. */
void id_add_pow2(struct dht_id *out, const struct dht_id *a, unsigned i, unsigned bits);

/* Intervals on the circle, walking clockwise from A to B. When A == B the open interval is the
 * whole circle but A, and the half-open one is the whole circle: this is what makes a one-node
 * ring (its own successor) answer for every key. */
bool id_in_oo(const struct dht_id *x, const struct dht_id *a, const struct dht_id *b); /* (a,b) */
bool id_in_oc(const struct dht_id *x, const struct dht_id *a, const struct dht_id *b); /* (a,b] */

/* Return the index of the highest set bit, or -1 for zero. */
int id_log2(const struct dht_id *a);

/* Set OUT from 20 bytes of hash or randomness, keeping their first BITS bits as the value. */
void id_from_bytes(struct dht_id *out, const uint8_t bytes[ID_BYTES], unsigned bits);

/* Hash a key to an id: BLAKE2b with a 160-bit digest, truncated to its first BITS bits. */
void id_from_key(struct dht_id *out, const void *key, size_t len, unsigned bits);

/* Small values, for tests and labs. */
void id_from_u64(struct dht_id *out, uint64_t v, unsigned bits);
uint64_t id_low64(const struct dht_id *a);

/* Write ceil(BITS/4) lowercase hex digits and a NUL into OUT. */
void id_to_hex(const struct dht_id *a, unsigned bits, char out[ID_HEX_MAX]);

/* Parse 1 to ceil(BITS/4) hex digits. Return 0, or -1 if a character is not hex, there are too
 * many digits, or the value does not fit in BITS bits. */
int id_from_hex(struct dht_id *out, const char *s, unsigned bits);

#endif
