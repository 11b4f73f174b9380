/* dht/item.h: what a key's value is. A mutable item (BEP 44's idea) belongs to its writer, an
 * Ed25519 key: it carries a sequence number and the writer's signature over the key, the
 * sequence number, its flags and its bytes, so that any node can check it and only the writer
 * can replace it (with a higher sequence number) or delete it (a signed tombstone). An immutable
 * item has no writer: its key is the hash of its bytes. Pure functions; nothing allocates (an
 * item's value points at bytes the caller keeps). */
#ifndef DHT_ITEM_H
#define DHT_ITEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"

/* The bytes signed for ITEM under KEY: ITEM_DOMAIN | key (20) | flags u8 | seq u64 | value. */
#define ITEM_DOMAIN "dht-value1"
#define ITEM_DOMAIN_LEN 10
#define ITEM_SIGNED_MAX (ITEM_DOMAIN_LEN + ID_BYTES + 1 + 8 + DHT_MAX_VALUE)

/* Write the signed bytes of ITEM under KEY into OUT; return their length. */
size_t item_signed_bytes(const struct dht_id *key, const struct dht_item *item,
			 uint8_t out[ITEM_SIGNED_MAX]);

/* Sign ITEM (its flags, seq and value set) under KEY with the Ed25519 secret key SK (64 bytes,
 * libsodium's form); set its pk from SK and its sig. */
void item_sign(struct dht_item *item, const struct dht_id *key, const uint8_t sk[64]);

/* The key of an immutable item holding VALUE: id_from_key of its bytes. */
void item_immutable_key(struct dht_id *out, const void *value, size_t len, unsigned bits);

/* Does ITEM belong under KEY in a network of width BITS: a mutable item signed by its pk, or
 * an immutable one whose bytes hash to KEY? */
bool item_verify(const struct dht_item *item, const struct dht_id *key, unsigned bits);

/* Are A and B the same version (writer, seq, flags, bytes, signature)? */
bool item_same(const struct dht_item *a, const struct dht_item *b);

#endif
