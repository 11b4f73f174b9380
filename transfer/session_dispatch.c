/* The peer-wire session core, part one: the session's life, its peers' slots, the byte stream
 * (frames split across inputs are reassembled here, whole frames are decoded in place), the
 * handshake, dispatch of each message to its handler, and timers. Chunk traffic lives in
 * session_exchange.c and the manifest exchange in session_manifest.c.
 * Strictness is the rule: anything a well-behaved peer never sends ends that peer's connection
 * with SESSION_CLOSE_PROTOCOL. It does no I/O of its own and keeps no clock: it reads the env's
 * now() once per call and passes that time on. */
#include "transfer/session_int.h"

#include <stdlib.h>
#include <string.h>

/* However fast the uplink, this many regular slots at most. */
#define SLOTS_MAX 64
#define DONE_QUIET_US 10000000u /* see done_quiet_at() */

void session_config_default(struct session_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_peers = 80;
	cfg->max_queued = 256;
	cfg->send_low_water = 32 * 1024;
	cfg->keepalive_us = 60000000;
	cfg->idle_timeout_us = 180000000;
	cfg->evict_idle_us = 60000000;
	cfg->upload_slots = 4;
	cfg->slot_rate = 1024 * 1024;
	cfg->choke_period_us = 10000000;
	cfg->optimistic_us = 30000000;
	cfg->max_depth = 256;
	cfg->interest_linger_us = 0;
	cfg->lend_idle_us = 100000;
	cfg->manifest_turns = 4;
}

static bool env_ok(const struct session_env *e)
{
	return e->send && e->backlog && e->close && e->store && e->read && e->verify && e->now &&
	       e->rand64;
}

/* Regular slots for an uplink of RATE bytes/s: at least upload_slots, one per slot_rate. */
static unsigned slots_for(const struct session_config *cfg, uint64_t rate)
{
	if (rate == 0 || cfg->slot_rate == 0)
		return cfg->upload_slots;
	uint64_t n = (rate + cfg->slot_rate - 1) / cfg->slot_rate;
	return n > cfg->upload_slots ? (unsigned)(n < SLOTS_MAX ? n : SLOTS_MAX) : cfg->upload_slots;
}

void session_set_upload_rate(struct session *s, uint64_t rate)
{
	s->cfg.upload_rate = rate;
	choker_set_slots(s->ch, slots_for(&s->cfg, rate));
}

void session_set_send_low_water(struct session *s, size_t bytes)
{
	s->cfg.send_low_water = bytes;
}

static int choker_make(struct session *s)
{
	struct choker_config cc;
	choker_config_default(&cc);
	cc.slots = slots_for(&s->cfg, s->cfg.upload_rate);
	cc.recompute_us = s->cfg.choke_period_us;
	cc.optimistic_us = s->cfg.optimistic_us;
	cc.rand64 = s->env.rand64;
	cc.rand_arg = s->env.arg;
	s->ch = choker_new(&cc, s->now);
	return s->ch ? 0 : -1;
}

static int start_with_manifest(struct session *s)
{
	const struct manifest *m = s->cfg.manifest;
	if (memcmp(manifest_id(m), s->cfg.content, WIRE_CONTENT_ID_LEN) != 0)
		return -1;
	if (s->cfg.have && bitfield_size(s->cfg.have) != manifest_chunk_count(m))
		return -1;
	if (mf_accept(s, NULL, m) < 0)
		return -1;
	const struct bitfield *h = s->cfg.have;
	for (uint32_t c = h ? bitfield_next_set(h, 0) : BITFIELD_NONE; c != BITFIELD_NONE;
	     c = bitfield_next_set(h, c + 1)) {
		picker_set_have(s->pk, c);
		bitfield_set(s->have, c);
	}
	s->st.have = bitfield_count(s->have);
	if (session_complete(s))
		choker_set_seed(s->ch, true, s->now);
	if (s->cfg.super_seed && session_complete(s) && seed_start(s) < 0)
		return -1;
	return 0;
}

