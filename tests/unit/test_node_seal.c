/* Sealed datagrams (node/net/seal.c): a known answer computed outside libsodium (by
 * seal_kat.py: HChaCha20 by hand and Python cryptography's ChaCha20-Poly1305), and every
 * refusal over a fake clock: not sealed, another key's tag, a forgery (any bit flipped, the
 * right tag with another key, a datagram meant for another receiver), a replay (the same
 * datagram twice, one older than the window), a stale send time, and a forgotten boot whose
 * datagrams stay refused. A refused datagram changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "node/net/seal.h"

#define NOW 1764000000u

static const uint8_t tag[SEAL_TAG_LEN] = { 0xde, 0xad, 0xbe, 0xef };
static const uint8_t msg[] = "sealed datagram KAT";
#define MSG_LEN (sizeof msg - 1)

static void key_of(uint8_t key[SEAL_KEY_LEN], uint8_t first)
{
	for (int i = 0; i < SEAL_KEY_LEN; i++)
		key[i] = (uint8_t)(first + i);
}

static struct seal *make(uint8_t key_first, const uint8_t *t, uint64_t boot)
{
	uint8_t key[SEAL_KEY_LEN], b[SEAL_BOOT_LEN];
	key_of(key, key_first);
	for (int i = 0; i < SEAL_BOOT_LEN; i++)
		b[i] = (uint8_t)(boot >> (8 * (7 - i)));
	return seal_new(key, t, b);
}

/* 127.0.0.1:4000 as udp.c names a receiver: family, 16 bytes of IP, port. */
static const struct seal_to me = { { 4, 127, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0f,
				     0xa0 }, 19 };

static enum seal_result open1(struct seal *r, uint64_t now, const uint8_t *in, size_t len)
{
	uint8_t out[256];
	size_t n = 0;
	enum seal_result res = seal_open(r, now, &me, in, len, out, sizeof out, &n);
	if (res == SEAL_OK) {
		assert_int_equal(n, MSG_LEN);
		assert_memory_equal(out, msg, MSG_LEN);
	}
	return res;
}

static size_t wrap(struct seal *s, uint64_t now, uint8_t *out)
{
	return seal_wrap(s, now, &me, msg, MSG_LEN, out, 256);
}

static void test_known_answer(void **state)
{
	static const char expect[] =
		"e501deadbeef010203040506070800000000000000010000000069248100a1d1d5f9f6e0943a73bb"
		"e95b7e8466e59f2b74a0f47d0e1a7531de90142ab4273b96f3";
	struct seal *s = make(0, tag, 0x0102030405060708u), *r = make(0, tag, 99);
	uint8_t out[256], want[sizeof expect / 2];
	(void)state;
	for (size_t i = 0; i < sizeof want; i++) {
		unsigned v;
		assert_int_equal(sscanf(expect + 2 * i, "%2x", &v), 1);
		want[i] = (uint8_t)v;
	}
	assert_int_equal(wrap(s, NOW, out), sizeof want);
	assert_memory_equal(out, want, sizeof want);
	assert_true(seal_is_sealed(out, sizeof want));
	assert_int_equal(open1(r, NOW, want, sizeof want), SEAL_OK);
	/* The counter advances: the next datagram differs in counter and ciphertext. */
	assert_int_equal(wrap(s, NOW, out), sizeof want);
	assert_int_equal(out[21], 2);
	assert_memory_not_equal(out + SEAL_HEADER_LEN, want + SEAL_HEADER_LEN, MSG_LEN);
	assert_int_equal(seal_wrap(s, NOW, &me, msg, MSG_LEN, out, MSG_LEN + SEAL_OVERHEAD - 1), 0);
	seal_free(s);
	seal_free(r);
}

static void test_not_sealed_and_other_key(void **state)
{
	static const uint8_t other_tag[SEAL_TAG_LEN] = { 1, 2, 3, 4 };
	struct seal *r = make(0, tag, 1), *other = make(7, other_tag, 2), *same_tag = make(7, tag, 3);
	uint8_t dht[40] = { 'D', 'H', 2, 1 }, buf[256];
	(void)state;
	assert_int_equal(open1(r, NOW, dht, sizeof dht), SEAL_NOT_SEALED);
	assert_false(seal_is_sealed(dht, sizeof dht));
	size_t n = wrap(other, NOW, buf);
	assert_int_equal(open1(r, NOW, buf, SEAL_OVERHEAD - 1), SEAL_NOT_SEALED);
	assert_int_equal(open1(r, NOW, buf, n), SEAL_OTHER_KEY);
	n = wrap(same_tag, NOW, buf);
	assert_int_equal(open1(r, NOW, buf, n), SEAL_FORGED);
	seal_free(r);
	seal_free(other);
	seal_free(same_tag);
}

static void test_forgeries_change_nothing(void **state)
{
	struct seal *s = make(0, tag, 5), *r = make(0, tag, 6);
	uint8_t buf[256], bad[256];
	struct seal_to elsewhere = me;
	(void)state;
	size_t n = wrap(s, NOW, buf);
	for (size_t i = 0; i < n; i++) {
		memcpy(bad, buf, n);
		bad[i] ^= 0x10;
		enum seal_result res = open1(r, NOW, bad, n);
		assert_true(res == (i < 2 ? SEAL_NOT_SEALED : i < 6 ? SEAL_OTHER_KEY : SEAL_FORGED));
	}
	assert_int_equal(open1(r, NOW, buf, n - 1), SEAL_FORGED);
	elsewhere.b[4] = 2; /* sent to 127.0.0.2, replayed to 127.0.0.1 */
	uint8_t out[256];
	size_t olen;
	size_t m = seal_wrap(s, NOW, &elsewhere, msg, MSG_LEN, bad, sizeof bad);
	assert_int_equal(seal_open(r, NOW, &me, bad, m, out, sizeof out, &olen), SEAL_FORGED);
	assert_int_equal(seal_open(r, NOW, &elsewhere, bad, m, out, sizeof out, &olen), SEAL_OK);
	/* None of the refusals spent the first datagram's counter. */
	assert_int_equal(open1(r, NOW, buf, n), SEAL_OK);
	assert_int_equal(open1(r, NOW, buf, n), SEAL_REPLAY);
	seal_free(s);
	seal_free(r);
}

