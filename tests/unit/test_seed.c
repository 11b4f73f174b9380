/* What a seed does for the swarm beyond answering requests: super-seeding (each peer shown
 * only chunks nobody else was shown, a few at a time, the rest once all has left once; a chunk
 * half sent when the peer is choked still finished) and upload slots sized from the uplink. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/sessworld.h"

/* A super-seed shows each newcomer one chunk of its own; the one it uploads to is kept a few
 * chunks ahead as it asks; no chunk is shown to two peers before every chunk has been shown;
 * once all of it has been sent, the others are shown the rest. */
static void test_super_seed(void **state)
{
	(void)state;
	struct world *w = world_new(8);
	w->super_seed = true;
	struct node *seed = node_add(w, true, false);
	uint32_t n = manifest_chunk_count(w->m);
	struct conn *c[3];
	struct heard h[3] = { 0 };
	for (int i = 0; i < 3; i++) {
		c[i] = raw_peer(w, seed, (uint8_t)(0x80 + i));
		raw_listen(c[i], &h[i]);
		assert_int_equal(shown_count(&h[i]), 1);
	}
	raw_bare(c[0], WIRE_INTERESTED);
	session_tick(seed->s, w->now += 10000000);
	bool asked[32] = { false };
	for (unsigned round = 0; round < 4 * n; round++) {
		raw_listen(c[0], &h[0]);
		for (int i = 1; i < 3; i++)
			raw_listen(c[i], &h[i]);
		/* While some chunk was never shown, none was shown twice. */
		unsigned seen = 0, twice = 0;
		for (uint32_t k = 0; k < n; k++) {
			unsigned by = h[0].shown[k] + h[1].shown[k] + h[2].shown[k];
			seen += by > 0;
			twice += by > 1;
		}
		if (seen < n)
			assert_int_equal(twice, 0);
		uint32_t next = 0;
		while (next < n && (!h[0].shown[next] || asked[next]))
			next++;
		if (next == n)
			break;
		asked[next] = true;
		raw_request_chunk(c[0], w->m, next);
	}
	assert_int_equal(h[0].unchokes, 1);
	assert_int_equal(shown_count(&h[0]), n);
	assert_int_equal(h[0].blocks, (FILE_LEN + 16383) / 16384);
	/* Everything has left once: the peers that only had their first chunk now see it all. */
	for (int i = 1; i < 3; i++) {
		raw_listen(c[i], &h[i]);
		assert_int_equal(shown_count(&h[i]), n);
	}
	world_free(w);
}

/* A super-seed that chokes a peer in the middle of a chunk (which only that peer can finish,
 * from us) still sends the rest of that chunk as its backlog drains, and refuses the requests
 * for anything else. */
static void test_super_seed_finishes_chunk(void **state)
{
	(void)state;
	struct world *w = world_new(9);
	w->super_seed = true;
	struct node *seed = node_add(w, true, false);
	struct conn *a = raw_peer(w, seed, 0x90);
	struct heard h = { 0 };
	raw_bare(a, WIRE_INTERESTED);
	session_tick(seed->s, w->now += 10000000);
	raw_listen(a, &h);
	assert_int_equal(h.unchokes, 1);
	uint32_t first = 0, second;
	while (!h.shown[first])
		first++;
	for (second = first + 1; !h.shown[second]; second++)
		;
	/* One block of FIRST leaves, then the uplink is full: the rest of FIRST and all of
	 * SECOND wait in the queue. */
	uint8_t b[32];
	struct bwriter bw;
	bw_init(&bw, b, sizeof b);
	wire_put_span(&bw, WIRE_REQUEST, first, 0, 16384);
	raw_send(a, b, bw.len);
	w->backlog = 1u << 20;
	for (uint32_t off = 16384; off < CHUNK; off += 16384) {
		bw_init(&bw, b, sizeof b);
		wire_put_span(&bw, WIRE_REQUEST, first, off, 16384);
		raw_send(a, b, bw.len);
	}
	raw_request_chunk(a, w->m, second);
	raw_listen(a, &h);
	assert_int_equal(h.blocks, 1);
	/* Losing interest costs A its slot at once. */
	raw_bare(a, WIRE_NOT_INTERESTED);
	session_tick(seed->s, w->now += 1000000);
	raw_listen(a, &h);
	assert_int_equal(h.chokes, 1);
	assert_int_equal(h.rejects, CHUNK / 16384);
	assert_int_equal(h.blocks, 1);
	w->backlog = 0;
	session_writable(seed->s, (uint32_t)a->slot[0]);
	raw_listen(a, &h);
	assert_int_equal(h.blocks, CHUNK / 16384);
	assert_int_equal(h.rejects, CHUNK / 16384);
	world_free(w);
}

/* Regular slots grow with a known uplink: at 1 MiB/s a slot, 8 MiB/s makes 8, plus the
 * optimistic one. */
static void test_slots_from_uplink(void **state)
{
	(void)state;
	for (int k = 0; k < 2; k++) {
		struct world *w = world_new(10);
		w->upload_rate = k ? 8u << 20 : 0;
		struct node *seed = node_add(w, true, false);
		struct conn *c[12];
		for (int i = 0; i < 12; i++) {
			c[i] = raw_peer(w, seed, (uint8_t)(0xa0 + i));
			raw_bare(c[i], WIRE_INTERESTED);
		}
		session_tick(seed->s, w->now += 10000000);
		unsigned unchoked = 0;
		for (int i = 0; i < 12; i++) {
			struct heard h = { 0 };
			raw_listen(c[i], &h);
			unchoked += h.unchokes;
		}
		assert_int_equal(unchoked, k ? 9 : 5);
		world_free(w);
	}
}

/* Once every chunk has been shown, a super-seed that unchokes several peers at once shows each
 * of them chunks of its own: a chunk reserved for a choked peer may go to one of them, but
 * never one another peer we upload to was just given, or both would fetch it from us. */
static void test_super_seed_no_twin_claims(void **state)
{
	(void)state;
	for (uint64_t seed_no = 0; seed_no < 8; seed_no++) {
		struct world *w = world_new(20 + seed_no);
		w->super_seed = true;
		w->upload_rate = 6u << 20; /* 6 regular slots and the optimistic one */
		struct node *seed = node_add(w, true, false);
		uint32_t n = manifest_chunk_count(w->m);
		struct heard hf = { 0 };
		for (uint32_t i = 0; i < n; i++) /* choked and idle: each takes one chunk */
			raw_listen(raw_peer(w, seed, (uint8_t)(0x40 + i)), &hf);
		struct conn *c[7];
		struct heard before[7] = { 0 }, after[7] = { 0 };
		for (int i = 0; i < 7; i++) {
			c[i] = raw_peer(w, seed, (uint8_t)(0xc0 + i));
			raw_listen(c[i], &before[i]);
			raw_bare(c[i], WIRE_INTERESTED);
		}
		session_tick(seed->s, w->now += 10000000);
		unsigned by[32] = { 0 };
		for (int i = 0; i < 7; i++) {
			after[i] = before[i];
			raw_listen(c[i], &after[i]);
			assert_int_equal(after[i].unchokes, 1);
			for (uint32_t k = 0; k < n; k++)
				by[k] += after[i].shown[k] && !before[i].shown[k];
		}
		for (uint32_t k = 0; k < n; k++)
			assert_true(by[k] <= 1);
		world_free(w);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_super_seed),
		cmocka_unit_test(test_super_seed_finishes_chunk),
		cmocka_unit_test(test_slots_from_uplink),
		cmocka_unit_test(test_super_seed_no_twin_claims),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
