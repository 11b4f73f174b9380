/* The peer-wire session core, part two: chunk traffic. What peers have (BITFIELD, HAVE) feeds the
 * picker and our interest; our requests and their answers (every REQUEST gets exactly one BLOCK
 * or REJECT, so a cancelled request stays on the books until its answer, and any BLOCK or REJECT
 * that matches no open request is a fault); the upload queue, served in order and paced by the
 * env's backlog; choking; integrity, where a failed chunk's senders and block digests are kept
 * until the picker's single-peer re-fetch yields a good copy that shows who lied; and ending or
 * banning a peer, which unwinds its trade (and hands a manifest fetch it served to another).
 * It never reads or hashes data itself: the env stores, reads and verifies. */
#include "transfer/session_int.h"

#include <stdlib.h>
#include <string.h>

#define FILL_BATCH 32
#define CHOKE_BATCH_US 100000

static uint32_t nblocks_of(const struct session *s, uint32_t chunk)
{
	return (picker_chunk_length(s->pk, chunk) + PICKER_BLOCK - 1) / PICKER_BLOCK;
}

/* ---- queues: live entries are v[head..end); the front is compacted away on growth ---- */

static int rq_push(struct peer *p, const struct wire_span *sp)
{
	if (p->rq_end == p->rq_cap) {
		if (p->rq_head > 0) {
			memmove(p->rq, p->rq + p->rq_head, (p->rq_end - p->rq_head) * sizeof *p->rq);
			p->rq_end -= p->rq_head;
			p->rq_head = 0;
		} else {
			unsigned cap = p->rq_cap ? p->rq_cap * 2 : 8;
			struct wire_span *n = realloc(p->rq, cap * sizeof *n);
			if (n == NULL)
				return -1;
			p->rq = n;
			p->rq_cap = cap;
		}
	}
	p->rq[p->rq_end++] = *sp;
	return 0;
}

static int out_push(struct peer *p, uint32_t chunk, uint32_t offset, uint32_t length)
{
	if (p->out_end == p->out_cap) {
		if (p->out_head > 0) {
			memmove(p->out, p->out + p->out_head,
				(p->out_end - p->out_head) * sizeof *p->out);
			p->out_end -= p->out_head;
			p->out_head = 0;
		} else {
			unsigned cap = p->out_cap ? p->out_cap * 2 : 8;
			struct out_req *n = realloc(p->out, cap * sizeof *n);
			if (n == NULL)
				return -1;
			p->out = n;
			p->out_cap = cap;
		}
	}
	p->out[p->out_end++] = (struct out_req){ chunk, offset, length, false };
	return 0;
}

/* Close the open request matching SP. Return 0, or -1 if there is none. Answers come in order
 * almost always, so the search usually stops at the front. */
static int out_answer(struct peer *p, uint32_t chunk, uint32_t offset, uint32_t length)
{
	for (unsigned i = p->out_head; i < p->out_end; i++) {
		struct out_req *r = &p->out[i];
		if (r->answered || r->chunk != chunk || r->offset != offset || r->length != length)
			continue;
		r->answered = true;
		while (p->out_head < p->out_end && p->out[p->out_head].answered)
			p->out_head++;
		if (p->out_head == p->out_end)
			p->out_head = p->out_end = 0;
		return 0;
	}
	return -1;
}

/* ---- interest and requests ---- */

static void exch_fill(struct session *s, struct peer *p)
{
	if (p->pp == NULL || p->peer_choking || !p->am_interested)
		return;
	struct picker_req r[FILL_BATCH];
	size_t n;
	do {
		n = picker_fill(s->pk, p->pp, s->now, r, FILL_BATCH);
		for (size_t i = 0; i < n; i++) {
			if (out_push(p, r[i].chunk, r[i].offset, r[i].length) < 0) {
				picker_reject(s->pk, p->pp, r[i].chunk, r[i].offset, r[i].length);
				continue;
			}
			sess_send_span(s, p, WIRE_REQUEST, r[i].chunk, r[i].offset, r[i].length);
		}
	} while (n == FILL_BATCH);
}

void exch_fill_all(struct session *s)
{
	if (s->pk == NULL)
		return;
	for (uint32_t i = 0; i < s->nslots; i++)
		if (sess_slot(s, i))
			exch_fill(s, &s->peers[i]);
}

