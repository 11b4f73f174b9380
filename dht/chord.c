/* The Chord core: membership and ring maintenance, as a state machine driven by dht_input() and
 * dht_tick(). Maintenance follows Pamela Zave's corrected Chord ("Reasoning about identifier
 * spaces: how to make Chord correct", IEEE TSE 2017), not the original papers:
 *
 *   join       "A joining node looks up its own successor, then copies the successor's successor
 *               list": succ = [s] + s.succ[0..r-2]; it has no predecessor yet.
 *   stabilize  "A node queries its first successor for the successor's predecessor and list. If
 *               the successor does not answer, it is removed and the next one is tried. The new
 *               list is the successor followed by its list. If the successor's predecessor lies
 *               between the node and its successor, and answers when queried, it becomes the new
 *               first successor." Then the node notifies its successor.
 *   rectify    (replaces the original notify) "A node told of a possible predecessor adopts it if
 *               it has none, or if the new one lies between the old one and itself"; a dead
 *               predecessor is cleared by check-predecessor, so the next notice replaces it.
 *   fix-fingers and check-predecessor run on their own timers.
 *
 * Two rules carry the correctness argument here: a node becomes a first successor only after it
 * has answered us (stabilize queries it first), and successor lists stay ordered as seen from
 * their owner (routing_adopt() cuts a copied list where it would jump over us).
 * Lookups live in lookup.c. This file does no I/O: everything goes through d->env. */
#include "dht/chord_impl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void dht_config_default(struct dht_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->bits = 160;
	cfg->succ_len = 8;
	cfg->stabilize_us = 1000000;
	cfg->check_pred_us = 2000000;
	cfg->fix_fingers_us = 2000000;
	cfg->fix_fingers_fast_us = 100000;
	cfg->rto_init_us = 500000;
	cfg->rto_min_us = 100000;
	cfg->rto_max_us = 2000000;
	cfg->maint_tries = 3;
	cfg->lookup_tries = 4;
	cfg->lookup_retry_us = 500000;
	cfg->max_hops = 48;
	cfg->kv_replicas = 3;
	cfg->kv_replicate_us = 5000000;
	cfg->kv_default_ttl_s = 3600;
	cfg->kv_max_ttl_s = 7 * 24 * 3600;
	cfg->kv_max_bytes = 64u << 20;
	cfg->kv_max_peers = 1000;
}

const char *dht_status_str(enum dht_status s)
{
	switch (s) {
	case DHT_OK: return "ok";
	case DHT_ERR_TIMEOUT: return "no answer (node or route unreachable)";
	case DHT_ERR_ID_TAKEN: return "a member of the ring already has this id";
	case DHT_ERR_NOT_JOINED: return "not in a ring";
	case DHT_ERR_NO_MEMORY: return "out of memory";
	case DHT_ERR_NOT_FOUND: return "not found";
	case DHT_ERR_TOO_LARGE: return "value too large (at most 1000 bytes)";
	case DHT_ERR_FULL: return "the owner's store is full";
	}
	return "?";
}

bool chord_is_self(const struct dht *d, const struct dht_node *node)
{
	return id_eq(&node->id, &d->rt.self.id) && dht_addr_eq(&node->addr, &d->rt.self.addr);
}

uint64_t chord_now(struct dht *d)
{
	return d->env.now(d->env_arg);
}

void chord_log(struct dht *d, enum dht_log_level level, const char *fmt, ...)
{
	if (d->env.log == NULL)
		return;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	d->env.log(d->env_arg, level, buf);
}

static uint64_t random_u64(struct dht *d)
{
	uint64_t v;
	d->env.random(d->env_arg, &v, sizeof v);
	return v;
}

/* Stabilize requests (each tried maint_tries times, with backoff) a lone successor may leave
 * unanswered before we give it up. */
#define LONE_TRIES 3

/* PERIOD scaled by a random factor in [0.9, 1.1), so that nodes started together drift apart. */
static uint64_t jitter(struct dht *d, uint64_t period)
{
	return period - period / 10 + random_u64(d) % (period / 5 + 1);
}

