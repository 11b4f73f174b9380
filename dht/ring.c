/* Ring membership and maintenance, as a state machine driven by dht_input() and
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
 *
 * Identities (issue 11, dht/proof.h): a node proves its id before we take it as first successor
 * or predecessor for the first time. A joining node proves itself to the node it joins (which
 * answers JOIN only then) and has that node prove itself first; a notifier proves itself before
 * rectify takes it; a closer successor found by stabilize proves itself before it is queried;
 * and an entry of the successor list, learned second hand, proves itself when it comes first,
 * before stabilize queries it. Entries stay in the list unproven meanwhile: Zave's lists must
 * keep their length to survive failures, and what they hold was proven by the node that adopted
 * it. The proofs only delay these steps; every rule above still holds.
 * Lookups live in lookup.c; requests, retries and timeouts in rpc.c, of which this file is a
 * client. This file does no I/O. */
#include "dht/ring.h"

#include "dht/lookup.h"
#include "dht/merge.h"
#include "dht/proof.h"

#include <string.h>

static uint64_t random_u64(struct dht *d)
{
	uint64_t v;
	rpc_random(d->rpc, &v, sizeof v);
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

static void send_simple(struct dht *d, const struct dht_addr *to, uint8_t type, uint32_t txid)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	m.txid = txid;
	rpc_send(d->rpc, to, &m);
}

/* The ring's requests, as tags of their rpc handlers. */
enum ring_req { R_STAB_SUCC, R_STAB_PRED, R_CHECK_PRED, R_JOIN };
static const struct rpc_handler stab_handler, check_handler, join_handler;
/* What follows a proof: taking a notifier, answering a joiner, querying our first successor or
 * a closer one, joining through the owner of our id. */
static const struct proof_handler notify_proof, joiner_proof, succ_proof, cand_proof,
	join_proof;

static void request_simple(struct dht *d, enum ring_req kind, const struct dht_node *to,
			   uint8_t type)
{
	static const struct rpc_handler *const handler[] = {
		[R_STAB_SUCC] = &stab_handler, [R_STAB_PRED] = &stab_handler,
		[R_CHECK_PRED] = &check_handler, [R_JOIN] = &join_handler,
	};
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	if (rpc_request(d->rpc, to, true, &m, d->cfg.maint_tries, handler[kind], d, kind) != 0)
		rpc_log(d->rpc, DHT_LOG_ERROR, "out of memory for a request");
}

/* Enter the ring: timers start, fingers are filled fast. */
static void become_joined(struct dht *d)
{
	uint64_t now = rpc_now(d->rpc);
	d->state = DHT_JOINED;
	d->stabilize_at = now;
	d->check_pred_at = now + jitter(d, d->cfg.check_pred_us);
	d->fix_at = now + d->cfg.fix_fingers_fast_us;
	d->fingers_fast = true;
	d->next_finger = 0;
	merge_start(d, now);
	d->joined(d);
}

void ring_create(struct dht *d)
{
	routing_init(&d->rt, &d->cfg.self, d->cfg.bits, d->cfg.succ_len);
	become_joined(d);
	rpc_log(d->rpc, DHT_LOG_INFO, "started a new ring");
}

static void join_done(struct dht *d, enum dht_status status)
{
	if (status != DHT_OK)
		d->state = DHT_IDLE;
	rpc_log(d->rpc, status == DHT_OK ? DHT_LOG_INFO : DHT_LOG_ERROR, "join: %s",
		  dht_status_str(status));
	if (d->join_cb)
		d->join_cb(d->join_arg, status);
}

static void join_found(void *arg, const struct dht_lookup_result *res)
{
	struct dht *d = arg;
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
	 * join completes, lookups already find us. It will be our first successor: it proves its
	 * id first. */
	if (proof_known(d, &res->owner))
		request_simple(d, R_JOIN, &res->owner, DHT_JOIN);
	else if (proof_ask(d, &res->owner, &join_proof, 0, 0) != 0)
		join_done(d, DHT_ERR_TIMEOUT);
}