static void set_interest(struct session *s, struct peer *p, bool want)
{
	if (want == p->am_interested)
		return;
	p->am_interested = want;
	sess_send_bare(s, p, want ? WIRE_INTERESTED : WIRE_NOT_INTERESTED);
	choker_peer_interesting(s->ch, p->cp, want, s->now);
	if (want)
		exch_fill(s, p);
}

/* Interest comes at once; it goes only after lingering (or at once when we are complete). */
static void update_interest(struct session *s, struct peer *p)
{
	bool want = p->pp != NULL && picker_peer_interesting(s->pk, p->pp);
	if (want || !p->am_interested || session_complete(s) || s->cfg.interest_linger_us == 0) {
		p->dull_since = 0;
		set_interest(s, p, want);
	} else if (p->dull_since == 0) {
		p->dull_since = s->now;
	}
}

uint64_t exch_interest_timer(struct session *s, struct peer *p)
{
	if (p->dull_since == 0)
		return UINT64_MAX;
	if (p->pp && picker_peer_interesting(s->pk, p->pp)) {
		p->dull_since = 0;
		return UINT64_MAX;
	}
	uint64_t due = p->dull_since + s->cfg.interest_linger_us;
	if (s->now < due)
		return due;
	p->dull_since = 0;
	set_interest(s, p, false);
	return UINT64_MAX;
}

bool session_complete(const struct session *s)
{
	return s->have && bitfield_all(s->have);
}

/* Both sides have everything: the connection has nothing left to carry. */
static bool both_done(const struct session *s, const struct peer *p)
{
	return p->pp && picker_peer_complete(s->pk, p->pp) && session_complete(s);
}

static int have_apply(struct session *s, struct peer *p, uint32_t chunk)
{
	int rc = picker_peer_have(s->pk, p->pp, chunk);
	if (rc < 0)
		return -1;
	seed_have(s, chunk);
	if (rc == 1) {
		p->dull_since = 0;
		if (p->am_interested)
			exch_fill(s, p);
		else
			set_interest(s, p, true);
	}
	if (both_done(s, p)) {
		sess_drop(s, p, SESSION_CLOSE_DONE);
		return 1;
	}
	return 0;
}

static int bitfield_apply(struct session *s, struct peer *p, const uint8_t *bits, uint32_t len)
{
	struct bitfield *bf = bitfield_new(manifest_chunk_count(s->m));
	if (bf == NULL || bitfield_decode(bf, bits, len) < 0) {
		bitfield_free(bf);
		return -1;
	}
	if (bitfield_all(bf))
		picker_peer_have_all(s->pk, p->pp);
	else
		picker_peer_bitfield(s->pk, p->pp, bf);
	seed_bitfield(s, bf);
	bitfield_free(bf);
	if (both_done(s, p)) {
		sess_drop(s, p, SESSION_CLOSE_DONE);
		return 1;
	}
	update_interest(s, p);
	return 0;
}

static int remember_pid(struct session *s, struct peer *p)
{
	struct pid_ident *n = realloc(s->pids, (s->next_pid + 1) * sizeof *n);
	if (n == NULL)
		return -1;
	s->pids = n;
	p->pid = s->next_pid++;
	memcpy(n[p->pid].id, p->id, WIRE_PEER_ID_LEN);
	memcpy(n[p->pid].key, p->key, SESSION_KEY_LEN);
	return 0;
}

int exch_peer_ready(struct session *s, struct peer *p)
{
	if (remember_pid(s, p) < 0 ||
	    (p->pp = picker_peer_add(s->pk, p->pid, p)) == NULL) {
		sess_drop(s, p, SESSION_CLOSE_FULL);
		return 1;
	}
	if (!p->peer_choking)
		picker_peer_choked(s->pk, p->pp, false);
	if (s->sd && seed_peer_ready(s, p) < 0) {
		sess_drop(s, p, SESSION_CLOSE_FULL);
		return 1;
	}
	struct bwriter w;
	bw_init(&w, s->frame, WIRE_MAX_FRAME);
	if (wire_put_bitfield(&w, seed_shown(s, p)) > 0)
		sess_send(s, p, s->frame, w.len);
	p->sent_bitfield = true;
	int rc = 0;
	if (p->early_bits)
		rc = bitfield_apply(s, p, p->early_bits, p->early_len);
	for (uint32_t i = 0; rc == 0 && i < p->nearly; i++)
		rc = have_apply(s, p, p->early_haves[i]);
	if (rc != 0)
		return rc;
	free(p->early_bits);
	free(p->early_haves);
	p->early_bits = NULL;
	p->early_haves = NULL;
	p->nearly = 0;
	wd_peer_ready(s, p);
	return 0;
}