uint64_t chord_rto(const struct dht *d)
{
	uint64_t rto = d->srtt ? d->srtt + 4 * d->rttvar : d->cfg.rto_init_us;
	if (rto < d->cfg.rto_min_us)
		rto = d->cfg.rto_min_us;
	return rto > d->cfg.rto_max_us ? d->cfg.rto_max_us : rto;
}

/* Jacobson's estimator, one for the whole node: peers in a lab or a simulated network are alike
 * enough that a per-peer table would cost memory without changing decisions. */
static void rtt_sample(struct dht *d, uint64_t rtt)
{
	if (d->srtt == 0) {
		d->srtt = rtt;
		d->rttvar = rtt / 2;
		return;
	}
	uint64_t err = rtt > d->srtt ? rtt - d->srtt : d->srtt - rtt;
	d->rttvar = (3 * d->rttvar + err) / 4;
	d->srtt = (7 * d->srtt + rtt) / 8;
}

void chord_send(struct dht *d, const struct dht_addr *to, struct dht_msg *m)
{
	uint8_t buf[DHT_MSG_MAX];
	m->bits = (uint8_t)d->cfg.bits;
	m->from = d->rt.self.id;
	int len = dht_msg_encode(m, buf, sizeof buf);
	if (len < 0) {
		chord_log(d, DHT_LOG_ERROR, "cannot encode a %s message", dht_msg_type_str(m->type));
		return;
	}
	d->stats.sent++;
	d->env.send(d->env_arg, to, buf, (size_t)len);
}

struct pending *chord_request(struct dht *d, enum pending_kind kind, const struct dht_node *to,
			      const struct dht_msg *m, unsigned tries)
{
	if (d->npend == d->cappend) {
		size_t cap = d->cappend ? d->cappend * 2 : 16;
		struct pending *np = realloc(d->pend, cap * sizeof *np);
		if (np == NULL)
			return NULL;
		d->pend = np;
		d->cappend = cap;
	}
	struct pending *p = &d->pend[d->npend++];
	memset(p, 0, sizeof *p);
	p->txid = d->next_txid++;
	p->kind = kind;
	p->to = *to;
	p->to_id_known = true;
	p->tries_left = tries ? tries - 1 : 0;
	p->sent_at = chord_now(d);
	p->deadline = p->sent_at + chord_rto(d);
	p->type = m->type;
	if (m->type == DHT_FIND) {
		p->key = m->u.find.key;
		p->find_flags = m->u.find.flags;
		p->ndead = m->u.find.ndead;
		memcpy(p->dead, m->u.find.dead, sizeof p->dead);
	}
	struct dht_msg out = *m;
	out.txid = p->txid;
	chord_send(d, &to->addr, &out);
	return p;
}

static void resend(struct dht *d, const struct pending *p)
{
	struct dht_msg m;
	if (p->kind == P_KV || p->kind == P_QUERY) {
		kv_request_msg(p, &m);
		chord_send(d, &p->to.addr, &m);
		return;
	}
	memset(&m, 0, sizeof m);
	m.type = p->type;
	m.txid = p->txid;
	if (p->type == DHT_FIND) {
		m.u.find.key = p->key;
		m.u.find.flags = p->find_flags;
		m.u.find.ndead = p->ndead;
		memcpy(m.u.find.dead, p->dead, sizeof p->dead);
	}
	chord_send(d, &p->to.addr, &m);
}

static void send_simple(struct dht *d, const struct dht_addr *to, uint8_t type, uint32_t txid)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.txid = txid;
	chord_send(d, to, &m);
}

static void request_simple(struct dht *d, enum pending_kind kind, const struct dht_node *to,
			   uint8_t type)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	if (chord_request(d, kind, to, &m, d->cfg.maint_tries) == NULL)
		chord_log(d, DHT_LOG_ERROR, "out of memory for a request");
}

/* Announce the earliest deadline to the environment when it changed. Every entry point that
 * may have sent a request or moved a timer ends with this. */
