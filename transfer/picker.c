/* The piece picker for one download, part one: chunks and requests. It decides which block to
 * ask which peer for, keeps the pipeline to each peer about two bandwidth-delay products deep
 * (each peer's rate and round trip are transfer/pace.c's), times requests out, runs the endgame
 * and remembers who sent each block so a failed chunk can be pinned on its sender. What each
 * peer has is picker_peers.c's.
 *
 * Chunks nobody has started yet are kept in rarest-first order by transfer/rarity.c (counting
 * the peers with a bitfield; peers that have everything are counted once globally, which shifts
 * every chunk alike and so never reorders). Started chunks leave that order for good and carry
 * per-block request slots; those with unrequested blocks sit on the open list, which
 * picker_fill() drains before it starts a new chunk.
 *
 * It does not touch data, hashes, the wire or the clock: the caller stores blocks, verifies
 * chunks, sends requests and passes the time in. */
#include "transfer/picker_int.h"

#include <stdlib.h>
#include <string.h>

/* A sender's oldest unanswered requests are taken as already on the wire (the session keeps
 * about 32 KiB, two blocks, in its transport): a duplicate of those could not be cancelled, so
 * endgame only weighs the time a block waits behind the rest of its sender's queue. */
#define COMMITTED_BLOCKS 2

void picker_config_default(struct picker_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->chunk_size = 256u * 1024u;
	cfg->random_first = 4;
	cfg->endgame_dups = 2;
	cfg->endgame_speedup = 4;
	cfg->initial_depth = 4;
	cfg->min_depth = 2;
	cfg->max_depth = 256;
	cfg->timeout_min_us = 5000000;
	cfg->timeout_max_us = 60000000;
}

static uint64_t rnd_below(const struct picker *pk, uint64_t n)
{
	return pk->cfg.rand64(pk->cfg.rand_arg) % n;
}

uint32_t picker_nchunks(const struct picker *pk)
{
	return pk->n;
}

uint32_t picker_chunk_length(const struct picker *pk, uint32_t i)
{
	if (i >= pk->n)
		return 0;
	if (i + 1 < pk->n)
		return pk->cfg.chunk_size;
	return (uint32_t)(pk->cfg.total_bytes - (uint64_t)i * pk->cfg.chunk_size);
}

static uint32_t chunk_blocks(const struct picker *pk, uint32_t i)
{
	return (picker_chunk_length(pk, i) + PICKER_BLOCK - 1) / PICKER_BLOCK;
}

static uint32_t block_length(const struct picker *pk, uint32_t i, uint32_t bi)
{
	uint32_t left = picker_chunk_length(pk, i) - bi * PICKER_BLOCK;
	return left < PICKER_BLOCK ? left : PICKER_BLOCK;
}

/* ---- lifetime ---- */

struct picker *picker_new(const struct picker_config *cfg)
{
	if (cfg->total_bytes == 0 || cfg->chunk_size == 0 || cfg->chunk_size % PICKER_BLOCK ||
	    cfg->rand64 == NULL || cfg->endgame_dups < 1 ||
	    cfg->endgame_dups > PICKER_MAX_REQS_PER_BLOCK || cfg->min_depth < 1 ||
	    cfg->max_depth < cfg->min_depth || cfg->initial_depth < 1 ||
	    cfg->timeout_max_us < cfg->timeout_min_us)
		return NULL;
	uint64_t n = (cfg->total_bytes + cfg->chunk_size - 1) / cfg->chunk_size;
	if (n > BITFIELD_MAX_BITS)
		return NULL;
	struct picker *pk = calloc(1, sizeof *pk);
	if (pk == NULL)
		return NULL;
	pk->cfg = *cfg;
	pk->n = (uint32_t)n;
	pk->rar = rarity_new(pk->n, cfg->rand64, cfg->rand_arg);
	pk->state = calloc(n, sizeof *pk->state);
	pk->pc = calloc(n, sizeof *pk->pc);
	if (!pk->rar || !pk->state || !pk->pc) {
		picker_free(pk);
		return NULL;
	}
	return pk;
}

