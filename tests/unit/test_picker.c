/* The piece picker through its public API, with a seeded PRNG and an injected clock: geometry,
 * rarest-first over many availability patterns and event orders, random ties, partial chunks
 * first, random-first, endgame duplicates and exact cancel lists, release on loss / choke /
 * reject, time-outs, pipeline depth from rate x rtt, and culprit identification. The randomized
 * swarm is test_picker_swarm.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/pickertest.h"

static void test_geometry_and_config(void **state)
{
	(void)state;
	struct rng r;
	struct picker_config cfg;
	picker_config_default(&cfg);
	cfg.rand64 = rnd64;
	cfg.rand_arg = &r;
	cfg.total_bytes = 0;
	assert_null(picker_new(&cfg));
	cfg.total_bytes = 1000;
	cfg.chunk_size = 1000;
	assert_null(picker_new(&cfg));
	cfg.chunk_size = CH4;
	cfg.rand64 = NULL;
	assert_null(picker_new(&cfg));
	picker_free(NULL);

	struct picker *pk = mk(&r, 1, 3 * CH4 + 20000, CH4, 0);
	assert_int_equal(picker_nchunks(pk), 4);
	assert_int_equal(picker_chunk_length(pk, 0), CH4);
	assert_int_equal(picker_chunk_length(pk, 3), 20000);
	assert_int_equal(picker_chunk_length(pk, 4), 0);
	struct picker_peer *s = seeder(pk, 1);
	struct picker_req q[64];
	size_t n = picker_fill(pk, s, 0, q, 64);
	assert_int_equal(n, 14);
	size_t bytes = 0;
	for (size_t i = 0; i < n; i++) {
		bytes += q[i].length;
		assert_int_equal(q[i].offset % BS, 0);
		assert_ptr_equal(q[i].user, (void *)(uintptr_t)1);
		if (q[i].chunk == 3 && q[i].offset == BS)
			assert_int_equal(q[i].length, 20000 - BS);
	}
	assert_int_equal(bytes, 3 * CH4 + 20000);
	struct picker_req c[PICKER_MAX_REQS_PER_BLOCK];
	size_t nc;
	assert_int_equal(picker_block_received(pk, s, 3, BS, BS, 0, c, &nc), PICKER_BLOCK_INVALID);
	assert_int_equal(picker_block_received(pk, s, 3, 100, 20000 - BS, 0, c, &nc),
			 PICKER_BLOCK_INVALID);
	assert_int_equal(picker_block_received(pk, s, 4, 0, BS, 0, c, &nc), PICKER_BLOCK_INVALID);
	assert_int_equal(picker_block_received(pk, s, 3, BS, 20000 - BS, 0, c, &nc),
			 PICKER_BLOCK_OK);
	assert_int_equal(picker_block_received(pk, s, 3, BS, 20000 - BS, 0, c, &nc),
			 PICKER_BLOCK_DUP);
	assert_int_equal(picker_peer_have(pk, s, 4), -1);
	picker_free(pk);
}

/* Availability of chunk C over the test's own record of who has what. */
static unsigned ref_avail(bool has[][64], const bool *alive, int np, uint32_t c)
{
	unsigned a = 0;
	for (int p = 0; p < np; p++)
		a += alive[p] && has[p][c];
	return a;
}

/* Many random availability patterns, built in random event orders (HAVEs interleaved across
 * peers, bitfields, peers that have everything, peers leaving): every chunk a peer opens is one
 * of the rarest unstarted chunks it has. */