uint64_t chord_rearm(struct dht *d)
{
	uint64_t next = UINT64_MAX;
	if (d->state == DHT_JOINED) {
		next = d->stabilize_at;
		if (d->check_pred_at < next)
			next = d->check_pred_at;
		if (d->fix_at < next)
			next = d->fix_at;
		if (kv_next_deadline(d) < next)
			next = kv_next_deadline(d);
	}
	uint64_t retry = lookup_retry_due(d, 0);
	if (retry < next)
		next = retry;
	for (size_t i = 0; i < d->npend; i++)
		if (d->pend[i].deadline < next)
			next = d->pend[i].deadline;
	if (next != d->last_deadline && next != UINT64_MAX)
		d->env.set_timer(d->env_arg, next);
	d->last_deadline = next;
	return next;
}

struct dht *dht_new(const struct dht_config *cfg, const struct dht_env *env, void *env_arg)
{
	if (!id_bits_valid(cfg->bits) || cfg->succ_len < 2 || cfg->succ_len > ROUTING_MAX_SUCC ||
	    cfg->stabilize_us == 0 || cfg->check_pred_us == 0 || cfg->fix_fingers_us == 0 ||
	    cfg->fix_fingers_fast_us == 0 || id_log2(&cfg->self.id) >= (int)cfg->bits)
		return NULL;
	struct dht *d = calloc(1, sizeof *d);
	if (d == NULL)
		return NULL;
	d->cfg = *cfg;
	if (d->cfg.max_hops == 0 || d->cfg.max_hops > DHT_MAX_PATH)
		d->cfg.max_hops = DHT_MAX_PATH;
	if (d->cfg.lookup_tries == 0)
		d->cfg.lookup_tries = 1;
	d->env = *env;
	d->env_arg = env_arg;
	d->state = DHT_IDLE;
	d->last_deadline = UINT64_MAX;
	routing_init(&d->rt, &cfg->self, cfg->bits, cfg->succ_len);
	d->env.random(d->env_arg, &d->next_txid, sizeof d->next_txid);
	if (kv_init(d) != 0) {
		dht_free(d);
		return NULL;
	}
	return d;
}

void dht_free(struct dht *d)
{
	if (d == NULL)
		return;
	while (d->lookups) {
		struct lookup *lk = d->lookups;
		d->lookups = lk->next;
		free(lk);
	}
	kv_free(d);
	free(d->pend);
	free(d);
}

/* Enter the ring: timers start, fingers are filled fast. */
static void become_joined(struct dht *d)
{
	uint64_t now = chord_now(d);
	d->state = DHT_JOINED;
	d->stabilize_at = now;
	d->check_pred_at = now + jitter(d, d->cfg.check_pred_us);
	d->fix_at = now + d->cfg.fix_fingers_fast_us;
	d->fingers_fast = true;
	d->next_finger = 0;
	d->repl_at = now + d->cfg.kv_replicate_us;
}

void dht_create(struct dht *d)
{
	routing_init(&d->rt, &d->cfg.self, d->cfg.bits, d->cfg.succ_len);
	become_joined(d);
	chord_log(d, DHT_LOG_INFO, "started a new ring");
	chord_rearm(d);
}

int dht_join(struct dht *d, const struct dht_addr *via, dht_join_cb *cb, void *arg)
{
	if (d->state == DHT_JOINED || d->state == DHT_JOINING)
		return -1;
	routing_init(&d->rt, &d->cfg.self, d->cfg.bits, d->cfg.succ_len);
	d->state = DHT_JOINING;
	d->join_cb = cb;
	d->join_arg = arg;
	d->join_via = *via;
	if (lookup_start(d, &d->cfg.self.id, LK_JOIN, 0, NULL, NULL) != 0) {
		d->state = DHT_IDLE;
		return -1;
	}
	chord_rearm(d);
	return 0;
}

