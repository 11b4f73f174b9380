/* The network-key channel of TCP connections (node/net/secchan.h): the handshake between two
 * ends of one ring (both ciphers), records both ways; refused: another network key, every
 * tampered byte of every handshake message, a peer claiming another node's key, replayed and
 * reordered records, a replayed hello; input cut anywhere waits for more; a peer without a key
 * is told apart from a forger; and known answers pinning the wire format. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/net/secchan.h"

/* Computed once from this implementation with the keys and seeds of test_known_answers: a
 * change to any of them is a change of the wire format, which old nodes would not speak. */
#define KAT_HELLO                                                                         \
	"6468744b0101004acd374173cc6f2b55c759ef6e782ca307e79821f4da89a678077f8b796a3f65d4ef2" \
	"a1df7c9ac681cebde477144706f"
#define KAT_REPLY "665b6ca71dec06721ade48ad23881b46d60d57c780cc176c35898450d9fa3755"
#define KAT_IAUTH "fee15d8446cc9b78121e57cba0a33a1ba3a750b9151f719e3d811528d7bd5495"
#define KAT_RECORD "000000058eeb1e0460ff8006145c6fa784638294fa4f7d948a"
/* The same under AES-256-GCM, computed by libsodium's implementation before the record layer
 * moved to OpenSSL's: R's messages, I's identity, a short record, then a full one (digest). */
#define KAT_AES_REPLY "ca0683ca58c30094969859a026edbab45c2696c05f8e62a405084564913f7d6e"
#define KAT_AES_IAUTH "b285263e25f7db4cd84a8b644349b2bc5edc13dc6672fa82296017f9483fd040"
#define KAT_AES_RECORD "00000005c99f8bf8cabef3d599b01cc12cb894c102575a5bcd"
#define KAT_AES_FULL "7c57cf4f639b7a5530297228af0e46954ee1ffb44f573a6410db42759f2d8f8a"

struct end {
	struct secchan_config cfg;
	struct secchan *s;
};

static void make_cfg(struct secchan_config *cfg, uint8_t key_fill, uint8_t id_fill, bool aes)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	memset(cfg, 0, sizeof *cfg);
	memset(cfg->stream_key, key_fill, sizeof cfg->stream_key);
	memset(seed, id_fill, sizeof seed);
	crypto_sign_seed_keypair(cfg->pk, cfg->sk, seed);
	cfg->aes = aes;
}

static void make_end(struct end *e, bool initiator, uint8_t key_fill, uint8_t id_fill,
		     uint8_t eph_fill, bool aes)
{
	uint8_t seed[SECCHAN_SEED_LEN];
	make_cfg(&e->cfg, key_fill, id_fill, aes);
	memset(seed, eph_fill, sizeof seed);
	e->s = secchan_new(&e->cfg, initiator, seed);
	assert_non_null(e->s);
}

/* Feed all of IN to E in one call; the status, with what it wrote in OUT. */
static enum secchan_status feed(struct end *e, const uint8_t *in, size_t len, uint8_t *out,
				size_t *outlen)
{
	size_t used;
	enum secchan_status st = secchan_handshake(e->s, in, len, &used, out, outlen);
	if (st == SECCHAN_OK || st == SECCHAN_DONE)
		assert_true(used > 0 && used <= len);
	else
		assert_int_equal(used, 0);
	return st;
}

/* Run I and R through the whole handshake; their messages are kept in T (hello, reply and
 * R's identity, I's identity). */
struct transcript {
	uint8_t hello[SECCHAN_HELLO_LEN];
	uint8_t r_out[SECCHAN_OUT_MAX];
	size_t r_len;
	uint8_t i_out[SECCHAN_OUT_MAX];
	size_t i_len;
};

