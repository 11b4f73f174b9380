/* Iterative lookups. The asking node contacts every hop itself, so it can time a dead hop out,
 * route around it and report the path. One query is in flight per lookup while hops answer in
 * time (alpha = 1): lookups stay cheap in messages. A hop silent past its expected round trip
 * (rpc_rto_hint()) may be dead: the lookup then asks the next candidate as well, without waiting
 * for the hop's retries (alpha grows to at most LOOKUP_MAX_PARALLEL, only while hops are slow;
 * a slow question the route has gone past, a node nearer the key having answered, no longer
 * counts: after a crash a route may pass several dead hops, each silent for half a second).
 * So a dead hop costs about one round trip, not three tries. Every answer is acted on as it
 * comes, the slow hop's too if it comes after all (the first answer may be a detour, e.g. PRED
 * naming the slow hop), but only the question not yet slow drives (asks the next node when it
 * ends): alpha falls back to 1 as soon as hops answer in time. With nobody left to ask, the slow
 * questions still out decide. A lookup that ended with slow questions out stays (ended) until
 * they end, acting on none but telling the ring of a node that timed out.
 *
 * Hops answer FIND as findserve.c says (SELF, OWNER, NEXT or PRED); whether an owner's answer
 * ends the lookup is lookend.c's to say, by lookowner.c's rules (right after a crash the lookup
 * may hold the dead owner's successor and ask it again; a read ends there, unconfirmed), and
 * what the lookup knows of silent nodes and names to others is looksilent.c's. The lookup
 * drives the asking around those rules.
 * Answers that named dead nodes are asked again, told of them (the route's source, the anchor,
 * an owner asked before), but only once more is known, so two nodes pointing at each other
 * cannot loop. A lookup that finds no route tries again at once with what it learnt, then after
 * lookup_retry_us, 2 x lookup_retry_us..., once the ring has had time to repair. So lookups stay
 * correct while the ring repairs itself, at no cost in hops on a stable ring, where the owner
 * answers SELF.
 *
 * A SELF answer counts only from a node asked as the owner, and only if the key lies between the
 * anchor the asker knows and that node: a hop asked for a route that claims the key sends the
 * lookup to its predecessor, whose list must name it, so one hop cannot end a lookup at itself
 * by saying so.
 *
 * Not done here: ending a lookup (lookend.c); its dead and slow nodes (looksilent.c); answering
 * FIND (findserve.c); proximity routing. */
#include "dht/lookup.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dht/findserve.h"
#include "dht/lookup_int.h"

#define LOOKUP_MAX_PARALLEL 8
/* A FIND's rpc tag: its flags in the low byte, the question's number above. */
#define TAG_SEQ_SHIFT 8
#define TAG_SEQ_MASK (UINT_MAX >> TAG_SEQ_SHIFT)

static void add_candidate(struct dht *d, struct lookup *lk, const struct dht_node *c,
			  const struct dht_id *responder)
{
	/* Only nodes strictly closer to the key than the one that named them: progress. */
	if (!id_in_oo(&c->id, responder, &lk->key) || routing_is_self(&d->rt, c) ||
	    id_list_has(lk->dead, lk->ndead, &c->id))
		return;
	for (size_t i = 0; i < lk->ncand; i++)
		if (id_eq(&lk->cand[i].id, &c->id))
			return;
	if (lk->ncand < LOOKUP_MAX_CAND) {
		lk->tried[lk->ncand] = false;
		lk->cand[lk->ncand++] = *c;
	}
}

static void step(struct dht *d, struct lookup *lk);
static bool ask_next(struct dht *d, struct lookup *lk);
static void ask_owner(struct dht *d, struct lookup *lk, const struct dht_node *o);
static void attempt_failed(struct dht *d, struct lookup *lk);
static const struct rpc_handler find_handler;

