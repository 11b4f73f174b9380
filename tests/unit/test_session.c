/* The peer-wire session core, driven by a tiny in-memory world: sessions wired back to back
 * through byte pipes that hand bytes over in random splits, with real SHA-256 verification and a
 * fake clock. Also "raw" peers: frames built by hand and fed to one session to check how it judges
 * them (handshake, strictness, rejects when choked). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dht/rng.h"
#include "transfer/session.h"

#define CHUNK (64u * 1024)
#define FILE_LEN (17u * CHUNK + 5000u) /* a short last chunk with a short last block */
#define MAXN 4
#define MAXC 8

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static void buf_add(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static void buf_drop(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

struct world;

struct node {
	struct world *w;
	struct session *s;
	uint8_t id[WIRE_PEER_ID_LEN];
	uint8_t *file;            /* what we hold (seeds) or have stored (leechers) */
	const struct manifest *m;
	bool liar;                /* serves every block with its bytes flipped */
	uint32_t vq[64];
	bool vwant[64];
	unsigned nv;
	unsigned bans;
	uint8_t banned[8][WIRE_PEER_ID_LEN];
};

struct end {
	struct conn *c;
	int side;
};

struct conn {
	struct node *n[2];
	struct end e[2];
	int slot[2];
	struct buf in[2];         /* bytes on their way to side i */
	bool closed;
	bool gone_told[2];
	enum session_close why;
	int closer;
};

struct world {
	uint64_t now;
	struct rng rng;
	struct node nodes[MAXN];
	unsigned nn;
	struct conn conns[MAXC];
	unsigned nc;
	uint8_t data[FILE_LEN];
	struct manifest *m;
	uint8_t flip[16384];
};

static struct node *arg_node(void *arg)
{
	return arg;
}

static void e_send(void *arg, void *conn, const uint8_t *h, size_t hl, const uint8_t *b, size_t bl)
{
	(void)arg;
	struct end *e = conn;
	buf_add(&e->c->in[!e->side], h, hl);
	if (bl)
		buf_add(&e->c->in[!e->side], b, bl);
}

static size_t e_backlog(void *arg, void *conn)
{
	(void)arg;
	(void)conn;
	return 0;
}

static void e_close(void *arg, void *conn, enum session_close why)
{
	(void)arg;
	struct end *e = conn;
	if (e->c->closed)
		return;
	e->c->closed = true;
	e->c->why = why;
	e->c->closer = e->side;
	e->c->gone_told[e->side] = true;
}

static void e_store(void *arg, void *conn, uint32_t chunk, uint32_t off, const uint8_t *d, size_t n)
{
	(void)conn;
	struct node *nd = arg_node(arg);
	assert_non_null(nd->file);
	memcpy(nd->file + (size_t)chunk * CHUNK + off, d, n);
}

static const uint8_t *e_read(void *arg, uint32_t chunk, uint32_t off, uint32_t len)
{
	struct node *nd = arg_node(arg);
	const uint8_t *d = nd->file + (size_t)chunk * CHUNK + off;
	if (!nd->liar)
		return d;
	for (uint32_t i = 0; i < len; i++)
		nd->w->flip[i] = d[i] ^ 0x5a;
	return nd->w->flip;
}

static void e_verify(void *arg, uint32_t chunk, bool want)
{
	struct node *nd = arg_node(arg);
	assert_true(nd->nv < 64);
	nd->vwant[nd->nv] = want;
	nd->vq[nd->nv++] = chunk;
}

static void e_ban(void *arg, const uint8_t *id)
{
	struct node *nd = arg_node(arg);
	assert_true(nd->bans < 8);
	memcpy(nd->banned[nd->bans++], id, WIRE_PEER_ID_LEN);
}

static void e_manifest(void *arg, const struct manifest *m)
{
	struct node *nd = arg_node(arg);
	nd->m = m;
	nd->file = calloc(1, manifest_total_size(m));
}

static uint64_t e_now(void *arg)
{
	return arg_node(arg)->w->now;
}

static uint64_t e_rand(void *arg)
{
	return rng_next(&arg_node(arg)->w->rng);
}

static const struct session_env ENV = {
	.send = e_send, .backlog = e_backlog, .close = e_close, .store = e_store, .read = e_read,
	.verify = e_verify, .ban = e_ban, .manifest = e_manifest, .now = e_now, .rand64 = e_rand,
};

static struct world *world_new(uint64_t seed)
{
	struct world *w = calloc(1, sizeof *w);
	assert_non_null(w);
	rng_seed(&w->rng, seed);
	rng_bytes(&w->rng, w->data, sizeof w->data);
	struct manifest_builder *b = manifest_builder_new(CHUNK);
	assert_int_equal(manifest_builder_add_file(b, "f.bin", FILE_LEN), 0);
	assert_int_equal(manifest_builder_add_data(b, w->data, FILE_LEN), 0);
	w->m = manifest_builder_finish(b);
	manifest_builder_free(b);
	assert_non_null(w->m);
	w->now = 1000000;
	return w;
}

/* A node; SEED: holds the whole file and the manifest; else knows only the content id. */
static struct node *node_add(struct world *w, bool seed, bool liar)
{
	struct node *nd = &w->nodes[w->nn];
	nd->w = w;
	nd->liar = liar;
	nd->id[0] = (uint8_t)(w->nn + 1);
	struct session_config cfg;
	session_config_default(&cfg);
	memcpy(cfg.content, manifest_id(w->m), WIRE_CONTENT_ID_LEN);
	memcpy(cfg.network, "testnet!", WIRE_NETWORK_ID_LEN);
	memcpy(cfg.peer_id, nd->id, WIRE_PEER_ID_LEN);
	struct bitfield *all = NULL;
	if (seed) {
		all = bitfield_new(manifest_chunk_count(w->m));
		bitfield_set_all(all);
		cfg.manifest = w->m;
		cfg.have = all;
		nd->m = w->m;
		nd->file = malloc(FILE_LEN);
		memcpy(nd->file, w->data, FILE_LEN);
	}
	struct session_env env = ENV;
	env.arg = nd;
	nd->s = session_new(&cfg, &env);
	assert_non_null(nd->s);
	bitfield_free(all);
	w->nn++;
	return nd;
}

static struct conn *connect_nodes(struct world *w, struct node *a, struct node *b)
{
	struct conn *c = &w->conns[w->nc++];
	c->n[0] = a;
	c->n[1] = b;
	for (int s = 0; s < 2; s++) {
		c->e[s].c = c;
		c->e[s].side = s;
	}
	c->slot[0] = session_peer_add(a->s, &c->e[0], true);
	c->slot[1] = session_peer_add(b->s, &c->e[1], false);
	assert_true(c->slot[0] >= 0 && c->slot[1] >= 0);
	return c;
}

static void world_free(struct world *w)
{
	for (unsigned i = 0; i < w->nn; i++) {
		session_free(w->nodes[i].s);
		free(w->nodes[i].file);
	}
	for (unsigned i = 0; i < w->nc; i++)
		for (int s = 0; s < 2; s++)
			free(w->conns[i].in[s].p);
	manifest_free(w->m);
	free(w);
}

static void answer_verifies(struct node *nd)
{
	while (nd->nv > 0) {
		uint32_t c = nd->vq[0];
		bool want = nd->vwant[0];
		nd->nv--;
		memmove(nd->vq, nd->vq + 1, nd->nv * sizeof nd->vq[0]);
		memmove(nd->vwant, nd->vwant + 1, nd->nv * sizeof nd->vwant[0]);
		uint32_t len = manifest_chunk_len(nd->m, c);
		const uint8_t *d = nd->file + (size_t)c * CHUNK;
		bool ok = manifest_chunk_ok(nd->m, c, d, len);
		uint8_t dig[(CHUNK / 16384) * SESSION_DIGEST_LEN];
		for (uint32_t off = 0, i = 0; off < len; off += 16384, i++) {
			uint32_t n = len - off < 16384 ? len - off : 16384;
			manifest_sha256(d + off, n, dig + i * SESSION_DIGEST_LEN);
		}
		session_chunk_verified(nd->s, c, ok, ok && !want ? NULL : dig);
	}
}

/* Move bytes in random splits and answer verifications until nothing moves. */
static bool pump_once(struct world *w)
{
	bool moved = false;
	for (unsigned i = 0; i < w->nc; i++) {
		struct conn *c = &w->conns[i];
		for (int s = 0; s < 2 && !c->closed; s++) {
			if (c->in[s].len == 0)
				continue;
			size_t n = 1 + rng_below(&w->rng, c->in[s].len < 40000 ? c->in[s].len : 40000);
			uint8_t *tmp = malloc(n);
			memcpy(tmp, c->in[s].p, n);
			buf_drop(&c->in[s], n);
			if (session_input(c->n[s]->s, (uint32_t)c->slot[s], tmp, n) < 0)
				assert_true(c->closed);
			free(tmp);
			moved = true;
		}
		for (int s = 0; s < 2 && c->closed; s++)
			if (!c->gone_told[s]) {
				c->gone_told[s] = true;
				session_peer_gone(c->n[s]->s, (uint32_t)c->slot[s]);
			}
	}
	for (unsigned i = 0; i < w->nn; i++)
		if (w->nodes[i].nv > 0) {
			answer_verifies(&w->nodes[i]);
			moved = true;
		}
	return moved;
}

/* Run until every non-liar node is complete, ticking a second of fake time when idle. */
static void run(struct world *w, unsigned max_ticks)
{
	for (unsigned t = 0; t < max_ticks; t++) {
		while (pump_once(w))
			;
		bool all = true;
		for (unsigned i = 0; i < w->nn; i++)
			all = all && session_complete(w->nodes[i].s);
		if (all)
			return;
		w->now += 1000000;
		for (unsigned i = 0; i < w->nn; i++)
			session_tick(w->nodes[i].s, w->now);
	}
}

static void assert_has_file(struct world *w, struct node *nd)
{
	assert_true(session_complete(nd->s));
	assert_non_null(nd->file);
	assert_memory_equal(nd->file, w->data, FILE_LEN);
}

static void test_fetch_manifest_and_file(void **state)
{
	(void)state;
	struct world *w = world_new(1);
	struct node *seed = node_add(w, true, false);
	struct node *leech = node_add(w, false, false);
	assert_null(session_manifest(leech->s));
	connect_nodes(w, leech, seed);
	run(w, 60);
	assert_non_null(session_manifest(leech->s));
	assert_memory_equal(manifest_id(session_manifest(leech->s)), manifest_id(w->m), 32);
	assert_has_file(w, leech);
	struct session_stats st;
	session_stats(leech->s, &st);
	assert_int_equal(st.downloaded, FILE_LEN);
	assert_int_equal(st.bans, 0);
	session_stats(seed->s, &st);
	assert_int_equal(st.uploaded, FILE_LEN);
	/* Two complete peers have nothing to trade: the connection is closed as done. */
	assert_true(w->conns[0].closed);
	assert_int_equal(w->conns[0].why, SESSION_CLOSE_DONE);
	world_free(w);
}

static void test_three_way_swarm(void **state)
{
	(void)state;
	struct world *w = world_new(2);
	struct node *seed = node_add(w, true, false);
	struct node *a = node_add(w, false, false);
	struct node *b = node_add(w, false, false);
	connect_nodes(w, a, seed);
	connect_nodes(w, b, seed);
	connect_nodes(w, a, b);
	run(w, 120);
	assert_has_file(w, a);
	assert_has_file(w, b);
	for (unsigned i = 0; i < w->nn; i++)
		assert_int_equal(w->nodes[i].bans, 0);
	world_free(w);
}

static bool was_banned(const struct node *by, const struct node *who)
{
	for (unsigned i = 0; i < by->bans; i++)
		if (memcmp(by->banned[i], who->id, WIRE_PEER_ID_LEN) == 0)
			return true;
	return false;
}

static void test_sole_liar_banned(void **state)
{
	(void)state;
	struct world *w = world_new(3);
	struct node *liar = node_add(w, true, true);
	struct node *leech = node_add(w, false, false);
	struct conn *c = connect_nodes(w, leech, liar);
	run(w, 20);
	assert_true(was_banned(leech, liar));
	assert_true(c->closed);
	assert_int_equal(c->why, SESSION_CLOSE_BANNED);
	assert_false(session_complete(leech->s));
	world_free(w);
}

static void test_liar_among_honest(void **state)
{
	(void)state;
	for (uint64_t seed = 10; seed < 16; seed++) {
		struct world *w = world_new(seed);
		struct node *honest = node_add(w, true, false);
		struct node *liar = node_add(w, true, true);
		struct node *leech = node_add(w, false, false);
		connect_nodes(w, leech, honest);
		connect_nodes(w, leech, liar);
		run(w, 200);
		assert_has_file(w, leech);
		assert_true(was_banned(leech, liar));
		assert_false(was_banned(leech, honest));
		assert_int_equal(leech->bans, 1);
		world_free(w);
	}
}

/* ---- raw peers: hand-made frames against one session ---- */

struct raw {
	struct world *w;
	struct node *nd;
	struct conn *c;
};

static struct raw raw_open(uint64_t seed, bool seed_node)
{
	struct raw r;
	r.w = world_new(seed);
	r.nd = node_add(r.w, seed_node, false);
	r.c = &r.w->conns[r.w->nc++];
	r.c->n[0] = r.nd;
	r.c->e[0].c = r.c;
	r.c->e[0].side = 0;
	r.c->slot[0] = session_peer_add(r.nd->s, &r.c->e[0], false);
	return r;
}

static int raw_feed(struct raw *r, const uint8_t *p, size_t n)
{
	return session_input(r->nd->s, (uint32_t)r->c->slot[0], p, n);
}

static int raw_handshake(struct raw *r, uint8_t version, const char *net)
{
	struct wire_handshake hs;
	hs.version = version;
	memcpy(hs.network, net, WIRE_NETWORK_ID_LEN);
	memcpy(hs.content, manifest_id(r->w->m), WIRE_CONTENT_ID_LEN);
	memset(hs.peer, 0xee, WIRE_PEER_ID_LEN);
	uint8_t b[128];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	assert_true(wire_put_handshake(&bw, &hs) > 0);
	return raw_feed(r, b, bw.len);
}

/* Count frames of TYPE the session has sent to the raw peer, dropping them all. */
static unsigned raw_count(struct raw *r, enum wire_type type)
{
	struct buf *b = &r->c->in[1];
	unsigned n = 0;
	size_t off = 0, used;
	struct wire_msg m;
	while (off < b->len && wire_frame(b->p + off, b->len - off, &m, &used) == WIRE_OK) {
		n += m.type == type;
		off += used;
	}
	assert_int_equal(off, b->len);
	b->len = 0;
	return n;
}

static void raw_close(struct raw *r)
{
	world_free(r->w);
}

static void expect_fault(struct raw *r, const uint8_t *p, size_t n)
{
	assert_int_equal(raw_feed(r, p, n), -1);
	assert_true(r->c->closed);
	assert_int_equal(r->c->why, SESSION_CLOSE_PROTOCOL);
}

static void test_handshake_checks(void **state)
{
	(void)state;
	struct raw r = raw_open(4, true);
	assert_int_equal(raw_handshake(&r, WIRE_VERSION + 1, "testnet!"), -1);
	assert_int_equal(r.c->why, SESSION_CLOSE_HANDSHAKE);
	raw_close(&r);
	r = raw_open(4, true);
	assert_int_equal(raw_handshake(&r, WIRE_VERSION, "othernet"), -1);
	assert_int_equal(r.c->why, SESSION_CLOSE_HANDSHAKE);
	raw_close(&r);
	r = raw_open(4, true);
	assert_int_equal(raw_handshake(&r, WIRE_VERSION, "testnet!"), 0);
	assert_int_equal(raw_count(&r, WIRE_HANDSHAKE) + 0, 1);
	raw_close(&r);
	/* Anything before the handshake is a fault. */
	r = raw_open(4, true);
	uint8_t b[16];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	wire_put_bare(&bw, WIRE_INTERESTED);
	expect_fault(&r, b, bw.len);
	raw_close(&r);
}

static void test_strict_violations(void **state)
{
	(void)state;
	uint8_t b[64];
	struct bwriter bw;
	for (int kase = 0; kase < 5; kase++) {
		struct raw r = raw_open(5, kase != 1);
		assert_int_equal(raw_handshake(&r, WIRE_VERSION, "testnet!"), 0);
		bw_init(&bw, b, sizeof b);
		switch (kase) {
		case 0: /* a block nobody asked for */
			wire_put_block(&bw, 0, 0, "xyz", 3);
			break;
		case 1: /* a request to a peer that has nothing */
			wire_put_span(&bw, WIRE_REQUEST, 0, 0, 16384);
			break;
		case 2: /* an unknown message type */
			be32_put(b, 1);
			b[4] = 99;
			bw.len = 5;
			break;
		case 3: /* an oversized length */
			be32_put(b, 0x7fffffffu);
			b[4] = WIRE_BLOCK;
			bw.len = 5;
			break;
		case 4: /* a request past the end of the last chunk */
			wire_put_span(&bw, WIRE_REQUEST, 17, 4096, 16384);
			break;
		}
		expect_fault(&r, b, bw.len);
		raw_close(&r);
	}
}

static void test_reject_when_choked(void **state)
{
	(void)state;
	struct raw r = raw_open(6, true);
	assert_int_equal(raw_handshake(&r, WIRE_VERSION, "testnet!"), 0);
	assert_int_equal(raw_count(&r, WIRE_BITFIELD), 1);
	uint8_t b[64];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	wire_put_span(&bw, WIRE_REQUEST, 3, 0, 16384);
	wire_put_span(&bw, WIRE_REQUEST, 3, 16384, 16384);
	assert_int_equal(raw_feed(&r, b, bw.len), 0);
	assert_int_equal(raw_count(&r, WIRE_REJECT), 2);
	/* Once interested it is unchoked (a free slot) and served, each request exactly once. */
	bw_init(&bw, b, sizeof b);
	wire_put_bare(&bw, WIRE_INTERESTED);
	assert_int_equal(raw_feed(&r, b, bw.len), 0);
	session_tick(r.nd->s, r.w->now += 10000000);
	assert_int_equal(raw_count(&r, WIRE_UNCHOKE), 1);
	bw_init(&bw, b, sizeof b);
	wire_put_span(&bw, WIRE_REQUEST, 3, 0, 16384);
	wire_put_span(&bw, WIRE_REQUEST, 3, 16384, 16384);
	assert_int_equal(raw_feed(&r, b, bw.len), 0);
	struct buf *out = &r.c->in[1];
	size_t off = 0, used;
	struct wire_msg m;
	unsigned blocks = 0;
	while (off < out->len && wire_frame(out->p + off, out->len - off, &m, &used) == WIRE_OK) {
		assert_int_equal(m.type, WIRE_BLOCK);
		assert_memory_equal(m.u.block.data, r.w->data + 3 * CHUNK + blocks * 16384, 16384);
		blocks++;
		off += used;
	}
	assert_int_equal(blocks, 2);
	raw_close(&r);
}

static void test_bad_manifest_source_banned(void **state)
{
	(void)state;
	struct raw r = raw_open(7, false);
	assert_int_equal(raw_handshake(&r, WIRE_VERSION, "testnet!"), 0);
	uint8_t b[64];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	be32_put(b, 2); /* a one-byte bitfield: we claim to have the manifest */
	b[4] = WIRE_BITFIELD;
	b[5] = 0;
	bw.len = 6;
	assert_int_equal(raw_feed(&r, b, bw.len), 0);
	assert_int_equal(raw_count(&r, WIRE_MANIFEST_REQ), 1);
	uint8_t junk[100];
	memset(junk, 7, sizeof junk);
	uint8_t f[200];
	bw_init(&bw, f, sizeof f);
	assert_true(wire_put_manifest_piece(&bw, 0, sizeof junk, junk, sizeof junk) > 0);
	assert_int_equal(raw_feed(&r, f, bw.len), -1);
	assert_int_equal(r.c->why, SESSION_CLOSE_BANNED);
	assert_int_equal(r.nd->bans, 1);
	assert_null(session_manifest(r.nd->s));
	raw_close(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_manifest_and_file),
		cmocka_unit_test(test_three_way_swarm),
		cmocka_unit_test(test_sole_liar_banned),
		cmocka_unit_test(test_liar_among_honest),
		cmocka_unit_test(test_handshake_checks),
		cmocka_unit_test(test_strict_violations),
		cmocka_unit_test(test_reject_when_choked),
		cmocka_unit_test(test_bad_manifest_source_banned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