static void run(struct end *i, struct end *r, struct transcript *t)
{
	size_t used, n;
	uint8_t out[SECCHAN_OUT_MAX];
	secchan_hello(i->s, t->hello);
	assert_int_equal(feed(r, t->hello, sizeof t->hello, t->r_out, &t->r_len), SECCHAN_OK);
	assert_int_equal(t->r_len, SECCHAN_OUT_MAX);
	assert_int_equal(secchan_handshake(i->s, t->r_out, t->r_len, &used, out, &n), SECCHAN_OK);
	assert_int_equal(used, SECCHAN_HELLO_LEN);
	assert_int_equal(n, 0);
	assert_false(secchan_up(i->s));
	assert_int_equal(secchan_handshake(i->s, t->r_out + used, t->r_len - used, &used, t->i_out,
					   &t->i_len),
			 SECCHAN_DONE);
	assert_true(secchan_up(i->s));
	assert_int_equal(feed(r, t->i_out, t->i_len, out, &n), SECCHAN_DONE);
	assert_int_equal(n, 0);
	assert_true(secchan_up(r->s));
}

static void roundtrip(struct end *from, struct end *to, const char *head, size_t blen)
{
	uint8_t *body = calloc(1, blen + 1), *rec = malloc(strlen(head) + blen + SECCHAN_OVERHEAD);
	uint8_t *plain;
	size_t plen, len = strlen(head) + blen + SECCHAN_OVERHEAD;
	for (size_t k = 0; k < blen; k++)
		body[k] = (uint8_t)(k * 7);
	secchan_seal(from->s, (const uint8_t *)head, strlen(head), body, blen, rec);
	assert_int_equal(secchan_record_len(rec), len);
	assert_int_equal(secchan_open(to->s, rec, len, &plain, &plen), 0);
	assert_int_equal(plen, strlen(head) + blen);
	assert_memory_equal(plain, head, strlen(head));
	if (blen)
		assert_memory_equal(plain + strlen(head), body, blen);
	free(body);
	free(rec);
}

static void test_handshake(void **state)
{
	(void)state;
	for (int aes = 0; aes < 4; aes++) {
		struct end i, r;
		struct transcript t;
		make_end(&i, true, 7, 1, 11, aes & 1);
		make_end(&r, false, 7, 2, 12, aes & 2);
		run(&i, &r, &t);
		assert_memory_equal(secchan_peer_pk(i.s), r.cfg.pk, SECCHAN_PK_LEN);
		assert_memory_equal(secchan_peer_pk(r.s), i.cfg.pk, SECCHAN_PK_LEN);
		assert_string_equal(secchan_cipher(i.s), aes == 3 ? "aes256gcm" : "chacha20poly1305");
		assert_string_equal(secchan_cipher(r.s), secchan_cipher(i.s));
		roundtrip(&i, &r, "first frame", 0);
		roundtrip(&r, &i, "", 16384);
		roundtrip(&i, &r, "head", SECCHAN_RECORD_MAX - 4);
		roundtrip(&r, &i, "x", 1);
		secchan_free(i.s);
		secchan_free(r.s);
	}
	secchan_free(NULL);
}

/* A responder with another network key answers nothing at all. */
static void test_wrong_key(void **state)
{
	(void)state;
	struct end i, r;
	uint8_t hello[SECCHAN_HELLO_LEN], out[SECCHAN_OUT_MAX];
	size_t n = 99;
	make_end(&i, true, 7, 1, 11, true);
	make_end(&r, false, 8, 2, 12, true);
	secchan_hello(i.s, hello);
	assert_int_equal(feed(&r, hello, sizeof hello, out, &n), SECCHAN_REJECT);
	assert_int_equal(n, 0);
	assert_null(secchan_peer_pk(r.s));
	/* And it stays refused, whatever comes next. */
	assert_int_equal(feed(&r, hello, sizeof hello, out, &n), SECCHAN_REJECT);
	secchan_free(i.s);
	secchan_free(r.s);
}