static void take_owner_list(struct dht *d, struct lookup *lk, const struct dht_node *responder,
			    const struct dht_msg *m)
{
	if (m->u.found.nnodes < 2)
		return;
	lk->lower = m->u.found.nodes[0];
	/* A list that left out slow nodes we named may skip a live one: not fresh. */
	lk->fresh = id_eq(&lk->lower.id, &responder->id) &&
		    !(lk->slow_named && id_eq(&responder->id, &lk->slow_named_to));
	/* A fresh list's first live entry is asked again if it was before: the list may make its
	 * answer count now. */
	if (lk->fresh)
		for (size_t i = 1; i < m->u.found.nnodes; i++) {
			if (lk_passed_over(lk, &m->u.found.nodes[i].id))
				continue;
			for (size_t a = 0; a < lk->nasked; a++)
				if (id_eq(&lk->asked[a], &m->u.found.nodes[i].id))
					lk->asked_hints[a] = lk->hints_seen + 1;
			break;
		}
	lk->nown = lk->own_pos = 0;
	for (size_t i = 1; i < m->u.found.nnodes; i++)
		lk->own[lk->nown++] = m->u.found.nodes[i];
	lk->has_src = true;
	lk->src_routed = false;
	lk->src = *responder;
	lk->src_hints = lk->hints_seen;
	/* A deep anchor is a way back to fresh knowledge if the owners disappoint. */
	if (!lk->fresh)
		add_candidate(d, lk, &lk->lower, &d->rt.self.id);
}

/* A hop asked only for a route claims the key: any node could say so. Our own state is taken
 * as it is. A remote claimant's predecessor is asked instead, whose own successor list must
 * name the claimant (OWNER) before it is asked as the owner; only a claimant alone in its ring
 * (no predecessor) is asked as the owner at once. */
static void self_claim(struct dht *d, struct lookup *lk, const struct dht_node *responder,
		       const struct dht_msg *m)
{
	if (routing_is_self(&d->rt, responder)) {
		lk_finish(d, lk, DHT_OK, responder);
		return;
	}
	if (m->u.found.has_pred) {
		add_candidate(d, lk, &m->u.found.pred, &d->rt.self.id);
	} else {
		lk->own[0] = *responder;
		lk->nown = 1;
		lk->own_pos = 0;
	}
	step(d, lk);
}

/* The lookup starts an attempt, or fails one: what is still asked in parallel is moot. */
static void cancel_questions(struct dht *d, struct lookup *lk)
{
	rpc_cancel(d->rpc, lk);
	lk->inflight = 0;
	lk->driver = 0;
	lk->slow_at = 0;
}

/* Act on an answer, from a remote hop or from our own state (RESPONDER is then ourselves).
 * AS_OWNER says whether the responder was asked as the owner. */
static void process(struct dht *d, struct lookup *lk, const struct dht_node *responder,
		    const struct dht_msg *m, bool as_owner)
{
	static const char *status[] = { "next", "owner", "self", "pred" };
	char key[ID_HEX_MAX], from[ID_HEX_MAX];
	id_to_hex(&lk->key, d->rt.bits, key);
	id_to_hex(&responder->id, d->rt.bits, from);
	rpc_log(d->rpc, DHT_LOG_DEBUG, "lookup %.8s: %.8s%s answered %s with %u nodes", key, from,
		  as_owner ? " (as owner)" : "", status[m->u.found.status & 3], m->u.found.nnodes);
	if (as_owner && lk_judge_owner(d, lk, responder, m))
		return;
	if (!as_owner && m->u.found.status == DHT_FOUND_SELF) {
		self_claim(d, lk, responder, m);
		return;
	}

	switch (m->u.found.status) {
	case DHT_FOUND_OWNER:
		take_owner_list(d, lk, responder, m);
		break;
	case DHT_FOUND_PRED:
		/* Follow the predecessor only if it lies where the key was said to be, in
		 * (lower, responder); otherwise the list that named the responder was stale and
		 * routing goes on from the candidates. It must answer SELF to be accepted. */
		if (m->u.found.nnodes >= 1 && !id_list_has(lk->dead, lk->ndead, &m->u.found.nodes[0].id) &&
		    id_in_oo(&m->u.found.nodes[0].id, &lk->lower.id, &responder->id)) {
			lk->own[0] = m->u.found.nodes[0];
			lk->nown = 1;
			lk->own_pos = 0;
			lk->fresh = false;
		}
		break;
	default:
		if (!as_owner) {
			lk->has_src = true;
			lk->src_routed = true;
			lk->src = *responder;
			lk->src_hints = lk->hints_seen;
		}
		/* An owner candidate lies past the key: what precedes the key from there is most of
		 * the ring. Keep only what is closer than the lower bound, or the lookup would go
		 * round again. */
		for (size_t i = 0; i < m->u.found.nnodes; i++)
			add_candidate(d, lk, &m->u.found.nodes[i],
				      as_owner ? &lk->lower.id : &responder->id);
		break;
	}
	step(d, lk);
}

