/* OpenSSL's AES-256-GCM for secchan's records (node/net/aesgcm.h): a published known answer
 * (McGrew and Viega's GCM test case 14); the same bytes as libsodium's crypto_aead_aes256gcm,
 * where this CPU lets libsodium run it, for every length from 0 to 300 bytes and around 64 KiB,
 * with associated data, sealed in place and from a head and a body split anywhere; one context
 * reused across nonces; a changed bit anywhere refused and the buffer wiped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/net/aesgcm.h"

static void test_known_answer(void **state)
{
	(void)state;
	static const uint8_t want_c[16] = { 0xce, 0xa7, 0x40, 0x3d, 0x4d, 0x60, 0x6b, 0x6e,
					    0x07, 0x4e, 0xc5, 0xd3, 0xba, 0xf3, 0x9d, 0x18 };
	static const uint8_t want_t[16] = { 0xd0, 0xd1, 0xc8, 0xa7, 0x99, 0x99, 0x6b, 0xf0,
					    0x26, 0x5b, 0x98, 0xb5, 0xd4, 0x8a, 0xb9, 0x19 };
	uint8_t key[AESGCM_KEY_LEN] = { 0 }, nonce[AESGCM_NONCE_LEN] = { 0 }, m[16] = { 0 };
	uint8_t tag[AESGCM_TAG_LEN];
	struct aesgcm *e = aesgcm_new(key, 1), *d = aesgcm_new(key, 0);
	assert_non_null(e);
	assert_non_null(d);
	const struct aesgcm_msg msg = { .head = m, .hlen = sizeof m };
	assert_int_equal(aesgcm_seal(e, &msg, m, NULL, 0, nonce, tag), 0);
	assert_memory_equal(m, want_c, sizeof m);
	assert_memory_equal(tag, want_t, sizeof tag);
	assert_int_equal(aesgcm_open(d, m, sizeof m, NULL, 0, nonce, tag), 0);
	assert_memory_equal(m, (uint8_t[16]){ 0 }, sizeof m);
	aesgcm_free(e);
	aesgcm_free(d);
	aesgcm_free(NULL);
}

static void fill(uint8_t *b, size_t len, uint8_t k)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(i * 31 + k);
}

/* Seal LEN bytes under nonce N with E, in place and from two parts split at H into another
 * buffer; compare both with libsodium (if it runs here); open with D. */
static void one(struct aesgcm *e, struct aesgcm *d, const uint8_t *key, size_t len, uint8_t n,
		size_t h)
{
	uint8_t nonce[AESGCM_NONCE_LEN] = { n, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n }, ad[4] = { 1, 2, n };
	uint8_t tag[AESGCM_TAG_LEN], split_tag[AESGCM_TAG_LEN], ref_tag[crypto_aead_aes256gcm_ABYTES];
	uint8_t *m = malloc(len + 1), *plain = malloc(len + 1), *ref = malloc(len + 1);
	uint8_t *split = malloc(len + 1);
	assert_true(m != NULL && plain != NULL && ref != NULL && split != NULL);
	fill(plain, len, n);
	memcpy(m, plain, len);
	const struct aesgcm_msg whole = { .head = m, .hlen = len };
	const struct aesgcm_msg parts = { .head = plain, .hlen = h, .body = plain + h, .blen = len - h };
	assert_int_equal(aesgcm_seal(e, &whole, m, ad, sizeof ad, nonce, tag), 0);
	assert_int_equal(aesgcm_seal(e, &parts, split, ad, sizeof ad, nonce, split_tag), 0);
	assert_memory_equal(split, m, len);
	assert_memory_equal(split_tag, tag, sizeof tag);
	if (crypto_aead_aes256gcm_is_available()) {
		crypto_aead_aes256gcm_encrypt_detached(ref, ref_tag, NULL, plain, len, ad, sizeof ad,
						       NULL, nonce, key);
		assert_memory_equal(m, ref, len);
		assert_memory_equal(tag, ref_tag, sizeof tag);
	}
	assert_int_equal(aesgcm_open(d, m, len, ad, sizeof ad, nonce, tag), 0);
	assert_memory_equal(m, plain, len);
	free(m);
	free(plain);
	free(ref);
	free(split);
}

static void test_same_as_libsodium(void **state)
{
	(void)state;
	uint8_t key[AESGCM_KEY_LEN];
	fill(key, sizeof key, 5);
	struct aesgcm *e = aesgcm_new(key, 1), *d = aesgcm_new(key, 0);
	assert_non_null(e);
	assert_non_null(d);
	for (size_t len = 0; len <= 300; len++)
		one(e, d, key, len, (uint8_t)len, (len * 7) % (len + 1));
	for (size_t len = 65536 - 20; len <= 65536 + 70; len += 3)
		one(e, d, key, len, (uint8_t)len, len % 3 ? 13 : len / 2);
	aesgcm_free(e);
	aesgcm_free(d);
}

/* One buffer for everything an open checks: ciphertext | tag | associated data | nonce. */
#define T_LEN 40
#define T_TAG T_LEN
#define T_AD (T_TAG + AESGCM_TAG_LEN)
#define T_NONCE (T_AD + 4)
#define T_ALL (T_NONCE + AESGCM_NONCE_LEN)

static void test_tampered(void **state)
{
	(void)state;
	uint8_t key[AESGCM_KEY_LEN], good[T_ALL], b[T_ALL], zero[T_LEN] = { 0 };
	fill(key, sizeof key, 8);
	fill(good, sizeof good, 1);
	struct aesgcm *e = aesgcm_new(key, 1), *d = aesgcm_new(key, 0);
	assert_non_null(e);
	assert_non_null(d);
	const struct aesgcm_msg msg = { .head = good, .hlen = T_LEN };
	assert_int_equal(aesgcm_seal(e, &msg, good, good + T_AD, 4, good + T_NONCE, good + T_TAG), 0);
	for (size_t bit = 0; bit < 8 * T_ALL; bit++) {
		memcpy(b, good, sizeof b);
		b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_equal(aesgcm_open(d, b, T_LEN, b + T_AD, 4, b + T_NONCE, b + T_TAG), -1);
		assert_memory_equal(b, zero, T_LEN);
	}
	memcpy(b, good, sizeof b);
	assert_int_equal(aesgcm_open(d, b, T_LEN, b + T_AD, 4, b + T_NONCE, b + T_TAG), 0);
	fill(good, T_LEN, 1);
	assert_memory_equal(b, good, T_LEN);
	aesgcm_free(e);
	aesgcm_free(d);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_same_as_libsodium),
		cmocka_unit_test(test_tampered),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
