/* tests/unit/sessworld.h: a tiny in-memory world for testing the peer-wire session core:
 * sessions wired back to back through byte pipes that hand bytes over in random splits, with
 * real SHA-256 verification and a fake clock; and "raw" peers, frames built by hand and fed to
 * one session to see how it judges them and what it answers. Header-only (static inline) so
 * each test program includes it; include <cmocka.h> (and what it needs) first. */
#ifndef TESTS_SESSWORLD_H
#define TESTS_SESSWORLD_H

#include <stdlib.h>
#include <string.h>

#include "dht/rng.h"
#include "transfer/session.h"

#define CHUNK (64u * 1024)
#define FILE_LEN (17u * CHUNK + 5000u) /* a short last chunk with a short last block */
#define MAXN 4
#define MAXC 32

struct buf {
	uint8_t *p;
	size_t len, cap;
};

static inline void buf_add(struct buf *b, const void *d, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, d, n);
	b->len += n;
}

static inline void buf_drop(struct buf *b, size_t n)
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
	bool super_seed;          /* for seeds made from now on */
	uint64_t upload_rate;     /* for nodes made from now on */
	size_t backlog;           /* what every connection reports queued: 0, all sent at once */
	bool keyed;               /* nodes made from now on key peers by host[] (env peer_key) */
	unsigned max_peers;       /* for nodes made from now on; 0: the default */
	uint8_t host[MAXC];       /* by connection: the host it comes from, when keyed */
};

static inline struct node *arg_node(void *arg)
{
	return arg;
}

static inline void e_send(void *arg, void *conn, const uint8_t *h, size_t hl, const uint8_t *b, size_t bl)
{
	(void)arg;
	struct end *e = conn;
	buf_add(&e->c->in[!e->side], h, hl);
	if (bl)
		buf_add(&e->c->in[!e->side], b, bl);
}

static inline size_t e_backlog(void *arg, void *conn)
{
	(void)conn;
	return arg_node(arg)->w->backlog;
}

static inline void e_close(void *arg, void *conn, enum session_close why)
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

static inline void e_store(void *arg, void *conn, uint32_t chunk, uint32_t off, const uint8_t *d, size_t n)
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

static inline void e_verify(void *arg, uint32_t chunk, bool want)
{
	struct node *nd = arg_node(arg);
	assert_true(nd->nv < 64);
	nd->vwant[nd->nv] = want;
	nd->vq[nd->nv++] = chunk;
}

static inline void e_ban(void *arg, const uint8_t *id)
{
	struct node *nd = arg_node(arg);
	assert_true(nd->bans < 8);
	memcpy(nd->banned[nd->bans++], id, WIRE_PEER_ID_LEN);
}

static inline void e_manifest(void *arg, const struct manifest *m)
{
	struct node *nd = arg_node(arg);
	nd->m = m;
	nd->file = calloc(1, manifest_total_size(m));
}

static inline uint64_t e_now(void *arg)
{
	return arg_node(arg)->w->now;
}

static inline uint64_t e_rand(void *arg)
{
	return rng_next(&arg_node(arg)->w->rng);
}

static inline void e_peer_key(void *arg, void *conn, uint8_t key[SESSION_KEY_LEN])
{
	struct end *e = conn;
	memset(key, 0, SESSION_KEY_LEN);
	key[0] = arg_node(arg)->w->host[e->c - arg_node(arg)->w->conns];
}

static const struct session_env ENV = {
	.send = e_send, .backlog = e_backlog, .close = e_close, .store = e_store, .read = e_read,
	.verify = e_verify, .ban = e_ban, .manifest = e_manifest, .now = e_now, .rand64 = e_rand,
};

static inline struct world *world_new(uint64_t seed)
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

/* A node with ENV (its arg is set here); SEED: holds the whole file and the manifest; else
 * knows only the content id. */
static inline struct node *node_add_env(struct world *w, bool seed, bool liar,
					const struct session_env *base_env)
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
	cfg.super_seed = w->super_seed;
	cfg.upload_rate = w->upload_rate;
	if (w->max_peers)
		cfg.max_peers = w->max_peers;
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
	struct session_env env = *base_env;
	env.arg = nd;
	if (w->keyed)
		env.peer_key = e_peer_key;
	nd->s = session_new(&cfg, &env);
	assert_non_null(nd->s);
	bitfield_free(all);
	w->nn++;
	return nd;
}

static inline struct node *node_add(struct world *w, bool seed, bool liar)
{
	return node_add_env(w, seed, liar, &ENV);
}

static inline struct conn *connect_nodes(struct world *w, struct node *a, struct node *b)
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

static inline void world_free(struct world *w)
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

static inline void answer_verifies(struct node *nd)
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
static inline bool pump_once(struct world *w)
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
static inline void run(struct world *w, unsigned max_ticks)
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

static inline void assert_has_file(struct world *w, struct node *nd)
{
	assert_true(session_complete(nd->s));
	assert_non_null(nd->file);
	assert_memory_equal(nd->file, w->data, FILE_LEN);
}

