/* The piece picker in a randomized swarm: honest peers and liars, joins and leaves, chokes,
 * rejects, silences long enough to time requests out, every event in random order, driven to
 * completion over many seeds; liars are convicted only by the manifest's hash, honest peers
 * never. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/pickertest.h"

/* ---- a randomized swarm: honest peers, liars, every kind of event, to completion ---- */

enum { SP = 10, SCH = 24, SBL = 4, SMAXQ = 512 };

struct sim {
	struct rng t;
	struct picker *pk;
	struct picker_peer *pp[SP];
	uint64_t id[SP];
	bool liar[SP], gone[SP], guilty[SP], banned[SP];
	bool has[SP][SCH];
	struct picker_req q[SMAXQ];	/* the caller's outstanding requests */
	size_t nq;
	bool got[SCH][SBL], bad[SCH][SBL];
	uint64_t sender[SCH][SBL];
	int nfail[SCH];
	uint64_t fail_sender[SCH][8][SBL];
	bool fail_bad[SCH][8][SBL];
	uint64_t next_id;
};

/* Ids are serial * SP + slot: a peer that rejoins keeps its slot, so old blame still lands. */
static int sim_index(const struct sim *s, uint64_t id)
{
	(void)s;
	return (int)(id % SP);
}

static void sim_forget(struct sim *s, const struct picker_req *c)
{
	for (size_t i = 0; i < s->nq; i++)
		if (same_req(&s->q[i], c)) {
			s->q[i] = s->q[--s->nq];
			return;
		}
	fail_msg("cancel for a request the caller never sent");
}

static void sim_forget_peer(struct sim *s, struct picker_peer *pp)
{
	for (size_t i = 0; i < s->nq;)
		if (s->q[i].peer == pp)
			s->q[i] = s->q[--s->nq];
		else
			i++;
}

static void sim_ban(struct sim *s, uint64_t id)
{
	int p = sim_index(s, id);
	assert_true(s->liar[p]);
	s->banned[p] = true;
	if (!s->gone[p]) {
		sim_forget_peer(s, s->pp[p]);
		picker_peer_remove(s->pk, s->pp[p]);
		s->gone[p] = true;
	}
}

static void sim_verify(struct sim *s, uint32_t c)
{
	uint64_t ids[SBL], culprit = 0;
	assert_int_equal(picker_block_senders(s->pk, c, ids), SBL);
	bool ok = true;
	for (int b = 0; b < SBL; b++) {
		assert_int_equal(ids[b], s->sender[c][b]);
		ok = ok && !s->bad[c][b];
	}
	enum picker_verdict v = picker_chunk_verified(s->pk, c, ok, &culprit);
	if (ok) {
		assert_int_equal(v, PICKER_VERIFY_OK);
		/* The smart ban: a failed copy's block that differs from the good one convicts. */
		for (int f = 0; f < s->nfail[c]; f++)
			for (int b = 0; b < SBL; b++)
				if (s->fail_bad[c][f][b])
					sim_ban(s, s->fail_sender[c][f][b]);
		return;
	}
	if (s->nfail[c] < 8) {
		memcpy(s->fail_sender[c][s->nfail[c]], s->sender[c], sizeof s->sender[c]);
		memcpy(s->fail_bad[c][s->nfail[c]++], s->bad[c], sizeof s->bad[c]);
	}
	for (int b = 0; b < SBL; b++)
		s->got[c][b] = false;
	if (v == PICKER_VERIFY_SOLE)
		sim_ban(s, culprit);
	else
		assert_int_equal(v, PICKER_VERIFY_SHARED);
}

static void sim_deliver(struct sim *s, uint64_t now)
{
	if (s->nq == 0)
		return;
	size_t i = (size_t)rng_below(&s->t, s->nq);
	struct picker_req q = s->q[i];
	s->q[i] = s->q[--s->nq];
	int p = sim_index(s, picker_peer_id(q.peer));
	struct picker_req cancel[PICKER_MAX_REQS_PER_BLOCK];
	size_t nc;
	enum picker_block res = recv_req(s->pk, &q, now, cancel, &nc);
	for (size_t k = 0; k < nc; k++)
		sim_forget(s, &cancel[k]);
	uint32_t c = q.chunk, b = q.offset / BS;
	if (res == PICKER_BLOCK_DUP)
		return;
	assert_true(res == PICKER_BLOCK_OK || res == PICKER_BLOCK_CHUNK_DONE);
	assert_false(s->got[c][b]);
	s->got[c][b] = true;
	s->sender[c][b] = s->id[p];
	s->bad[c][b] = s->liar[p] && rng_below(&s->t, 2);
	s->guilty[p] |= s->bad[c][b];
	if (res == PICKER_BLOCK_CHUNK_DONE)
		sim_verify(s, c);
}