static void join_done(struct dht *d, enum dht_status status)
{
	if (status != DHT_OK)
		d->state = DHT_IDLE;
	chord_log(d, status == DHT_OK ? DHT_LOG_INFO : DHT_LOG_ERROR, "join: %s",
		  dht_status_str(status));
	if (d->join_cb)
		d->join_cb(d->join_arg, status);
}

void chord_join_found(struct dht *d, const struct dht_lookup_result *res)
{
	if (res->status != DHT_OK) {
		join_done(d, res->status);
		return;
	}
	/* The owner of our own id is our successor; if it has our id, the id is taken (unless it
	 * is our own earlier incarnation at this very address, not yet noticed as gone). */
	if (id_eq(&res->owner.id, &d->rt.self.id) &&
	    !dht_addr_eq(&res->owner.addr, &d->rt.self.addr)) {
		join_done(d, DHT_ERR_ID_TAKEN);
		return;
	}
	/* JOIN makes the successor adopt us as predecessor before it answers, so that once our
	 * join completes, lookups already find us. */
	request_simple(d, P_JOIN_NEIGH, &res->owner, DHT_JOIN);
}

void dht_leave(struct dht *d)
{
	kv_handoff_all(d);
	if (d->state == DHT_JOINED) {
		if (d->rt.has_pred)
			send_simple(d, &d->rt.pred.addr, DHT_LEAVE, 0);
		if (!id_eq(&d->rt.succ[0].id, &d->rt.self.id) &&
		    !(d->rt.has_pred && id_eq(&d->rt.pred.id, &d->rt.succ[0].id)))
			send_simple(d, &d->rt.succ[0].addr, DHT_LEAVE, 0);
	}
	d->state = DHT_LEFT;
	d->npend = 0;
	/* Lookups first: store operations still looking up finish through their callbacks. */
	lookup_fail_all(d, DHT_ERR_NOT_JOINED);
	kv_fail_all(d, DHT_ERR_NOT_JOINED);
	d->last_deadline = UINT64_MAX;
}

/* --- stabilize, rectify, check-predecessor, fix-fingers ----------------------------------- */

static void notify_successor(struct dht *d)
{
	if (!id_eq(&d->rt.succ[0].id, &d->rt.self.id))
		send_simple(d, &d->rt.succ[0].addr, DHT_NOTIFY, 0);
}

/* End a round. A round that found a closer successor is followed soon by another: nodes that
 * joined into one gap together are then linked up within milliseconds of each other, not one
 * per period (the original Chord's linear repair of concurrent joins). */
static void stabilize_done(struct dht *d, bool moved)
{
	d->stabilizing = false;
	d->stab_steps = 0;
	d->stats.stabilizations++;
	notify_successor(d);
	uint64_t period = moved ? d->cfg.stabilize_us / 10 : d->cfg.stabilize_us;
	d->stabilize_at = chord_now(d) + jitter(d, period);
}

static void stabilize(struct dht *d)
{
	if (d->state != DHT_JOINED)
		return;
	/* A round in flight sets the next time when it ends; this is the fallback, and it keeps
	 * every timer moving forward so that the next deadline is always in the future. */
	d->stabilize_at = chord_now(d) + jitter(d, d->cfg.stabilize_us);
	if (d->stabilizing)
		return;
	d->stabilizing = true;
	const struct dht_node *s = &d->rt.succ[0];
	if (!id_eq(&s->id, &d->rt.self.id)) {
		request_simple(d, P_STAB_SUCC, s, DHT_GET_NEIGH);
		return;
	}
	/* Alone (our own successor): our successor's predecessor is our predecessor. If someone
	 * has notified us, query it as the candidate new successor. */
	if (d->rt.has_pred && !id_eq(&d->rt.pred.id, &d->rt.self.id)) {
		request_simple(d, P_STAB_PRED, &d->rt.pred, DHT_GET_NEIGH);
		return;
	}
	stabilize_done(d, false);
}

