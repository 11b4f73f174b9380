/* The peer-wire session core, part four: super-seeding, for a session that starts with every
 * chunk and is asked to (session_config.super_seed). When the first seed's uplink is what the
 * swarm waits on, every chunk it sends twice is time lost, and leechers cannot help it: each
 * asks for what is rarest in its own view, and for partly fetched chunks first. So the seed
 * decides instead, by what it shows: each peer is told (BITFIELD, then HAVEs) only of the
 * chunks chosen for it, and a peer can only ask for what it was shown.
 *   - A peer we upload to is kept a few chunks ahead that it has not asked for yet (more while
 *     it queues more requests); any other peer is kept one unfinished chunk, so that it stays
 *     interested and the choker can take it in turn.
 *   - The chunks chosen are first those nobody has been shown, in random order, so no chunk
 *     leaves twice before every chunk has been offered once. A chunk a peer was shown but
 *     never asked for (we choked it first) stays shown to it: the peer may still ask.
 *   - Once all have been offered, each choice is the chunk the fewest of our peers have, among
 *     those the peer lacks and was not shown, a chunk on its way counting as had: chunks shown
 *     to peers we then choked, and chunks left half sent, go out that way. On its way means
 *     being sent to a peer we upload to, or reserved for or asked by such a peer: a chunk
 *     shown to two peers we upload to at once would leave us twice. A chunk counts as sent
 *     when one peer got all its blocks, not when pieces of it went to several.
 * Once every chunk is out (some peer has it, or we sent all of it), nothing only we could give
 * is left: the session shows everything to everyone and seeds as usual.
 * Requests are served whatever was shown; a peer can only know of chunks we showed it. */
#include "transfer/session_int.h"

#include <stdlib.h>
#include <string.h>

struct seeding {
	uint32_t *pool;         /* chunks nobody has been shown, in no order */
	uint32_t npool;
	uint32_t *where;        /* where[c]: c's index in the pool, or UINT32_MAX */
	uint16_t *sent;         /* sent[c]: blocks of c sent to to[c] since it became to[c] */
	uint32_t *to;           /* to[c]: the slot of the peer we last sent a block of c to */
	uint8_t *out;           /* out[c]: some peer has c, or we sent all of it to one peer */
	uint32_t nout;
	uint8_t *claimed;       /* scratch for rarest_for(): reserved for or asked by a peer we
				 * do not choke */
};

int seed_start(struct session *s)
{
	uint32_t n = manifest_chunk_count(s->m);
	struct seeding *sd = calloc(1, sizeof *sd);
	if (sd == NULL)
		return -1;
	s->sd = sd;
	sd->pool = malloc(n * sizeof *sd->pool);
	sd->where = malloc(n * sizeof *sd->where);
	sd->sent = calloc(n, sizeof *sd->sent);
	sd->to = malloc(n * sizeof *sd->to);
	sd->out = calloc(n, sizeof *sd->out);
	sd->claimed = calloc(n, sizeof *sd->claimed);
	if (!sd->pool || !sd->where || !sd->sent || !sd->to || !sd->out || !sd->claimed) {
		seed_free(s);
		return -1;
	}
	for (uint32_t c = 0; c < n; c++) {
		sd->pool[c] = sd->where[c] = c;
		sd->to[c] = UINT32_MAX;
	}
	sd->npool = n;
	return 0;
}

void seed_free(struct session *s)
{
	struct seeding *sd = s->sd;
	if (sd == NULL)
		return;
	free(sd->pool);
	free(sd->where);
	free(sd->sent);
	free(sd->to);
	free(sd->out);
	free(sd->claimed);
	free(sd);
	s->sd = NULL;
}

static uint32_t blocks_of(const struct session *s, uint32_t c)
{
	return (picker_chunk_length(s->pk, c) + PICKER_BLOCK - 1) / PICKER_BLOCK;
}