static void sim_fill(struct sim *s, int p, uint64_t now)
{
	struct picker_req out[64];
	size_t n = picker_fill(s->pk, s->pp[p], now, out, 64);
	for (size_t i = 0; i < n; i++) {
		uint32_t c = out[i].chunk, b = out[i].offset / BS;
		assert_true(s->has[p][c]);
		assert_false(picker_have(s->pk, c));
		assert_false(s->got[c][b]);
		for (size_t k = 0; k < s->nq; k++)
			assert_false(same_req(&s->q[k], &out[i]));
		assert_true(s->nq < SMAXQ);
		s->q[s->nq++] = out[i];
	}
}

static void sim_join(struct sim *s, int p, bool liar)
{
	s->id[p] = ++s->next_id * SP + (uint64_t)p;
	s->pp[p] = picker_peer_add(s->pk, s->id[p], NULL);
	s->liar[p] = liar;
	s->gone[p] = false;
	memset(s->has[p], 0, sizeof s->has[p]);
	bool all = p < 2 || rng_below(&s->t, 3) == 0;
	for (uint32_t c = 0; c < SCH; c++)
		s->has[p][c] = all || rng_below(&s->t, 2);
	if (all)
		picker_peer_have_all(s->pk, s->pp[p]);
	for (uint32_t c = 0; c < SCH && !all; c++)
		if (s->has[p][c])
			picker_peer_have(s->pk, s->pp[p], c);
	picker_peer_choked(s->pk, s->pp[p], false);
}

static void sim_step(struct sim *s, uint64_t now)
{
	int p = (int)rng_below(&s->t, SP);
	unsigned ev = (unsigned)rng_below(&s->t, 100);
	if (ev < 45) {
		sim_deliver(s, now);
	} else if (s->gone[p]) {
		if (ev < 50 && !s->banned[p])
			sim_join(s, p, s->liar[p]);
	} else if (ev < 80) {
		sim_fill(s, p, now);
	} else if (ev < 84 && s->nq > 0) {
		size_t i = (size_t)rng_below(&s->t, s->nq);
		struct picker_req q = s->q[i];
		s->q[i] = s->q[--s->nq];
		assert_int_equal(picker_reject(s->pk, q.peer, q.chunk, q.offset, q.length), 0);
	} else if (ev < 88) {
		/* Its outstanding requests stay: the model answers them by block or reject. */
		picker_peer_choked(s->pk, s->pp[p], true);
		picker_peer_choked(s->pk, s->pp[p], rng_below(&s->t, 2));
	} else if (ev < 92) {
		uint32_t c = (uint32_t)rng_below(&s->t, SCH);
		s->has[p][c] = true;
		assert_true(picker_peer_have(s->pk, s->pp[p], c) >= 0);
	} else if (ev < 95 && p >= 2) {
		sim_forget_peer(s, s->pp[p]);
		picker_peer_remove(s->pk, s->pp[p]);
		s->gone[p] = true;
	} else {
		picker_tick(s->pk, now);
	}
}

static void test_random_swarm_with_liars(void **state)
{
	(void)state;
	for (uint64_t seed = 0; seed < 60; seed++) {
		struct sim *s = calloc(1, sizeof *s);
		struct rng r;
		rng_seed(&s->t, seed + 1000);
		s->pk = mk(&r, seed, (uint64_t)SCH * SBL * BS, SBL * BS, 2);
		for (int p = 0; p < SP; p++)
			sim_join(s, p, p >= 2 && p % 3 == 0);
		uint64_t now = 0;
		for (int step = 0; step < 200000 && !picker_complete(s->pk); step++) {
			/* Now and then a long silence, so that requests time out. */
			now += rng_below(&s->t, 200) == 0 ? 6000000 : rng_below(&s->t, 20000);
			sim_step(s, now);
			/* Honest seeds 0 and 1 never leave; keep one unchoked so work goes on. */
			if (step % 50 == 0)
				picker_peer_choked(s->pk, s->pp[0], false);
		}
		assert_true(picker_complete(s->pk));
		for (int p = 0; p < SP; p++) {
			assert_true(!s->banned[p] || s->liar[p]);
			assert_true(!s->guilty[p] || s->banned[p]);
		}
		picker_free(s->pk);
		free(s);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_swarm_with_liars),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