static void on_stab_succ(struct dht *d, const struct pending *p, const struct dht_msg *m)
{
	d->lone_failures = 0;
	routing_adopt(&d->rt, &p->to, m->u.neigh.succ, m->u.neigh.nsucc);
	const struct dht_node *x = &m->u.neigh.pred;
	if (m->u.neigh.has_pred && id_in_oo(&x->id, &d->rt.self.id, &p->to.id)) {
		/* A closer successor, maybe: adopt it only once it has answered. */
		request_simple(d, P_STAB_PRED, x, DHT_GET_NEIGH);
		return;
	}
	stabilize_done(d, false);
}

/* Steps back along a chain of closer successors within one round, at most. */
#define STAB_MAX_STEPS 16

static void on_stab_pred(struct dht *d, const struct pending *p, const struct dht_msg *m)
{
	/* It answered, so it is live; it may be stale news by now, so check it still lies between
	 * us and our current successor (or that we are alone). */
	if (!id_in_oo(&p->to.id, &d->rt.self.id, &d->rt.succ[0].id)) {
		stabilize_done(d, false);
		return;
	}
	routing_adopt(&d->rt, &p->to, m->u.neigh.succ, m->u.neigh.nsucc);
	/* Its own predecessor may lie closer still: query that one too, in the same round. */
	const struct dht_node *x = &m->u.neigh.pred;
	if (m->u.neigh.has_pred && id_in_oo(&x->id, &d->rt.self.id, &p->to.id) &&
	    ++d->stab_steps < STAB_MAX_STEPS) {
		request_simple(d, P_STAB_PRED, x, DHT_GET_NEIGH);
		return;
	}
	stabilize_done(d, true);
}

/* Is ID the only node other than us in our successor list? */
static bool only_other(const struct dht *d, const struct dht_id *id)
{
	for (unsigned j = 0; j < d->rt.nsucc; j++)
		if (!id_eq(&d->rt.succ[j].id, id) && !id_eq(&d->rt.succ[j].id, &d->rt.self.id))
			return false;
	return true;
}

static void on_stab_timeout(struct dht *d, const struct pending *p)
{
	if (p->kind == P_STAB_PRED) {
		stabilize_done(d, d->stab_steps > 0);
		return;
	}
	/* Dropping the last other node would make us a ring of one, a partition if the silence
	 * was only a slow network: give it LONE_TRIES rounds first. */
	if (only_other(d, &p->to.id) && ++d->lone_failures < LONE_TRIES) {
		chord_log(d, DHT_LOG_INFO, "our only successor did not answer; trying again");
		d->stabilizing = false;
		stabilize(d);
		return;
	}
	chord_log(d, DHT_LOG_INFO, "successor did not answer; falling back to the next one");
	d->lone_failures = 0;
	routing_forget(&d->rt, &p->to.id);
	d->stabilizing = false;
	stabilize(d);
}

/* Zave's rectify. */
static void on_notify(struct dht *d, const struct dht_node *from)
{
	if (d->state != DHT_JOINED || id_eq(&from->id, &d->rt.self.id))
		return;
	if (d->rt.has_pred && !id_eq(&from->id, &d->rt.pred.id) &&
	    !id_in_oo(&from->id, &d->rt.pred.id, &d->rt.self.id)) {
		/* Someone farther than our predecessor takes us for its successor: our predecessor
		 * may have died. Zave's rectify replaces a dead one, so check it now. */
		if (!d->checking_pred)
			d->check_pred_at = chord_now(d);
		return;
	}
	if (!d->rt.has_pred || id_in_oo(&from->id, &d->rt.pred.id, &d->rt.self.id)) {
		bool had_old = d->rt.has_pred;
		struct dht_node old = d->rt.pred;
		d->rt.pred = *from;
		d->rt.has_pred = true;
		kv_pred_changed(d, had_old, &old);
		/* A lone node learns its successor from its new predecessor without waiting. */
		if (id_eq(&d->rt.succ[0].id, &d->rt.self.id))
			d->stabilize_at = chord_now(d);
	}
}

static void on_timeout(struct dht *d, const struct pending *p);

/* A node said it is leaving: forget it, and fail at once what we asked it (a reply it sent just
 * before leaving may still be on its way, and must not bring it back into our lists). */