static void pool_remove(struct seeding *sd, uint32_t c)
{
	uint32_t i = sd->where[c];
	if (i == UINT32_MAX)
		return;
	uint32_t last = sd->pool[--sd->npool];
	sd->pool[i] = last;
	sd->where[last] = i;
	sd->where[c] = UINT32_MAX;
}

/* Show every peer every chunk, and stop super-seeding. */
static void show_all(struct session *s)
{
	uint32_t n = manifest_chunk_count(s->m);
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *p = sess_slot(s, i);
		if (p == NULL || p->shown == NULL)
			continue;
		/* One whose BITFIELD is not out yet gets the full one (seed_shown()). */
		for (uint32_t c = 0; p->sent_bitfield && c < n; c++)
			if (!bitfield_test(p->shown, c) && !picker_peer_has(s->pk, p->pp, c))
				sess_send_have(s, p, c);
		bitfield_free(p->shown);
		p->shown = NULL;
		p->nfresh = 0;
	}
	seed_free(s);
	sess_log(s, "super-seeding over: every chunk is out");
}

static void mark_out(struct session *s, uint32_t c)
{
	struct seeding *sd = s->sd;
	pool_remove(sd, c);
	if (sd->out[c])
		return;
	sd->out[c] = 1;
	if (++sd->nout == manifest_chunk_count(s->m))
		show_all(s);
}

/* Whether C is on its way to a peer: sent whole, or being sent to one we do not choke. Such a
 * chunk is as good as had by one peer; one we stopped sending half-way is not. */
static bool on_its_way(const struct session *s, uint32_t c)
{
	const struct seeding *sd = s->sd;
	if (sd->sent[c] == 0)
		return false;
	if (sd->sent[c] >= blocks_of(s, c))
		return true;
	const struct peer *q = sess_slot(s, sd->to[c]);
	return q != NULL && !q->am_choking;
}

/* Mark the chunks a peer we upload to has been given and not got yet, or has asked for: they
 * are as good as on their way, and showing them to a second peer would have both ask us. A
 * chunk reserved for a choked peer is not: that peer may wait for its turn long. */
static void mark_claims(struct session *s)
{
	struct seeding *sd = s->sd;
	memset(sd->claimed, 0, manifest_chunk_count(s->m));
	for (uint32_t i = 0; i < s->nslots; i++) {
		const struct peer *q = sess_slot(s, i);
		if (q == NULL || q->shown == NULL || q->am_choking)
			continue;
		for (unsigned f = 0; f < q->nfresh; f++)
			sd->claimed[q->fresh[f]] = 1;
		for (unsigned r = q->rq_head; r < q->rq_end; r++)
			sd->claimed[q->rq[r].chunk] = 1;
	}
}

/* Among the chunks P lacks and was not shown, the one the fewest of our peers have, ties at
 * random; UINT32_MAX if there is none. O(chunks + peers), once per chunk shown. */
static uint32_t rarest_for(struct session *s, const struct peer *p)
{
	uint32_t n = manifest_chunk_count(s->m), best = UINT32_MAX, best_n = UINT32_MAX;
	uint64_t ties = 0;
	mark_claims(s);
	for (uint32_t c = 0; c < n; c++) {
		if (bitfield_test(p->shown, c) || picker_peer_has(s->pk, p->pp, c))
			continue;
		uint32_t k = picker_chunk_peers(s->pk, c);
		if (k == 0 && (on_its_way(s, c) || s->sd->claimed[c]))
			k = 1;
		if (k < best_n) {
			best = c;
			best_n = k;
			ties = 1;
		} else if (k == best_n && s->env.rand64(s->env.arg) % ++ties == 0) {
			best = c;
		}
	}
	return best;
}