/* Answer from our own state as a hop asked with FLAGS would (RE_ROUTE: see lk_question_hints). */
static void answer_locally(struct dht *d, struct lookup *lk, uint8_t flags, bool re_route)
{
	/* Each local answer consumes a candidate, so this recursion ends; the bound is a guard. */
	if (++lk->local_answers > 2 * DHT_MAX_NODES) {
		attempt_failed(d, lk);
		return;
	}
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	struct dht_id hint[DHT_MAX_DEAD];
	size_t nhint = lk_question_hints(lk, d->rt.bits, &d->rt.self.id, re_route, hint);
	findserve_answer(d, &lk->key, flags, hint, nhint, &m);
	process(d, lk, &d->rt.self, &m, flags & DHT_FIND_AS_OWNER);
}

static void contact_hinted(struct dht *d, struct lookup *lk, const struct dht_node *to,
			   bool id_known, uint8_t flags, bool re_route)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_FIND;
	m.u.find.key = lk->key;
	m.u.find.flags = flags;
	m.u.find.ndead =
		(uint8_t)lk_question_hints(lk, d->rt.bits, &to->id, re_route, m.u.find.dead);
	lk->seq = lk->seq % TAG_SEQ_MASK + 1; /* never 0, which means no driver */
	unsigned tag = flags | lk->seq << TAG_SEQ_SHIFT;
	/* As many tries as maintenance: a lost datagram must not make a live node look dead. */
	if (rpc_request(d->rpc, to, id_known, &m, d->cfg.maint_tries, &find_handler, lk, tag) != 0) {
		lk_finish(d, lk, DHT_ERR_NO_MEMORY, NULL);
		return;
	}
	lk->hops++;
	lk->inflight++;
	lk->driver = lk->seq;
	lk->driver_node = *to;
	/* A join's contact is the only way in: nobody to ask beside it. */
	lk->slow_at = id_known && lk_questions_ahead(lk) < LOOKUP_MAX_PARALLEL ?
			      rpc_now(d->rpc) + rpc_rto_hint(d->rpc, &to->addr) : 0;
	if (lk->npath < DHT_MAX_PATH) {
		struct dht_hop *h = &lk->path[lk->npath++];
		memset(h, 0, sizeof *h);
		h->node = *to;
	}
}

static void contact(struct dht *d, struct lookup *lk, const struct dht_node *to, bool id_known,
		    uint8_t flags)
{
	contact_hinted(d, lk, to, id_known, flags, false);
}

static void seed(struct dht *d, struct lookup *lk)
{
	cancel_questions(d, lk);
	lk->ncand = 0;
	lk->nown = lk->own_pos = 0;
	lk->lower = d->rt.self;
	lk->local_answers = 0;
	lk->nasked = 0;
	lk->has_held = false;
	lk->recheck_at = lk->recheck_gap = 0;
	lk->has_src = false;
	lk->slow_named = false;
	lk->has_near = false;
	lk->ask_anchor = false;
	lk->anchor_hints = 0;
	lk->nslow = 0;
	lk->boot_heard = false;
	if (lk->has_boot) {
		struct dht_node boot;
		memset(&boot, 0, sizeof boot);
		boot.addr = lk->boot;
		contact(d, lk, &boot, false, 0);
		return;
	}
	answer_locally(d, lk, 0, false);
}