void picker_free(struct picker *pk)
{
	if (pk == NULL)
		return;
	for (uint32_t i = 0; i < pk->npeers; i++)
		free(pk->all[i]);
	free(pk->all);
	for (uint32_t i = 0; pk->pc != NULL && i < pk->n; i++)
		free(pk->pc[i]);
	rarity_free(pk->rar);
	free(pk->state);
	free(pk->pc);
	free(pk);
}

bool picker_have(const struct picker *pk, uint32_t i)
{
	return i < pk->n && pk->state[i] == CH_HAVE;
}

uint32_t picker_chunk_peers(const struct picker *pk, uint32_t i)
{
	return i < pk->n ? rarity_count(pk->rar, i) + pk->nall : 0;
}

bool picker_complete(const struct picker *pk)
{
	return pk->nhave == pk->n;
}

static void mark_have(struct picker *pk, uint32_t c)
{
	pk->state[c] = CH_HAVE;
	pk->nhave++;
	peers_chunk_had(pk, c);
}

int picker_set_have(struct picker *pk, uint32_t i)
{
	if (i >= pk->n || (pk->state[i] != CH_MISSING && pk->state[i] != CH_HAVE))
		return -1;
	if (pk->state[i] == CH_MISSING) {
		rarity_unlist(pk->rar, i);
		mark_have(pk, i);
	}
	return 0;
}

/* ---- the open and active lists ---- */

static void plist_unlink(struct plist *l, struct pchunk *pc)
{
	*(pc->prev ? &pc->prev->next : &l->head) = pc->next;
	*(pc->next ? &pc->next->prev : &l->tail) = pc->prev;
	pc->prev = pc->next = NULL;
}

static void plist_push(struct plist *l, struct pchunk *pc, bool front)
{
	if (front) {
		pc->prev = NULL;
		pc->next = l->head;
		*(l->head ? &l->head->prev : &l->tail) = pc;
		l->head = pc;
	} else {
		pc->next = NULL;
		pc->prev = l->tail;
		*(l->tail ? &l->tail->next : &l->head) = pc;
		l->tail = pc;
	}
}

/* Keep PC on the open list exactly while it has unrequested blocks. A chunk that reopens goes to
 * the front: it was started before anything behind it. */
static void relist(struct picker *pk, struct pchunk *pc)
{
	bool want_open = pc->nunreq > 0;
	if (want_open == pc->in_open)
		return;
	if (want_open)
		plist_push(&pk->open, pc, true);
	else
		plist_unlink(&pk->open, pc);
	pc->in_open = want_open;
}

static void active_link(struct picker *pk, struct pchunk *pc, bool front)
{
	pc->aprev = NULL;
	pc->anext = pk->active;
	if (pk->active != NULL)
		pk->active->aprev = pc;
	pk->active = pc;
	pc->in_open = true;
	plist_push(&pk->open, pc, front);
}

static void active_unlink(struct picker *pk, struct pchunk *pc)
{
	*(pc->aprev ? &pc->aprev->anext : &pk->active) = pc->anext;
	if (pc->anext != NULL)
		pc->anext->aprev = pc->aprev;
	if (pc->in_open)
		plist_unlink(&pk->open, pc);
	pc->in_open = false;
}

static struct pchunk *chunk_start(struct picker *pk, uint32_t c)
{
	uint32_t nb = chunk_blocks(pk, c);
	struct pchunk *pc = calloc(1, sizeof *pc + nb * sizeof pc->b[0]);
	if (pc == NULL)
		return NULL;
	pc->idx = c;
	pc->nblocks = nb;
	pc->nunreq = nb;
	rarity_unlist(pk->rar, c);
	pk->state[c] = CH_ACTIVE;
	pk->pc[c] = pc;
	active_link(pk, pc, false);
	return pc;
}

/* ---- request slots ---- */

