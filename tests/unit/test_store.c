/* The local store container: put/replace/get, expiry, announcements with per-peer expiry and
 * random subsets, the byte and per-key limits, and deletion under heavy churn of keys (the hash
 * table's backward-shift deletion must never lose a neighbour). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/store.h"

static const uint8_t hkey[STORE_HASH_KEY_LEN] = { 1, 2, 3 };

static struct dht_id key(uint64_t v)
{
	struct dht_id id;
	id_from_u64(&id, v, 64);
	return id;
}

static struct dht_addr peer(unsigned i)
{
	struct dht_addr a;
	memset(&a, 0, sizeof a);
	a.family = 4;
	a.ip[2] = (uint8_t)(i >> 8);
	a.ip[3] = (uint8_t)i;
	a.port = 1;
	return a;
}

static void test_put_get_replace_expire(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 100, 0, hkey);
	struct dht_id k = key(1);
	assert_int_equal(store_put(s, &k, "abc", 3, 100, 0, NULL), STORE_OK);
	struct store_entry *e = store_get(s, &k, 50);
	assert_non_null(e);
	assert_memory_equal(e->value, "abc", 3);
	assert_int_equal(store_put(s, &k, "defg", 4, 200, 0, NULL), STORE_OK);
	e = store_get(s, &k, 150);
	assert_int_equal(e->vlen, 4);
	assert_int_equal(store_count(s), 1);
	assert_null(store_get(s, &k, 200));
	store_expire(s, 200);
	assert_int_equal(store_count(s), 0);
	assert_int_equal(store_bytes(s), 0);
	store_free(s);
}

static void test_byte_limit(void **state)
{
	(void)state;
	uint8_t v[1000];
	memset(v, 7, sizeof v);
	struct store *s = store_new(5000, 100, 0, hkey);
	int stored = 0;
	for (uint64_t i = 0; i < 10; i++) {
		struct dht_id k = key(i);
		if (store_put(s, &k, v, sizeof v, 1000, 0, NULL) == STORE_OK)
			stored++;
	}
	assert_int_equal(stored, 4); /* 4 x (1000 + overhead) fit in 5000, a fifth does not */
	assert_true(store_bytes(s) <= 5000);
	assert_int_equal(store_count(s), 4);
	store_free(s);
}

static void test_announcements(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 60, 0, hkey);
	struct dht_id k = key(42);
	for (unsigned i = 0; i < 60; i++) {
		struct dht_addr a = peer(i);
		assert_int_equal(store_announce(s, &k, &a, i < 30 ? 100 : 200, 0, false), STORE_OK);
	}
	struct dht_addr extra = peer(999);
	assert_int_equal(store_announce(s, &k, &extra, 100, 0, false), STORE_FULL);
	/* Re-announcing a known peer is a refresh, not a new peer. */
	struct dht_addr again = peer(3);
	assert_int_equal(store_announce(s, &k, &again, 300, 0, false), STORE_OK);
	struct rng r;
	rng_seed(&r, 1);
	struct dht_addr out[50];
	assert_int_equal(store_peers(s, &k, 50, out, 50, &r), 50);
	/* At 150 only the 30 long-lived ones and the refreshed one are left. */
	assert_int_equal(store_peers(s, &k, 150, out, 50, &r), 31);
	store_expire(s, 150);
	assert_int_equal(store_get(s, &k, 150)->npeers, 31);
	store_expire(s, 300);
	assert_int_equal(store_count(s), 0);
	assert_int_equal(store_bytes(s), 0);
	store_free(s);
}

static void test_peer_subsets_are_uniform(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 1000, 0, hkey);
	struct dht_id k = key(5);
	for (unsigned i = 0; i < 200; i++) {
		struct dht_addr a = peer(i);
		store_announce(s, &k, &a, 100, 0, false);
	}
	struct rng r;
	rng_seed(&r, 9);
	unsigned count[200] = { 0 };
	struct dht_addr out[50];
	for (int round = 0; round < 2000; round++) {
		size_t n = store_peers(s, &k, 0, out, 50, &r);
		assert_int_equal(n, 50);
		for (size_t i = 0; i < n; i++)
			count[out[i].ip[2] * 256 + out[i].ip[3]]++;
	}
	/* Each peer is expected 2000 * 50 / 200 = 500 times. */
	for (int i = 0; i < 200; i++)
		assert_true(count[i] > 400 && count[i] < 600);
	store_free(s);
}