int exch_ready_all(struct session *s, struct peer *cur)
{
	int gone = 0;
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *q = sess_slot(s, i);
		if (q == NULL || !q->hs_got)
			continue;
		int rc = exch_peer_ready(s, q);
		if (rc < 0)
			sess_drop(s, q, SESSION_CLOSE_PROTOCOL);
		if (rc != 0 && q == cur)
			gone = 1;
	}
	return gone;
}

static void exch_peer_forget(struct session *s, struct peer *p)
{
	seed_peer_lost(s, p);
	if (p->pp)
		picker_peer_remove(s->pk, p->pp);
	if (p->cp) {
		choker_peer_remove(s->ch, p->cp);
		s->nchoker--;
	}
	p->pp = NULL;
	p->cp = NULL;
}

void sess_forget(struct session *s, struct peer *p)
{
	exch_peer_forget(s, p);
	mf_peer_lost(s, p);
	s->live--;
	sess_peer_free(p);
}

void sess_drop(struct session *s, struct peer *p, enum session_close why)
{
	void *conn = p->conn;
	sess_forget(s, p);
	s->env.close(s->env.arg, conn, why);
	/* Requests the peer held are free again: hand them to the others. */
	exch_fill_all(s);
}

int exch_bitfield(struct session *s, struct peer *p, const uint8_t *bits, uint32_t len)
{
	if (p->got_bitfield)
		return -1;
	p->got_bitfield = true;
	p->interest_at = s->now;
	if (s->m)
		return bitfield_apply(s, p, bits, len);
	/* We cannot judge it before we know the chunk count: keep it (the dispatcher asks this
	 * peer, who has the manifest, for it). */
	p->early_bits = malloc(len);
	if (p->early_bits == NULL)
		return -1;
	memcpy(p->early_bits, bits, len);
	p->early_len = len;
	return 0;
}

int exch_have(struct session *s, struct peer *p, uint32_t chunk)
{
	if (!p->got_bitfield)
		return -1;
	if (s->m)
		return have_apply(s, p, chunk);
	if (chunk >= BITFIELD_MAX_BITS || p->nearly >= BITFIELD_MAX_BITS)
		return -1;
	if (p->nearly == p->early_cap) {
		uint32_t cap = p->early_cap ? p->early_cap * 2 : 16;
		uint32_t *n = realloc(p->early_haves, cap * sizeof *n);
		if (n == NULL)
			return -1;
		p->early_haves = n;
		p->early_cap = cap;
	}
	p->early_haves[p->nearly++] = chunk;
	return 0;
}

void exch_interested(struct session *s, struct peer *p, bool interested)
{
	p->peer_interested = interested;
	p->interest_at = s->now;
	if (!interested)
		seed_dull(s, p);
	if (!s->cfg.no_upload)
		choker_peer_interested(s->ch, p->cp, interested, s->now);
	if (interested && p->am_choking)
		lend_arm(s);
}

void exch_choked(struct session *s, struct peer *p, bool choked)
{
	p->peer_choking = choked;
	if (p->pp == NULL)
		return;
	picker_peer_choked(s->pk, p->pp, choked);
	if (!choked)
		exch_fill(s, p);
}

/* ---- upload ---- */

const uint8_t session_read_later;

/* Answer request SP with its block, or a REJECT. Return false if the env has the bytes only
 * later (SESSION_READ_LATER): nothing was sent and the request stays. */
static bool send_block(struct session *s, struct peer *p, const struct wire_span *sp)
{
	const uint8_t *data = s->env.read(s->env.arg, sp->chunk, sp->offset, sp->length);
	if (data == SESSION_READ_LATER)
		return false;
	if (data == NULL) {
		sess_send_span(s, p, WIRE_REJECT, sp->chunk, sp->offset, sp->length);
		return true;
	}
	uint8_t head[WIRE_BLOCK_HEADER_LEN];
	struct bwriter w;
	bw_init(&w, head, sizeof head);
	wire_put_block_header(&w, sp->chunk, sp->offset, sp->length);
	s->env.send(s->env.arg, p->conn, head, w.len, data, sp->length);
	p->serving = sp->chunk;
	s->last_push = s->now;
	seed_sent(s, p, sp->chunk);
	p->last_sent = s->now;
	s->st.uploaded += sp->length;
	p->traded_at = s->now;
	choker_peer_sent(s->ch, p->cp, sp->length, s->now);
	return true;
}