static void test_rarest_over_patterns(void **state)
{
	(void)state;
	enum { NC = 64, NP = 8 };
	for (uint64_t seed = 0; seed < 300; seed++) {
		struct rng r, t;
		rng_seed(&t, seed * 7919 + 1);
		struct picker *pk = mk(&r, seed, (uint64_t)NC * CH4, CH4, 0);
		struct picker_peer *pp[NP];
		bool has[NP][64], alive[NP], started[NC] = { 0 };
		memset(has, 0, sizeof has);
		for (int p = 0; p < NP; p++) {
			pp[p] = leecher(pk, (uint64_t)p);
			alive[p] = true;
		}
		for (int k = 0; k < NP * NC / 2; k++) {
			int p = (int)rng_below(&t, NP);
			uint32_t c = (uint32_t)rng_below(&t, (uint64_t)(p + 1) * 8 % NC + 1);
			has[p][c] = true;
			assert_true(picker_peer_have(pk, pp[p], c) >= 0);
		}
		if (rng_below(&t, 2)) {
			struct bitfield *bf = bitfield_new(NC);
			for (uint32_t c = 0; c < NC; c += 3) {
				bitfield_set(bf, c);
				has[1][c] = true;
			}
			assert_true(picker_peer_bitfield(pk, pp[1], bf) >= 0);
			bitfield_free(bf);
		}
		if (rng_below(&t, 3) == 0) {
			picker_peer_have_all(pk, pp[2]);
			for (uint32_t c = 0; c < NC; c++)
				has[2][c] = true;
		}
		int gone = (int)rng_below(&t, NP);
		if (gone != 0) {
			picker_peer_remove(pk, pp[gone]);
			alive[gone] = false;
		}
		/* Peer 0 opens chunks one at a time, each time taking all its blocks. */
		struct picker_req q[4];
		for (;;) {
			size_t n = picker_fill(pk, pp[0], 0, q, 4);
			if (n == 0)
				break;
			uint32_t c = q[0].chunk;
			assert_int_equal(n, 4);
			assert_true(has[0][c]);
			assert_false(started[c]);
			unsigned best = UINT32_MAX;
			for (uint32_t d = 0; d < NC; d++)
				if (has[0][d] && !started[d] && ref_avail(has, alive, NP, d) < best)
					best = ref_avail(has, alive, NP, d);
			assert_int_equal(ref_avail(has, alive, NP, c), best);
			started[c] = true;
		}
		for (uint32_t d = 0; d < NC; d++)
			assert_true(!has[0][d] || started[d]);
		picker_free(pk);
	}
}

/* First chunk opened by a peer that has everything, for one seed. RARE_HALF: another peer has
 * the odd chunks, so the even ones are rarest. Otherwise another peer announces every chunk in
 * index order, so all are tied again after each crossed a bucket boundary. */
static uint32_t first_pick(uint64_t seed, uint32_t nchunks, bool rare_half)
{
	struct rng r;
	struct picker *pk = mk(&r, seed, (uint64_t)nchunks * CH4, CH4, 0);
	struct picker_peer *s = seeder(pk, 1);
	if (!rare_half) {
		struct picker_peer *o = leecher(pk, 2);
		for (uint32_t c = 0; c < nchunks; c++)
			picker_peer_have(pk, o, c);
	} else {
		struct picker_peer *o = leecher(pk, 2);
		for (uint32_t c = 1; c < nchunks; c += 2)
			picker_peer_have(pk, o, c);
	}
	struct picker_req q[1];
	assert_int_equal(picker_fill(pk, s, 0, q, 1), 1);
	picker_free(pk);
	return q[0].chunk;
}

static void test_ties_random_reproducible_covering(void **state)
{
	(void)state;
	unsigned seen[32] = { 0 }, seen_rare[32] = { 0 };
	for (uint64_t seed = 0; seed < 400; seed++) {
		uint32_t a = first_pick(seed, 32, false);
		assert_int_equal(a, first_pick(seed, 32, false));
		seen[a]++;
		uint32_t b = first_pick(seed, 32, true);
		assert_int_equal(b % 2, 0);
		seen_rare[b]++;
	}
	for (uint32_t c = 0; c < 32; c++) {
		assert_true(seen[c] > 0);
		assert_true(c % 2 == 1 || seen_rare[c] > 0);
	}
}