/* Issue 8: a value and announcements under one key live side by side, whichever came first,
 * and each expires on its own. */
static void test_value_and_peers_coexist(void **state)
{
	(void)state;
	struct store *s = store_new(64 << 20, 10, 0, hkey);
	struct rng r;
	rng_seed(&r, 1);
	struct dht_addr a = peer(1), out[4];
	for (uint64_t first_put = 0; first_put < 2; first_put++) {
		struct dht_id k = key(77 + first_put);
		if (first_put)
			assert_int_equal(store_put(s, &k, "v2", 2, 100, 0, NULL), STORE_OK);
		assert_int_equal(store_announce(s, &k, &a, 200, 0, false), STORE_OK);
		if (!first_put)
			assert_int_equal(store_put(s, &k, "v2", 2, 100, 0, NULL), STORE_OK);
		struct store_entry *e = store_get(s, &k, 0);
		assert_non_null(e);
		assert_non_null(e->value);
		assert_int_equal(e->vlen, 2);
		assert_memory_equal(e->value, "v2", 2);
		assert_int_equal(store_peers(s, &k, 0, out, 4, &r), 1);
	}
	assert_int_equal(store_count(s), 2);
	/* At 150 the values are gone and the announcements stay; at 200 nothing is left. */
	store_expire(s, 150);
	assert_int_equal(store_count(s), 2);
	struct store_entry *e;
	for (uint64_t i = 0; i < 2; i++) {
		struct dht_id k = key(77 + i);
		e = store_get(s, &k, 150);
		assert_non_null(e);
		assert_null(e->value);
		assert_int_equal(store_peers(s, &k, 150, out, 4, &r), 1);
	}
	store_expire(s, 200);
	assert_int_equal(store_count(s), 0);
	assert_int_equal(store_bytes(s), 0);
	store_free(s);
}

static void test_churn(void **state)
{
	(void)state;
	struct store *s = store_new(64 << 20, 10, 0, hkey);
	/* Insert 5,000 keys, remove every other one, check the rest are all still found. */
	for (uint64_t i = 0; i < 5000; i++) {
		struct dht_id ki = key(i * 2654435761u);
		assert_int_equal(store_put(s, &ki, &i, sizeof i, 1000, 0, NULL), STORE_OK);
	}
	for (uint64_t i = 0; i < 5000; i += 2) {
		struct dht_id ki = key(i * 2654435761u);
		store_remove(s, &ki);
	}
	assert_int_equal(store_count(s), 2500);
	for (uint64_t i = 0; i < 5000; i++) {
		struct dht_id ki = key(i * 2654435761u);
		struct store_entry *e = store_get(s, &ki, 0);
		if (i % 2)
			assert_non_null(e);
		else
			assert_null(e);
	}
	while (!store_expire(s, 1000))
		;
	assert_int_equal(store_count(s), 0);
	store_free(s);
}

/* Issue 10: keys anyone may choose. Ids equal in their low 64 bits and first two bytes (what the
 * old hash read) still spread over the table, so a lookup never scans a cluster of them. */
static void test_colliding_keys_spread(void **state)
{
	(void)state;
	struct store *s = store_new(64u << 20, 100, 0, hkey);
	for (uint32_t i = 0; i < 20000; i++) {
		struct dht_id k;
		memset(&k, 0, sizeof k);
		k.b[0] = 0xab;
		k.b[5] = (uint8_t)(i >> 8);
		k.b[6] = (uint8_t)i;
		k.b[19] = 0x77;
		assert_int_equal(store_put(s, &k, "x", 1, 1000, 0, NULL), STORE_OK);
	}
	assert_int_equal(store_count(s), 20000);
	assert_true(store_longest_run(s) < 200);
	store_free(s);
}

