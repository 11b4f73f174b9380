/* Signed and immutable values: see item.h. The signature covers the key, so that a value cannot
 * be replayed under another key, and the flags, so that a tombstone cannot be made of a value. */
#include "dht/item.h"

#include <sodium.h>
#include <string.h>

#include "dht/bytes.h"

size_t item_signed_bytes(const struct dht_id *key, const struct dht_item *item,
			 uint8_t out[ITEM_SIGNED_MAX])
{
	uint16_t vlen = item->vlen <= DHT_MAX_VALUE ? item->vlen : DHT_MAX_VALUE;
	size_t n = 0;
	memcpy(out, ITEM_DOMAIN, ITEM_DOMAIN_LEN);
	n += ITEM_DOMAIN_LEN;
	memcpy(out + n, key->b, ID_BYTES);
	n += ID_BYTES;
	out[n++] = item->flags;
	be64_put(out + n, item->seq);
	n += 8;
	if (vlen)
		memcpy(out + n, item->value, vlen);
	return n + vlen;
}

void item_sign(struct dht_item *item, const struct dht_id *key, const uint8_t sk[64])
{
	uint8_t msg[ITEM_SIGNED_MAX];
	size_t len = item_signed_bytes(key, item, msg);
	crypto_sign_ed25519_sk_to_pk(item->pk, sk);
	crypto_sign_detached(item->sig, NULL, msg, len, sk);
}

void item_immutable_key(struct dht_id *out, const void *value, size_t len, unsigned bits)
{
	id_from_key(out, value, len, bits);
}

bool item_verify(const struct dht_item *item, const struct dht_id *key, unsigned bits)
{
	if (item->vlen > DHT_MAX_VALUE)
		return false;
	if (item->flags & DHT_ITEM_IMMUTABLE) {
		struct dht_id want;
		item_immutable_key(&want, item->value, item->vlen, bits);
		return item->flags == DHT_ITEM_IMMUTABLE && id_eq(&want, key);
	}
	uint8_t msg[ITEM_SIGNED_MAX];
	size_t len = item_signed_bytes(key, item, msg);
	return crypto_sign_verify_detached(item->sig, msg, len, item->pk) == 0;
}

bool item_same(const struct dht_item *a, const struct dht_item *b)
{
	return a->flags == b->flags && a->seq == b->seq && a->vlen == b->vlen &&
	       memcmp(a->pk, b->pk, DHT_ITEM_PK_LEN) == 0 &&
	       memcmp(a->sig, b->sig, DHT_ITEM_SIG_LEN) == 0 &&
	       (a->vlen == 0 || memcmp(a->value, b->value, a->vlen) == 0);
}