static void test_partial_chunks_first(void **state)
{
	(void)state;
	struct rng r;
	struct picker *pk = mk(&r, 5, 16 * CH4, CH4, 0);
	struct picker_peer *a = leecher(pk, 1), *b = leecher(pk, 2), *x = leecher(pk, 3);
	/* Chunk 7 is common (a, b, x have it); chunk 3 only b has: the rarest for b. */
	picker_peer_have(pk, a, 7);
	picker_peer_have(pk, b, 7);
	picker_peer_have(pk, x, 7);
	picker_peer_have(pk, b, 3);
	picker_peer_have(pk, x, 9); /* unstarted work left: not endgame */
	struct picker_req q[8];
	assert_int_equal(picker_fill(pk, a, 0, q, 1), 1);
	assert_int_equal(q[0].chunk, 7);
	/* b finishes a's started chunk before opening its own rarest one. */
	assert_int_equal(picker_fill(pk, b, 0, q, 8), 7);
	for (int i = 0; i < 3; i++)
		assert_int_equal(q[i].chunk, 7);
	for (int i = 3; i < 7; i++)
		assert_int_equal(q[i].chunk, 3);
	/* A block released by b reopens chunk 7 for x ahead of anything new. */
	assert_int_equal(picker_reject(pk, b, 7, q[1].offset, BS), 0);
	assert_int_equal(picker_reject(pk, b, 7, q[1].offset, BS), -1);
	assert_int_equal(picker_fill(pk, x, 0, q, 1), 1);
	assert_int_equal(q[0].chunk, 7);
	picker_free(pk);
}

/* While fewer than random_first chunks are verified the first chunk is random, so not always the
 * unique rarest; from then on it is always the rarest. */
static void test_random_first(void **state)
{
	(void)state;
	unsigned rarest = 0, total = 200;
	for (uint64_t seed = 0; seed < total; seed++)
		for (int phase = 0; phase < 2; phase++) {
			struct rng r;
			struct picker *pk = mk(&r, seed, 32 * CH4, CH4, 4);
			struct picker_peer *s = seeder(pk, 1), *o = leecher(pk, 2);
			for (uint32_t c = 0; c < 32; c++)
				if (c != 20)
					picker_peer_have(pk, o, c);
			if (phase == 1)
				for (uint32_t c = 0; c < 4; c++)
					assert_int_equal(picker_set_have(pk, c), 0);
			struct picker_req q[1];
			assert_int_equal(picker_fill(pk, s, 0, q, 1), 1);
			if (phase == 1)
				assert_int_equal(q[0].chunk, 20);
			else
				rarest += q[0].chunk == 20;
			picker_free(pk);
		}
	/* Random among 32: about 6 of 200 hit chunk 20. */
	assert_true(rarest < total / 4);
}

/* Endgame: once everything is requested, a peer duplicates a block only if it should deliver it
 * in under half the time the block still needs (at most endgame_dups live requests per block),
 * and a block's arrival returns exactly the other requests for it. a sends 1 KiB/s (a block
 * every 16 s), b 64 KiB/s, c and d 100 MiB/s. */