struct session *session_new(const struct session_config *cfg, const struct session_env *env)
{
	if (!env_ok(env) || cfg->max_peers == 0 || cfg->max_queued == 0 ||
	    (cfg->have && !cfg->manifest))
		return NULL;
	size_t size = (sizeof(struct session) + 127) / 128 * 128;
	struct session *s = aligned_alloc(128, size);
	if (s == NULL)
		return NULL;
	memset(s, 0, size);
	s->cfg = *cfg;
	s->nslots = cfg->max_peers;
	s->env = *env;
	s->now = env->now(env->arg);
	s->next_pid = 1;
	s->peers = calloc(cfg->max_peers, sizeof *s->peers);
	s->frame = malloc(WIRE_MAX_FRAME);
	if (s->peers == NULL || s->frame == NULL || choker_make(s) < 0)
		goto fail;
	if (cfg->manifest && start_with_manifest(s) < 0)
		goto fail;
	return s;
fail:
	session_free(s);
	return NULL;
}

void session_free(struct session *s)
{
	if (s == NULL)
		return;
	for (uint32_t i = 0; i < s->nslots && s->peers; i++)
		if (sess_slot(s, i))
			sess_peer_free(&s->peers[i]);
	free(s->peers);
	exch_blames_free(s);
	wd_free(s);
	seed_free(s);
	picker_free(s->pk);
	choker_free(s->ch);
	bitfield_free(s->have);
	manifest_free(s->owned);
	free(s->pids);
	free(s->banned);
	free(s->mbuf);
	free(s->frame);
	free(s);
}

static void send_handshake(struct session *s, struct peer *p)
{
	struct wire_handshake hs;
	hs.version = WIRE_VERSION;
	memcpy(hs.network, s->cfg.network, sizeof hs.network);
	memcpy(hs.content, s->cfg.content, sizeof hs.content);
	memcpy(hs.peer, s->cfg.peer_id, sizeof hs.peer);
	uint8_t buf[128];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	wire_put_handshake(&w, &hs);
	sess_send(s, p, buf, w.len);
	p->hs_sent = true;
}

/* Every slot is taken: end the peer that has traded nothing for longest, if for long enough,
 * and return its slot; else return nslots. */
static uint32_t evict_idle(struct session *s)
{
	struct peer *worst = NULL;
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *q = sess_slot(s, i);
		if (q && q->hs_got && (worst == NULL || q->traded_at < worst->traded_at))
			worst = q;
	}
	if (s->cfg.evict_idle_us == 0 || worst == NULL ||
	    s->now - worst->traded_at < s->cfg.evict_idle_us)
		return s->nslots;
	uint32_t slot = worst->slot;
	sess_log(s, "peer %u: ended to make room: no block traded for %llu s", slot,
		 (unsigned long long)((s->now - worst->traded_at) / 1000000));
	sess_drop(s, worst, SESSION_CLOSE_FULL);
	return slot;
}

int session_peer_add(struct session *s, void *conn, bool outgoing)
{
	s->now = s->env.now(s->env.arg);
	uint32_t slot = 0;
	while (slot < s->nslots && s->peers[slot].used)
		slot++;
	if (slot == s->nslots)
		slot = evict_idle(s);
	struct peer *p = slot < s->nslots ? &s->peers[slot] : NULL;
	if (p == NULL) {
		s->env.close(s->env.arg, conn, SESSION_CLOSE_FULL);
		return -1;
	}
	p->conn = conn;
	p->slot = slot;
	p->outgoing = outgoing;
	p->am_choking = p->peer_choking = true;
	p->serving = UINT32_MAX;
	p->last_recv = p->last_sent = p->traded_at = s->now;
	p->used = true;
	s->live++;
	p->keyed = s->env.peer_key != NULL;
	if (p->keyed)
		s->env.peer_key(s->env.arg, conn, p->key);
	if (outgoing)
		send_handshake(s, p);
	return (int)slot;
}

static struct peer *slot_peer(const struct session *s, uint32_t slot)
{
	return slot < s->nslots ? sess_slot(s, slot) : NULL;
}