static void join_proven(struct dht *d, const struct dht_node *node, unsigned tag, uint32_t txid,
			enum proof_result r)
{
	(void)tag;
	(void)txid;
	if (d->state != DHT_JOINING)
		return;
	if (r == PROOF_OK)
		request_simple(d, R_JOIN, node, DHT_JOIN);
	else
		join_done(d, DHT_ERR_TIMEOUT);
}

static const struct proof_handler join_proof = { join_proven, false };

int ring_join(struct dht *d, const struct dht_addr *via, dht_join_cb *cb, void *arg)
{
	routing_init(&d->rt, &d->cfg.self, d->cfg.bits, d->cfg.succ_len);
	d->state = DHT_JOINING;
	d->join_cb = cb;
	d->join_arg = arg;
	if (lookup_start(d, &d->cfg.self.id, via, true, join_found, d) != 0) {
		d->state = DHT_IDLE;
		return -1;
	}
	return 0;
}

void ring_leave(struct dht *d)
{
	if (d->state != DHT_JOINED)
		return;
	if (d->rt.has_pred)
		send_simple(d, &d->rt.pred.addr, DHT_LEAVE, 0);
	if (!id_eq(&d->rt.succ[0].id, &d->rt.self.id) &&
	    !(d->rt.has_pred && id_eq(&d->rt.pred.id, &d->rt.succ[0].id)))
		send_simple(d, &d->rt.succ[0].addr, DHT_LEAVE, 0);
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
	d->stabilize_at = rpc_now(d->rpc) + jitter(d, period);
}

/* X may become our first successor: it answers GET_NEIGH first, and proves its id before that
 * if it has not yet. */
static void query_candidate(struct dht *d, const struct dht_node *x)
{
	if (proof_known(d, x))
		request_simple(d, R_STAB_PRED, x, DHT_GET_NEIGH);
	else if (proof_ask(d, x, &cand_proof, 0, 0) != 0)
		stabilize_done(d, d->stab_steps > 0);
}

static void stabilize(struct dht *d)
{
	if (d->state != DHT_JOINED)
		return;
	/* A round in flight sets the next time when it ends; this is the fallback, and it keeps
	 * every timer moving forward so that the next deadline is always in the future. */
	d->stabilize_at = rpc_now(d->rpc) + jitter(d, d->cfg.stabilize_us);
	if (d->stabilizing)
		return;
	d->stabilizing = true;
	const struct dht_node *s = &d->rt.succ[0];
	if (!id_eq(&s->id, &d->rt.self.id)) {
		/* A first successor that came from a copied list proves its id before we use it. */
		if (proof_known(d, s))
			request_simple(d, R_STAB_SUCC, s, DHT_GET_NEIGH);
		else if (proof_ask(d, s, &succ_proof, 0, 0) != 0)
			stabilize_done(d, false);
		return;
	}
	/* Alone (our own successor): our successor's predecessor is our predecessor. If someone
	 * has notified us, query it as the candidate new successor. */
	if (d->rt.has_pred && !id_eq(&d->rt.pred.id, &d->rt.self.id)) {
		query_candidate(d, &d->rt.pred);
		return;
	}
	stabilize_done(d, false);
}

static void on_stab_succ(struct dht *d, const struct rpc_req *p, const struct dht_msg *m)
{
	d->lone_failures = 0;
	routing_adopt(&d->rt, &p->to, m->u.neigh.succ, m->u.neigh.nsucc);
	const struct dht_node *x = &m->u.neigh.pred;
	if (m->u.neigh.has_pred && id_in_oo(&x->id, &d->rt.self.id, &p->to.id)) {
		/* A closer successor, maybe: adopt it only once it has answered. */
		query_candidate(d, x);
		return;
	}
	stabilize_done(d, false);
}

/* Steps back along a chain of closer successors within one round, at most. */
#define STAB_MAX_STEPS 16

static void on_stab_pred(struct dht *d, const struct rpc_req *p, const struct dht_msg *m)
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
		query_candidate(d, x);
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