/* Issue 10: expiry does a slice of the table per call, not the whole of it. */
static void test_expiry_in_slices(void **state)
{
	(void)state;
	struct store *s = store_new(64u << 20, 100, 0, hkey);
	for (uint64_t i = 0; i < 60000; i++) {
		struct dht_id k = key(i * 2654435761u + 1);
		assert_int_equal(store_put(s, &k, "x", 1, 100, 0, NULL), STORE_OK);
	}
	int calls = 1;
	assert_false(store_expire(s, 200));
	assert_true(store_count(s) > 0 && store_count(s) < 60000);
	while (!store_expire(s, 200))
		calls++;
	assert_int_equal(store_count(s), 0);
	assert_true(calls >= 8);
	store_free(s);
}

static struct dht_addr writer(uint8_t last)
{
	struct dht_addr a = peer(last);
	a.port = 4000;
	return a;
}

/* Issue 10: a value is replaced only by its writer (any port of its IP) until it expires; a copy
 * from the owner (no writer) replaces it and keeps the writer. */
static void test_only_the_writer_replaces(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 100, 0, hkey);
	struct dht_id k = key(9);
	struct dht_addr a = writer(1), b = writer(2), a2 = writer(1);
	a2.port = 5000;
	assert_int_equal(store_put(s, &k, "a", 1, 100, 0, &a), STORE_OK);
	assert_int_equal(store_put(s, &k, "b", 1, 100, 10, &b), STORE_NOT_WRITER);
	assert_int_equal(store_put(s, &k, "", 0, 100, 10, &b), STORE_NOT_WRITER);
	assert_int_equal(store_put(s, &k, "A", 1, 100, 10, &a2), STORE_OK);
	assert_int_equal(store_put(s, &k, "c", 1, 100, 20, NULL), STORE_OK);
	assert_int_equal(store_put(s, &k, "b", 1, 100, 30, &b), STORE_NOT_WRITER);
	assert_memory_equal(store_get(s, &k, 30)->value, "c", 1);
	/* Once it expired, anyone may write. */
	assert_int_equal(store_put(s, &k, "b", 1, 300, 150, &b), STORE_OK);
	store_free(s);
}

/* Issue 10: one IP may hold at most its quota of values and peers; others still can write, and
 * what expires gives the quota back. */
static void test_quota_per_ip(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 100, 10 * (64 + 100), hkey);
	struct dht_addr a = writer(1), b = writer(2);
	uint8_t v[100] = { 0 };
	int ok = 0;
	for (uint64_t i = 0; i < 50; i++) {
		struct dht_id k = key(100 + i);
		ok += store_put(s, &k, v, sizeof v, 100, 0, &a) == STORE_OK;
	}
	assert_int_equal(ok, 10);
	struct dht_id k = key(1000);
	assert_int_equal(store_put(s, &k, v, sizeof v, 100, 0, &b), STORE_OK);
	assert_int_equal(store_announce(s, &k, &a, 100, 0, true), STORE_FULL);
	assert_int_equal(store_announce(s, &k, &a, 100, 0, false), STORE_OK);
	while (!store_expire(s, 200))
		;
	k = key(2000);
	assert_int_equal(store_put(s, &k, v, sizeof v, 300, 200, &a), STORE_OK);
	store_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_replace_expire),
		cmocka_unit_test(test_byte_limit),
		cmocka_unit_test(test_announcements),
		cmocka_unit_test(test_peer_subsets_are_uniform),
		cmocka_unit_test(test_value_and_peers_coexist),
		cmocka_unit_test(test_churn),
		cmocka_unit_test(test_colliding_keys_spread),
		cmocka_unit_test(test_expiry_in_slices),
		cmocka_unit_test(test_only_the_writer_replaces),
		cmocka_unit_test(test_quota_per_ip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
