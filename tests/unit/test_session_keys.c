/* The session core against hostile neighbours: bans and duplicate checks keyed by who is
 * behind a connection (the env's peer_key, here a host byte per connection) rather than by the
 * peer id a peer claims, and manifest answers counted against what the asker left unread. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>

#include "sessworld.h"

/* Connect a raw peer from HOST claiming peer id bytes ID to ND and send its handshake; return
 * what session_input() said, and the connection in *OUT. */
static int hs_from(struct world *w, struct node *nd, uint8_t host, uint8_t id, struct conn **out)
{
	w->host[w->nc] = host;
	return raw_peer_try(w, nd, id, out);
}

static struct world *keyed_world(void)
{
	struct world *w = world_new(11);
	w->keyed = true;
	return w;
}

/* A peer banned for a forged manifest comes back under a new id from the same host: refused.
 * Another host claiming the banned peer's id is not refused for it. */
static void test_ban_holds_for_host(void **state)
{
	(void)state;
	struct world *w = keyed_world();
	struct node *leech = node_add(w, false, false);
	struct conn *c;
	assert_int_equal(hs_from(w, leech, 7, 0xa1, &c), 0);
	uint8_t b[8] = { 0, 0, 0, 2, WIRE_BITFIELD, 0 }; /* claims to have the manifest */
	assert_int_equal(session_input(leech->s, (uint32_t)c->slot[0], b, 6), 0);
	uint8_t junk[100], f[200];
	memset(junk, 7, sizeof junk);
	struct bwriter bw;
	bw_init(&bw, f, sizeof f);
	wire_put_manifest_piece(&bw, 0, sizeof junk, junk, sizeof junk);
	assert_int_equal(session_input(leech->s, (uint32_t)c->slot[0], f, bw.len), -1);
	assert_int_equal(c->why, SESSION_CLOSE_BANNED);
	assert_int_equal(hs_from(w, leech, 7, 0xb2, &c), -1);
	assert_int_equal(c->why, SESSION_CLOSE_BANNED);
	assert_int_equal(hs_from(w, leech, 8, 0xa1, &c), 0);
	assert_false(c->closed);
	world_free(w);
}

/* Another host claiming a connected peer's id is a peer of its own; the holder stays. The same
 * id from the same host is a duplicate connection. */
static void test_claimed_id(void **state)
{
	(void)state;
	struct world *w = keyed_world();
	struct node *seed = node_add(w, true, false);
	struct conn *honest, *claim, *dup;
	assert_int_equal(hs_from(w, seed, 1, 0x42, &honest), 0);
	assert_int_equal(hs_from(w, seed, 2, 0x42, &claim), 0);
	assert_false(claim->closed);
	assert_int_equal(hs_from(w, seed, 1, 0x42, &dup), -1);
	assert_int_equal(dup->why, SESSION_CLOSE_DUPLICATE);
	assert_false(honest->closed);
	world_free(w);
}

/* Manifest requests are answered while the asker reads; asked with far more left unread, they
 * are a fault. */
static void test_manifest_unread(void **state)
{
	(void)state;
	struct world *w = keyed_world();
	struct node *seed = node_add(w, true, false);
	struct conn *c;
	assert_int_equal(hs_from(w, seed, 1, 0x42, &c), 0);
	uint8_t b[16];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	wire_put_piece_index(&bw, WIRE_MANIFEST_REQ, 0);
	assert_int_equal(session_input(seed->s, (uint32_t)c->slot[0], b, bw.len), 0);
	w->backlog = 16u << 20;
	assert_int_equal(session_input(seed->s, (uint32_t)c->slot[0], b, bw.len), -1);
	assert_int_equal(c->why, SESSION_CLOSE_PROTOCOL);
	world_free(w);
}

/* A full session: a new peer is refused while every peer has traded recently, and takes the
 * slot of the one idle for longest once that is past evict_idle_us. */
static void test_full_evicts_idle(void **state)
{
	(void)state;
	struct world *w = keyed_world();
	w->max_peers = 2;
	struct node *seed = node_add(w, true, false);
	struct conn *a, *b, *c;
	assert_int_equal(hs_from(w, seed, 1, 0x11, &a), 0);
	w->now += 1000000;
	assert_int_equal(hs_from(w, seed, 2, 0x22, &b), 0);
	struct conn *refused = &w->conns[w->nc++];
	refused->n[0] = seed;
	refused->e[0].c = refused;
	assert_int_equal(session_peer_add(seed->s, &refused->e[0], false), -1);
	assert_int_equal(refused->why, SESSION_CLOSE_FULL);
	w->now += 60000000;
	assert_int_equal(hs_from(w, seed, 3, 0x33, &c), 0);
	assert_true(a->closed);
	assert_int_equal(a->why, SESSION_CLOSE_FULL);
	assert_false(b->closed);
	assert_false(c->closed);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ban_holds_for_host),
		cmocka_unit_test(test_claimed_id),
		cmocka_unit_test(test_manifest_unread),
		cmocka_unit_test(test_full_evicts_idle),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