static void on_stab_timeout(struct dht *d, unsigned tag, const struct dht_node *to)
{
	if (tag == R_STAB_PRED) {
		stabilize_done(d, d->stab_steps > 0);
		return;
	}
	/* Dropping the last other node would make us a ring of one, a partition if the silence
	 * was only a slow network: give it LONE_TRIES rounds first. */
	if (only_other(d, &to->id) && ++d->lone_failures < LONE_TRIES) {
		rpc_log(d->rpc, DHT_LOG_INFO, "our only successor did not answer; trying again");
		d->stabilizing = false;
		stabilize(d);
		return;
	}
	rpc_log(d->rpc, DHT_LOG_INFO, "successor did not answer; falling back to the next one");
	d->lone_failures = 0;
	merge_note_lost(d, to);
	routing_forget(&d->rt, &to->id);
	proof_forget(d, to);
	d->stabilizing = false;
	stabilize(d);
}

static void succ_proven(struct dht *d, const struct dht_node *node, unsigned tag, uint32_t txid,
			enum proof_result r)
{
	(void)tag;
	(void)txid;
	if (d->state != DHT_JOINED || !d->stabilizing)
		return;
	const struct dht_node *s = &d->rt.succ[0];
	if (!id_eq(&s->id, &node->id) || !dht_addr_eq(&s->addr, &node->addr)) {
		/* It left our list meanwhile (LEAVE): start over with the new first successor. */
		d->stabilizing = false;
		stabilize(d);
	} else if (r == PROOF_OK) {
		request_simple(d, R_STAB_SUCC, node, DHT_GET_NEIGH);
	} else if (r == PROOF_FAILED) {
		on_stab_timeout(d, R_STAB_SUCC, node);
	} else {
		/* An impostor in a copied list: drop it like a dead node, but never probe it. */
		routing_forget(&d->rt, &node->id);
		d->stabilizing = false;
		stabilize(d);
	}
}

static const struct proof_handler succ_proof = { succ_proven, false };

static void cand_proven(struct dht *d, const struct dht_node *node, unsigned tag, uint32_t txid,
			enum proof_result r)
{
	(void)tag;
	(void)txid;
	if (d->state != DHT_JOINED || !d->stabilizing)
		return;
	if (r == PROOF_OK)
		request_simple(d, R_STAB_PRED, node, DHT_GET_NEIGH);
	else
		stabilize_done(d, d->stab_steps > 0);
}

static const struct proof_handler cand_proof = { cand_proven, false };

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
			d->check_pred_at = rpc_now(d->rpc);
		return;
	}
	if (!d->rt.has_pred || id_in_oo(&from->id, &d->rt.pred.id, &d->rt.self.id)) {
		if (!proof_known(d, from)) {
			/* Taken once it has proven its id (notify_proven). */
			if (proof_ask(d, from, &notify_proof, 0, 0) != 0)
				rpc_log(d->rpc, DHT_LOG_DEBUG, "notifier not asked to prove its id: "
					"refused lately, or too many proofs under way");
			return;
		}
		bool had_old = d->rt.has_pred;
		struct dht_node old = d->rt.pred;
		d->rt.pred = *from;
		d->rt.has_pred = true;
		d->pred_changed(d, had_old, &old);
		/* A lone node learns its successor from its new predecessor without waiting. */
		if (id_eq(&d->rt.succ[0].id, &d->rt.self.id))
			d->stabilize_at = rpc_now(d->rpc);
	}
}

static void notify_proven(struct dht *d, const struct dht_node *node, unsigned tag,
			  uint32_t txid, enum proof_result r)
{
	(void)tag;
	(void)txid;
	if (r == PROOF_OK)
		on_notify(d, node);
}

static const struct proof_handler notify_proof = { notify_proven, true };

/* A node said it is leaving: forget it, and fail at once what we asked it (a reply it sent just
 * before leaving may still be on its way, and must not bring it back into our lists). */
