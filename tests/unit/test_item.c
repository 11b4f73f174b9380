/* Signed values (dht/item.h): the bytes a writer signs, known answers for the signature of a
 * fixed key, and what item_verify refuses: any change to the key, flags, seq, bytes, writer or
 * signature, and an immutable value under any key but the hash of its bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <string.h>

#include "dht/item.h"

static uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

static int setup(void **state)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	for (size_t i = 0; i < sizeof seed; i++)
		seed[i] = (uint8_t)(i + 1);
	crypto_sign_seed_keypair(pk, sk, seed);
	(void)state;
	return sodium_init() < 0 ? -1 : 0;
}

static struct dht_id key_of(const char *name)
{
	struct dht_id k;
	id_from_key(&k, name, strlen(name), 160);
	return k;
}

static void test_signed_bytes(void **state)
{
	(void)state;
	struct dht_id k;
	memset(&k, 0, sizeof k);
	for (int i = 0; i < ID_BYTES; i++)
		k.b[i] = (uint8_t)(0xa0 + i);
	struct dht_item it = { .flags = DHT_ITEM_TOMBSTONE, .seq = 0x0102030405060708u };
	uint8_t out[ITEM_SIGNED_MAX];
	const uint8_t want[] = { 'd', 'h', 't', '-', 'v', 'a', 'l', 'u', 'e', '1',
				 0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9,
				 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf, 0xb0, 0xb1, 0xb2, 0xb3,
				 0x01, 1, 2, 3, 4, 5, 6, 7, 8 };
	assert_int_equal(item_signed_bytes(&k, &it, out), sizeof want);
	assert_memory_equal(out, want, sizeof want);
	it.flags = 0;
	it.value = (const uint8_t *)"hi";
	it.vlen = 2;
	assert_int_equal(item_signed_bytes(&k, &it, out), sizeof want + 2);
	assert_int_equal(out[ITEM_DOMAIN_LEN + ID_BYTES], 0);
	assert_memory_equal(out + sizeof want, "hi", 2);
}

/* Known answer: Ed25519 is deterministic, so the signature of a fixed value by a fixed key is
 * fixed (computed with crypto_sign_detached over the bytes test_signed_bytes lays out); a
 * change of the signed encoding shows here. */
#define KNOWN_SIG                                                                            \
	"e62580bb7b8706f260cb4a0396f478d7fd6d31cd978573704dd1ec899059c0a0"                   \
	"133e915c41b6cad916e52e18a6fed1757b3c2830a2311480fe151ff5fab67c04"
static void test_known_signature(void **state)
{
	(void)state;
	struct dht_id k = key_of("greeting");
	struct dht_item it = { .seq = 1700000000000000u, .value = (const uint8_t *)"hello",
			       .vlen = 5 };
	item_sign(&it, &k, sk);
	assert_memory_equal(it.pk, pk, sizeof pk);
	char hex[2 * DHT_ITEM_SIG_LEN + 1];
	sodium_bin2hex(hex, sizeof hex, it.sig, sizeof it.sig);
	assert_string_equal(hex, KNOWN_SIG);
	assert_true(item_verify(&it, &k, 160));
}

static void test_any_change_is_refused(void **state)
{
	(void)state;
	struct dht_id k = key_of("greeting"), other = key_of("other");
	uint8_t bytes[] = "hello";
	struct dht_item it = { .seq = 5, .value = bytes, .vlen = 5 };
	item_sign(&it, &k, sk);
	assert_true(item_verify(&it, &k, 160));
	assert_false(item_verify(&it, &other, 160));
	struct dht_item x = it;
	x.seq = 6;
	assert_false(item_verify(&x, &k, 160));
	x = it;
	x.flags = DHT_ITEM_TOMBSTONE;
	assert_false(item_verify(&x, &k, 160));
	x = it;
	x.vlen = 4;
	assert_false(item_verify(&x, &k, 160));
	x = it;
	x.pk[0] ^= 1;
	assert_false(item_verify(&x, &k, 160));
	x = it;
	x.sig[63] ^= 0x80;
	assert_false(item_verify(&x, &k, 160));
	bytes[0] = 'j';
	assert_false(item_verify(&it, &k, 160));
	/* Another key's signature naming this writer. */
	uint8_t pk2[crypto_sign_PUBLICKEYBYTES], sk2[crypto_sign_SECRETKEYBYTES];
	crypto_sign_keypair(pk2, sk2);
	x = it;
	item_sign(&x, &k, sk2);
	assert_true(item_verify(&x, &k, 160));
	memcpy(x.pk, pk, sizeof pk);
	assert_false(item_verify(&x, &k, 160));
}

static void test_immutable(void **state)
{
	(void)state;
	struct dht_id k, other = key_of("other");
	item_immutable_key(&k, "fixed", 5, 24);
	struct dht_item it = { .flags = DHT_ITEM_IMMUTABLE, .value = (const uint8_t *)"fixed",
			       .vlen = 5 };
	assert_true(item_verify(&it, &k, 24));
	assert_false(item_verify(&it, &other, 24));
	it.value = (const uint8_t *)"fixeD";
	assert_false(item_verify(&it, &k, 24));
	it.value = (const uint8_t *)"fixed";
	it.flags |= DHT_ITEM_TOMBSTONE;
	assert_false(item_verify(&it, &k, 24));
}

static void test_same(void **state)
{
	(void)state;
	struct dht_id k = key_of("greeting");
	struct dht_item a = { .seq = 5, .value = (const uint8_t *)"v", .vlen = 1 }, b;
	item_sign(&a, &k, sk);
	b = a;
	b.value = (const uint8_t *)"v";
	assert_true(item_same(&a, &b));
	b.value = (const uint8_t *)"w";
	assert_false(item_same(&a, &b));
	b = a;
	b.sig[0] ^= 1;
	assert_false(item_same(&a, &b));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signed_bytes),
		cmocka_unit_test(test_known_signature),
		cmocka_unit_test(test_any_change_is_refused),
		cmocka_unit_test(test_immutable),
		cmocka_unit_test(test_same),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
