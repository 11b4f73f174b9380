/* Identifier arithmetic: exhaustive at n = 8 (every pair, so every wrap-around), spot checks at
 * other widths, hex round trips and key hashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/id.h"

static struct dht_id v8(unsigned v)
{
	struct dht_id id;
	id_from_u64(&id, v, 8);
	return id;
}

static void test_add_sub_exhaustive_8(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++) {
			struct dht_id A = v8(a), B = v8(b), s, d;
			id_add(&s, &A, &B, 8);
			id_sub(&d, &A, &B, 8);
			assert_int_equal(id_low64(&s), (a + b) % 256);
			assert_int_equal(id_low64(&d), (a - b + 256) % 256);
		}
}

/* Reference: x in (a,b) walking clockwise from a. */
static int ref_oo(unsigned x, unsigned a, unsigned b)
{
	if (a == b)
		return x != a;
	unsigned dx = (x - a + 256) % 256, db = (b - a + 256) % 256;
	return dx > 0 && dx < db;
}

static void test_intervals_exhaustive_8(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 256; a++)
		for (unsigned b = 0; b < 256; b++)
			for (unsigned x = 0; x < 256; x++) {
				struct dht_id A = v8(a), B = v8(b), X = v8(x);
				int oo = ref_oo(x, a, b);
				int oc = a == b ? 1 : (oo || x == b);
				assert_int_equal(id_in_oo(&X, &A, &B), oo);
				assert_int_equal(id_in_oc(&X, &A, &B), oc);
			}
}

static void test_pow2_and_log2(void **state)
{
	(void)state;
	for (unsigned a = 0; a < 256; a++)
		for (unsigned i = 0; i < 8; i++) {
			struct dht_id A = v8(a), f;
			id_add_pow2(&f, &A, i, 8);
			assert_int_equal(id_low64(&f), (a + (1u << i)) % 256);
		}
	struct dht_id z = v8(0), one = v8(1), top = v8(0x80);
	assert_int_equal(id_log2(&z), -1);
	assert_int_equal(id_log2(&one), 0);
	assert_int_equal(id_log2(&top), 7);

	struct dht_id big, zero;
	memset(&zero, 0, sizeof zero);
	id_add_pow2(&big, &zero, 159, 160);
	assert_int_equal(id_log2(&big), 159);
	/* 2^159 + 2^159 wraps to 0 at n = 160. */
	id_add(&big, &big, &big, 160);
	assert_true(id_eq(&big, &zero));
}

static void test_wrap_160_and_odd_widths(void **state)
{
	(void)state;
	unsigned widths[] = { 8, 9, 13, 32, 64, 100, 159, 160 };
	for (size_t k = 0; k < sizeof widths / sizeof widths[0]; k++) {
		unsigned n = widths[k];
		struct dht_id zero, one, max, s;
		memset(&zero, 0, sizeof zero);
		id_from_u64(&one, 1, n);
		id_sub(&max, &zero, &one, n); /* 2^n - 1 */
		assert_int_equal(id_log2(&max), (int)n - 1);
		id_add(&s, &max, &one, n);
		assert_true(id_eq(&s, &zero));
		assert_true(id_in_oc(&zero, &max, &one));
		assert_false(id_in_oo(&one, &max, &one));
	}
}

static void test_hex(void **state)
{
	(void)state;
	char hex[ID_HEX_MAX];
	struct dht_id a, b;
	id_from_u64(&a, 0xab, 8);
	id_to_hex(&a, 8, hex);
	assert_string_equal(hex, "ab");
	id_from_u64(&a, 0x5a5, 12);
	id_to_hex(&a, 12, hex);
	assert_string_equal(hex, "5a5");
	assert_int_equal(id_from_hex(&b, "5A5", 12), 0);
	assert_true(id_eq(&a, &b));
	assert_int_equal(id_from_hex(&b, "5", 12), 0);
	assert_int_equal(id_low64(&b), 5);
	/* 10 bits: three digits, but the value must stay below 2^10. */
	assert_int_equal(id_from_hex(&b, "3ff", 10), 0);
	assert_int_equal(id_from_hex(&b, "400", 10), -1);
	assert_int_equal(id_from_hex(&b, "1234", 12), -1);
	assert_int_equal(id_from_hex(&b, "", 12), -1);
	assert_int_equal(id_from_hex(&b, "0x1", 12), -1);
	for (unsigned n = 8; n <= 160; n++) {
		uint8_t bytes[ID_BYTES];
		for (int i = 0; i < ID_BYTES; i++)
			bytes[i] = (uint8_t)(i * 37 + n);
		id_from_bytes(&a, bytes, n);
		id_to_hex(&a, n, hex);
		assert_int_equal(strlen(hex), (n + 3) / 4);
		assert_int_equal(id_from_hex(&b, hex, n), 0);
		assert_true(id_eq(&a, &b));
	}
}

static void test_from_bytes_keeps_first_bits(void **state)
{
	(void)state;
	uint8_t bytes[ID_BYTES] = { 0xde, 0xad, 0xbe, 0xef };
	struct dht_id a;
	id_from_bytes(&a, bytes, 8);
	assert_int_equal(id_low64(&a), 0xde);
	id_from_bytes(&a, bytes, 12);
	assert_int_equal(id_low64(&a), 0xdea);
	id_from_bytes(&a, bytes, 32);
	assert_int_equal(id_low64(&a), 0xdeadbeef);
	id_from_bytes(&a, bytes, 160);
	assert_memory_equal(a.b, bytes, ID_BYTES);
}

static void test_key_hash(void **state)
{
	(void)state;
	struct dht_id a, b, c;
	id_from_key(&a, "hello", 5, 160);
	id_from_key(&b, "hello", 5, 160);
	id_from_key(&c, "hello", 5, 16);
	assert_true(id_eq(&a, &b));
	/* A narrower ring keeps the first bits of the same digest. */
	assert_int_equal(id_low64(&c), ((unsigned)a.b[0] << 8) | a.b[1]);
	char hex[ID_HEX_MAX];
	id_to_hex(&a, 160, hex);
	/* BLAKE2b-160("hello"), the known answer. */
	assert_string_equal(hex, "b5531c7037f06c9f2947132a6a77202c308e8939");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_sub_exhaustive_8),
		cmocka_unit_test(test_intervals_exhaustive_8),
		cmocka_unit_test(test_pow2_and_log2),
		cmocka_unit_test(test_wrap_160_and_odd_widths),
		cmocka_unit_test(test_hex),
		cmocka_unit_test(test_from_bytes_keeps_first_bits),
		cmocka_unit_test(test_key_hash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