/* Every byte of the hello, the reply and both identity records, flipped, is refused. */
static void test_tampered(void **state)
{
	(void)state;
	struct transcript t;
	struct end i, r;
	uint8_t out[SECCHAN_OUT_MAX], msg[SECCHAN_OUT_MAX];
	size_t n, used;
	make_end(&i, true, 7, 1, 11, true);
	make_end(&r, false, 7, 2, 12, true);
	run(&i, &r, &t);
	secchan_free(i.s);
	secchan_free(r.s);
	for (size_t k = 0; k < SECCHAN_HELLO_LEN; k++) {
		make_end(&r, false, 7, 2, 12, true);
		memcpy(msg, t.hello, sizeof t.hello);
		msg[k] ^= 0x20;
		enum secchan_status st = feed(&r, msg, sizeof t.hello, out, &n);
		assert_true(st == (k < SECCHAN_MAGIC_LEN ? SECCHAN_PLAIN : SECCHAN_REJECT));
		assert_int_equal(n, 0);
		secchan_free(r.s);
	}
	for (size_t k = 0; k < t.r_len; k++) {
		make_end(&i, true, 7, 1, 11, true);
		uint8_t hello[SECCHAN_HELLO_LEN];
		secchan_hello(i.s, hello);
		memcpy(msg, t.r_out, t.r_len);
		msg[k] ^= 0x40; /* not 1: kind 2 ^ 1 would be the no-key notice */
		enum secchan_status st = secchan_handshake(i.s, msg, t.r_len, &used, out, &n);
		if (st == SECCHAN_OK)
			st = secchan_handshake(i.s, msg + used, t.r_len - used, &used, out, &n);
		assert_int_equal(st, SECCHAN_REJECT);
		assert_false(secchan_up(i.s));
		secchan_free(i.s);
	}
	for (size_t k = 0; k < t.i_len; k++) {
		make_end(&r, false, 7, 2, 12, true);
		assert_int_equal(feed(&r, t.hello, sizeof t.hello, out, &n), SECCHAN_OK);
		memcpy(msg, t.i_out, t.i_len);
		msg[k] ^= 0x80;
		assert_int_equal(feed(&r, msg, t.i_len, out, &n), SECCHAN_REJECT);
		assert_null(secchan_peer_pk(r.s));
		secchan_free(r.s);
	}
}

/* An initiator that holds the network key but claims a node key it cannot sign for. */
static void test_claimed_identity(void **state)
{
	(void)state;
	struct end i, r, other;
	uint8_t hello[SECCHAN_HELLO_LEN], out[SECCHAN_OUT_MAX], iout[SECCHAN_OUT_MAX];
	size_t n, in, used;
	make_end(&i, true, 7, 1, 11, false);
	make_end(&r, false, 7, 2, 12, false);
	make_cfg(&other.cfg, 7, 3, false);
	memcpy(i.cfg.pk, other.cfg.pk, SECCHAN_PK_LEN);
	secchan_hello(i.s, hello);
	assert_int_equal(feed(&r, hello, sizeof hello, out, &n), SECCHAN_OK);
	assert_int_equal(secchan_handshake(i.s, out, n, &used, iout, &in), SECCHAN_OK);
	assert_int_equal(secchan_handshake(i.s, out + used, n - used, &used, iout, &in),
			 SECCHAN_DONE);
	assert_int_equal(feed(&r, iout, in, out, &n), SECCHAN_REJECT);
	assert_false(secchan_up(r.s));
	secchan_free(i.s);
	secchan_free(r.s);
}

static void test_replayed_records(void **state)
{
	(void)state;
	struct transcript t;
	struct end i, r;
	uint8_t a[64], b[64], a0[64], b0[64], *plain;
	size_t plen, len = 5 + SECCHAN_OVERHEAD;
	make_end(&i, true, 7, 1, 11, true);
	make_end(&r, false, 7, 2, 12, true);
	run(&i, &r, &t);
	secchan_seal(i.s, (const uint8_t *)"first", 5, NULL, 0, a0);
	secchan_seal(i.s, (const uint8_t *)"secnd", 5, NULL, 0, b0);
	memcpy(b, b0, len);
	assert_int_equal(secchan_open(r.s, b, len, &plain, &plen), -1); /* out of order */
	memcpy(a, a0, len);
	assert_int_equal(secchan_open(r.s, a, len, &plain, &plen), 0);
	assert_memory_equal(plain, "first", 5);
	memcpy(a, a0, len);
	assert_int_equal(secchan_open(r.s, a, len, &plain, &plen), -1); /* replayed */
	memcpy(b, b0, len);
	assert_int_equal(secchan_open(r.s, b, len, &plain, &plen), 0);
	assert_memory_equal(plain, "secnd", 5);
	/* A record reflected back to its sender does not open either. */
	secchan_seal(i.s, (const uint8_t *)"third", 5, NULL, 0, a);
	assert_int_equal(secchan_open(i.s, a, len, &plain, &plen), -1);
	/* Nor one whose length header was changed. */
	a[3] ^= 1;
	assert_int_equal(secchan_open(r.s, a, len, &plain, &plen), -1);
	secchan_free(i.s);
	secchan_free(r.s);
}