static void on_leave(struct dht *d, const struct dht_node *from)
{
	/* A notice names its sender by the id in its header: act only if that id is known here at
	 * the very address the notice came from (rpc.c has checked the sender receives there). */
	if (!routing_at(&d->rt, from)) {
		rpc_log(d->rpc, DHT_LOG_DEBUG, "LEAVE from a node not known at its address: ignored");
		d->stats.dropped_refused++;
		return;
	}
	bool first = routing_forget(&d->rt, &from->id);
	routing_drop_lost(&d->rt, &from->id);
	proof_forget(d, from);
	if (first && d->state == DHT_JOINED)
		d->stabilize_at = rpc_now(d->rpc);
	rpc_fail_node(d->rpc, from);
}

void ring_suspect(struct dht *d, const struct dht_id *id)
{
	for (unsigned i = 0; i < d->rt.bits; i++)
		if (d->rt.finger_ok[i] && id_eq(&d->rt.finger[i].id, id)) {
			merge_note_lost(d, &d->rt.finger[i]);
			d->rt.finger_ok[i] = false;
		}
	if (id_eq(&d->rt.succ[0].id, id) && !d->stabilizing)
		d->stabilize_at = rpc_now(d->rpc);
	if (d->rt.has_pred && id_eq(&d->rt.pred.id, id) && !d->checking_pred)
		d->check_pred_at = rpc_now(d->rpc);
}

static void check_pred(struct dht *d)
{
	d->check_pred_at = rpc_now(d->rpc) + jitter(d, d->cfg.check_pred_us);
	if (d->checking_pred || !d->rt.has_pred)
		return;
	d->checking_pred = true;
	request_simple(d, R_CHECK_PRED, &d->rt.pred, DHT_PING);
}

static void finger_found(void *arg, const struct dht_lookup_result *res)
{
	struct dht *d = arg;
	d->fixing = false;
	if (res->status == DHT_OK && d->state == DHT_JOINED)
		routing_set_finger(&d->rt, d->fixing_finger, &res->owner);
}

/* Fix one finger per period, cycling through the ones that are not simply the successor. A
 * finger our successor list covers is read from it; only the others cost a lookup. */
static void fix_next(struct dht *d)
{
	uint64_t period = d->fingers_fast ? d->cfg.fix_fingers_fast_us : d->cfg.fix_fingers_us;
	d->fix_at = rpc_now(d->rpc) + jitter(d, period);
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
	/* finger_found() clears the flag, possibly before lookup_start() returns. */
	d->fixing = true;
	d->fixing_finger = i;
	if (lookup_start(d, &start, NULL, false, finger_found, d) != 0)
		d->fixing = false;
}

static void answer_neigh(struct dht *d, const struct dht_addr *to, uint32_t txid)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.txid = txid;
	if (d->state != DHT_JOINED) {
		m.type = DHT_ERROR;
		m.u.error.code = DHT_ERR_NOT_READY;
		rpc_send(d->rpc, to, &m);
		return;
	}
	m.type = DHT_NEIGH;
	m.u.neigh.has_pred = d->rt.has_pred;
	m.u.neigh.pred = d->rt.pred;
	m.u.neigh.nsucc = (uint8_t)d->rt.nsucc;
	memcpy(m.u.neigh.succ, d->rt.succ, d->rt.nsucc * sizeof d->rt.succ[0]);
	rpc_send(d->rpc, to, &m);
}

/* JOIN: rectify, then answer as GET_NEIGH; a joiner not yet proven is answered once it has
 * proven its id (its retries of JOIN wait for the same proof). */
static void on_join(struct dht *d, const struct dht_node *from, uint32_t txid)
{
	if (d->state == DHT_JOINED && !proof_known(d, from)) {
		if (proof_ask(d, from, &joiner_proof, 0, txid) != 0)
			rpc_log(d->rpc, DHT_LOG_DEBUG, "joiner not asked to prove its id: refused "
				"lately, or too many proofs under way");
		return;
	}
	on_notify(d, from);
	answer_neigh(d, &from->addr, txid);
}

