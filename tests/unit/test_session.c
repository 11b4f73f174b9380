/* The peer-wire session core in the tiny world of sessworld.h: whole transfers between sessions
 * (manifest fetch, a three-way swarm, liars convicted), and raw peers checking how one session
 * judges hand-made frames (handshake, strictness, rejects when choked, a bad manifest). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/sessworld.h"

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
	struct conn *as = connect_nodes(w, a, seed), *bs = connect_nodes(w, b, seed);
	struct conn *ab = connect_nodes(w, a, b);
	run(w, 120);
	assert_has_file(w, a);
	assert_has_file(w, b);
	for (unsigned i = 0; i < w->nn; i++)
		assert_int_equal(w->nodes[i].bans, 0);
	/* Complete pairs part within seconds, though neither told the other of chunks it had
	 * already: a complete peer drops one that has wanted nothing of it for 10 s. */
	for (int t = 0; t < 12; t++) {
		w->now += 1000000;
		for (unsigned i = 0; i < w->nn; i++)
			session_tick(w->nodes[i].s, w->now);
		while (pump_once(w))
			;
	}
	struct conn *all[] = { as, bs, ab };
	for (int i = 0; i < 3; i++) {
		assert_true(all[i]->closed);
		assert_int_equal(all[i]->why, SESSION_CLOSE_DONE);
	}
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

/* A seed's session asks to run as soon as a peer becomes interested while a slot is free
 * (session_deadline), so its driver unchokes the peer now, not at a tick planned earlier. */
static void test_interest_makes_tick_due(void **state)
{
	(void)state;
	struct raw r = raw_open(6, true);
	assert_int_equal(raw_handshake(&r, WIRE_VERSION, "testnet!"), 0);
	uint64_t next = session_tick(r.nd->s, r.w->now += 1000);
	assert_true(next > r.w->now);
	assert_int_equal(session_deadline(r.nd->s), next);
	uint8_t b[8];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	wire_put_bare(&bw, WIRE_INTERESTED);
	assert_int_equal(raw_feed(&r, b, bw.len), 0);
	assert_true(session_deadline(r.nd->s) <= r.w->now);
	assert_int_equal(raw_count(&r, WIRE_UNCHOKE), 0);
	session_tick(r.nd->s, r.w->now);
	assert_int_equal(raw_count(&r, WIRE_UNCHOKE), 1);
	raw_close(&r);
}

/* Unchokes heard by the raw peers C[0..N), dropping what else they heard. */
static unsigned unchoked_peers(struct conn **c, int n, bool *now_unchoked)
{
	unsigned k = 0;
	for (int i = 0; i < n; i++) {
		struct heard h = { 0 };
		raw_listen(c[i], &h);
		now_unchoked[i] = (now_unchoked[i] || h.unchokes > 0) && h.chokes == 0;
		k += now_unchoked[i];
	}
	return k;
}

/* N raw peers of SEED, C[0..N), each of which has said it is interested. */
static void interested_peers(struct world *w, struct node *seed, struct conn **c, int n)
{
	for (int i = 0; i < n; i++) {
		c[i] = raw_peer(w, seed, (uint8_t)(0x10 + i));
		raw_bare(c[i], WIRE_INTERESTED);
	}
}

/* Tick ND as a driver does, at the times it asks for, up to UNTIL. */
static void drive(struct world *w, struct node *nd, uint64_t until)
{
	while (w->now < until) {
		uint64_t next = session_tick(nd->s, w->now);
		w->now = next < until ? next : until;
	}
	session_tick(nd->s, w->now);
}

/* A seed whose unchoked peers ask for nothing, while others wait choked, lends them its idle
 * uplink one at a time (100 ms apart, the ceiling, before any round trip was seen), and its
 * ticks come when a lend is due; with blocks queued it lends nothing. */
static void test_idle_uplink_lent(void **state)
{
	(void)state;
	for (int busy = 0; busy < 2; busy++) {
		struct world *w = world_new(31);
		struct node *seed = node_add(w, true, false);
		struct conn *c[7];
		bool on[7] = { 0 };
		interested_peers(w, seed, c, 7);
		session_tick(seed->s, w->now += 1000);
		assert_int_equal(unchoked_peers(c, 7, on), 5); /* four slots and the optimistic */
		if (busy) {
			w->backlog = 1u << 20; /* nothing leaves: the request stays queued */
			for (int i = 0; i < 7; i++)
				if (on[i]) {
					raw_request_chunk(c[i], w->m, 0);
					break;
				}
		}
		/* Interest came at T0: the first lend is due 100 ms later, the second 200. */
		uint64_t t0 = w->now - 1000;
		drive(w, seed, t0 + 90000);
		assert_int_equal(unchoked_peers(c, 7, on), 5);
		drive(w, seed, t0 + 150000);
		assert_int_equal(unchoked_peers(c, 7, on), busy ? 5 : 6);
		drive(w, seed, t0 + 400000);
		assert_int_equal(unchoked_peers(c, 7, on), busy ? 5 : 7);
		world_free(w);
	}
}

