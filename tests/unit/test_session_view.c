/* The read-only session view (transfer/session_view.h) the web view draws: a leecher's chunk
 * map part way (held chunks are what the session counts as held, chunks in flight are not held,
 * rarity never exceeds the peers), its peers (the seed has every chunk), and after the run the
 * seed's peers' byte counts adding up to what it uploaded, and choker rounds naming live peers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "tests/unit/sessworld.h"
#include "transfer/session_view.h"

static void test_view_before_during_after(void **state)
{
	(void)state;
	struct world *w = world_new(11);
	struct node *seed = node_add(w, true, false);
	struct node *a = node_add(w, false, false), *b = node_add(w, false, false);
	connect_nodes(w, seed, a);
	connect_nodes(w, seed, b);
	connect_nodes(w, a, b);
	uint32_t n = manifest_chunk_count(w->m);
	uint8_t st[64];
	uint32_t peers[64];
	assert_true(n <= 64);
	assert_int_equal(session_view_chunks(a->s, st, peers, 64), 0); /* no manifest yet */

	unsigned flight = 0, held = 0;
	for (unsigned k = 0; k < 400 && (held == 0 || flight == 0); k++) {
		pump_once(w);
		w->now += 100000;
		for (unsigned i = 0; i < w->nn; i++)
			session_tick(w->nodes[i].s, w->now);
		uint32_t got = session_view_chunks(a->s, st, peers, 64);
		assert_true(got == 0 || got == n);
		struct session_stats ss;
		session_stats(a->s, &ss);
		held = flight = 0;
		for (uint32_t i = 0; ss.chunks > 0 && i < n; i++) {
			held += st[i] == SESSION_CHUNK_HELD;
			flight += st[i] == SESSION_CHUNK_FLIGHT;
			assert_true(peers[i] <= 2);
		}
		assert_int_equal(held, ss.chunks > 0 ? ss.have : 0);
	}
	assert_true(flight > 0);

	struct session_peer_view v[4];
	assert_int_equal(session_view_peers(a->s, w->now, v, 4), 2);
	bool saw_seed = false;
	for (int i = 0; i < 2; i++) {
		assert_true(v[i].handshaken);
		saw_seed |= v[i].has == n;
	}
	assert_true(saw_seed);

	run(w, 200);
	assert_has_file(w, a);
	assert_has_file(w, b);
	assert_int_equal(session_view_chunks(a->s, st, peers, 64), n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(st[i], SESSION_CHUNK_HELD);
	struct session_stats ss;
	session_stats(seed->s, &ss);
	size_t np = session_view_peers(seed->s, w->now, v, 4);
	uint64_t up = 0;
	for (size_t i = 0; i < np; i++)
		up += v[i].uploaded;
	assert_true(np == 0 || up == ss.uploaded);

	struct choker_round r[CHOKER_ROUNDS];
	int32_t slots[CHOKER_ROUNDS * CHOKER_ROUND_PEERS];
	size_t nr = session_view_rounds(seed->s, r, slots, CHOKER_ROUNDS);
	assert_true(nr >= 1);
	for (size_t i = 0; i < nr; i++)
		for (uint32_t k = 0; k < r[i].npeers; k++) {
			int32_t s = slots[i * CHOKER_ROUND_PEERS + k];
			bool live = false;
			for (size_t j = 0; j < np; j++)
				live |= s >= 0 && v[j].slot == (uint32_t)s;
			assert_true(s == -1 || live);
		}
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_view_before_during_after),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
