/* Manifest turns (transfer/session_manifest.c): a source sends the manifest to
 * cfg.manifest_turns peers at once and refuses a first piece to others meanwhile; a turn ends
 * with the request for the last piece, when its peer goes quiet, or after 2 s; a host holds one
 * at a time; a refused fetcher asks another source, and the same one again only after a short
 * wait. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <cmocka.h>

#include "sessworld.h"

/* Give W a manifest of several pieces: the same data, and empty files with long names. */
static void widen_manifest(struct world *w)
{
	struct manifest_builder *b = manifest_builder_new(CHUNK);
	assert_int_equal(manifest_builder_add_file(b, "f.bin", FILE_LEN), 0);
	char name[200];
	for (int i = 0; i < 400; i++) {
		snprintf(name, sizeof name, "pad/%03d-%0150d", i, 0);
		assert_int_equal(manifest_builder_add_file(b, name, 0), 0);
	}
	assert_int_equal(manifest_builder_add_data(b, w->data, FILE_LEN), 0);
	manifest_free(w->m);
	w->m = manifest_builder_finish(b);
	manifest_builder_free(b);
	assert_non_null(w->m);
	size_t len;
	manifest_bytes(w->m, &len);
	assert_true(len > 3 * WIRE_MANIFEST_PIECE_SIZE);
}

static uint32_t pieces(const struct world *w)
{
	size_t len;
	manifest_bytes(w->m, &len);
	return (uint32_t)((len + WIRE_MANIFEST_PIECE_SIZE - 1) / WIRE_MANIFEST_PIECE_SIZE);
}

static unsigned default_turns(void)
{
	struct session_config c;
	session_config_default(&c);
	return c.manifest_turns;
}

/* Send a MANIFEST_REQ or MANIFEST_REJECT for piece INDEX over C. */
static void send_index(struct conn *c, enum wire_type type, uint32_t index)
{
	uint8_t b[16];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	wire_put_piece_index(&bw, type, index);
	raw_send(c, b, bw.len);
}

/* Connect N raw peers to SEED into C, their handshake answers (and bitfields) read. */
static void open_peers(struct world *w, struct node *seed, struct conn **c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		c[i] = raw_peer(w, seed, (uint8_t)(0x40 + i));
		c[i]->in[1].len = 0;
	}
}

static void ask_piece(struct conn *c, uint32_t index)
{
	send_index(c, WIRE_MANIFEST_REQ, index);
}

/* Whether the source answered C's last request with a piece (true) or a refusal (false). */
static bool served(struct conn *c)
{
	struct buf *b = &c->in[1];
	size_t off = 0, used;
	struct wire_msg m;
	unsigned got = 0, refused = 0;
	while (off < b->len && wire_frame(b->p + off, b->len - off, &m, &used) == WIRE_OK) {
		off += used;
		got += m.type == WIRE_MANIFEST_PIECE;
		refused += m.type == WIRE_MANIFEST_REJECT;
	}
	b->len = 0;
	assert_int_equal(got + refused, 1);
	return got == 1;
}

/* C[0..N) each ask for the first piece and are served: N turns taken. */
static void take_turns(struct conn **c, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		ask_piece(c[i], 0);
		assert_true(served(c[i]));
	}
}

static void test_turns_limit_first_pieces(void **state)
{
	(void)state;
	unsigned k = default_turns();
	assert_true(k >= 1 && k + 2 <= MAXC);
	struct world *w = world_new(31);
	widen_manifest(w);
	struct node *seed = node_add(w, true, false);
	struct conn *c[MAXC];
	open_peers(w, seed, c, k + 2);
	take_turns(c, k);
	ask_piece(c[k], 0);
	assert_false(served(c[k]));
	/* A piece past the first is no new turn: served. */
	ask_piece(c[0], 1);
	assert_true(served(c[0]));
	/* The last piece asked ends a turn: the next one gets its first piece. */
	ask_piece(c[0], pieces(w) - 1);
	assert_true(served(c[0]));
	ask_piece(c[k], 0);
	assert_true(served(c[k]));
	ask_piece(c[k + 1], 0);
	assert_false(served(c[k + 1]));
	/* A turn whose peer asks nothing for half a second is over. */
	w->now += 600000;
	ask_piece(c[k + 1], 0);
	assert_true(served(c[k + 1]));
	world_free(w);
}