static void test_endgame_duplicates_and_exact_cancels(void **state)
{
	(void)state;
	struct rng r;
	struct picker_config cfg;
	picker_config_default(&cfg);
	cfg.total_bytes = 2 * CH4;
	cfg.chunk_size = CH4;
	cfg.endgame_dups = 3;
	cfg.rand64 = rnd64;
	cfg.rand_arg = &r;
	rng_seed(&r, 9);
	struct picker *pk = picker_new(&cfg);
	struct picker_peer *a = seeder(pk, 1), *b = seeder(pk, 2), *c = seeder(pk, 3),
			   *d = seeder(pk, 4);
	/* Long round trips give the slow peers pipelines deep enough for all 8 blocks. */
	picker_peer_measure(pk, a, 1024, 60000000);
	picker_peer_measure(pk, b, 64 * 1024, 1000000);
	picker_peer_measure(pk, c, 100 << 20, 10000);
	picker_peer_measure(pk, d, 100 << 20, 10000);
	struct picker_req qa[8], qb[8], qc[8], qd[8];
	assert_false(picker_endgame(pk));
	assert_int_equal(picker_fill(pk, a, 0, qa, 8), 8);
	assert_true(picker_endgame(pk));
	/* b beats a's 16 s per block on every block, c beats b: 3 live requests per block. */
	assert_int_equal(picker_fill(pk, b, 0, qb, 8), 8);
	assert_int_equal(picker_fill(pk, c, 0, qc, 8), 8);
	assert_int_equal(picker_fill(pk, d, 0, qd, 8), 0);
	for (int i = 0; i < 8; i++) {
		assert_ptr_equal(qb[i].peer, b);
		assert_ptr_equal(qc[i].peer, c);
	}
	struct picker_req cancel[PICKER_MAX_REQS_PER_BLOCK];
	size_t nc;
	/* b delivers one block: a's and c's requests for it are the cancel list, nothing else. */
	assert_int_equal(recv_req(pk, &qb[0], 10, cancel, &nc), PICKER_BLOCK_OK);
	assert_int_equal(nc, 2);
	struct picker_req wa = qb[0], wc = qb[0];
	wa.peer = a;
	wa.user = (void *)(uintptr_t)1;
	wc.peer = c;
	wc.user = (void *)(uintptr_t)3;
	assert_true((same_req(&cancel[0], &wa) && same_req(&cancel[1], &wc)) ||
		    (same_req(&cancel[0], &wc) && same_req(&cancel[1], &wa)));
	/* The same block from a (its cancel crossed the block) is a harmless duplicate. */
	assert_int_equal(recv_req(pk, &wa, 11, cancel, &nc), PICKER_BLOCK_DUP);
	assert_int_equal(nc, 0);
	/* a rejects the rest: 2 live requests remain per block, but c is about to deliver them,
	 * so d, fast as it is, would only waste bandwidth. */
	for (int i = 0; i < 8; i++)
		if (qa[i].chunk != qb[0].chunk || qa[i].offset != qb[0].offset)
			assert_int_equal(picker_reject(pk, a, qa[i].chunk, qa[i].offset, BS), 0);
	assert_int_equal(picker_fill(pk, d, 12, qd, 8), 0);
	/* c delivers the rest: each arrival cancels exactly b's request. */
	unsigned done = 0;
	for (int i = 0; i < 8; i++) {
		if (qc[i].chunk == qb[0].chunk && qc[i].offset == qb[0].offset)
			continue;
		enum picker_block res = recv_req(pk, &qc[i], 20, cancel, &nc);
		assert_int_equal(nc, 1);
		assert_ptr_equal(cancel[0].peer, b);
		assert_int_equal(cancel[0].chunk, qc[i].chunk);
		assert_int_equal(cancel[0].offset, qc[i].offset);
		done += res == PICKER_BLOCK_CHUNK_DONE;
	}
	assert_int_equal(done, 2);
	picker_free(pk);
}

/* A peer that has not delivered anything yet is not assumed slow: its blocks are not
 * duplicated until its rate says they would come four times later than from the asker. */
static void test_endgame_spares_unmeasured(void **state)
{
	(void)state;
	struct rng r;
	struct picker *pk = mk(&r, 12, CH4, CH4, 0);
	struct picker_peer *u = picker_peer_add(pk, 1, NULL), *f = seeder(pk, 2);
	picker_peer_have_all(pk, u);
	picker_peer_choked(pk, u, false);
	picker_peer_measure(pk, f, 100 << 20, 10000);
	struct picker_req q[4];
	assert_int_equal(picker_fill(pk, u, 0, q, 4), 4);
	assert_true(picker_endgame(pk));
	assert_int_equal(picker_fill(pk, f, 0, q, 4), 0);
	picker_peer_measure(pk, u, 1024, 60000000);
	assert_int_equal(picker_fill(pk, f, 0, q, 4), 4);
	picker_free(pk);
}

/* q sends a block every 15.6 ms and has 9 requests left after answering 3; f would deliver in
 * about 11 ms. A block waits behind the requests ahead of it at q, less the 2 oldest, taken as
 * already on the wire: only those with at least 4 ahead wait over 4 x 11 ms, the last 5. With
 * endgame_speedup 0 nothing is duplicated. */