static void on_leave(struct dht *d, const struct dht_node *from)
{
	bool first = routing_forget(&d->rt, &from->id);
	if (first && d->state == DHT_JOINED)
		d->stabilize_at = chord_now(d);
	for (size_t i = 0; i < d->npend;) {
		struct pending *p = &d->pend[i];
		if (!p->to_id_known || !id_eq(&p->to.id, &from->id) ||
		    !dht_addr_eq(&p->to.addr, &from->addr)) {
			i++;
			continue;
		}
		struct pending copy = *p;
		d->pend[i] = d->pend[--d->npend];
		copy.tries_left = 0;
		on_timeout(d, &copy);
		i = 0; /* the handler may have added or removed entries */
	}
}

void chord_suspect(struct dht *d, const struct dht_id *id)
{
	for (unsigned i = 0; i < d->rt.bits; i++)
		if (d->rt.finger_ok[i] && id_eq(&d->rt.finger[i].id, id))
			d->rt.finger_ok[i] = false;
	if (id_eq(&d->rt.succ[0].id, id) && !d->stabilizing)
		d->stabilize_at = chord_now(d);
	if (d->rt.has_pred && id_eq(&d->rt.pred.id, id) && !d->checking_pred)
		d->check_pred_at = chord_now(d);
}

static void check_pred(struct dht *d)
{
	d->check_pred_at = chord_now(d) + jitter(d, d->cfg.check_pred_us);
	if (d->checking_pred || !d->rt.has_pred)
		return;
	d->checking_pred = true;
	request_simple(d, P_CHECK_PRED, &d->rt.pred, DHT_PING);
}

void chord_finger_found(struct dht *d, unsigned i, const struct dht_lookup_result *res)
{
	d->fixing = false;
	if (res->status == DHT_OK && d->state == DHT_JOINED)
		routing_set_finger(&d->rt, i, &res->owner);
}

/* Fix one finger per period, cycling through the ones that are not simply the successor. A
 * finger our successor list covers is read from it; only the others cost a lookup. */
static void fix_next(struct dht *d)
{
	uint64_t period = d->fingers_fast ? d->cfg.fix_fingers_fast_us : d->cfg.fix_fingers_us;
	d->fix_at = chord_now(d) + jitter(d, period);
	if (d->fixing)
		return;
	unsigned lo = routing_finger_lo(&d->rt);
	if (lo >= d->rt.bits || id_eq(&d->rt.succ[0].id, &d->rt.self.id))
		return;
	if (d->next_finger < lo || d->next_finger >= d->rt.bits) {
		if (d->next_finger >= d->rt.bits)
			d->fingers_fast = false;
		d->next_finger = lo;
	}
	unsigned i = d->next_finger++;
	struct dht_id start;
	routing_finger_start(&d->rt, i, &start);
	int j = routing_owner_in_succ(&d->rt, &start);
	if (j >= 0) {
		if (!id_eq(&d->rt.succ[j].id, &d->rt.self.id))
			routing_set_finger(&d->rt, i, &d->rt.succ[j]);
		return;
	}
	/* chord_finger_found() clears the flag, possibly before lookup_start() returns. */
	d->fixing = true;
	if (lookup_start(d, &start, LK_FINGER, i, NULL, NULL) != 0)
		d->fixing = false;
}

/* --- input ------------------------------------------------------------------------------- */

static void answer_neigh(struct dht *d, const struct dht_addr *to, uint32_t txid)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.txid = txid;
	if (d->state != DHT_JOINED) {
		m.type = DHT_ERROR;
		m.u.error.code = DHT_ERR_NOT_READY;
		chord_send(d, to, &m);
		return;
	}
	m.type = DHT_NEIGH;
	m.u.neigh.has_pred = d->rt.has_pred;
	m.u.neigh.pred = d->rt.pred;
	m.u.neigh.nsucc = (uint8_t)d->rt.nsucc;
	memcpy(m.u.neigh.succ, d->rt.succ, d->rt.nsucc * sizeof d->rt.succ[0]);
	chord_send(d, to, &m);
}