/* Asking for a middle piece over and over holds a turn for 2 s at most. */
static void test_turn_ends_in_time(void **state)
{
	(void)state;
	unsigned k = default_turns();
	struct world *w = world_new(33);
	widen_manifest(w);
	struct node *seed = node_add(w, true, false);
	struct conn *c[MAXC];
	open_peers(w, seed, c, k + 1);
	take_turns(c, k);
	for (int t = 0; t < 5; t++) {
		w->now += 400000;
		for (unsigned i = 0; i < k; i++) {
			ask_piece(c[i], 1);
			assert_true(served(c[i]));
		}
	}
	ask_piece(c[k], 0);
	assert_true(served(c[k]));
	world_free(w);
}

/* Say over C that we have the manifest: a BITFIELD (of no chunks), which only a peer that has
 * the manifest sends. The leecher keeps it raw until it has the manifest too. */
static void claim_manifest(struct world *w, struct conn *c)
{
	uint32_t n = (manifest_chunk_count(w->m) + 7) / 8;
	uint8_t b[16] = { 0 };
	assert_true(n + 5 <= sizeof b);
	be32_put(b, 1 + n);
	b[4] = WIRE_BITFIELD;
	raw_send(c, b, 5 + n);
}

static void refuse(struct conn *c, uint32_t index)
{
	send_index(c, WIRE_MANIFEST_REJECT, index);
}

static void test_refused_fetcher_moves_on(void **state)
{
	(void)state;
	struct world *w = world_new(32);
	widen_manifest(w);
	struct node *leech = node_add(w, false, false);
	struct conn *a = raw_peer(w, leech, 0xa1), *b = raw_peer(w, leech, 0xb2);
	claim_manifest(w, a);
	assert_int_equal(conn_heard(a, WIRE_MANIFEST_REQ), 1);
	claim_manifest(w, b);
	assert_int_equal(conn_heard(b, WIRE_MANIFEST_REQ), 0); /* one source at a time */
	refuse(a, 0); /* busy: it sent a BITFIELD, so it has the manifest */
	assert_int_equal(conn_heard(b, WIRE_MANIFEST_REQ), 1);
	refuse(b, 0);
	assert_int_equal(conn_heard(a, WIRE_MANIFEST_REQ), 0);
	/* Both refused: one is asked again after a short wait (10 ms the first time), not at
	 * once. */
	uint64_t t0 = w->now, again = 0;
	for (w->now = t0; w->now <= t0 + 300000 && again == 0; w->now += 5000) {
		session_tick(leech->s, w->now);
		if (conn_heard(a, WIRE_MANIFEST_REQ) + conn_heard(b, WIRE_MANIFEST_REQ) > 0)
			again = w->now - t0;
	}
	assert_true(again >= 5000 && again <= 20000);
	world_free(w);
}

/* Connections from one host hold one turn between them, however many it opens. */
static void test_one_turn_per_host(void **state)
{
	(void)state;
	struct world *w = world_new(34);
	w->keyed = true;
	widen_manifest(w);
	struct node *seed = node_add(w, true, false);
	struct conn *a, *b, *other;
	w->host[w->nc] = 7;
	assert_int_equal(raw_peer_try(w, seed, 0xa1, &a), 0);
	w->host[w->nc] = 7;
	assert_int_equal(raw_peer_try(w, seed, 0xa2, &b), 0);
	w->host[w->nc] = 8;
	assert_int_equal(raw_peer_try(w, seed, 0xb1, &other), 0);
	a->in[1].len = b->in[1].len = other->in[1].len = 0;
	ask_piece(a, 0);
	assert_true(served(a));
	ask_piece(b, 0);
	assert_false(served(b));
	ask_piece(other, 0);
	assert_true(served(other));
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_turns_limit_first_pieces),
		cmocka_unit_test(test_turn_ends_in_time),
		cmocka_unit_test(test_one_turn_per_host),
		cmocka_unit_test(test_refused_fetcher_moves_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