static size_t queue_position_dups(unsigned speedup, struct picker_req *qq, struct picker_req *qf)
{
	struct rng r;
	struct picker_config cfg;
	picker_config_default(&cfg);
	cfg.total_bytes = 3 * CH4;
	cfg.chunk_size = CH4;
	cfg.random_first = 0;
	cfg.endgame_speedup = speedup;
	cfg.rand64 = rnd64;
	cfg.rand_arg = &r;
	rng_seed(&r, 13);
	struct picker *pk = picker_new(&cfg);
	struct picker_peer *q = seeder(pk, 1), *f = seeder(pk, 2);
	picker_peer_measure(pk, q, 1 << 20, 100000);
	picker_peer_measure(pk, f, 100 << 20, 10000);
	struct picker_req cancel[PICKER_MAX_REQS_PER_BLOCK];
	size_t nc;
	assert_int_equal(picker_fill(pk, q, 0, qq, 12), 12);
	for (int i = 0; i < 3; i++)
		assert_int_equal(recv_req(pk, &qq[i], 100000, cancel, &nc), PICKER_BLOCK_OK);
	picker_peer_measure(pk, q, 1 << 20, 100000);
	size_t n = picker_fill(pk, f, 100000, qf, 12);
	picker_free(pk);
	return n;
}

static void test_endgame_uses_queue_position(void **state)
{
	(void)state;
	struct picker_req qq[12], qf[12];
	assert_int_equal(queue_position_dups(4, qq, qf), 5);
	for (int i = 0; i < 5; i++) {
		bool found = false;
		for (int k = 7; k < 12; k++)
			found |= qf[i].chunk == qq[k].chunk && qf[i].offset == qq[k].offset;
		assert_true(found);
	}
	assert_int_equal(queue_position_dups(0, qq, qf), 0);
}

/* A lost peer and a reject hand the blocks to someone else; a choke stops new requests but
 * keeps the outstanding ones, which the wire answers by a REJECT or, after a quick UNCHOKE,
 * by the block. */
/* A peer that withdraws a chunk (LOST) no longer counts for it, whether it had everything or
 * announced chunks one by one, and is not asked for it again. */
static void test_peer_lost(void **state)
{
	(void)state;
	struct rng r;
	struct picker *pk = mk(&r, 5, 4 * CH4, CH4, 0);
	struct picker_peer *a = seeder(pk, 1), *b = leecher(pk, 2);
	assert_int_equal(picker_peer_have(pk, b, 2), 1);
	assert_int_equal(picker_chunk_peers(pk, 2), 2);
	assert_int_equal(picker_peer_lost(pk, a, 2), 0);
	assert_int_equal(picker_peer_lost(pk, a, 4), -1);
	assert_false(picker_peer_has(pk, a, 2));
	assert_true(picker_peer_has(pk, a, 3));
	assert_false(picker_peer_complete(pk, a));
	assert_int_equal(picker_chunk_peers(pk, 2), 1);
	assert_int_equal(picker_chunk_peers(pk, 0), 1);
	assert_int_equal(picker_peer_lost(pk, b, 2), 0);
	assert_int_equal(picker_peer_lost(pk, b, 2), 0);
	assert_int_equal(picker_chunk_peers(pk, 2), 0);
	assert_false(picker_peer_interesting(pk, b));
	assert_true(picker_peer_interesting(pk, a));
	struct picker_req q[64];
	size_t n = picker_fill(pk, a, 0, q, 64);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(q[i].chunk, 2);
	assert_true(n > 0);
	picker_free(pk);
}