static void attempt_failed(struct dht *d, struct lookup *lk)
{
	cancel_questions(d, lk);
	char key[ID_HEX_MAX];
	id_to_hex(&lk->key, d->rt.bits, key);
	rpc_log(d->rpc, DHT_LOG_DEBUG, "lookup %.8s: attempt %u found no route (%u hops, %zu dead)",
		  key, lk->attempts, lk->hops, lk->ndead);
	/* A join retries only through a contact that still answers: it knows nobody else. */
	bool unheard = lk->has_boot && !lk->boot_heard;
	if (lk->attempts >= d->cfg.lookup_tries * (lk->has_boot ? 2 : 1) ||
	    d->state == DHT_LEFT || unheard) {
		lk_finish(d, lk, DHT_ERR_TIMEOUT, NULL);
		return;
	}
	/* No route now usually means the ring is repairing around a failure. The second attempt
	 * starts at once: it knows the dead this one found, and tells every node it asks. Later
	 * ones give stabilization and check-predecessor time to act first. */
	lk->attempts++;
	lk->retry_at = rpc_now(d->rpc) + (uint64_t)(lk->attempts - 2) * d->cfg.lookup_retry_us + 1;
}

/* The oldest lookup whose start was deferred (lookups are listed newest first), or NULL. */
static struct lookup *oldest_deferred(const struct dht *d)
{
	struct lookup *found = NULL;
	for (struct lookup *lk = d->lookups; lk; lk = lk->next)
		if (lk->deferred)
			found = lk;
	return found;
}

void lookup_run_due(struct dht *d, uint64_t now)
{
	/* Deferred starts in the order the caller asked for them: a get after a put must see it.
	 * Only those deferred before this tick: a callback that starts another lookup waits for the
	 * next tick, so a caller that always asks again cannot keep this one from returning. */
	size_t n = 0;
	struct lookup *lk;
	for (lk = d->lookups; lk; lk = lk->next)
		n += lk->deferred;
	for (; n > 0 && (lk = oldest_deferred(d)) != NULL; n--) {
		lk->deferred = false;
		seed(d, lk); /* may finish and free lookups */
	}
	bool again = true;
	while (again) {
		again = false;
		for (lk = d->lookups; lk; lk = lk->next) {
			if (lk->slow_at != 0 && lk->slow_at <= now) {
				lk->slow_at = 0;
				lk->driver = 0;
				lk_slow_add(lk, &lk->driver_node.id);
				ask_next(d, lk); /* a question is slow: ask another too (may finish lookups) */
			} else if (lk->recheck_at != 0 && lk->recheck_at <= now) {
				struct dht_node held = lk->held;
				lk->recheck_at = 0;
				lk->has_held = false;
				ask_owner(d, lk, &held); /* may finish lookups */
			} else if (lk->retry_at != 0 && lk->retry_at <= now) {
				lk->retry_at = 0;
				seed(d, lk); /* may finish and free lookups */
			} else {
				continue;
			}
			again = true; /* walk the list again */
			break;
		}
	}
}

uint64_t lookup_next_deadline(const struct dht *d)
{
	uint64_t next = UINT64_MAX;
	for (const struct lookup *lk = d->lookups; lk; lk = lk->next) {
		if (lk->deferred)
			return rpc_now(d->rpc);
		if (lk->retry_at != 0 && lk->retry_at < next)
			next = lk->retry_at;
		if (lk->slow_at != 0 && lk->slow_at < next)
			next = lk->slow_at;
		if (lk->recheck_at != 0 && lk->recheck_at < next)
			next = lk->recheck_at;
	}
	return next;
}

static void ask_owner(struct dht *d, struct lookup *lk, const struct dht_node *o)
{
	size_t i = 0;
	while (i < lk->nasked && !id_eq(&lk->asked[i], &o->id))
		i++;
	if (i == lk->nasked && lk->nasked < LOOKUP_MAX_ASKED)
		lk->asked[lk->nasked++] = o->id;
	if (i < lk->nasked)
		lk->asked_hints[i] = lk->hints_seen;
	if (routing_is_self(&d->rt, o))
		answer_locally(d, lk, DHT_FIND_AS_OWNER, false);
	else
		contact(d, lk, o, true, DHT_FIND_AS_OWNER);
}

/* Ask the next node: an owner candidate, else the untried candidate closest to the key. Return
 * false if there is none (or the hop budget is spent). */