/* Choose one more chunk for P and tell P. Return false if there is none to show. */
static bool show_one(struct session *s, struct peer *p)
{
	struct seeding *sd = s->sd;
	uint32_t c;
	if (sd->npool > 0) {
		c = sd->pool[s->env.rand64(s->env.arg) % sd->npool];
		pool_remove(sd, c);
	} else {
		c = rarest_for(s, p);
		if (c == UINT32_MAX)
			return false;
	}
	bitfield_set(p->shown, c);
	p->fresh[p->nfresh++] = c;
	if (p->sent_bitfield)
		sess_send_have(s, p, c);
	return true;
}

/* Whether P lacks a chunk we showed it, that is whether it is (or will be) interested. */
static bool shows_wanted(const struct session *s, const struct peer *p)
{
	for (uint32_t c = bitfield_next_set(p->shown, 0); c != BITFIELD_NONE;
	     c = bitfield_next_set(p->shown, c + 1))
		if (!picker_peer_has(s->pk, p->pp, c))
			return true;
	return false;
}

/* Keep P as many unasked chunks ahead as its queue with us suggests, or, while choked, one it
 * lacks. A chunk it got from someone else is not ahead any more. */
static void top_up(struct session *s, struct peer *p)
{
	for (unsigned i = 0; i < p->nfresh;)
		if (picker_peer_has(s->pk, p->pp, p->fresh[i]))
			p->fresh[i] = p->fresh[--p->nfresh];
		else
			i++;
	if (p->am_choking) {
		if (p->nfresh == 0 && !shows_wanted(s, p))
			show_one(s, p);
		return;
	}
	unsigned want = 2 + (p->rq_end - p->rq_head) / (manifest_chunk_size(s->m) / PICKER_BLOCK);
	if (want > SEED_FRESH_MAX)
		want = SEED_FRESH_MAX;
	while (p->nfresh < want && show_one(s, p))
		;
}

int seed_peer_ready(struct session *s, struct peer *p)
{
	p->shown = bitfield_new(manifest_chunk_count(s->m));
	if (p->shown == NULL)
		return -1;
	top_up(s, p);
	return 0;
}

const struct bitfield *seed_shown(const struct session *s, const struct peer *p)
{
	return p->shown != NULL ? p->shown : s->have;
}

void seed_request(struct session *s, struct peer *p, uint32_t chunk)
{
	if (p->shown == NULL)
		return;
	for (unsigned i = 0; i < p->nfresh; i++)
		if (p->fresh[i] == chunk) {
			p->fresh[i] = p->fresh[--p->nfresh];
			break;
		}
	top_up(s, p);
}

void seed_sent(struct session *s, struct peer *p, uint32_t chunk)
{
	struct seeding *sd = s->sd;
	if (p->shown == NULL)
		return;
	/* Blocks that went to another peer make no whole copy with these: count afresh. */
	if (sd->to[chunk] != p->slot)
		sd->sent[chunk] = 0;
	if (sd->sent[chunk] < UINT16_MAX)
		sd->sent[chunk]++;
	sd->to[chunk] = p->slot;
	if (sd->sent[chunk] >= blocks_of(s, chunk))
		mark_out(s, chunk);
}

void seed_choked(struct session *s, struct peer *p, bool choked)
{
	if (p->shown == NULL)
		return;
	/* What it has not asked for is its own no longer; it still sees it. */
	if (choked)
		p->nfresh = 0;
	top_up(s, p);
}

void seed_dull(struct session *s, struct peer *p)
{
	if (p->shown != NULL)
		top_up(s, p);
}

void seed_have(struct session *s, uint32_t chunk)
{
	if (s->sd != NULL)
		mark_out(s, chunk);
}

void seed_bitfield(struct session *s, const struct bitfield *bf)
{
	for (uint32_t c = bitfield_next_set(bf, 0); s->sd != NULL && c != BITFIELD_NONE;
	     c = bitfield_next_set(bf, c + 1))
		mark_out(s, c);
}

void seed_peer_lost(struct session *s, struct peer *p)
{
	(void)s;
	bitfield_free(p->shown);
	p->shown = NULL;
	p->nfresh = 0;
}
