/* The local store container: put/replace/get, expiry, announcements with per-peer expiry and
 * random subsets, the byte and per-key limits, and deletion under heavy churn of keys (the hash
 * table's backward-shift deletion must never lose a neighbour); the rules of signed values (one
 * per writer, the highest seq wins, compare-and-swap, tombstones). The store does not check
 * signatures (its callers do): the items here carry none. */
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

/* Writer W's version SEQ of VALUE (a NUL-terminated string). */
static struct dht_item item(uint8_t w, uint64_t seq, const char *value)
{
	struct dht_item it = { .seq = seq, .value = (const uint8_t *)value,
			       .vlen = (uint16_t)strlen(value) };
	memset(it.pk, w, sizeof it.pk);
	memset(it.sig, (int)(seq + w), sizeof it.sig);
	return it;
}

static enum store_result put(struct store *s, const struct dht_id *k, uint8_t w, uint64_t seq,
			     const char *value, uint64_t expires, uint64_t now)
{
	struct dht_item it = item(w, seq, value);
	return store_put(s, k, &it, expires, now, NULL, NULL);
}

/* The live value of writer W under K at NOW, as a string ("" if none). */
static const char *value_of(struct store *s, const struct dht_id *k, uint8_t w, uint64_t now)
{
	static char buf[DHT_MAX_VALUE + 1];
	uint8_t pk[DHT_ITEM_PK_LEN];
	memset(pk, w, sizeof pk);
	struct store_entry *e = store_get(s, k, now);
	const struct store_item *it = e ? store_value_of(e, pk, now, false) : NULL;
	buf[0] = '\0';
	if (it) {
		memcpy(buf, it->item.value, it->item.vlen);
		buf[it->item.vlen] = '\0';
	}
	return buf;
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
	assert_int_equal(put(s, &k, 1, 1, "abc", 100, 0), STORE_OK);
	assert_non_null(store_get(s, &k, 50));
	assert_string_equal(value_of(s, &k, 1, 50), "abc");
	assert_int_equal(put(s, &k, 1, 2, "defg", 200, 0), STORE_OK);
	assert_string_equal(value_of(s, &k, 1, 150), "defg");
	assert_int_equal(store_values(store_get(s, &k, 150), 150, false), 1);
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
	char v[1001];
	memset(v, 'v', 1000);
	v[1000] = '\0';
	struct store *s = store_new(5000, 100, 0, hkey);
	int stored = 0;
	for (uint64_t i = 0; i < 10; i++) {
		struct dht_id k = key(i);
		if (put(s, &k, 1, 1, v, 1000, 0) == STORE_OK)
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
			assert_int_equal(put(s, &k, 1, 1, "v2", 100, 0), STORE_OK);
		assert_int_equal(store_announce(s, &k, &a, 200, 0, false), STORE_OK);
		if (!first_put)
			assert_int_equal(put(s, &k, 1, 1, "v2", 100, 0), STORE_OK);
		assert_string_equal(value_of(s, &k, 1, 0), "v2");
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
		assert_int_equal(e->nitems, 0);
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
		assert_int_equal(put(s, &ki, 1, 1, "x", 1000, 0), STORE_OK);
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
		assert_int_equal(put(s, &k, 1, 1, "x", 1000, 0), STORE_OK);
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
		assert_int_equal(put(s, &k, 1, 1, "x", 100, 0), STORE_OK);
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

/* Issue 11: a writer's value is replaced only by a higher seq of the same writer; the same
 * version again refreshes it; an older one, or another at the same seq with a smaller
 * signature, is stale. Other writers' values sit beside it. */
static void test_highest_seq_wins(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 100, 0, hkey);
	struct dht_id k = key(9);
	assert_int_equal(put(s, &k, 1, 5, "five", 100, 0), STORE_OK);
	assert_int_equal(put(s, &k, 1, 4, "four", 100, 10), STORE_STALE);
	assert_int_equal(put(s, &k, 1, 5, "five", 300, 10), STORE_OK); /* a refresh */
	struct dht_item five = item(1, 5, "five"), other = item(1, 5, "fivE");
	assert_true(store_holds(s, &k, &five, 10));
	assert_false(store_holds(s, &k, &other, 10));
	assert_false(store_holds(s, &k, &five, 300));
	assert_int_equal(store_get(s, &k, 10)->items[0].expires, 300);
	struct dht_item same_seq = item(1, 5, "FIVE");
	memset(same_seq.sig, 0, sizeof same_seq.sig); /* smaller than the stored one */
	assert_int_equal(store_put(s, &k, &same_seq, 100, 10, NULL, NULL), STORE_STALE);
	memset(same_seq.sig, 0xff, sizeof same_seq.sig); /* greater: it wins everywhere */
	assert_int_equal(store_put(s, &k, &same_seq, 100, 10, NULL, NULL), STORE_OK);
	assert_string_equal(value_of(s, &k, 1, 10), "FIVE");
	assert_int_equal(put(s, &k, 1, 6, "six", 100, 20), STORE_OK);
	assert_string_equal(value_of(s, &k, 1, 20), "six");
	/* Another writer: a value of its own, whatever its seq. */
	assert_int_equal(put(s, &k, 2, 1, "two", 100, 20), STORE_OK);
	assert_string_equal(value_of(s, &k, 1, 20), "six");
	assert_string_equal(value_of(s, &k, 2, 20), "two");
	assert_int_equal(store_values(store_get(s, &k, 20), 20, false), 2);
	/* Once a writer's value expired, any seq of it is taken again. */
	assert_int_equal(put(s, &k, 1, 1, "one", 400, 150), STORE_OK);
	assert_string_equal(value_of(s, &k, 1, 150), "one");
	store_free(s);
}

/* Issue 11: compare-and-swap: the put names the seq it expects (0: no value yet). */
static void test_compare_and_swap(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 100, 0, hkey);
	struct dht_id k = key(9);
	uint64_t none = 0, three = 3, four = 4;
	struct dht_item a = item(1, 3, "a"), b = item(1, 4, "b"), c = item(1, 5, "c");
	assert_int_equal(store_put(s, &k, &a, 100, 0, NULL, &three), STORE_CAS);
	assert_int_equal(store_put(s, &k, &a, 100, 0, NULL, &none), STORE_OK);
	assert_int_equal(store_put(s, &k, &b, 100, 0, NULL, &none), STORE_CAS);
	assert_int_equal(store_put(s, &k, &b, 100, 0, NULL, &three), STORE_OK);
	assert_int_equal(store_put(s, &k, &c, 100, 0, NULL, &three), STORE_CAS);
	assert_string_equal(value_of(s, &k, 1, 0), "b");
	assert_int_equal(store_put(s, &k, &c, 100, 0, NULL, &four), STORE_OK);
	assert_string_equal(value_of(s, &k, 1, 0), "c");
	store_free(s);
}