/* Whether the request at the head of P's queue may be served: not while we choke P, except
 * that a super-seed finishes the chunk it was sending (see exch_set_choke()). */
static bool may_serve(const struct peer *p)
{
	return !p->am_choking || p->rq[p->rq_head].chunk == p->serving;
}

void exch_serve(struct session *s, struct peer *p)
{
	while (p->rq_head < p->rq_end && may_serve(p) &&
	       s->env.backlog(s->env.arg, p->conn) < s->cfg.send_low_water) {
		struct wire_span sp = p->rq[p->rq_head++];
		if (!send_block(s, p, &sp)) {
			p->rq_head--; /* in order: what follows waits for this block */
			break;
		}
	}
	if (p->rq_head == p->rq_end) {
		p->rq_head = p->rq_end = 0;
		lend_arm(s);
	}
}

static void exch_set_choke(struct session *s, struct peer *p, bool choke)
{
	if (p->am_choking == choke)
		return;
	p->am_choking = choke;
	p->ask_timing = !choke;
	p->unchoked_at = s->now;
	sess_send_bare(s, p, choke ? WIRE_CHOKE : WIRE_UNCHOKE);
	seed_choked(s, p, choke);
	if (!choke) {
		exch_serve(s, p);
		return;
	}
	/* A super-seed's chunk half sent is a chunk only this peer can finish and only we can
	 * feed: the requests for the rest of it are still served, the others refused. */
	unsigned kept = p->rq_head;
	for (unsigned i = p->rq_head; i < p->rq_end; i++) {
		const struct wire_span *q = &p->rq[i];
		if (p->shown != NULL && q->chunk == p->serving)
			p->rq[kept++] = *q;
		else
			sess_send_span(s, p, WIRE_REJECT, q->chunk, q->offset, q->length);
	}
	p->rq_end = kept;
	if (p->rq_head == p->rq_end)
		p->rq_head = p->rq_end = 0;
}

/* Apply whatever the choker decides now. */
void exch_choke_now(struct session *s, uint64_t now)
{
	const struct choker_change *chg;
	size_t n = choker_tick(s->ch, now, &chg);
	s->choke_last = now;
	if (n == 0)
		return;
	/* Applying a change talks to the choker (bytes sent), which may end the list's life. */
	struct choker_change *copy = malloc(n * sizeof *copy);
	if (copy == NULL)
		return;
	memcpy(copy, chg, n * sizeof *copy);
	for (size_t i = 0; i < n; i++)
		exch_set_choke(s, copy[i].user, copy[i].choke);
	free(copy);
}

void sess_choke_run(struct session *s, uint64_t now)
{
	/* With nobody to choke there is nothing to decide (and the choker need not be asked).
	 * Interest changes that come within CHOKE_BATCH_US of the last decision wait for the next
	 * input or tick, so a burst of them is decided once rather than once each. */
	if (s->nchoker == 0 || now < s->choke_last + CHOKE_BATCH_US ||
	    choker_next_deadline(s->ch) > now)
		return;
	exch_choke_now(s, now);
}

int exch_request(struct session *s, struct peer *p, const struct wire_span *sp)
{
	if (s->m == NULL || !bitfield_test(s->have, sp->chunk) ||
	    sp->offset + sp->length > manifest_chunk_len(s->m, sp->chunk))
		return -1;
	if (wd_refuse(s, p, sp))
		return 0;
	if (p->am_choking || p->rq_end - p->rq_head >= s->cfg.max_queued || rq_push(p, sp) < 0) {
		sess_send_span(s, p, WIRE_REJECT, sp->chunk, sp->offset, sp->length);
		return 0;
	}
	if (p->ask_timing)
		lend_asked(s, p);
	p->asked_at = s->now;
	seed_request(s, p, sp->chunk);
	if (s->env.will_read)
		s->env.will_read(s->env.arg, sp->chunk);
	exch_serve(s, p);
	return 0;
}