static bool blk_unreq(const struct pblock *b)
{
	return !b->got && b->nlive == 0;
}

static int blk_find(const struct pblock *b, const struct picker_peer *pp)
{
	for (int s = 0; s < PICKER_MAX_REQS_PER_BLOCK; s++)
		if (b->req[s] == pp)
			return s;
	return -1;
}

/* Account a change of block BI's unrequested-ness that happened after WAS was sampled. */
static void blk_settle(struct picker *pk, struct pchunk *pc, uint32_t bi, bool was)
{
	bool now = blk_unreq(&pc->b[bi]);
	if (now == was)
		return;
	if (now) {
		pc->nunreq++;
		pc->scan = bi < pc->scan ? bi : pc->scan;
	} else {
		pc->nunreq--;
	}
	relist(pk, pc);
}

/* Stop counting request slot S of block BI as live; FORGET also frees the slot, otherwise it
 * stays as a timed-out request whose block is still welcome. */
static void req_release(struct picker *pk, struct pchunk *pc, uint32_t bi, int s, bool forget)
{
	struct pblock *b = &pc->b[bi];
	bool was = blk_unreq(b);
	if (!(b->late & (1u << s))) {
		b->nlive--;
		b->req[s]->nlive--;
	}
	b->late |= (uint8_t)(1u << s);
	if (forget) {
		b->req[s] = NULL;
		b->late &= (uint8_t)~(1u << s);
	}
	blk_settle(pk, pc, bi, was);
}

static void req_fill(const struct picker *pk, struct picker_req *r, struct picker_peer *pp,
		     uint32_t c, uint32_t bi)
{
	r->peer = pp;
	r->user = pp->user;
	r->chunk = c;
	r->offset = bi * PICKER_BLOCK;
	r->length = block_length(pk, c, bi);
}

/* Record a live request of block BI from PP; false if the block has no free slot. */
static bool req_add(struct picker *pk, struct pchunk *pc, uint32_t bi, struct picker_peer *pp,
		    struct picker_req *out)
{
	struct pblock *b = &pc->b[bi];
	int s = blk_find(b, NULL);
	if (s < 0)
		return false;
	bool was = blk_unreq(b);
	b->req[s] = pp;
	b->seq[s] = pp->sent_n++;
	b->nlive++;
	pp->nlive++;
	if (pc->excl && pc->owner == NULL)
		pc->owner = pp;
	blk_settle(pk, pc, bi, was);
	req_fill(pk, out, pp, pc->idx, bi);
	return true;
}

/* Drop (or, with LATE_ONLY, time out) every request PP holds, and give up exclusive chunks. */
static void release_peer(struct picker *pk, struct picker_peer *pp, bool late_only)
{
	for (struct pchunk *pc = pk->active; pc != NULL; pc = pc->anext) {
		if (pc->owner == pp)
			pc->owner = NULL;
		for (uint32_t bi = 0; bi < pc->nblocks; bi++) {
			int s = blk_find(&pc->b[bi], pp);
			if (s >= 0)
				req_release(pk, pc, bi, s, !late_only);
		}
	}
	pp->pace.probing = false;
}

void picker_peer_remove(struct picker *pk, struct picker_peer *pp)
{
	if (pp == NULL)
		return;
	release_peer(pk, pp, false);
	peers_forget(pk, pp);
}

/* Requests stay outstanding through a choke: the wire answers each one, by a REJECT or, when
 * an UNCHOKE follows quickly, by the block itself; releasing them here would fetch those blocks
 * twice. Exclusive chunks it owns are given up, though: it may stay choked for long. */
void picker_peer_choked(struct picker *pk, struct picker_peer *pp, bool choked)
{
	pp->choked = choked;
	if (!choked)
		return;
	for (struct pchunk *pc = pk->active; pc != NULL; pc = pc->anext)
		if (pc->owner == pp)
			pc->owner = NULL;
}

/* ---- picking ---- */