static void answer_find(struct dht *d, const struct dht_msg *req, const struct dht_addr *to)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.txid = req->txid;
	if (d->state != DHT_JOINED) {
		m.type = DHT_ERROR;
		m.u.error.code = DHT_ERR_NOT_READY;
	} else {
		lookup_answer(d, &req->u.find.key, req->u.find.flags, req->u.find.dead,
			      req->u.find.ndead, &m);
	}
	chord_send(d, to, &m);
}

static void on_request(struct dht *d, const struct dht_msg *m, const struct dht_node *from)
{
	switch (m->type) {
	case DHT_PING:
		send_simple(d, &from->addr, DHT_PONG, m->txid);
		break;
	case DHT_GET_NEIGH:
		answer_neigh(d, &from->addr, m->txid);
		break;
	case DHT_JOIN:
		on_notify(d, from);
		answer_neigh(d, &from->addr, m->txid);
		break;
	case DHT_FIND:
		answer_find(d, m, &from->addr);
		break;
	case DHT_NOTIFY:
		on_notify(d, from);
		break;
	case DHT_LEAVE:
		on_leave(d, from);
		break;
	default:
		/* Handed-over keys may arrive before the answer to our JOIN: keep them. */
		if (d->state == DHT_JOINED || (d->state == DHT_JOINING && m->type == DHT_REPLICATE))
			kv_on_request(d, m, from);
		break;
	}
}

/* Take the pending request that M answers out of the table into *OUT. Replies must come from
 * the address the request went to. */
static bool take_pending(struct dht *d, const struct dht_msg *m, const struct dht_addr *from,
			 struct pending *out)
{
	for (size_t i = 0; i < d->npend; i++) {
		struct pending *p = &d->pend[i];
		if (p->txid != m->txid || !dht_addr_eq(&p->to.addr, from))
			continue;
		if (p->to_id_known && !id_eq(&p->to.id, &m->from))
			continue;
		*out = *p;
		d->pend[i] = d->pend[--d->npend];
		return true;
	}
	return false;
}


static void on_reply(struct dht *d, const struct dht_msg *m, const struct dht_addr *from)
{
	struct pending p;
	if (!take_pending(d, m, from, &p)) {
		d->stats.dropped_unsolicited++;
		return;
	}
	rtt_sample(d, chord_now(d) - p.sent_at);
	bool error = m->type == DHT_ERROR;
	switch (p.kind) {
	case P_FIND:
		if (error || m->type != DHT_FOUND) {
			lookup_on_refused(d, p.lk, &p);
		} else {
			lookup_on_found(d, p.lk, &p, m);
		}
		break;
	case P_STAB_SUCC:
	case P_STAB_PRED:
		if (error || m->type != DHT_NEIGH)
			on_stab_timeout(d, &p);
		else if (p.kind == P_STAB_SUCC)
			on_stab_succ(d, &p, m);
		else
			on_stab_pred(d, &p, m);
		break;
	case P_CHECK_PRED:
		d->checking_pred = false;
		if (m->type != DHT_PONG)
			on_timeout(d, &p);
		break;
	case P_JOIN_NEIGH:
		if (error || m->type != DHT_NEIGH) {
			join_done(d, DHT_ERR_TIMEOUT);
			break;
		}
		routing_adopt(&d->rt, &p.to, m->u.neigh.succ, m->u.neigh.nsucc);
		become_joined(d);
		notify_successor(d);
		join_done(d, DHT_OK);
		break;
	case P_KV:
	case P_QUERY:
		kv_on_reply(d, &p, m);
		break;
	}
}

static bool is_reply(uint8_t type)
{
	return type == DHT_PONG || type == DHT_NEIGH || type == DHT_FOUND || type == DHT_ERROR ||
	       type == DHT_STORED || type == DHT_VALUE || type == DHT_PEERS;
}