static bool ask_next(struct dht *d, struct lookup *lk)
{
	if (lk->hops >= d->cfg.max_hops * lk->attempts)
		return false;
	while (lk->own_pos < lk->nown && lk_passed_over(lk, &lk->own[lk->own_pos].id))
		lk->own_pos++;
	/* The first live entry owns the key: if it was asked, knowing what we know, the entries
	 * after it, which follow the key further still, are not asked. */
	if (lk->own_pos < lk->nown && lk_asked_has(lk, &lk->own[lk->own_pos].id))
		lk->own_pos = lk->nown;
	if (lk->own_pos < lk->nown) {
		struct dht_node o = lk->own[lk->own_pos++];
		ask_owner(d, lk, &o);
		return true;
	}
	if (lk->ask_anchor) {
		lk->ask_anchor = false;
		lk->anchor_hints = lk->hints_seen + 1;
		struct dht_node a = lk->lower;
		if (routing_is_self(&d->rt, &a))
			answer_locally(d, lk, 0, false);
		else
			contact(d, lk, &a, true, 0);
		return true;
	}
	size_t best = lk->ncand;
	struct dht_id bestd, dist;
	for (size_t i = 0; i < lk->ncand; i++) {
		if (lk->tried[i])
			continue;
		id_sub(&dist, &lk->key, &lk->cand[i].id, d->rt.bits);
		if (best == lk->ncand || id_cmp(&dist, &bestd) < 0) {
			best = i;
			bestd = dist;
		}
	}
	/* What the route's source named is dead or slow, and no candidate is closer than the
	 * source: told of them, it names others. */
	if (lk->has_src && lk->hints_seen != lk->src_hints &&
	    !id_list_has(lk->dead, lk->ndead, &lk->src.id) &&
	    (best == lk->ncand || !id_in_oo(&lk->cand[best].id, &lk->src.id, &lk->key))) {
		lk->src_hints = lk->hints_seen;
		if (routing_is_self(&d->rt, &lk->src))
			answer_locally(d, lk, 0, true);
		else
			contact_hinted(d, lk, &lk->src, true, 0, true);
		return true;
	}
	if (best == lk->ncand)
		return false;
	lk->tried[best] = true;
	contact(d, lk, &lk->cand[best], true, 0);
	return true;
}

/* Ask the next node, unless a question not yet slow is out: that one drives. With none left to
 * ask, the slow questions still out decide, and without any, this attempt found no route. */
static void step(struct dht *d, struct lookup *lk)
{
	if (lk->has_held)
		return;
	if (lk->driver == 0 && !ask_next(d, lk) && lk->inflight == 0)
		attempt_failed(d, lk);
}

/* Question P ended (answered or timed out). */
static void question_done(struct lookup *lk, const struct rpc_req *p)
{
	lk->inflight--;
	if (p->tag >> TAG_SEQ_SHIFT == lk->driver) {
		lk->driver = 0;
		lk->slow_at = 0;
	}
}

static int start(struct dht *d, const struct dht_id *key, const struct dht_addr *boot,
		 bool defer, bool read, dht_lookup_cb *cb, void *cb_arg)
{
	struct lookup *lk = calloc(1, sizeof *lk);
	if (lk == NULL)
		return -1;
	lk->d = d;
	lk->read = read;
	lk->key = *key;
	lk->has_boot = boot != NULL;
	if (boot)
		lk->boot = *boot;
	lk->cb = cb;
	lk->cb_arg = cb_arg;
	lk->started = rpc_now(d->rpc);
	lk->attempts = 1;
	lk->next = d->lookups;
	d->lookups = lk;
	lk->deferred = defer;
	if (!defer)
		seed(d, lk);
	return 0;
}

int lookup_start(struct dht *d, const struct dht_id *key, const struct dht_addr *boot,
		 bool defer, dht_lookup_cb *cb, void *cb_arg)
{
	return start(d, key, boot, defer, false, cb, cb_arg);
}

int lookup_start_read(struct dht *d, const struct dht_id *key, bool defer, dht_lookup_cb *cb,
		      void *cb_arg)
{
	return start(d, key, NULL, defer, true, cb, cb_arg);
}