/* Four slots lent to peers that ask nothing (every 100 ms: no round trip seen yet), and a fifth
 * would be lent were it not the limit: the slot lent first, unused for 100 ms, moves to the
 * peer still waiting. */
static void test_unused_lent_slot_moves(void **state)
{
	(void)state;
	struct world *w = world_new(34);
	struct node *seed = node_add(w, true, false);
	struct conn *c[10];
	bool on[10] = { 0 };
	interested_peers(w, seed, c, 10);
	uint64_t t0 = w->now;
	session_tick(seed->s, w->now += 1000);
	assert_int_equal(unchoked_peers(c, 10, on), 5);
	drive(w, seed, t0 + 450000);
	assert_int_equal(unchoked_peers(c, 10, on), 9);
	int waiting = -1;
	for (int i = 0; i < 10; i++)
		if (!on[i])
			waiting = i;
	drive(w, seed, t0 + 550000);
	assert_int_equal(unchoked_peers(c, 10, on), 9);
	assert_true(on[waiting]);
	world_free(w);
}

/* A seed (uplink RATE, 0: unknown) and seven raw peers, all interested: five are unchoked at
 * once, a sixth is lent the idle uplink 100 ms on (no round trip seen yet) and asks 2 ms after
 * that; BACKLOG bytes then wait for each peer in the env. Return the world at T0 + 102 ms; *T0
 * is when the peers came, and C and ON the peers and which are unchoked. */
static struct world *lent_once(uint64_t seed_no, uint64_t rate, size_t backlog, struct conn **c,
			       bool *on, uint64_t *t0)
{
	struct world *w = world_new(seed_no);
	w->upload_rate = rate;
	struct node *seed = node_add(w, true, false);
	bool before[7];
	interested_peers(w, seed, c, 7);
	*t0 = w->now;
	session_tick(seed->s, w->now += 1000);
	assert_int_equal(unchoked_peers(c, 7, on), 5);
	memcpy(before, on, sizeof before);
	drive(w, seed, *t0 + 100000);
	assert_int_equal(unchoked_peers(c, 7, on), 6);
	w->backlog = backlog;
	w->now = *t0 + 102000;
	for (int i = 0; i < 7; i++)
		if (on[i] && !before[i])
			raw_request_chunk(c[i], w->m, 0);
	return w;
}

/* Once a lent peer asked 2 ms after its UNCHOKE, the uplink is lent again after 5 ms idle
 * (twice the round trip, at least 5 ms), not after the 100 ms ceiling. */
static void test_lend_follows_round_trip(void **state)
{
	(void)state;
	struct conn *c[7];
	bool on[7] = { 0 };
	uint64_t t0;
	struct world *w = lent_once(32, 0, 0, c, on, &t0);
	drive(w, &w->nodes[0], t0 + 110000);
	assert_int_equal(unchoked_peers(c, 7, on), 7);
	world_free(w);
}

/* On an uplink of known rate (512 KiB/s) a slot is lent before the uplink idles: once the work
 * queued for unchoked peers takes less than a peer needs to ask (2 ms here), not while it
 * takes more. */