/* A hello recorded and played to the responder again gets a new reply, under keys the
 * replayer cannot compute: the old initiator's identity record does not open there. */
static void test_replayed_hello(void **state)
{
	(void)state;
	struct transcript t;
	struct end i, r, r2;
	uint8_t out[SECCHAN_OUT_MAX];
	size_t n;
	make_end(&i, true, 7, 1, 11, true);
	make_end(&r, false, 7, 2, 12, true);
	make_end(&r2, false, 7, 2, 13, true);
	run(&i, &r, &t);
	assert_int_equal(feed(&r2, t.hello, sizeof t.hello, out, &n), SECCHAN_OK);
	assert_memory_not_equal(out, t.r_out, SECCHAN_HELLO_LEN);
	assert_int_equal(feed(&r2, t.i_out, t.i_len, out, &n), SECCHAN_REJECT);
	secchan_free(i.s);
	secchan_free(r.s);
	secchan_free(r2.s);
}

/* Input cut at every point waits for more, then completes. */
static void test_truncated(void **state)
{
	(void)state;
	struct transcript t;
	struct end i, r;
	uint8_t out[SECCHAN_OUT_MAX];
	size_t n;
	make_end(&i, true, 7, 1, 11, true);
	make_end(&r, false, 7, 2, 12, true);
	run(&i, &r, &t);
	secchan_free(r.s);
	make_end(&r, false, 7, 2, 12, true);
	for (size_t k = 0; k < sizeof t.hello; k++)
		assert_int_equal(feed(&r, t.hello, k, out, &n), SECCHAN_NEED_MORE);
	assert_int_equal(feed(&r, t.hello, sizeof t.hello, out, &n), SECCHAN_OK);
	for (size_t k = 0; k < t.i_len; k++)
		assert_int_equal(feed(&r, t.i_out, k, out, &n), SECCHAN_NEED_MORE);
	assert_int_equal(feed(&r, t.i_out, t.i_len, out, &n), SECCHAN_DONE);
	uint8_t hdr[SECCHAN_HEADER_LEN] = { 0, 0, 0, 0 };
	assert_int_equal(secchan_record_len(hdr), 0);
	hdr[1] = 1; /* 65536: the largest */
	assert_int_equal(secchan_record_len(hdr), SECCHAN_RECORD_MAX + SECCHAN_OVERHEAD);
	hdr[3] = 1;
	assert_int_equal(secchan_record_len(hdr), 0);
	uint8_t rec[32], *plain;
	size_t plen;
	secchan_seal(i.s, (const uint8_t *)"abc", 3, NULL, 0, rec);
	assert_int_equal(secchan_open(r.s, rec, 3 + SECCHAN_OVERHEAD - 1, &plain, &plen), -1);
	assert_int_equal(secchan_open(r.s, rec, 2, &plain, &plen), -1);
	secchan_free(i.s);
	secchan_free(r.s);
}

/* A peer without a key: its peer-wire frame is PLAIN, not a forgery; its notice tells a
 * keyed initiator so; an open node recognises a keyed node's bytes. */