/* The latest unanswered hop asked at ADDR (questions may be out to several at once), or NULL. */
static struct dht_hop *path_hop(struct lookup *lk, const struct dht_addr *addr)
{
	for (size_t i = lk->npath; i-- > 0;)
		if (!lk->path[i].answered && dht_addr_eq(&lk->path[i].node.addr, addr))
			return &lk->path[i];
	return NULL;
}

/* --- replies and timeouts of FIND (tagged with its flags and number) --------------------- */

static void on_found(struct dht *d, struct lookup *lk, const struct rpc_req *p,
		     const struct dht_msg *m)
{
	struct dht_node responder = { .id = m->from, .addr = p->to.addr };
	struct dht_hop *h = path_hop(lk, &p->to.addr);
	question_done(lk, p);
	lk_heard(lk, p);
	if (!p->to_id_known)
		lk->boot_heard = true;
	if (h) {
		h->node.id = m->from;
		h->answered = true;
		h->rtt_us = rpc_now(d->rpc) - p->sent_at;
	}
	if (p->to_id_known && !(p->tag & DHT_FIND_AS_OWNER) &&
	    (!lk->has_near || id_in_oo(&m->from, &lk->near, &lk->key))) {
		lk->has_near = true;
		lk->near = m->from;
	}
	process(d, lk, &responder, m, p->tag & DHT_FIND_AS_OWNER);
}

/* DEAD timed out: if it was the last node the held owner waited for, ask that one again (alive
 * still?) where its list left it, and return true. */
static bool held_need_met(struct dht *d, struct lookup *lk, const struct dht_id *dead)
{
	if (!lk->has_held)
		return false;
	for (size_t i = 0; i < lk->nneed; i++)
		if (id_eq(&lk->need[i], dead)) {
			lk->need[i] = lk->need[--lk->nneed];
			break;
		}
	if (lk->nneed > 0)
		return false;
	lk->has_held = false;
	struct dht_node held = lk->held;
	ask_owner(d, lk, &held);
	return true;
}

static void find_timeout(void *arg, const struct rpc_req *p)
{
	struct lookup *lk = arg;
	struct dht *d = lk->d;
	if (lk->ended) {
		if (p->to_id_known)
			d->suspect(d, &p->to.id);
		if (--lk->inflight == 0)
			lk_unlink_free(d, lk);
		return;
	}
	char key[ID_HEX_MAX], to[ID_HEX_MAX];
	id_to_hex(&lk->key, d->rt.bits, key);
	id_to_hex(&p->to.id, d->rt.bits, to);
	rpc_log(d->rpc, DHT_LOG_DEBUG, "lookup %.8s: %.8s did not answer", key, to);
	lk->timeouts++;
	question_done(lk, p);
	if (p->to_id_known) {
		lk_slow_remove(lk, &p->to.id);
		lk_add_dead(lk, &p->to.id);
		d->suspect(d, &p->to.id);
		if (held_need_met(d, lk, &p->to.id))
			return;
	}
	step(d, lk);
}

static void find_reply(void *arg, const struct rpc_req *p, const struct dht_msg *m)
{
	struct lookup *lk = arg;
	if (lk->ended) {
		if (--lk->inflight == 0)
			lk_unlink_free(lk->d, lk);
		return;
	}
	if (m->type == DHT_FOUND) {
		on_found(lk->d, lk, p, m);
		return;
	}
	/* The hop answered, but not with FOUND (it is not in a ring yet, or left): alive, so not
	 * dead; the lookup moves on without it, the questions still out deciding if any. */
	if (!p->to_id_known)
		lk->boot_heard = true; /* a join's contact that is still joining: try again later */
	question_done(lk, p);
	lk_heard(lk, p);
	step(lk->d, lk);
}

static const struct rpc_handler find_handler = { find_reply, find_timeout };

void lookup_fail_all(struct dht *d, enum dht_status status)
{
	while (d->lookups) {
		if (d->lookups->ended)
			lk_unlink_free(d, d->lookups);
		else
			lk_finish(d, d->lookups, status, NULL);
	}
}

void lookup_drop_all(struct dht *d)
{
	while (d->lookups) {
		struct lookup *lk = d->lookups;
		d->lookups = lk->next;
		free(lk);
	}
}
