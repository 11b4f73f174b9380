/* The network-key channel over evbuffers (node/net/secbuf.h): a handshake between two pairs of
 * buffers; sends larger than a record split and come back whole; records cut at every byte
 * and spread over many chains open once whole; the taker stops where it says; bulk records
 * sealed into a pool's buffers are the same bytes, and the buffers come back; a malformed
 * header or a flipped byte is reported, not skipped. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <event2/buffer.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/net/secbuf.h"

struct pair {
	struct secchan_config ci, cr;
	struct secchan *i, *r;
};

static void make_cfg(struct secchan_config *cfg, uint8_t id_fill)
{
	uint8_t seed[crypto_sign_SEEDBYTES];
	memset(cfg, 0, sizeof *cfg);
	memset(cfg->stream_key, 9, sizeof cfg->stream_key);
	memset(seed, id_fill, sizeof seed);
	crypto_sign_seed_keypair(cfg->pk, cfg->sk, seed);
	cfg->aes = true;
}

/* Two ends, up, through secbuf_handshake over two buffers each way. */
static void connect_pair(struct pair *p)
{
	uint8_t si[SECCHAN_SEED_LEN] = { 1 }, sr[SECCHAN_SEED_LEN] = { 2 };
	uint8_t hello[SECCHAN_HELLO_LEN];
	struct evbuffer *i2r = evbuffer_new(), *r2i = evbuffer_new();
	make_cfg(&p->ci, 3);
	make_cfg(&p->cr, 4);
	p->i = secchan_new(&p->ci, true, si);
	p->r = secchan_new(&p->cr, false, sr);
	secchan_hello(p->i, hello);
	evbuffer_add(i2r, hello, 10); /* cut short: the responder waits */
	assert_int_equal(secbuf_handshake(p->r, i2r, r2i), SECCHAN_NEED_MORE);
	assert_int_equal(evbuffer_get_length(r2i), 0);
	evbuffer_add(i2r, hello + 10, sizeof hello - 10);
	assert_int_equal(secbuf_handshake(p->r, i2r, r2i), SECCHAN_NEED_MORE);
	assert_int_equal(secbuf_handshake(p->i, r2i, i2r), SECCHAN_DONE);
	assert_int_equal(secbuf_handshake(p->r, i2r, r2i), SECCHAN_DONE);
	assert_int_equal(evbuffer_get_length(i2r) + evbuffer_get_length(r2i), 0);
	evbuffer_free(i2r);
	evbuffer_free(r2i);
}

static void free_pair(struct pair *p)
{
	secchan_free(p->i);
	secchan_free(p->r);
}

struct sink {
	uint8_t *data;
	size_t len, records, stop_after;
};

static bool take(void *arg, uint8_t *plain, size_t len)
{
	struct sink *s = arg;
	s->data = realloc(s->data, s->len + len);
	assert_non_null(s->data);
	memcpy(s->data + s->len, plain, len);
	s->len += len;
	s->records++;
	return s->stop_after == 0 || s->records < s->stop_after;
}

static void test_roundtrip(void **state)
{
	(void)state;
	struct pair p;
	struct sink s = { 0 };
	size_t big = 3 * SECCHAN_RECORD_MAX + 5;
	uint8_t *body = malloc(big);
	struct evbuffer *wire = evbuffer_new(), *in = evbuffer_new();
	connect_pair(&p);
	for (size_t k = 0; k < big; k++)
		body[k] = (uint8_t)(k * 31);
	assert_int_equal(secbuf_seal(p.i, wire, (const uint8_t *)"HEAD", 4, body, big), 0);
	assert_int_equal(secbuf_seal(p.i, wire, (const uint8_t *)"tail", 4, NULL, 0), 0);
	assert_int_equal(evbuffer_get_length(wire), big + 8 + 5 * SECCHAN_OVERHEAD);
	/* Fed one byte at a time: each record opens once whole, never before. */
	uint8_t byte;
	while (evbuffer_remove(wire, &byte, 1) == 1) {
		evbuffer_add(in, &byte, 1);
		assert_int_equal(secbuf_open_input(p.r, in, take, &s), SECBUF_OK);
	}
	assert_int_equal(s.records, 5);
	assert_int_equal(s.len, big + 8);
	assert_memory_equal(s.data, "HEAD", 4);
	assert_memory_equal(s.data + 4, body, big);
	assert_memory_equal(s.data + 4 + big, "tail", 4);
	assert_int_equal(evbuffer_get_length(in), 0);
	free(s.data);
	free(body);
	evbuffer_free(wire);
	evbuffer_free(in);
	free_pair(&p);
}