static void test_open_peers(void **state)
{
	(void)state;
	struct end i, r;
	uint8_t frame[] = { 0, 0, 0, 75, 1, 12, 'd', 'h', 't' }, out[SECCHAN_OUT_MAX];
	uint8_t notice[SECCHAN_NOTICE_LEN], hello[SECCHAN_HELLO_LEN];
	size_t n;
	make_end(&r, false, 7, 2, 12, true);
	assert_int_equal(feed(&r, frame, 1, out, &n), SECCHAN_PLAIN);
	assert_int_equal(n, 0);
	make_end(&i, true, 7, 1, 11, true);
	secchan_hello(i.s, hello);
	secchan_notice(SECCHAN_NOTICE_NO_KEY, notice);
	assert_int_equal(feed(&i, notice, 5, out, &n), SECCHAN_NEED_MORE);
	assert_int_equal(feed(&i, notice, sizeof notice, out, &n), SECCHAN_PEER_OPEN);
	assert_true(secchan_is_handshake(hello, sizeof hello));
	assert_true(secchan_is_handshake(notice, sizeof notice));
	assert_false(secchan_is_handshake(frame, sizeof frame));
	assert_false(secchan_is_handshake(hello, 3));
	secchan_free(i.s);
	secchan_free(r.s);
	/* A keyed node's notice to an initiator is no reply: refused. */
	make_end(&i, true, 7, 1, 11, true);
	secchan_hello(i.s, hello);
	secchan_notice(SECCHAN_NOTICE_NEED_KEY, notice);
	assert_int_equal(feed(&i, notice, sizeof notice, out, &n), SECCHAN_REJECT);
	secchan_free(i.s);
}

static void hex(const uint8_t *b, size_t len, char *out)
{
	sodium_bin2hex(out, 2 * len + 1, b, len);
}

/* Known answers: fixed keys and seeds give these exact bytes. The hello's MAC is also computed
 * here from its definition (keyed BLAKE2b-128 of the bytes before it). */
static void test_known_answers(void **state)
{
	(void)state;
	struct transcript t;
	struct end i, r;
	char h[2 * SECCHAN_OUT_MAX + 1];
	uint8_t mac[16], digest[32];
	make_end(&i, true, 7, 1, 11, false);
	make_end(&r, false, 7, 2, 12, false);
	run(&i, &r, &t);
	hex(t.hello, 7, h);
	assert_string_equal(h, "6468744b010100");
	uint8_t epk[32], esk[32], seed[32];
	memset(seed, 11, sizeof seed);
	crypto_kx_seed_keypair(epk, esk, seed);
	assert_memory_equal(t.hello + 7, epk, 32);
	crypto_generichash(mac, sizeof mac, t.hello, 39, i.cfg.stream_key, 32);
	assert_memory_equal(t.hello + 39, mac, 16);
	hex(t.hello, sizeof t.hello, h);
	assert_string_equal(h, KAT_HELLO);
	crypto_generichash(digest, sizeof digest, t.r_out, t.r_len, NULL, 0);
	hex(digest, sizeof digest, h);
	assert_string_equal(h, KAT_REPLY);
	crypto_generichash(digest, sizeof digest, t.i_out, t.i_len, NULL, 0);
	hex(digest, sizeof digest, h);
	assert_string_equal(h, KAT_IAUTH);
	uint8_t rec[5 + SECCHAN_OVERHEAD];
	secchan_seal(i.s, (const uint8_t *)"hello", 5, NULL, 0, rec);
	hex(rec, sizeof rec, h);
	assert_string_equal(h, KAT_RECORD);
	secchan_free(i.s);
	secchan_free(r.s);
}

static void digest_hex(const uint8_t *b, size_t len, char *out)
{
	uint8_t digest[32];
	crypto_generichash(digest, sizeof digest, b, len, NULL, 0);
	hex(digest, sizeof digest, out);
}

/* Known answers under AES-256-GCM: the nonce, associated data and tag layout of every record,
 * short and full-sized; the other end opens them, and refuses them altered. */