void session_peer_gone(struct session *s, uint32_t slot)
{
	struct peer *p = slot_peer(s, slot);
	if (p == NULL)
		return;
	s->now = s->env.now(s->env.arg);
	sess_forget(s, p);
	exch_fill_all(s);
	sess_choke_run(s, s->now);
}

/* A second connection of the same peer: same id from behind the same key. The same id from
 * elsewhere is a claim we cannot check, and refusing it would let anyone lock an honest
 * peer out by claiming its id first. */
static bool id_known(const struct session *s, const uint8_t *id, const uint8_t *key)
{
	for (uint32_t i = 0; i < s->nslots; i++) {
		const struct peer *q = sess_slot(s, i);
		if (q && q->hs_got && memcmp(q->id, id, WIRE_PEER_ID_LEN) == 0 &&
		    memcmp(q->key, key, SESSION_KEY_LEN) == 0)
			return true;
	}
	return false;
}

/* Handlers return 0 to go on, -1 for a protocol fault (the caller ends the peer), or 1 when
 * they have already ended the peer for another reason. */
static int on_handshake(struct session *s, struct peer *p, const struct wire_handshake *hs)
{
	enum session_close why;
	if (!p->keyed)
		memcpy(p->key, hs->peer, SESSION_KEY_LEN);
	if (hs->version != WIRE_VERSION ||
	    memcmp(hs->network, s->cfg.network, WIRE_NETWORK_ID_LEN) != 0 ||
	    memcmp(hs->content, s->cfg.content, WIRE_CONTENT_ID_LEN) != 0)
		why = SESSION_CLOSE_HANDSHAKE;
	else if (exch_banned(s, p->key))
		why = SESSION_CLOSE_BANNED;
	else if (memcmp(hs->peer, s->cfg.peer_id, WIRE_PEER_ID_LEN) == 0 ||
		 id_known(s, hs->peer, p->key))
		why = SESSION_CLOSE_DUPLICATE;
	else
		goto accept;
	if (why == SESSION_CLOSE_BANNED)
		sess_log(s, "peer %u: refused: banned (a new peer id does not lift a ban)", p->slot);
	sess_drop(s, p, why);
	return 1;
accept:
	memcpy(p->id, hs->peer, WIRE_PEER_ID_LEN);
	p->hs_got = true;
	if (!p->hs_sent)
		send_handshake(s, p);
	p->cp = choker_peer_add(s->ch, p, s->now);
	if (p->cp == NULL) {
		sess_drop(s, p, SESSION_CLOSE_FULL);
		return 1;
	}
	s->nchoker++;
	return s->m ? exch_peer_ready(s, p) : 0;
}

static int on_bitfield(struct session *s, struct peer *p, const struct wire_bits *bf)
{
	int rc = exch_bitfield(s, p, bf->bits, bf->len);
	/* A peer that sent a BITFIELD has the manifest: it may serve it, if we still lack it. */
	if (rc == 0)
		mf_peer_ready(s, p);
	return rc;
}

static int on_manifest_piece(struct session *s, struct peer *p,
			     const struct wire_manifest_piece *pc)
{
	int rc = mf_piece(s, p, pc);
	if (rc == MF_READY)
		return exch_ready_all(s, p);
	if (rc == MF_FORGED) {
		/* One source gave us every piece: the lie is its own. */
		sess_ban(s, p->key, p->id);
		mf_restart(s);
		return 1;
	}
	return rc;
}