void dht_input(struct dht *d, const uint8_t *buf, size_t len, const struct dht_addr *from)
{
	struct dht_msg m;
	enum dht_decode_result res = dht_msg_decode(&m, buf, len, d->cfg.bits);
	if (res != DHT_DECODE_OK) {
		d->stats.dropped[res]++;
		return;
	}
	if (d->state == DHT_IDLE || d->state == DHT_LEFT)
		return;
	d->stats.received++;
	struct dht_node sender = { .id = m.from, .addr = *from };
	if (is_reply(m.type))
		on_reply(d, &m, from);
	else
		on_request(d, &m, &sender);
	chord_rearm(d);
}

/* --- time ---------------------------------------------------------------------------------- */

static void on_timeout(struct dht *d, const struct pending *p)
{
	d->stats.timeouts++;
	switch (p->kind) {
	case P_FIND:
		lookup_on_timeout(d, p->lk, p);
		break;
	case P_STAB_SUCC:
	case P_STAB_PRED:
		on_stab_timeout(d, p);
		break;
	case P_CHECK_PRED:
		d->checking_pred = false;
		chord_log(d, DHT_LOG_INFO, "predecessor did not answer; cleared");
		routing_forget(&d->rt, &p->to.id);
		break;
	case P_JOIN_NEIGH:
		join_done(d, DHT_ERR_TIMEOUT);
		break;
	case P_KV:
	case P_QUERY:
		kv_on_timeout(d, p);
		break;
	}
}

/* Retry or expire one overdue request; return false if none is overdue. */
static bool expire_one(struct dht *d, uint64_t now)
{
	for (size_t i = 0; i < d->npend; i++) {
		struct pending *p = &d->pend[i];
		if (p->deadline > now)
			continue;
		if (p->tries_left > 0) {
			/* Back off: the first timeout may only mean a lost datagram or a slow peer. */
			p->tries_left--;
			p->deadline = now + 2 * chord_rto(d);
			resend(d, p);
			return true;
		}
		struct pending copy = *p;
		d->pend[i] = d->pend[--d->npend];
		on_timeout(d, &copy);
		return true;
	}
	return false;
}

uint64_t dht_tick(struct dht *d)
{
	if (d->state == DHT_IDLE || d->state == DHT_LEFT)
		return UINT64_MAX;
	uint64_t now = chord_now(d);
	while (expire_one(d, now))
		;
	lookup_retry_due(d, now);
	if (d->state == DHT_JOINED) {
		if (d->stabilize_at <= now)
			stabilize(d);
		if (d->check_pred_at <= now)
			check_pred(d);
		if (d->fix_at <= now)
			fix_next(d);
		kv_tick(d, now);
	}
	return chord_rearm(d);
}

int dht_lookup(struct dht *d, const struct dht_id *key, dht_lookup_cb *cb, void *arg)
{
	if (d->state != DHT_JOINED || cb == NULL)
		return -1;
	int rc = lookup_start(d, key, LK_USER, 0, cb, arg);
	chord_rearm(d);
	return rc;
}

/* --- introspection --------------------------------------------------------------------------- */

enum dht_state dht_get_state(const struct dht *d)
{
	return d->state;
}

const struct dht_node *dht_self(const struct dht *d)
{
	return &d->rt.self;
}

unsigned dht_bits(const struct dht *d)
{
	return d->cfg.bits;
}

int dht_predecessor(const struct dht *d, struct dht_node *out)
{
	if (!d->rt.has_pred)
		return -1;
	*out = d->rt.pred;
	return 0;
}

size_t dht_successors(const struct dht *d, struct dht_node *out, size_t max)
{
	size_t n = d->rt.nsucc < max ? d->rt.nsucc : max;
	memcpy(out, d->rt.succ, n * sizeof *out);
	return n;
}

size_t dht_fingers(const struct dht *d, struct dht_node *out, unsigned *index, size_t max)
{
	return routing_distinct_fingers(&d->rt, out, index, max);
}

const struct dht_stats *dht_get_stats(const struct dht *d)
{
	return &d->stats;
}