static bool may_request(const struct pchunk *pc, const struct picker_peer *pp)
{
	return !pc->excl || pc->owner == NULL || pc->owner == pp;
}

static size_t take_chunk(struct picker *pk, struct pchunk *pc, struct picker_peer *pp,
			 struct picker_req *out, size_t want)
{
	size_t n = 0;
	if (!may_request(pc, pp))
		return 0;
	/* A chunk's blocks are a cache line each: skip the leading run already taken. */
	while (pc->scan < pc->nblocks && !blk_unreq(&pc->b[pc->scan]))
		pc->scan++;
	for (uint32_t bi = pc->scan; bi < pc->nblocks && n < want && pc->nunreq > 0; bi++) {
		struct pblock *b = &pc->b[bi];
		if (blk_unreq(b) && blk_find(b, pp) < 0 && req_add(pk, pc, bi, pp, &out[n]))
			n++;
	}
	return n;
}

static size_t take_open(struct picker *pk, struct picker_peer *pp, struct picker_req *out,
			size_t want)
{
	size_t n = 0;
	struct pchunk *next;
	for (struct pchunk *pc = pk->open.head; pc != NULL && n < want; pc = next) {
		next = pc->next;
		if (peer_has(pp, pc->idx))
			n += take_chunk(pk, pc, pp, out + n, want - n);
	}
	return n;
}

/* The unstarted chunk to open for PP: the first it has in availability order (rarest, ties
 * random), or during random-first the first from a random place. O(1) when PP has rare chunks;
 * at worst a scan of the unstarted chunks, which a word-at-a-time test of PP's bitfield against
 * the started ones avoids when PP has none of them. */
static uint32_t pick_new(struct picker *pk, const struct picker_peer *pp)
{
	if (!pp->has_all && !peer_has_unstarted(pk, pp))
		return PICKER_NONE;
	uint32_t span;
	const uint32_t *order = rarity_from(pk->rar, pp->has_all ? 0 : 1, &span);
	if (span == 0)
		return PICKER_NONE;
	uint32_t start = 0;
	if (pk->nhave < pk->cfg.random_first)
		start = (uint32_t)rnd_below(pk, span);
	for (uint32_t k = 0; k < span; k++) {
		uint32_t c = order[(start + k) % span];
		if (peer_has(pp, c))
			return c;
	}
	return PICKER_NONE;
}

bool picker_endgame(const struct picker *pk)
{
	if (pk->nhave == pk->n)
		return false;
	uint32_t unstarted;
	rarity_from(pk->rar, pk->nall > 0 ? 0 : 1, &unstarted);
	if (unstarted > 0)
		return false;
	for (const struct pchunk *pc = pk->open.head; pc != NULL; pc = pc->next)
		if (rarity_count(pk->rar, pc->idx) + pk->nall > 0 && !(pc->excl && pc->owner != NULL))
			return false;
	return true;
}

/* How long until a block PP is asked for now would arrive: a round trip plus its queue. */
static uint64_t peer_eta(const struct picker *pk, const struct picker_peer *pp)
{
	if (pp->pace.rate == 0 || pp->pace.rtt_us == 0)
		return pk->cfg.timeout_min_us;
	return pp->pace.rtt_us + pace_queue_us(&pp->pace, (uint64_t)pp->nlive + 1, PICKER_BLOCK, 0);
}

/* How long the earliest live request for B waits at its peer before it is committed to the
 * wire: a peer answers in order, so each request it has not answered yet that was sent before
 * ours, beyond the COMMITTED_BLOCKS oldest, takes one block time. A peer that has not
 * delivered yet gives 0: nothing says it is slow, and if it has stalled the time-out hands its
 * blocks on anyway. */