int exch_cancel(struct session *s, struct peer *p, const struct wire_span *sp)
{
	for (unsigned i = p->rq_head; i < p->rq_end; i++) {
		struct wire_span *q = &p->rq[i];
		if (q->chunk == sp->chunk && q->offset == sp->offset && q->length == sp->length) {
			memmove(q, q + 1, (p->rq_end - i - 1) * sizeof *q);
			p->rq_end--;
			sess_send_span(s, p, WIRE_REJECT, sp->chunk, sp->offset, sp->length);
			return 0;
		}
	}
	/* Already answered (the BLOCK crossed the CANCEL) or never asked: nothing to do either way. */
	return 0;
}

/* ---- download ---- */

int exch_reject(struct session *s, struct peer *p, const struct wire_span *sp)
{
	if (out_answer(p, sp->chunk, sp->offset, sp->length) < 0)
		return -1;
	/* The picker may have released it already (choke, time-out, cancel): that is fine. */
	if (p->pp)
		picker_reject(s->pk, p->pp, sp->chunk, sp->offset, sp->length);
	return 0;
}

static struct blame *blame_find(struct session *s, uint32_t chunk)
{
	for (struct blame *b = s->blames; b; b = b->next)
		if (b->chunk == chunk)
			return b;
	return NULL;
}

int exch_block(struct session *s, struct peer *p, const struct wire_block *b)
{
	if (p->pp == NULL || out_answer(p, b->chunk, b->offset, b->len) < 0)
		return -1;
	struct picker_req cancel[PICKER_MAX_REQS_PER_BLOCK];
	size_t ncancel = 0;
	enum picker_block r = picker_block_received(s->pk, p->pp, b->chunk, b->offset, b->len,
						    s->now, cancel, &ncancel);
	if (r == PICKER_BLOCK_INVALID)
		return -1;
	choker_peer_received(s->ch, p->cp, b->len, s->now);
	p->traded_at = s->now;
	if (r == PICKER_BLOCK_DUP) {
		s->st.duplicate += b->len;
	} else {
		s->env.store(s->env.arg, p->conn, b->chunk, b->offset, b->data, b->len);
		s->st.downloaded += b->len;
	}
	for (size_t i = 0; i < ncancel; i++)
		sess_send_span(s, cancel[i].user, WIRE_CANCEL, cancel[i].chunk, cancel[i].offset,
			       cancel[i].length);
	if (r == PICKER_BLOCK_CHUNK_DONE)
		s->env.verify(s->env.arg, b->chunk, blame_find(s, b->chunk) != NULL);
	exch_fill(s, p);
	return 0;
}

/* ---- integrity ---- */

static void blame_unlink(struct session *s, struct blame *b)
{
	struct blame **pp = &s->blames;
	while (*pp != b)
		pp = &(*pp)->next;
	*pp = b->next;
	free(b->sender);
	free(b->digest);
	free(b);
}

void exch_blames_free(struct session *s)
{
	while (s->blames)
		blame_unlink(s, s->blames);
}

bool exch_banned(const struct session *s, const uint8_t *key)
{
	for (uint32_t i = 0; i < s->nbanned; i++)
		if (memcmp(s->banned[i], key, SESSION_KEY_LEN) == 0)
			return true;
	return false;
}

void sess_ban(struct session *s, const uint8_t *key, const uint8_t *id)
{
	if (exch_banned(s, key))
		return;
	uint8_t (*nb)[SESSION_KEY_LEN] = realloc(s->banned, (s->nbanned + 1) * sizeof *nb);
	if (nb == NULL)
		return;
	s->banned = nb;
	memcpy(s->banned[s->nbanned++], key, SESSION_KEY_LEN);
	s->st.bans++;
	sess_log(s, "banned a peer for corrupt data");
	if (s->env.ban)
		s->env.ban(s->env.arg, id);
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *q = sess_slot(s, i);
		if (q && memcmp(q->key, key, SESSION_KEY_LEN) == 0 && (q->keyed || q->hs_got))
			sess_drop(s, q, SESSION_CLOSE_BANNED);
	}
}