static void test_known_answers_aes(void **state)
{
	(void)state;
	struct transcript t;
	struct end i, r;
	char h[2 * SECCHAN_OUT_MAX + 1];
	uint8_t rec[5 + SECCHAN_OVERHEAD], *full, *body, *plain;
	size_t plen, full_len = SECCHAN_RECORD_MAX + SECCHAN_OVERHEAD;
	make_end(&i, true, 7, 1, 11, true);
	make_end(&r, false, 7, 2, 12, true);
	run(&i, &r, &t);
	assert_string_equal(secchan_cipher(i.s), "aes256gcm");
	digest_hex(t.r_out, t.r_len, h);
	assert_string_equal(h, KAT_AES_REPLY);
	digest_hex(t.i_out, t.i_len, h);
	assert_string_equal(h, KAT_AES_IAUTH);
	secchan_seal(i.s, (const uint8_t *)"hello", 5, NULL, 0, rec);
	hex(rec, sizeof rec, h);
	assert_string_equal(h, KAT_AES_RECORD);
	assert_non_null(full = malloc(full_len));
	assert_non_null(body = malloc(SECCHAN_RECORD_MAX));
	for (size_t k = 0; k < SECCHAN_RECORD_MAX; k++)
		body[k] = (uint8_t)(k * 13 + 1);
	secchan_seal(i.s, body, 1000, body + 1000, SECCHAN_RECORD_MAX - 1000, full);
	digest_hex(full, full_len, h);
	assert_string_equal(h, KAT_AES_FULL);
	assert_int_equal(secchan_open(r.s, rec, sizeof rec, &plain, &plen), 0);
	assert_memory_equal(plain, "hello", 5);
	/* A flipped bit in the ciphertext or the tag is refused, and the true record still opens. */
	for (size_t at = SECCHAN_HEADER_LEN; at < full_len; at += full_len - SECCHAN_HEADER_LEN - 1) {
		uint8_t *bad = malloc(full_len);
		assert_non_null(bad);
		memcpy(bad, full, full_len);
		bad[at] ^= 0x80;
		assert_int_equal(secchan_open(r.s, bad, full_len, &plain, &plen), -1);
		free(bad);
	}
	assert_int_equal(secchan_open(r.s, full, full_len, &plain, &plen), 0);
	assert_int_equal(plen, SECCHAN_RECORD_MAX);
	assert_memory_equal(plain, body, SECCHAN_RECORD_MAX);
	free(full);
	free(body);
	secchan_free(i.s);
	secchan_free(r.s);
}

/* A control channel (dhtctl --network-key) and a peer-wire one do not take each other's HELLO,
 * and the listener can tell them apart from the first 7 bytes. */
static void test_control_purpose(void **state)
{
	(void)state;
	struct end i, r, pi, pr;
	struct transcript t;
	uint8_t hello[SECCHAN_HELLO_LEN], phello[SECCHAN_HELLO_LEN], out[SECCHAN_OUT_MAX];
	size_t n;
	make_end(&i, true, 7, 1, 11, false);
	make_end(&r, false, 7, 2, 12, false);
	make_end(&pi, true, 7, 3, 13, false);
	make_end(&pr, false, 7, 4, 14, false);
	i.cfg.control = r.cfg.control = true;
	secchan_hello(i.s, hello);
	secchan_hello(pi.s, phello);
	assert_int_equal(feed(&pr, hello, sizeof hello, out, &n), SECCHAN_REJECT);
	assert_int_equal(feed(&r, phello, sizeof phello, out, &n), SECCHAN_REJECT);
	assert_int_equal(n, 0);
	assert_int_equal(secchan_control_hello(hello, sizeof hello), 1);
	assert_int_equal(secchan_control_hello(phello, sizeof phello), 0);
	assert_int_equal(secchan_control_hello(hello, 6), -1);
	assert_int_equal(secchan_control_hello(hello, 1), -1);
	assert_int_equal(secchan_control_hello((const uint8_t *)"{\"cmd\"", 7), 0);
	assert_int_equal(secchan_control_hello((const uint8_t *)"dhtX", 4), 0);
	secchan_free(i.s);
	secchan_free(r.s);
	make_end(&i, true, 7, 1, 11, false);
	make_end(&r, false, 7, 2, 12, false);
	i.cfg.control = r.cfg.control = true;
	run(&i, &r, &t);
	roundtrip(&i, &r, "{\"cmd\":\"status\"}\n", 0);
	secchan_free(i.s);
	secchan_free(r.s);
	secchan_free(pi.s);
	secchan_free(pr.s);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_handshake),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_tampered),
		cmocka_unit_test(test_claimed_identity),
		cmocka_unit_test(test_replayed_records),
		cmocka_unit_test(test_replayed_hello),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_open_peers),
		cmocka_unit_test(test_known_answers),
		cmocka_unit_test(test_known_answers_aes),
		cmocka_unit_test(test_control_purpose),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