static int dispatch(struct session *s, struct peer *p, const struct wire_msg *msg)
{
	if (!p->hs_got)
		return msg->type == WIRE_HANDSHAKE ? on_handshake(s, p, &msg->u.handshake) : -1;
	switch (msg->type) {
	case WIRE_KEEPALIVE:
		return 0;
	case WIRE_BITFIELD:
		return on_bitfield(s, p, &msg->u.bitfield);
	case WIRE_HAVE:
		return exch_have(s, p, msg->u.have);
	case WIRE_INTERESTED:
	case WIRE_NOT_INTERESTED:
		exch_interested(s, p, msg->type == WIRE_INTERESTED);
		return 0;
	case WIRE_CHOKE:
	case WIRE_UNCHOKE:
		exch_choked(s, p, msg->type == WIRE_CHOKE);
		return 0;
	case WIRE_REQUEST:
		return exch_request(s, p, &msg->u.span);
	case WIRE_CANCEL:
		return exch_cancel(s, p, &msg->u.span);
	case WIRE_REJECT:
		return exch_reject(s, p, &msg->u.span);
	case WIRE_BLOCK:
		return exch_block(s, p, &msg->u.block);
	case WIRE_MANIFEST_REQ:
		return mf_request(s, p, msg->u.piece_index);
	case WIRE_MANIFEST_PIECE:
		return on_manifest_piece(s, p, &msg->u.piece);
	case WIRE_MANIFEST_REJECT:
		return mf_reject(s, p, msg->u.piece_index);
	case WIRE_LOST:
		return wd_lost(s, p, msg->u.lost);
	case WIRE_HANDSHAKE:
		break;
	}
	return -1;
}

/* Run one decoded frame. Return 0, or -1 if the peer is gone. */
static int run_frame(struct session *s, struct peer *p, const struct wire_msg *msg)
{
	int rc = dispatch(s, p, msg);
	if (rc < 0) {
		sess_log(s, "peer %u: protocol fault on %s", p->slot, wire_type_name(msg->type));
		sess_drop(s, p, SESSION_CLOSE_PROTOCOL);
	}
	return rc == 0 ? 0 : -1;
}

static int in_reserve(struct peer *p, size_t need)
{
	if (need <= p->incap)
		return 0;
	uint8_t *n = realloc(p->in, need);
	if (n == NULL)
		return -1;
	p->in = n;
	p->incap = need;
	return 0;
}

/* Feed bytes from BUF at *OFF into P's split frame until it is whole, then run it. Return 0, or
 * -1 if the peer is gone. */
static int input_split(struct session *s, struct peer *p, const uint8_t *buf, size_t len,
		       size_t *off)
{
	while (*off < len) {
		size_t want = p->inlen < WIRE_PREFIX_LEN ? WIRE_PREFIX_LEN - p->inlen
							 : WIRE_PREFIX_LEN + be32_get(p->in) - p->inlen;
		size_t take = want < len - *off ? want : len - *off;
		if (p->inlen + take > WIRE_MAX_FRAME || in_reserve(p, p->inlen + take) < 0)
			break;
		memcpy(p->in + p->inlen, buf + *off, take);
		p->inlen += take;
		*off += take;
		struct wire_msg msg;
		size_t used;
		enum wire_status st = wire_frame(p->in, p->inlen, &msg, &used);
		if (st == WIRE_NEED_MORE)
			continue;
		if (st == WIRE_MALFORMED)
			break;
		p->inlen = 0;
		return run_frame(s, p, &msg);
	}
	if (*off >= len)
		return 0;
	sess_drop(s, p, SESSION_CLOSE_PROTOCOL);
	return -1;
}

int session_input(struct session *s, uint32_t slot, const uint8_t *buf, size_t len)
{
	struct peer *p = slot_peer(s, slot);
	if (p == NULL)
		return -1;
	s->now = s->env.now(s->env.arg);
	p->last_recv = s->now;
	size_t off = 0;
	if (p->inlen > 0 && input_split(s, p, buf, len, &off) < 0)
		return -1;
	while (off < len) {
		struct wire_msg msg;
		size_t used;
		enum wire_status st = wire_frame(buf + off, len - off, &msg, &used);
		if (st == WIRE_NEED_MORE) {
			if (in_reserve(p, len - off) < 0)
				break;
			memcpy(p->in, buf + off, len - off);
			p->inlen = len - off;
			off = len;
			break;
		}
		if (st == WIRE_MALFORMED)
			break;
		off += used;
		if (run_frame(s, p, &msg) < 0)
			return -1;
	}
	if (off < len) {
		sess_drop(s, p, SESSION_CLOSE_PROTOCOL);
		return -1;
	}
	sess_choke_run(s, s->now);
	return 0;
}