static void test_release_on_loss_choke_reject(void **state)
{
	(void)state;
	struct rng r;
	struct picker *pk = mk(&r, 3, 2 * CH4, CH4, 0);
	struct picker_peer *a = seeder(pk, 1), *b = seeder(pk, 2);
	struct picker_req qa[8], qb[8];
	assert_int_equal(picker_fill(pk, a, 0, qa, 5), 5);
	assert_int_equal(picker_fill(pk, b, 0, qb, 3), 3);
	picker_peer_remove(pk, a);
	assert_int_equal(picker_fill(pk, b, 0, qb + 3, 8), 5);
	for (int i = 0; i < 5; i++) {
		bool found = false;
		for (int k = 3; k < 8; k++)
			found |= qb[k].chunk == qa[i].chunk && qb[k].offset == qa[i].offset;
		assert_true(found);
	}
	/* Everything is requested from b, as fast as c: no duplicate is worth it. */
	struct picker_peer *c = seeder(pk, 3);
	struct picker_req qc[8];
	assert_true(picker_endgame(pk));
	assert_int_equal(picker_fill(pk, c, 0, qc, 8), 0);
	picker_peer_choked(pk, c, true);
	assert_int_equal(picker_fill(pk, c, 0, qc, 8), 0);
	picker_peer_choked(pk, c, false);
	picker_peer_choked(pk, b, true);
	assert_int_equal(picker_fill(pk, b, 0, qb, 8), 0);
	assert_int_equal(picker_fill(pk, c, 0, qc, 8), 0);
	/* b rejects three: exactly those go to c. */
	for (int i = 0; i < 3; i++)
		assert_int_equal(picker_reject(pk, b, qb[i].chunk, qb[i].offset, BS), 0);
	assert_false(picker_endgame(pk));
	assert_int_equal(picker_fill(pk, c, 0, qc, 8), 3);
	for (int i = 0; i < 3; i++)
		assert_true(qc[i].chunk == qb[i].chunk && qc[i].offset == qb[i].offset);
	/* b unchokes at once and serves the rest: new data, not duplicates. */
	picker_peer_choked(pk, b, false);
	struct picker_req cancel[PICKER_MAX_REQS_PER_BLOCK];
	size_t nc;
	for (int i = 3; i < 8; i++) {
		enum picker_block res = recv_req(pk, &qb[i], 0, cancel, &nc);
		assert_true(res == PICKER_BLOCK_OK || res == PICKER_BLOCK_CHUNK_DONE);
		assert_int_equal(nc, 0);
	}
	picker_free(pk);
}

/* A silent pipeline times out: the peer is snubbed (depth 1), its blocks go to others, and its
 * late block is still accepted and cancels the re-issued request. */
static void test_timeout_reissues(void **state)
{
	(void)state;
	struct rng r;
	struct picker *pk = mk(&r, 4, 4 * CH4, CH4, 0);
	struct picker_peer *a = seeder(pk, 1);
	picker_peer_measure(pk, a, 1000000, 50000);
	struct picker_req qa[16], qb[16];
	size_t na = picker_fill(pk, a, 1000, qa, 16);
	assert_true(na >= 2);
	struct picker_peer *b = seeder(pk, 2);
	picker_peer_measure(pk, b, 1000000, 50000);
	uint64_t due = picker_tick(pk, 2000);
	assert_true(due > 2000 && due != UINT64_MAX);
	assert_int_equal(picker_tick(pk, due - 1), due);
	assert_false(picker_peer_snubbed(a));
	assert_int_equal(picker_tick(pk, due), UINT64_MAX);
	assert_true(picker_peer_snubbed(a));
	assert_int_equal(picker_peer_depth(pk, a), 1);
	size_t nb = picker_fill(pk, b, due, qb, 16);
	assert_true(nb >= na);
	struct picker_req cancel[PICKER_MAX_REQS_PER_BLOCK];
	size_t nc;
	assert_int_equal(recv_req(pk, &qa[0], due + 5, cancel, &nc), PICKER_BLOCK_OK);
	assert_int_equal(nc, 1);
	assert_ptr_equal(cancel[0].peer, b);
	assert_int_equal(cancel[0].chunk, qa[0].chunk);
	assert_int_equal(cancel[0].offset, qa[0].offset);
	assert_false(picker_peer_snubbed(a));
	picker_free(pk);
}