static uint64_t block_eta(const struct pblock *b)
{
	uint64_t best = UINT64_MAX;
	for (int s = 0; s < PICKER_MAX_REQS_PER_BLOCK; s++) {
		const struct picker_peer *q = b->req[s];
		if (q == NULL || (b->late & (1u << s)))
			continue;
		if (q->pace.rate == 0)
			return 0;
		int32_t ahead = (int32_t)(b->seq[s] - q->done_n) - COMMITTED_BLOCKS;
		uint64_t t = pace_queue_us(&q->pace, (ahead > 0 ? (uint64_t)ahead : 0) + 1, PICKER_BLOCK, 0);
		best = t < best ? t : best;
	}
	return best;
}

/* Endgame: duplicate outstanding blocks PP can give, least-requested first, up to endgame_dups
 * live requests per block, and only where PP should deliver endgame_speedup times sooner than
 * the block's current request: each duplicate costs a block of bandwidth unless its CANCEL wins
 * the race, so it is spent only where it clearly shortens the tail. */
static size_t take_endgame(struct picker *pk, struct picker_peer *pp, struct picker_req *out,
			   size_t want)
{
	size_t n = 0;
	if (pk->cfg.endgame_speedup == 0)
		return 0;
	for (unsigned level = 1; level < pk->cfg.endgame_dups && n < want; level++)
		for (struct pchunk *pc = pk->active; pc != NULL && n < want; pc = pc->anext) {
			if (!peer_has(pp, pc->idx) || !may_request(pc, pp))
				continue;
			for (uint32_t bi = 0; bi < pc->nblocks && n < want; bi++) {
				struct pblock *b = &pc->b[bi];
				if (!b->got && b->nlive == level && blk_find(b, pp) < 0 &&
				    block_eta(b) / pk->cfg.endgame_speedup > peer_eta(pk, pp) &&
				    req_add(pk, pc, bi, pp, &out[n]))
					n++;
			}
		}
	return n;
}

unsigned picker_peer_depth(const struct picker *pk, const struct picker_peer *pp)
{
	if (pp->snubbed)
		return 1;
	return pace_depth(&pp->pace, PICKER_BLOCK, pk->cfg.initial_depth, pk->cfg.min_depth,
			  pk->cfg.max_depth);
}

size_t picker_fill(struct picker *pk, struct picker_peer *pp, uint64_t now_us,
		   struct picker_req *out, size_t max)
{
	unsigned depth = picker_peer_depth(pk, pp);
	if (pp->choked || pp->nlive >= depth)
		return 0;
	size_t want = depth - pp->nlive;
	if (want > max)
		want = max;
	bool idle = pp->nlive == 0;
	size_t n = take_open(pk, pp, out, want);
	while (n < want) {
		uint32_t c = pick_new(pk, pp);
		struct pchunk *pc = c == PICKER_NONE ? NULL : chunk_start(pk, c);
		if (pc == NULL)
			break;
		n += take_chunk(pk, pc, pp, out + n, want - n);
	}
	if (n < want && picker_endgame(pk))
		n += take_endgame(pk, pp, out + n, want - n);
	if (idle && n > 0)
		pace_busy(&pp->pace, now_us);
	return n;
}

/* ---- answers ---- */

static bool geometry_ok(const struct picker *pk, uint32_t chunk, uint32_t offset, uint32_t length)
{
	if (chunk >= pk->n || offset % PICKER_BLOCK != 0)
		return false;
	uint32_t bi = offset / PICKER_BLOCK;
	return bi < chunk_blocks(pk, chunk) && length == block_length(pk, chunk, bi);
}