void session_writable(struct session *s, uint32_t slot)
{
	struct peer *p = slot_peer(s, slot);
	if (p == NULL || p->rq_head == p->rq_end)
		return;
	s->now = s->env.now(s->env.arg);
	exch_serve(s, p);
}

void session_readable(struct session *s)
{
	s->now = s->env.now(s->env.arg);
	for (uint32_t i = 0; i < s->nslots && s->peers; i++) {
		struct peer *p = sess_slot(s, i);
		if (p != NULL && p->rq_head < p->rq_end)
			exch_serve(s, p);
	}
}

static uint64_t min64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* When we are complete, the time at which P, having shown its chunks and wanted none of ours
 * since, is taken to be complete too (0: it is not quiet). It lacks nothing we have, which is
 * everything; but we could not see that, since a HAVE goes only to peers that lack the chunk,
 * and a pair of complete peers kept each other's slots until evict_idle_us. The wait lets a
 * peer answer a HAVE we sent, and lets it check the chunks it holds. Not while super-seeding
 * (a peer that has what we showed it waits, uninterested, for us to show more), nor once we
 * withdrew a chunk (the peer may lack that one). */
static uint64_t done_quiet_at(const struct session *s, const struct peer *p)
{
	if (!session_complete(s) || s->sd != NULL || s->withdrawn != NULL || !p->got_bitfield ||
	    p->peer_interested)
		return 0;
	uint64_t since = p->interest_at > s->done_at ? p->interest_at : s->done_at;
	return since + DONE_QUIET_US;
}

/* Keepalives, idle peers and complete ones. Return P's next deadline, or 0 if P was ended. */
static uint64_t peer_timers(struct session *s, struct peer *p, uint64_t now)
{
	if (now - p->last_recv >= s->cfg.idle_timeout_us) {
		sess_drop(s, p, SESSION_CLOSE_TIMEOUT);
		return 0;
	}
	uint64_t quiet = done_quiet_at(s, p);
	if (quiet != 0 && now >= quiet) {
		sess_drop(s, p, SESSION_CLOSE_DONE);
		return 0;
	}
	uint64_t next = exch_interest_timer(s, p);
	if (quiet != 0)
		next = min64(next, quiet);
	if (now - p->last_sent >= s->cfg.keepalive_us)
		sess_send_bare(s, p, WIRE_KEEPALIVE);
	next = min64(next, p->last_recv + s->cfg.idle_timeout_us);
	return min64(next, p->last_sent + s->cfg.keepalive_us);
}

uint64_t session_tick(struct session *s, uint64_t now_us)
{
	s->now = now_us;
	uint64_t next = UINT64_MAX;
	if (s->pk) {
		next = picker_tick(s->pk, now_us);
		exch_fill_all(s);
	}
	if (s->lend_at != 0 && s->lend_at <= now_us)
		lend_check(s, now_us);
	next = min64(next, mf_tick(s, now_us));
	if (s->nchoker > 0 && choker_next_deadline(s->ch) <= now_us)
		exch_choke_now(s, now_us);
	next = min64(next, choker_next_deadline(s->ch));
	if (s->lend_at != 0)
		next = min64(next, s->lend_at);
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *p = sess_slot(s, i);
		uint64_t due = p ? peer_timers(s, p, now_us) : 0;
		if (due)
			next = min64(next, due);
	}
	s->tick_next = next;
	return next;
}

uint64_t session_deadline(const struct session *s)
{
	uint64_t t = min64(s->tick_next, choker_next_deadline(s->ch));
	if (s->mretry_at != 0)
		t = min64(t, s->mretry_at);
	return s->lend_at != 0 ? min64(t, s->lend_at) : t;
}

const struct manifest *session_manifest(const struct session *s)
{
	return s->m;
}

const struct bitfield *session_have(const struct session *s)
{
	return s->have;
}

void session_stats(const struct session *s, struct session_stats *out)
{
	*out = s->st;
	out->peers = s->live;
	out->have = s->have ? bitfield_count(s->have) : 0;
	out->chunks = s->m ? manifest_chunk_count(s->m) : 0;
}
