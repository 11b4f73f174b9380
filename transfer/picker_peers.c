/* The piece picker, part two: the peers. What each peer has (its bits, kept in the peer's own
 * allocation, a word at a time), the availability counts that follow from that (transfer/
 * rarity.c), whether it has anything we want (a count kept up to date as it announces chunks
 * and as chunks become ours), and its pace. Requests, picking and answers are picker.c's, which
 * calls this file and is never called by it. It keeps no time of its own and sends nothing. */
#include "transfer/picker_int.h"

#include <stdlib.h>
#include <string.h>

static uint32_t nwords(const struct picker *pk)
{
	return (pk->n + 63) / 64;
}

static int peers_reserve(struct picker *pk)
{
	if (pk->npeers < pk->cap)
		return 0;
	uint32_t cap = pk->cap * 2 + 8;
	struct picker_peer **a = realloc(pk->all, cap * sizeof *a);
	if (a == NULL)
		return -1;
	pk->all = a;
	pk->cap = cap;
	return 0;
}

struct picker_peer *picker_peer_add(struct picker *pk, uint64_t id, void *user)
{
	if (rarity_reserve(pk->rar, pk->npeers + 1) < 0 || peers_reserve(pk) < 0)
		return NULL;
	struct picker_peer *pp = calloc(1, sizeof *pp + nwords(pk) * sizeof pp->bits[0]);
	if (pp == NULL)
		return NULL;
	pp->id = id;
	pp->user = user;
	pp->choked = true;
	pp->at = pk->npeers;
	pk->all[pk->npeers++] = pp;
	return pp;
}

/* Take back PP's per-chunk counts: it is leaving, or from now on counted in nall. */
static void uncount_chunks(struct picker *pk, struct picker_peer *pp)
{
	for (uint32_t k = 0; k < nwords(pk); k++)
		for (uint64_t w = pp->bits[k]; w != 0; w &= w - 1)
			rarity_move(pk->rar, k * 64 + (uint32_t)__builtin_ctzll(w), false);
}

void peers_forget(struct picker *pk, struct picker_peer *pp)
{
	if (pp->has_all)
		pk->nall--;
	else
		uncount_chunks(pk, pp);
	/* O(peers), but peers rarely leave; keeping the order keeps walks in joining order. */
	memmove(pk->all + pp->at, pk->all + pp->at + 1,
		(pk->npeers - pp->at - 1) * sizeof pk->all[0]);
	pk->npeers--;
	for (uint32_t i = pp->at; i < pk->npeers; i++)
		pk->all[i]->at = i;
	free(pp);
}

uint64_t picker_peer_id(const struct picker_peer *pp)
{
	return pp->id;
}

bool picker_peer_has(const struct picker *pk, const struct picker_peer *pp, uint32_t chunk)
{
	return chunk < pk->n && peer_has(pp, chunk);
}

bool picker_peer_complete(const struct picker *pk, const struct picker_peer *pp)
{
	return pp->nhas == pk->n;
}

bool picker_peer_interesting(const struct picker *pk, const struct picker_peer *pp)
{
	return pp->has_all ? pk->nhave < pk->n : pp->nwanted > 0;
}

int picker_peer_have(struct picker *pk, struct picker_peer *pp, uint32_t chunk)
{
	if (chunk >= pk->n)
		return -1;
	if (peer_has(pp, chunk))
		return 0;
	bool was = picker_peer_interesting(pk, pp);
	pp->bits[chunk / 64] |= (uint64_t)1 << (chunk % 64);
	pp->nhas++;
	rarity_move(pk->rar, chunk, true);
	if (pk->state[chunk] != CH_HAVE)
		pp->nwanted++;
	return !was && picker_peer_interesting(pk, pp);
}

int picker_peer_have_all(struct picker *pk, struct picker_peer *pp)
{
	if (pp->has_all)
		return 0;
	bool was = picker_peer_interesting(pk, pp);
	uncount_chunks(pk, pp);
	memset(pp->bits, 0xff, nwords(pk) * sizeof pp->bits[0]);
	if (pk->n % 64)
		pp->bits[nwords(pk) - 1] = ~(~(uint64_t)0 << (pk->n % 64));
	pp->nhas = pk->n;
	pp->has_all = true;
	pk->nall++;
	return !was && picker_peer_interesting(pk, pp);
}

/* A peer counted in nall goes back to counts per chunk: O(chunks), but only on a withdrawal. */
static void count_chunks(struct picker *pk, struct picker_peer *pp)
{
	pp->has_all = false;
	pk->nall--;
	for (uint32_t c = 0; c < pk->n; c++)
		rarity_move(pk->rar, c, true);
	pp->nwanted = pk->n - pk->nhave;
}

int picker_peer_lost(struct picker *pk, struct picker_peer *pp, uint32_t chunk)
{
	if (chunk >= pk->n)
		return -1;
	if (pp->has_all)
		count_chunks(pk, pp);
	if (!peer_has(pp, chunk))
		return 0;
	pp->bits[chunk / 64] &= ~((uint64_t)1 << (chunk % 64));
	pp->nhas--;
	rarity_move(pk->rar, chunk, false);
	if (pk->state[chunk] != CH_HAVE)
		pp->nwanted--;
	return 0;
}

int picker_peer_bitfield(struct picker *pk, struct picker_peer *pp, const struct bitfield *bf)
{
	if (bitfield_size(bf) != pk->n)
		return -1;
	if (bitfield_all(bf))
		return picker_peer_have_all(pk, pp);
	bool was = picker_peer_interesting(pk, pp);
	for (uint32_t c = bitfield_next_set(bf, 0); c != BITFIELD_NONE;
	     c = bitfield_next_set(bf, c + 1))
		picker_peer_have(pk, pp, c);
	return !was && picker_peer_interesting(pk, pp);
}

void peers_chunk_had(struct picker *pk, uint32_t c)
{
	for (uint32_t i = pk->npeers; i-- > 0;) {
		struct picker_peer *pp = pk->all[i];
		if (!pp->has_all && peer_has(pp, c))
			pp->nwanted--;
	}
}

bool peer_has_unstarted(const struct picker *pk, const struct picker_peer *pp)
{
	const uint64_t *unlisted = rarity_unlisted(pk->rar);
	for (uint32_t k = 0; k < nwords(pk); k++)
		if (pp->bits[k] & ~unlisted[k])
			return true;
	return false;
}

void picker_peer_measure(struct picker *pk, struct picker_peer *pp, uint64_t rate, uint64_t rtt_us)
{
	(void)pk;
	pace_set(&pp->pace, rate, rtt_us);
}

bool picker_peer_snubbed(const struct picker_peer *pp)
{
	return pp->snubbed;
}