static void test_span_and_stop(void **state)
{
	(void)state;
	struct pair p;
	struct sink s = { .stop_after = 2 };
	struct evbuffer *wire = evbuffer_new();
	size_t used;
	connect_pair(&p);
	for (int k = 0; k < 4; k++)
		assert_int_equal(secbuf_seal(p.r, wire, (const uint8_t *)"abcdef", 6, NULL, 0), 0);
	size_t len = evbuffer_get_length(wire), rec = 6 + SECCHAN_OVERHEAD;
	uint8_t *buf = evbuffer_pullup(wire, (ev_ssize_t)len);
	/* Three and a half records: the taker stops after two. */
	assert_int_equal(secbuf_open_span(p.i, buf, 3 * rec + rec / 2, &used, take, &s), SECBUF_OK);
	assert_int_equal(used, 2 * rec);
	assert_int_equal(s.records, 2);
	s.stop_after = 0;
	assert_int_equal(secbuf_open_span(p.i, buf + used, 3 * rec / 2, &used, take, &s), SECBUF_OK);
	assert_int_equal(used, rec);
	assert_int_equal(s.records, 3);
	/* A flipped byte: reported, nothing taken. */
	buf[3 * rec + 7] ^= 1;
	assert_int_equal(secbuf_open_span(p.i, buf + 3 * rec, rec, &used, take, &s), SECBUF_FORGED);
	assert_int_equal(used, 0);
	assert_int_equal(s.records, 3);
	free(s.data);
	evbuffer_free(wire);
	free_pair(&p);
}

/* Seal the same sends with secbuf_seal_pooled through POOL (or, POOL NULL, with secbuf_seal)
 * into WIRE: one that fills a pool buffer, one too small to take one, one too large. */
static void seal_three(struct secchan *s, struct recpool *pool, struct evbuffer *wire,
		       const uint8_t *body)
{
	static const size_t lens[] = { 600, 10, 3000 };
	for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
		int rc = pool ? secbuf_seal_pooled(s, pool, wire, (const uint8_t *)"HD", 2, body, lens[k])
			      : secbuf_seal(s, wire, (const uint8_t *)"HD", 2, body, lens[k]);
		assert_int_equal(rc, 0);
	}
}

/* Pooled records are the very bytes secbuf_seal makes (two pairs from the same seeds agree);
 * the pool's buffer comes back once the output has let go of it, and is lent again; a pool
 * closed while an output still holds its buffer lives until the buffer is back. */
static void test_pooled(void **state)
{
	(void)state;
	struct pair a, b;
	struct sink s = { 0 };
	uint8_t body[3000];
	struct evbuffer *pooled = evbuffer_new(), *plain = evbuffer_new();
	struct recpool *pool = recpool_new(1000, 2);
	assert_non_null(pool);
	for (size_t k = 0; k < sizeof body; k++)
		body[k] = (uint8_t)(k * 7);
	connect_pair(&a);
	connect_pair(&b);
	seal_three(a.i, pool, pooled, body);
	seal_three(b.i, NULL, plain, body);
	struct evbuffer_iovec v;
	assert_int_equal(evbuffer_peek(pooled, -1, NULL, &v, 1) >= 1, true);
	const void *lent = v.iov_base;
	size_t len = evbuffer_get_length(plain);
	assert_int_equal(evbuffer_get_length(pooled), len);
	/* (The pullup copies the buffer out: the output lets go of it here.) */
	assert_memory_equal(evbuffer_pullup(pooled, -1), evbuffer_pullup(plain, -1), len);
	assert_int_equal(secbuf_open_input(a.r, pooled, take, &s), SECBUF_OK);
	assert_int_equal(s.records, 3);
	assert_memory_equal(s.data + 2, body, 600);
	/* The output let go of the buffer: the next record is sealed into it again. */
	seal_three(a.i, pool, pooled, body);
	assert_int_equal(evbuffer_peek(pooled, -1, NULL, &v, 1) >= 1, true);
	assert_ptr_equal(v.iov_base, lent);
	/* Closed while the output holds a buffer: freed with it (ASan sees a leak or a misuse). */
	recpool_close(pool);
	evbuffer_free(pooled);
	free(s.data);
	evbuffer_free(plain);
	free_pair(&a);
	free_pair(&b);
}

static void test_malformed(void **state)
{
	(void)state;
	struct pair p;
	struct sink s = { 0 };
	struct evbuffer *in = evbuffer_new();
	uint8_t zero[SECCHAN_OVERHEAD + 1] = { 0 }, huge[4] = { 0xff, 0xff, 0xff, 0xff };
	size_t used;
	connect_pair(&p);
	evbuffer_add(in, zero, sizeof zero);
	assert_int_equal(secbuf_open_input(p.r, in, take, &s), SECBUF_MALFORMED);
	assert_int_equal(secbuf_open_span(p.r, huge, sizeof huge, &used, take, &s), SECBUF_MALFORMED);
	assert_int_equal(s.records, 0);
	evbuffer_free(in);
	free_pair(&p);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_span_and_stop),
		cmocka_unit_test(test_pooled),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