static void test_depth_from_rate_and_rtt(void **state)
{
	(void)state;
	struct rng r;
	struct picker *pk = mk(&r, 6, 64 * CH4, CH4, 0);
	struct picker_peer *p = picker_peer_add(pk, 1, NULL);
	assert_int_equal(picker_peer_depth(pk, p), 4);
	unsigned prev = 0;
	for (uint64_t bdp = 1; bdp <= 64; bdp *= 2) {
		/* rate x rtt = bdp blocks: depth = 2 bdp + 1 within the clamp. */
		picker_peer_measure(pk, p, bdp * BS * 10, 100000);
		unsigned d = picker_peer_depth(pk, p);
		unsigned want = 2 * (unsigned)bdp + 1;
		assert_int_equal(d, want < 2 ? 2 : want);
		assert_true(d > prev);
		prev = d;
	}
	picker_peer_measure(pk, p, 1, 1);
	assert_int_equal(picker_peer_depth(pk, p), 2);
	picker_peer_measure(pk, p, 10000000000ull, 10000000);
	assert_int_equal(picker_peer_depth(pk, p), 256);
	picker_free(pk);
}

/* The picker measures a peer itself: a link of RATE bytes/s and one-way LAT us serving requests
 * in order. Return the depth after 20 s and store the bytes delivered in the last 10 s. */
static unsigned self_measured_depth(uint64_t rate, uint64_t lat, uint64_t *late_bytes)
{
	struct rng r;
	struct picker *pk = mk(&r, 8, 4096ull * CH4, CH4, 0);
	struct picker_peer *p = picker_peer_add(pk, 1, NULL);
	picker_peer_have_all(pk, p);
	picker_peer_choked(pk, p, false);
	enum { QMAX = 1024 };
	struct picker_req q[QMAX];
	uint64_t at[QMAX];
	size_t head = 0, tail = 0;
	uint64_t now = 0, link_free = 0;
	*late_bytes = 0;
	while (now < 20000000) {
		struct picker_req out[256];
		size_t n = picker_fill(pk, p, now, out, 256);
		for (size_t i = 0; i < n; i++) {
			uint64_t start = now + lat > link_free ? now + lat : link_free;
			link_free = start + out[i].length * 1000000ull / rate;
			q[tail % QMAX] = out[i];
			at[tail++ % QMAX] = link_free + lat;
		}
		assert_true(tail > head);
		now = at[head % QMAX];
		struct picker_req cancel[PICKER_MAX_REQS_PER_BLOCK];
		size_t nc;
		enum picker_block res = recv_req(pk, &q[head++ % QMAX], now, cancel, &nc);
		assert_true(res == PICKER_BLOCK_OK || res == PICKER_BLOCK_CHUNK_DONE);
		if (res == PICKER_BLOCK_CHUNK_DONE)
			picker_chunk_verified(pk, q[(head - 1) % QMAX].chunk, true, NULL);
		if (now >= 10000000)
			*late_bytes += BS;
	}
	unsigned d = picker_peer_depth(pk, p);
	picker_free(pk);
	return d;
}

static void test_depth_self_measured_keeps_link_full(void **state)
{
	(void)state;
	uint64_t slow_bytes, fast_bytes;
	unsigned slow = self_measured_depth(100 * 1024, 5000, &slow_bytes);
	unsigned fast = self_measured_depth(4 * 1024 * 1024, 50000, &fast_bytes);
	/* The fast, far link needs a pipeline of about 2 x 4 MiB/s x 0.1 s / 16 KiB = 51. */
	assert_true(slow <= 6);
	assert_true(fast >= 40 && fast <= 80);
	/* Either way the link stays busy: over 90% of its rate through the last 10 s. */
	assert_true(slow_bytes * 10 >= 9ull * 10 * 100 * 1024);
	assert_true(fast_bytes * 10 >= 9ull * 10 * 4 * 1024 * 1024);
}

/* Fetch every block of CHUNK from the peers in order, round robin. Return the last result. */
static enum picker_block fetch_chunk_from(struct picker *pk, struct picker_peer **from, int n)
{
	enum picker_block res = PICKER_BLOCK_DUP;
	struct picker_req q[1], cancel[PICKER_MAX_REQS_PER_BLOCK];
	size_t nc;
	for (int i = 0; res != PICKER_BLOCK_CHUNK_DONE; i++) {
		assert_int_equal(picker_fill(pk, from[i % n], 0, q, 1), 1);
		res = recv_req(pk, q, 0, cancel, &nc);
	}
	return res;
}

