/* tools/lib/ctlkey: dhtctl's end of the keyed control channel against the node's (secchan as a
 * control responder): the handshake, lines both ways through records fed in pieces, and what a
 * broken or hostile node's bytes get. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "tools/lib/ctlkey.h"

struct node {
	struct secchan_config cfg;
	struct secchan *s;
};

static void make_node(struct node *n, uint8_t key_fill)
{
	uint8_t seed[SECCHAN_SEED_LEN] = { 5 };
	memset(&n->cfg, 0, sizeof n->cfg);
	memset(n->cfg.stream_key, key_fill, sizeof n->cfg.stream_key);
	crypto_sign_keypair(n->cfg.pk, n->cfg.sk);
	n->cfg.control = true;
	n->s = secchan_new(&n->cfg, false, seed);
	assert_non_null(n->s);
}

/* Run the handshake of K (whose HELLO is HELLO) with N; return K's last status. */
static enum secchan_status connect_key(struct ctlkey *k, const uint8_t *hello, struct node *n)
{
	uint8_t out[SECCHAN_OUT_MAX], kout[SECCHAN_OUT_MAX];
	size_t used, len, klen;
	enum secchan_status st = secchan_handshake(n->s, hello, SECCHAN_HELLO_LEN, &used, out, &len);
	if (st != SECCHAN_OK)
		return st;
	assert_int_equal(ctlkey_feed(k, out, len), 0);
	while ((st = ctlkey_handshake(k, kout, &klen)) == SECCHAN_OK)
		assert_int_equal(klen, 0);
	if (st == SECCHAN_DONE)
		assert_int_equal(secchan_handshake(n->s, kout, klen, &used, out, &len), SECCHAN_DONE);
	return st;
}

static void test_lines(void **state)
{
	(void)state;
	uint8_t key[SECCHAN_KEY_LEN], hello[SECCHAN_HELLO_LEN], rec[2][64], *plain;
	struct node n;
	char buf[64];
	size_t len, got, plen;
	memset(key, 3, sizeof key);
	make_node(&n, 3);
	struct ctlkey *k = ctlkey_new(key, hello);
	assert_non_null(k);
	assert_int_equal(connect_key(k, hello, &n), SECCHAN_DONE);

	uint8_t *sealed = ctlkey_seal(k, "{\"cmd\":\"status\"}\n", 17, &len);
	assert_non_null(sealed);
	assert_int_equal(len, 17 + SECCHAN_OVERHEAD);
	assert_int_equal(secchan_open(n.s, sealed, len, &plain, &plen), 0);
	assert_memory_equal(plain, "{\"cmd\":\"status\"}\n", 17);
	free(sealed);

	/* Two records, fed a byte at a time, taken through a small buffer. */
	secchan_seal(n.s, (const uint8_t *)"{\"ok\":", 6, NULL, 0, rec[0]);
	secchan_seal(n.s, (const uint8_t *)"true}\n", 6, NULL, 0, rec[1]);
	char all[16] = "";
	size_t have = 0;
	for (size_t r = 0; r < 2; r++)
		for (size_t b = 0; b < 6 + SECCHAN_OVERHEAD; b++) {
			assert_int_equal(ctlkey_feed(k, &rec[r][b], 1), 0);
			do {
				assert_int_equal(ctlkey_take(k, buf, 4, &got), 0);
				memcpy(all + have, buf, got);
				have += got;
			} while (got > 0);
		}
	assert_int_equal(have, 12);
	assert_memory_equal(all, "{\"ok\":true}\n", 12);

	/* A forged record ends the channel. */
	secchan_seal(n.s, (const uint8_t *)"{}\n", 3, NULL, 0, rec[0]);
	rec[0][SECCHAN_HEADER_LEN] ^= 1;
	assert_int_equal(ctlkey_feed(k, rec[0], 3 + SECCHAN_OVERHEAD), 0);
	assert_int_equal(ctlkey_take(k, buf, sizeof buf, &got), -1);
	ctlkey_free(k);
	secchan_free(n.s);
}

/* Another network key: the node rejects the HELLO. A node that sends a header no record may
 * have, or more than fits, is refused. */
static void test_hostile(void **state)
{
	(void)state;
	uint8_t key[SECCHAN_KEY_LEN], hello[SECCHAN_HELLO_LEN], junk[4096];
	struct node n;
	char buf[16];
	size_t got;
	memset(key, 3, sizeof key);
	make_node(&n, 4);
	struct ctlkey *k = ctlkey_new(key, hello);
	assert_int_equal(connect_key(k, hello, &n), SECCHAN_REJECT);
	ctlkey_free(k);
	secchan_free(n.s);

	make_node(&n, 3);
	k = ctlkey_new(key, hello);
	assert_int_equal(connect_key(k, hello, &n), SECCHAN_DONE);
	memset(junk, 0xff, sizeof junk);
	assert_int_equal(ctlkey_feed(k, junk, 8), 0);
	assert_int_equal(ctlkey_take(k, buf, sizeof buf, &got), -1);
	size_t fed = 0;
	while (ctlkey_room(k) > 0 && ctlkey_feed(k, junk, sizeof junk < ctlkey_room(k) ?
					 sizeof junk : ctlkey_room(k)) == 0)
		fed++;
	assert_int_equal(ctlkey_room(k), 0);
	assert_int_equal(ctlkey_feed(k, junk, 1), -1);
	assert_true(fed > 0);
	ctlkey_free(k);
	secchan_free(n.s);
	ctlkey_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_hostile),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