/* Issue 11: a delete is a tombstone with a higher seq: nothing to read, and a replay of the
 * value it deleted is stale until the tombstone expires. */
static void test_tombstone(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 100, 0, hkey);
	struct dht_id k = key(9);
	struct dht_item v = item(1, 1, "v"), del = item(1, 2, "");
	del.flags = DHT_ITEM_TOMBSTONE;
	assert_int_equal(store_put(s, &k, &v, 100, 0, NULL, NULL), STORE_OK);
	assert_int_equal(store_put(s, &k, &del, 100, 0, NULL, NULL), STORE_OK);
	struct store_entry *e = store_get(s, &k, 0);
	assert_non_null(e); /* kept, to refuse replays and to replicate */
	assert_int_equal(store_values(e, 0, false), 0);
	assert_null(store_value_at(e, 0, 0, false));
	assert_non_null(store_value_at(e, 0, 0, true));
	assert_int_equal(store_values(e, 0, true), 1);
	uint8_t pk[DHT_ITEM_PK_LEN];
	memset(pk, 1, sizeof pk);
	assert_null(store_value_of(e, pk, 0, false));
	assert_non_null(store_value_of(e, pk, 0, true));
	assert_int_equal(store_put(s, &k, &v, 100, 10, NULL, NULL), STORE_STALE);
	assert_int_equal(store_values(store_get(s, &k, 10), 10, false), 0);
	store_free(s);
}

/* Issue 11: at most STORE_MAX_WRITERS values under one key; an expired one makes room. */
static void test_writers_per_key(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 100, 0, hkey);
	struct dht_id k = key(9);
	for (uint8_t w = 1; w <= STORE_MAX_WRITERS; w++)
		assert_int_equal(put(s, &k, w, 1, "v", w == 1 ? 50 : 100, 0), STORE_OK);
	assert_int_equal(put(s, &k, 99, 1, "v", 100, 0), STORE_FULL);
	assert_int_equal(put(s, &k, 1, 2, "v", 100, 0), STORE_OK); /* a writer already there */
	assert_int_equal(store_values(store_get(s, &k, 0), 0, false), STORE_MAX_WRITERS);
	assert_int_equal(put(s, &k, 2, 2, "v", 100, 0), STORE_OK);
	assert_int_equal(put(s, &k, 99, 1, "v", 200, 100), STORE_OK);
	assert_string_equal(value_of(s, &k, 99, 100), "v");
	store_free(s);
}

/* Issue 10: one IP may hold at most its quota of values and peers; others still can write, and
 * what expires gives the quota back. */
static void test_quota_per_ip(void **state)
{
	(void)state;
	struct store *s = store_new(1 << 20, 100, 10 * (STORE_ITEM_OVERHEAD + 100), hkey);
	struct dht_addr a = writer(1), b = writer(2);
	char v[101];
	memset(v, 'v', 100);
	v[100] = '\0';
	struct dht_item it = item(1, 1, v);
	int ok = 0;
	for (uint64_t i = 0; i < 50; i++) {
		struct dht_id k = key(100 + i);
		ok += store_put(s, &k, &it, 100, 0, &a, NULL) == STORE_OK;
	}
	assert_int_equal(ok, 10);
	/* Its own value again, a higher seq: no more room needed. */
	struct dht_id k = key(100);
	it.seq = 2;
	assert_int_equal(store_put(s, &k, &it, 100, 0, &a, NULL), STORE_OK);
	k = key(1000);
	assert_int_equal(store_put(s, &k, &it, 100, 0, &b, NULL), STORE_OK);
	assert_int_equal(store_announce(s, &k, &a, 100, 0, true), STORE_FULL);
	assert_int_equal(store_announce(s, &k, &a, 100, 0, false), STORE_OK);
	while (!store_expire(s, 200))
		;
	k = key(2000);
	assert_int_equal(store_put(s, &k, &it, 300, 200, &a, NULL), STORE_OK);
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
		cmocka_unit_test(test_highest_seq_wins),
		cmocka_unit_test(test_compare_and_swap),
		cmocka_unit_test(test_tombstone),
		cmocka_unit_test(test_writers_per_key),
		cmocka_unit_test(test_quota_per_ip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