static void test_failed_chunk_culprit(void **state)
{
	(void)state;
	struct rng r;
	struct picker *pk = mk(&r, 2, CH4, CH4, 0);
	struct picker_peer *a = seeder(pk, 11), *b = seeder(pk, 22), *c = seeder(pk, 33);
	struct picker_peer *ab[2] = { a, b };
	uint64_t ids[4], culprit = 0;
	/* Shared failure: the senders per block are reported, not a culprit. */
	assert_int_equal(fetch_chunk_from(pk, ab, 2), PICKER_BLOCK_CHUNK_DONE);
	assert_int_equal(picker_block_senders(pk, 0, ids), 4);
	assert_true(ids[0] == 11 && ids[1] == 22 && ids[2] == 11 && ids[3] == 22);
	assert_int_equal(picker_chunk_verified(pk, 0, false, &culprit), PICKER_VERIFY_SHARED);
	assert_int_equal(culprit, 0);
	assert_int_equal(picker_block_senders(pk, 0, ids), 0);
	assert_int_equal(picker_chunk_verified(pk, 0, false, &culprit), PICKER_VERIFY_INVALID);
	/* The re-fetch belongs to whoever asks first (c), and to nobody else. */
	struct picker_req q[4], cancel[PICKER_MAX_REQS_PER_BLOCK];
	size_t nc;
	assert_int_equal(picker_fill(pk, c, 0, q, 1), 1);
	assert_int_equal(picker_fill(pk, a, 0, q + 1, 4), 0);
	assert_int_equal(picker_fill(pk, b, 0, q + 1, 4), 0);
	assert_int_equal(picker_fill(pk, c, 0, q + 1, 3), 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(recv_req(pk, &q[i], 0, cancel, &nc), PICKER_BLOCK_OK);
	assert_int_equal(recv_req(pk, &q[3], 0, cancel, &nc), PICKER_BLOCK_CHUNK_DONE);
	/* c sent it all: if it fails again, c is proven bad. */
	assert_int_equal(picker_chunk_verified(pk, 0, false, &culprit), PICKER_VERIFY_SOLE);
	assert_int_equal(culprit, 33);
	/* The owner leaving mid-way hands the re-fetch on. */
	assert_int_equal(picker_fill(pk, b, 0, q, 2), 2);
	assert_int_equal(recv_req(pk, &q[0], 0, cancel, &nc), PICKER_BLOCK_OK);
	assert_int_equal(picker_fill(pk, a, 0, q + 2, 4), 0);
	picker_peer_remove(pk, b);
	/* Blocks that came back at time 0 measured a zero round trip: restore a deep pipeline. */
	picker_peer_measure(pk, a, 1000000000, 1000000);
	assert_int_equal(picker_fill(pk, a, 0, q, 4), 3);
	for (int i = 0; i < 3; i++)
		recv_req(pk, &q[i], 0, cancel, &nc);
	assert_int_equal(picker_chunk_verified(pk, 0, true, &culprit), PICKER_VERIFY_OK);
	assert_true(picker_complete(pk));
	assert_false(picker_peer_interesting(pk, a));
	picker_free(pk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_geometry_and_config),
		cmocka_unit_test(test_rarest_over_patterns),
		cmocka_unit_test(test_ties_random_reproducible_covering),
		cmocka_unit_test(test_partial_chunks_first),
		cmocka_unit_test(test_random_first),
		cmocka_unit_test(test_endgame_duplicates_and_exact_cancels),
		cmocka_unit_test(test_endgame_spares_unmeasured),
		cmocka_unit_test(test_endgame_uses_queue_position),
		cmocka_unit_test(test_peer_lost),
		cmocka_unit_test(test_release_on_loss_choke_reject),
		cmocka_unit_test(test_timeout_reissues),
		cmocka_unit_test(test_depth_from_rate_and_rtt),
		cmocka_unit_test(test_depth_self_measured_keeps_link_full),
		cmocka_unit_test(test_failed_chunk_culprit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