static void test_stale(void **state)
{
	struct seal *s = make(0, tag, 5), *r = make(0, tag, 6);
	uint8_t a[256], b[256], c[256];
	(void)state;
	size_t na = wrap(s, NOW - SEAL_MAX_SKEW_S - 1, a);
	size_t nb = wrap(s, NOW + SEAL_MAX_SKEW_S + 1, b);
	size_t nc = wrap(s, NOW + SEAL_MAX_SKEW_S, c);
	assert_int_equal(open1(r, NOW, a, na), SEAL_STALE);
	assert_int_equal(open1(r, NOW, b, nb), SEAL_STALE);
	assert_int_equal(open1(r, NOW, c, nc), SEAL_OK);
	/* Stale is checked before the window: the same bytes later are stale, not new. */
	assert_int_equal(open1(r, NOW + 2 * SEAL_MAX_SKEW_S + 1, c, nc), SEAL_STALE);
	seal_free(s);
	seal_free(r);
}

static void test_window(void **state)
{
	enum { N = SEAL_WINDOW_BITS + 100 };
	static uint8_t bufs[N][256];
	static size_t lens[N];
	struct seal *s = make(0, tag, 5), *r = make(0, tag, 6);
	(void)state;
	for (int i = 0; i < N; i++)
		lens[i] = wrap(s, NOW, bufs[i]);
	/* Out of order within the window: all accepted once. */
	assert_int_equal(open1(r, NOW, bufs[10], lens[10]), SEAL_OK);
	assert_int_equal(open1(r, NOW, bufs[3], lens[3]), SEAL_OK);
	assert_int_equal(open1(r, NOW, bufs[5], lens[5]), SEAL_OK);
	assert_int_equal(open1(r, NOW, bufs[3], lens[3]), SEAL_REPLAY);
	assert_int_equal(open1(r, NOW, bufs[4], lens[4]), SEAL_OK);
	/* A jump past the window: what lies more than the window behind is a replay. */
	assert_int_equal(open1(r, NOW, bufs[N - 1], lens[N - 1]), SEAL_OK);
	assert_int_equal(open1(r, NOW, bufs[20], lens[20]), SEAL_REPLAY);
	int late = N - 1 - (SEAL_WINDOW_BITS - 64) + 1; /* the oldest still inside */
	assert_int_equal(open1(r, NOW, bufs[late], lens[late]), SEAL_OK);
	assert_int_equal(open1(r, NOW, bufs[late - 1], lens[late - 1]), SEAL_REPLAY);
	assert_int_equal(open1(r, NOW, bufs[N - 2], lens[N - 2]), SEAL_OK);
	assert_int_equal(open1(r, NOW, bufs[N - 2], lens[N - 2]), SEAL_REPLAY);
	seal_free(s);
	seal_free(r);
}

/* More boots than the table holds: the first is forgotten, and its datagrams stay refused (stale,
 * by the floor) though it is no longer remembered; boots still remembered still catch replays. */
static void test_forgotten_boot(void **state)
{
	struct seal *r = make(0, tag, 1);
	uint8_t first[256], again[256], buf[256];
	(void)state;
	struct seal *s0 = make(0, tag, 1000);
	size_t n0 = wrap(s0, NOW, first), n1 = wrap(s0, NOW, again);
	assert_int_equal(open1(r, NOW, first, n0), SEAL_OK);
	for (uint64_t b = 1; b <= SEAL_SENDERS; b++) {
		struct seal *s = make(0, tag, 1000 + b);
		size_t n = wrap(s, NOW + 1, buf);
		assert_int_equal(open1(r, NOW + 1, buf, n), SEAL_OK);
		if (b == SEAL_SENDERS)
			assert_int_equal(open1(r, NOW + 1, buf, n), SEAL_REPLAY);
		seal_free(s);
	}
	assert_int_equal(open1(r, NOW + 1, first, n0), SEAL_STALE);
	assert_int_equal(open1(r, NOW + 1, again, n1), SEAL_STALE);
	/* The boot comes back with a datagram sent after it was forgotten. */
	size_t n2 = wrap(s0, NOW + 1, buf);
	assert_int_equal(open1(r, NOW + 1, buf, n2), SEAL_OK);
	assert_int_equal(open1(r, NOW + 1, buf, n2), SEAL_REPLAY);
	seal_free(s0);
	seal_free(r);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(seal_result_name(SEAL_NOT_SEALED), "not_sealed");
	assert_string_equal(seal_result_name(SEAL_STALE), "stale");
	assert_string_equal(seal_result_name(SEAL_NRESULTS), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_known_answer),
		cmocka_unit_test(test_not_sealed_and_other_key),
		cmocka_unit_test(test_forgeries_change_nothing),
		cmocka_unit_test(test_stale),
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_forgotten_boot),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