/* A peer that withdrew CHUNK sent what its changed file held: no lie. */
static void ban_pid(struct session *s, uint64_t pid, uint32_t chunk)
{
	if (pid > 0 && pid < s->next_pid && !wd_excused(s, pid, chunk))
		sess_ban(s, s->pids[pid].key, s->pids[pid].id);
}

/* Keep the failed copy's senders and block digests. The picker re-fetches the chunk from one
 * peer, so at most one failed copy per chunk is ever shared among senders. */
static void blame_keep(struct session *s, uint32_t chunk, const uint64_t *sender,
		       const uint8_t *digests)
{
	struct blame *old = blame_find(s, chunk);
	if (old)
		blame_unlink(s, old);
	uint32_t nb = nblocks_of(s, chunk);
	struct blame *b = calloc(1, sizeof *b);
	if (b == NULL)
		return;
	b->chunk = chunk;
	b->nblocks = nb;
	b->sender = malloc(nb * sizeof *b->sender);
	b->digest = malloc((size_t)nb * SESSION_DIGEST_LEN);
	if (b->sender == NULL || b->digest == NULL) {
		free(b->sender);
		free(b->digest);
		free(b);
		return;
	}
	memcpy(b->sender, sender, nb * sizeof *sender);
	memcpy(b->digest, digests, (size_t)nb * SESSION_DIGEST_LEN);
	b->next = s->blames;
	s->blames = b;
}

static void chunk_failed(struct session *s, uint32_t chunk, const uint8_t *digests)
{
	uint32_t nb = nblocks_of(s, chunk);
	uint64_t *sender = malloc(nb * sizeof *sender);
	if (sender == NULL)
		return;
	if (picker_block_senders(s->pk, chunk, sender) != nb)
		goto out;
	uint64_t culprit = 0;
	enum picker_verdict v = picker_chunk_verified(s->pk, chunk, false, &culprit);
	if (v == PICKER_VERIFY_INVALID)
		goto out;
	s->st.corrupt_chunks++;
	if (v == PICKER_VERIFY_SOLE)
		ban_pid(s, culprit, chunk);
	else if (digests)
		blame_keep(s, chunk, sender, digests);
	exch_fill_all(s);
out:
	free(sender);
}

/* A good copy of CHUNK arrived: every sender of the failed copy whose block differs lied. */
static void blame_settle(struct session *s, uint32_t chunk, const uint8_t *good)
{
	struct blame *b = blame_find(s, chunk);
	if (b == NULL)
		return;
	uint64_t *liars = calloc(b->nblocks, sizeof *liars);
	uint32_t n = 0;
	for (uint32_t i = 0; good && liars && i < b->nblocks; i++)
		if (memcmp(b->digest + (size_t)i * SESSION_DIGEST_LEN,
			   good + (size_t)i * SESSION_DIGEST_LEN, SESSION_DIGEST_LEN) != 0)
			liars[n++] = b->sender[i];
	blame_unlink(s, b);
	for (uint32_t i = 0; i < n; i++)
		ban_pid(s, liars[i], chunk);
	free(liars);
}

static void chunk_good(struct session *s, uint32_t chunk)
{
	bitfield_set(s->have, chunk);
	bool done = session_complete(s);
	if (done) {
		choker_set_seed(s->ch, true, s->now);
		s->done_at = s->now;
	}
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *p = sess_slot(s, i);
		if (p == NULL || p->pp == NULL)
			continue;
		/* A peer that lacks the chunk gets a HAVE; our interest in it cannot have changed. */
		if (!picker_peer_has(s->pk, p->pp, chunk)) {
			sess_send_have(s, p, chunk);
			if (!done)
				continue;
		}
		if (done && picker_peer_complete(s->pk, p->pp))
			sess_drop(s, p, SESSION_CLOSE_DONE);
		else
			update_interest(s, p);
	}
}

void session_chunk_verified(struct session *s, uint32_t chunk, bool ok, const uint8_t *digests)
{
	if (s->pk == NULL || chunk >= picker_nchunks(s->pk))
		return;
	s->now = s->env.now(s->env.arg);
	if (!ok) {
		chunk_failed(s, chunk, digests);
		return;
	}
	if (picker_chunk_verified(s->pk, chunk, true, NULL) != PICKER_VERIFY_OK)
		return;
	blame_settle(s, chunk, digests);
	chunk_good(s, chunk);
	sess_choke_run(s, s->now);
}