enum picker_block picker_block_received(struct picker *pk, struct picker_peer *pp, uint32_t chunk,
					uint32_t offset, uint32_t length, uint64_t now_us,
					struct picker_req *cancel, size_t *ncancel)
{
	*ncancel = 0;
	if (!geometry_ok(pk, chunk, offset, length))
		return PICKER_BLOCK_INVALID;
	pp->done_n++;
	pp->snubbed = false;
	pace_delivered(&pp->pace, length, now_us);
	if (pk->state[chunk] != CH_ACTIVE)
		return PICKER_BLOCK_DUP;
	struct pchunk *pc = pk->pc[chunk];
	uint32_t bi = offset / PICKER_BLOCK;
	struct pblock *b = &pc->b[bi];
	int own = blk_find(b, pp);
	if (own >= 0)
		req_release(pk, pc, bi, own, true);
	if (b->got)
		return PICKER_BLOCK_DUP;
	for (int s = 0; s < PICKER_MAX_REQS_PER_BLOCK; s++) {
		if (b->req[s] == NULL)
			continue;
		req_fill(pk, &cancel[(*ncancel)++], b->req[s], chunk, bi);
		req_release(pk, pc, bi, s, true);
	}
	bool was = blk_unreq(b);
	b->got = true;
	b->sender = pp->id;
	pc->ngot++;
	if (pc->ngot < pc->nblocks) {
		blk_settle(pk, pc, bi, was);
		return PICKER_BLOCK_OK;
	}
	pc->nunreq = 0;
	active_unlink(pk, pc);
	pk->state[chunk] = CH_VERIFY;
	return PICKER_BLOCK_CHUNK_DONE;
}

int picker_reject(struct picker *pk, struct picker_peer *pp, uint32_t chunk, uint32_t offset,
		  uint32_t length)
{
	if (!geometry_ok(pk, chunk, offset, length))
		return -1;
	pp->done_n++;
	if (pk->state[chunk] != CH_ACTIVE)
		return -1;
	struct pchunk *pc = pk->pc[chunk];
	uint32_t bi = offset / PICKER_BLOCK;
	int s = blk_find(&pc->b[bi], pp);
	if (s < 0)
		return -1;
	req_release(pk, pc, bi, s, true);
	return 0;
}

uint64_t picker_tick(struct picker *pk, uint64_t now_us)
{
	uint64_t next = UINT64_MAX;
	for (uint32_t i = pk->npeers; i-- > 0;) {
		struct picker_peer *pp = pk->all[i];
		if (pp->nlive == 0)
			continue;
		uint64_t due = pp->pace.last_progress + pace_timeout(&pp->pace, pp->nlive, PICKER_BLOCK,
								     pk->cfg.timeout_min_us,
								     pk->cfg.timeout_max_us);
		if (now_us >= due) {
			pp->snubbed = true;
			release_peer(pk, pp, true);
		} else if (due < next) {
			next = due;
		}
	}
	return next;
}

/* ---- integrity ---- */

size_t picker_block_senders(const struct picker *pk, uint32_t chunk, uint64_t *ids)
{
	if (chunk >= pk->n || pk->state[chunk] != CH_VERIFY)
		return 0;
	const struct pchunk *pc = pk->pc[chunk];
	for (uint32_t bi = 0; bi < pc->nblocks; bi++)
		ids[bi] = pc->b[bi].sender;
	return pc->nblocks;
}

enum picker_verdict picker_chunk_verified(struct picker *pk, uint32_t chunk, bool ok,
					  uint64_t *culprit)
{
	if (chunk >= pk->n || pk->state[chunk] != CH_VERIFY)
		return PICKER_VERIFY_INVALID;
	struct pchunk *pc = pk->pc[chunk];
	if (ok) {
		free(pc);
		pk->pc[chunk] = NULL;
		mark_have(pk, chunk);
		return PICKER_VERIFY_OK;
	}
	bool sole = true;
	for (uint32_t bi = 0; bi < pc->nblocks; bi++) {
		sole = sole && pc->b[bi].sender == pc->b[0].sender;
		pc->b[bi].got = false;
	}
	if (sole && culprit != NULL)
		*culprit = pc->b[0].sender;
	for (uint32_t bi = 0; bi < pc->nblocks; bi++)
		pc->b[bi].sender = 0;
	pc->ngot = 0;
	pc->nunreq = pc->nblocks;
	pc->scan = 0;
	pc->excl = true;
	pc->owner = NULL;
	pk->state[chunk] = CH_ACTIVE;
	active_link(pk, pc, true);
	return sole ? PICKER_VERIFY_SOLE : PICKER_VERIFY_SHARED;
}