static void test_lend_foreseen(void **state)
{
	(void)state;
	struct conn *c[7];
	bool on[7] = { 0 };
	uint64_t t0;
	/* 16 KiB wait for each of the six unchoked peers: 190 ms of work. */
	struct world *w = lent_once(33, 512 * 1024, 16384, c, on, &t0);
	drive(w, &w->nodes[0], t0 + 250000);
	assert_int_equal(unchoked_peers(c, 7, on), 6);
	/* The queues drain: the last peer is lent a slot by the time the work would have run out,
	 * not 5 ms after. */
	w->backlog = 0;
	drive(w, &w->nodes[0], t0 + 102000 + 190000);
	assert_int_equal(unchoked_peers(c, 7, on), 7);
	world_free(w);
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

/* A seed whose file changed before the leecher came withdraws chunk 3: the leecher gets every
 * other chunk, learns that 3 was withdrawn, bans nobody, and is left with 3 as an orphan. */
static void test_withdraw_before_peer(void **state)
{
	(void)state;
	struct world *w = world_new(21);
	struct node *seed = node_add(w, true, false);
	struct node *leech = node_add(w, false, false);
	assert_int_equal(session_withdraw(seed->s, 3), 0);
	assert_true(session_withdrawn(seed->s, 3));
	assert_false(session_withdrawn(seed->s, 4));
	assert_int_equal(session_withdraw(seed->s, 9999), -1);
	struct conn *c = connect_nodes(w, leech, seed);
	run(w, 30);
	assert_false(c->closed);
	assert_false(session_complete(leech->s));
	assert_true(bitfield_test(session_have(leech->s), 2));
	assert_false(bitfield_test(session_have(leech->s), 3));
	assert_int_equal(leech->bans, 0);
	bool withdrawn;
	assert_int_equal(session_orphan(leech->s, &withdrawn), 3);
	assert_true(withdrawn);
	assert_int_equal(session_orphan(seed->s, &withdrawn), UINT32_MAX);
	world_free(w);
}

/* Hand side SD of C every byte on its way to it, without answering verifications. */
static int deliver(struct conn *c, int sd)
{
	size_t n = c->in[sd].len;
	if (n == 0)
		return 0;
	uint8_t *tmp = malloc(n);
	assert_non_null(tmp);
	memcpy(tmp, c->in[sd].p, n);
	buf_drop(&c->in[sd], n);
	int rc = session_input(c->n[sd]->s, (uint32_t)c->slot[sd], tmp, n);
	free(tmp);
	return rc;
}

/* A liar's corrupt copies are not lies once it withdraws them: its changed file is to blame.
 * The withdrawal reaches the leecher before its verification answers do. */
static void test_withdrawn_copy_not_a_lie(void **state)
{
	(void)state;
	struct world *w = world_new(22);
	struct node *seed = node_add(w, true, true);
	struct node *leech = node_add(w, false, false);
	struct conn *c = connect_nodes(w, leech, seed);
	for (int i = 0; i < 200 && leech->nv == 0; i++) {
		deliver(c, 0);
		deliver(c, 1);
		w->now += 100000;
		session_tick(seed->s, w->now);
		session_tick(leech->s, w->now);
	}
	assert_true(leech->nv > 0);
	for (uint32_t k = 0; k < manifest_chunk_count(w->m); k++)
		assert_int_equal(session_withdraw(seed->s, k), 0);
	assert_true(c->in[0].len > 0);
	assert_int_equal(deliver(c, 0), 0);
	run(w, 30);
	assert_int_equal(leech->bans, 0);
	assert_false(c->closed);
	bool withdrawn;
	assert_true(session_orphan(leech->s, &withdrawn) != UINT32_MAX);
	assert_true(withdrawn);
	world_free(w);
}

/* A request that crossed our LOST is refused, not treated as a fault; LOST for a chunk out of
 * range, or before a bitfield, is one. */
static void test_lost_frames(void **state)
{
	(void)state;
	struct raw r = raw_open(23, true);
	assert_int_equal(raw_handshake(&r, WIRE_VERSION, "testnet!"), 0);
	uint8_t f[64];
	struct bwriter bw;
	bw_init(&bw, f, sizeof f);
	wire_put_lost(&bw, 0);
	expect_fault(&r, f, bw.len);
	raw_close(&r);
	r = raw_open(24, true);
	assert_int_equal(raw_handshake(&r, WIRE_VERSION, "testnet!"), 0);
	unsigned lost_before = raw_count(&r, WIRE_LOST);
	assert_int_equal(session_withdraw(r.nd->s, 1), 0);
	assert_int_equal(raw_count(&r, WIRE_LOST), lost_before + 1);
	raw_bare(r.c, WIRE_INTERESTED);
	raw_request_chunk(r.c, r.nd->m, 1);
	assert_false(r.c->closed);
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
		cmocka_unit_test(test_interest_makes_tick_due),
		cmocka_unit_test(test_idle_uplink_lent),
		cmocka_unit_test(test_lend_follows_round_trip),
		cmocka_unit_test(test_lend_foreseen),
		cmocka_unit_test(test_unused_lent_slot_moves),
		cmocka_unit_test(test_bad_manifest_source_banned),
		cmocka_unit_test(test_withdraw_before_peer),
		cmocka_unit_test(test_withdrawn_copy_not_a_lie),
		cmocka_unit_test(test_lost_frames),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