static void joiner_proven(struct dht *d, const struct dht_node *node, unsigned tag,
			  uint32_t txid, enum proof_result r)
{
	(void)tag;
	if (r == PROOF_OK) {
		on_join(d, node, txid);
	} else if (r == PROOF_REFUSED) {
		struct dht_msg m;
		memset(&m, 0, sizeof m);
		m.type = DHT_ERROR;
		m.txid = txid;
		m.u.error.code = DHT_ERR_UNPROVEN;
		rpc_send(d->rpc, &node->addr, &m);
	}
}

static const struct proof_handler joiner_proof = { joiner_proven, true };

bool ring_on_request(struct dht *d, const struct dht_msg *m, const struct dht_node *from)
{
	switch (m->type) {
	case DHT_PING:
		send_simple(d, &from->addr, DHT_PONG, m->txid);
		return true;
	case DHT_GET_NEIGH:
		answer_neigh(d, &from->addr, m->txid);
		return true;
	case DHT_JOIN:
		on_join(d, from, m->txid);
		return true;
	case DHT_NOTIFY:
		on_notify(d, from);
		return true;
	case DHT_LEAVE:
		on_leave(d, from);
		return true;
	default:
		return false;
	}
}

/* --- replies and timeouts ------------------------------------------------------------------- */

static void stab_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	struct dht *d = arg;
	if (m->type != DHT_NEIGH)
		on_stab_timeout(d, q->tag, &q->to);
	else if (q->tag == R_STAB_SUCC)
		on_stab_succ(d, q, m);
	else
		on_stab_pred(d, q, m);
}

static void stab_timeout(void *arg, const struct rpc_req *q)
{
	on_stab_timeout(arg, q->tag, &q->to);
}

static const struct rpc_handler stab_handler = { stab_reply, stab_timeout };

static void check_timeout(void *arg, const struct rpc_req *q)
{
	struct dht *d = arg;
	d->checking_pred = false;
	rpc_log(d->rpc, DHT_LOG_INFO, "predecessor did not answer; cleared");
	merge_note_lost(d, &q->to);
	routing_forget(&d->rt, &q->to.id);
	proof_forget(d, &q->to);
}

static void check_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	struct dht *d = arg;
	d->checking_pred = false;
	if (m->type != DHT_PONG) {
		/* Answered, but not as a member: as good as dead to us. */
		d->stats.timeouts++;
		check_timeout(d, q);
	}
}

static const struct rpc_handler check_handler = { check_reply, check_timeout };

static void join_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	struct dht *d = arg;
	if (m->type != DHT_NEIGH) {
		if (m->type == DHT_ERROR && m->u.error.code == DHT_ERR_UNPROVEN)
			rpc_log(d->rpc, DHT_LOG_ERROR, "join refused: our id is not the hash of our "
				"key (an open ring takes no chosen id)");
		join_done(d, DHT_ERR_TIMEOUT);
		return;
	}
	routing_adopt(&d->rt, &q->to, m->u.neigh.succ, m->u.neigh.nsucc);
	become_joined(d);
	notify_successor(d);
	join_done(d, DHT_OK);
}

static void join_timeout(void *arg, const struct rpc_req *q)
{
	(void)q;
	join_done(arg, DHT_ERR_TIMEOUT);
}

static const struct rpc_handler join_handler = { join_reply, join_timeout };

/* --- time ---------------------------------------------------------------------------------- */

void ring_tick(struct dht *d, uint64_t now)
{
	if (d->stabilize_at <= now)
		stabilize(d);
	if (d->check_pred_at <= now)
		check_pred(d);
	if (d->fix_at <= now)
		fix_next(d);
	merge_tick(d, now);
}

uint64_t ring_next_deadline(const struct dht *d)
{
	uint64_t next = d->stabilize_at;
	if (d->check_pred_at < next)
		next = d->check_pred_at;
	if (merge_next_deadline(d) < next)
		next = merge_next_deadline(d);
	return d->fix_at < next ? d->fix_at : next;
}