/* ---- raw peers: hand-made frames against one session ---- */

struct raw {
	struct world *w;
	struct node *nd;
	struct conn *c;
};

static inline struct raw raw_open(uint64_t seed, bool seed_node)
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

static inline int raw_feed(struct raw *r, const uint8_t *p, size_t n)
{
	return session_input(r->nd->s, (uint32_t)r->c->slot[0], p, n);
}

static inline int raw_handshake(struct raw *r, uint8_t version, const char *net)
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

/* Count frames of TYPE the session has sent over C to its raw peer, dropping them all. */
static inline unsigned conn_heard(struct conn *c, enum wire_type type)
{
	struct buf *b = &c->in[1];
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

static inline unsigned raw_count(struct raw *r, enum wire_type type)
{
	return conn_heard(r->c, type);
}

static inline void raw_close(struct raw *r)
{
	world_free(r->w);
}

static inline void expect_fault(struct raw *r, const uint8_t *p, size_t n)
{
	assert_int_equal(raw_feed(r, p, n), -1);
	assert_true(r->c->closed);
	assert_int_equal(r->c->why, SESSION_CLOSE_PROTOCOL);
}

/* ---- several raw peers on one node ---- */

/* Connect a raw peer with peer id byte ID to ND and send its handshake; return what
 * session_input() said, and the connection in *OUT. */
static inline int raw_peer_try(struct world *w, struct node *nd, uint8_t id, struct conn **out)
{
	struct conn *c = &w->conns[w->nc++];
	c->n[0] = nd;
	c->e[0].c = c;
	c->e[0].side = 0;
	c->slot[0] = session_peer_add(nd->s, &c->e[0], false);
	assert_true(c->slot[0] >= 0);
	struct wire_handshake hs = { .version = WIRE_VERSION };
	memcpy(hs.network, "testnet!", WIRE_NETWORK_ID_LEN);
	memcpy(hs.content, manifest_id(w->m), WIRE_CONTENT_ID_LEN);
	memset(hs.peer, id, WIRE_PEER_ID_LEN);
	uint8_t b[128];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	wire_put_handshake(&bw, &hs);
	*out = c;
	return session_input(nd->s, (uint32_t)c->slot[0], b, bw.len);
}

/* Connect a raw peer with peer id byte ID to ND and handshake. */
static inline struct conn *raw_peer(struct world *w, struct node *nd, uint8_t id)
{
	struct conn *c;
	assert_int_equal(raw_peer_try(w, nd, id, &c), 0);
	return c;
}

static inline void raw_send(struct conn *c, const uint8_t *b, size_t n)
{
	assert_int_equal(session_input(c->n[0]->s, (uint32_t)c->slot[0], b, n), 0);
}

static inline void raw_bare(struct conn *c, enum wire_type type)
{
	uint8_t b[8];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	wire_put_bare(&bw, type);
	raw_send(c, b, bw.len);
}

/* What a raw peer heard since last asked: the chunks it was shown (BITFIELD bits and HAVEs)
 * are added to SHOWN, and the counts of a few message types kept. */
struct heard {
	bool shown[32];
	unsigned haves, blocks, unchokes, chokes, rejects;
};

static inline void raw_listen(struct conn *c, struct heard *h)
{
	struct buf *b = &c->in[1];
	size_t off = 0, used;
	struct wire_msg m;
	while (off < b->len && wire_frame(b->p + off, b->len - off, &m, &used) == WIRE_OK) {
		off += used;
		if (m.type == WIRE_BITFIELD)
			for (uint32_t i = 0; i < m.u.bitfield.len * 8u && i < 32; i++)
				h->shown[i] |= (m.u.bitfield.bits[i / 8] >> (7 - i % 8)) & 1;
		if (m.type == WIRE_HAVE) {
			assert_true(m.u.have < 32);
			assert_false(h->shown[m.u.have]);
			h->shown[m.u.have] = true;
			h->haves++;
		}
		h->blocks += m.type == WIRE_BLOCK;
		h->unchokes += m.type == WIRE_UNCHOKE;
		h->chokes += m.type == WIRE_CHOKE;
		h->rejects += m.type == WIRE_REJECT;
	}
	assert_int_equal(off, b->len);
	b->len = 0;
}

static inline unsigned shown_count(const struct heard *h)
{
	unsigned n = 0;
	for (unsigned i = 0; i < 32; i++)
		n += h->shown[i];
	return n;
}

/* Ask for every block of chunk C. */
static inline void raw_request_chunk(struct conn *c, const struct manifest *m, uint32_t chunk)
{
	uint32_t len = manifest_chunk_len(m, chunk);
	for (uint32_t off = 0; off < len; off += 16384) {
		uint8_t b[32];
		struct bwriter bw;
		bw_init(&bw, b, sizeof b);
		wire_put_span(&bw, WIRE_REQUEST, chunk, off, len - off < 16384 ? len - off : 16384);
		raw_send(c, b, bw.len);
	}
}

#endif
