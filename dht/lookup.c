/* Iterative lookups. The asking node contacts every hop itself, so it can time a dead hop out,
 * route around it and report the path. One query is in flight per lookup (alpha = 1): lookups
 * are cheap in messages, and a dead hop costs one timeout before the next candidate is tried.
 *
 * A hop answers FOUND with one of: SELF (the key lies in (its predecessor, itself]); OWNER (the
 * key lies within its successor list: nodes[0] owns it, the rest are fallbacks); NEXT (the
 * nodes it knows that precede the key most closely). An OWNER answer is not taken on trust:
 * the owner is asked too, with the AS_OWNER flag, and must answer SELF. This costs one hop more
 * than the original Chord, and is what keeps lookups correct while the ring repairs itself: a
 * dead owner times out and its successor, told which nodes the asker found dead, takes over.
 *
 * Not done here: parallel queries (alpha > 1) and proximity routing. */
#include "dht/chord_impl.h"

#include <stdlib.h>
#include <string.h>

static bool dead_has(const struct dht_id *dead, size_t ndead, const struct dht_id *id)
{
	for (size_t i = 0; i < ndead; i++)
		if (id_eq(&dead[i], id))
			return true;
	return false;
}

static void answer_owner_from(struct dht *d, int from, const struct dht_id *dead, size_t ndead,
			      struct dht_msg *out)
{
	out->u.found.status = DHT_FOUND_OWNER;
	out->u.found.nnodes = 0;
	for (unsigned j = (unsigned)from; j < d->rt.nsucc && out->u.found.nnodes < DHT_MAX_NODES; j++)
		if (!dead_has(dead, ndead, &d->rt.succ[j].id))
			out->u.found.nodes[out->u.found.nnodes++] = d->rt.succ[j];
}

/* The first successor-list entry (skipping DEAD) whose arc from the previous one holds KEY. */
static int owner_in_succ(struct dht *d, const struct dht_id *key, const struct dht_id *dead,
			 size_t ndead)
{
	const struct dht_id *prev = &d->rt.self.id;
	for (unsigned j = 0; j < d->rt.nsucc; j++) {
		if (dead_has(dead, ndead, &d->rt.succ[j].id))
			continue;
		if (id_in_oc(key, prev, &d->rt.succ[j].id))
			return (int)j;
		prev = &d->rt.succ[j].id;
	}
	return -1;
}

void lookup_answer(struct dht *d, const struct dht_id *key, uint8_t flags,
		   const struct dht_id *dead, size_t ndead, struct dht_msg *out)
{
	const struct routing *rt = &d->rt;
	const struct dht_id *self = &rt->self.id;
	bool pred_ok = rt->has_pred && !dead_has(dead, ndead, &rt->pred.id);
	if (rt->has_pred && !pred_ok)
		chord_suspect(d, &rt->pred.id); /* an asker found it dead: check it now */
	for (size_t i = 0; i < ndead; i++)
		if (id_eq(&dead[i], &rt->succ[0].id))
			chord_suspect(d, &dead[i]);

	out->type = DHT_FOUND;
	out->u.found.has_pred = rt->has_pred;
	out->u.found.pred = rt->pred;
	bool alone = id_eq(&rt->succ[0].id, self);
	if (alone || (pred_ok && id_in_oc(key, &rt->pred.id, self)) ||
	    (!pred_ok && (flags & DHT_FIND_AS_OWNER))) {
		out->u.found.status = DHT_FOUND_SELF;
		return;
	}
	if ((flags & DHT_FIND_AS_OWNER) && pred_ok) {
		/* We were named owner, but our predecessor lies between us and the key: it is the
		 * better candidate (typically a node that joined since the asker's source heard). */
		out->u.found.status = DHT_FOUND_OWNER;
		out->u.found.nnodes = 2;
		out->u.found.nodes[0] = rt->pred;
		out->u.found.nodes[1] = rt->self;
		return;
	}
	int j = owner_in_succ(d, key, dead, ndead);
	if (j >= 0 && id_eq(&rt->succ[j].id, self)) {
		out->u.found.status = DHT_FOUND_SELF;
		return;
	}
	if (j >= 0) {
		answer_owner_from(d, j, dead, ndead, out);
		return;
	}
	out->u.found.status = DHT_FOUND_NEXT;
	out->u.found.nnodes = (uint8_t)routing_closest_preceding(rt, key, dead, ndead,
								  out->u.found.nodes, 4);
}

/* --- the asking side -------------------------------------------------------------------- */

static void finish(struct dht *d, struct lookup *lk, enum dht_status status,
		   const struct dht_node *owner)
{
	for (struct lookup **pp = &d->lookups; *pp; pp = &(*pp)->next)
		if (*pp == lk) {
			*pp = lk->next;
			break;
		}
	struct dht_lookup_result res;
	memset(&res, 0, sizeof res);
	res.status = status;
	res.key = lk->key;
	if (owner)
		res.owner = *owner;
	res.hops = lk->hops;
	res.timeouts = lk->timeouts;
	res.attempts = lk->attempts;
	res.elapsed_us = chord_now(d) - lk->started;
	res.npath = lk->npath;
	res.path = lk->path;
	d->stats.lookups++;
	if (status != DHT_OK)
		d->stats.lookups_failed++;
	switch (lk->purpose) {
	case LK_USER:
		lk->cb(lk->cb_arg, &res);
		break;
	case LK_FINGER:
		chord_finger_found(d, lk->finger, &res);
		break;
	case LK_JOIN:
		chord_join_found(d, &res);
		break;
	}
	free(lk);
}

static void add_dead(struct lookup *lk, const struct dht_id *id)
{
	if (dead_has(lk->dead, lk->ndead, id))
		return;
	if (lk->ndead == LOOKUP_MAX_DEAD) {
		memmove(&lk->dead[0], &lk->dead[1], (LOOKUP_MAX_DEAD - 1) * sizeof lk->dead[0]);
		lk->ndead--;
	}
	lk->dead[lk->ndead++] = *id;
}

static void add_candidate(struct dht *d, struct lookup *lk, const struct dht_node *c,
			  const struct dht_id *responder)
{
	/* Only nodes strictly closer to the key than the one that named them: progress. */
	if (!id_in_oo(&c->id, responder, &lk->key) || chord_is_self(d, c) ||
	    dead_has(lk->dead, lk->ndead, &c->id))
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

/* Act on an answer, from a remote hop or from our own state (RESPONDER is then ourselves). */
static void process(struct dht *d, struct lookup *lk, const struct dht_node *responder,
		    const struct dht_msg *m)
{
	switch (m->u.found.status) {
	case DHT_FOUND_SELF:
		finish(d, lk, DHT_OK, responder);
		return;
	case DHT_FOUND_OWNER:
		lk->nown = 0;
		lk->own_pos = 0;
		for (size_t i = 0; i < m->u.found.nnodes; i++)
			if (!dead_has(lk->dead, lk->ndead, &m->u.found.nodes[i].id))
				lk->own[lk->nown++] = m->u.found.nodes[i];
		break;
	default:
		for (size_t i = 0; i < m->u.found.nnodes; i++)
			add_candidate(d, lk, &m->u.found.nodes[i], &responder->id);
		break;
	}
	step(d, lk);
}

static void answer_locally(struct dht *d, struct lookup *lk, uint8_t flags)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	size_t nd = lk->ndead < DHT_MAX_DEAD ? lk->ndead : DHT_MAX_DEAD;
	lookup_answer(d, &lk->key, flags, lk->dead + (lk->ndead - nd), nd, &m);
	process(d, lk, &d->rt.self, &m);
}

static void contact(struct dht *d, struct lookup *lk, const struct dht_node *to, bool id_known,
		    uint8_t flags)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_FIND;
	m.u.find.key = lk->key;
	m.u.find.flags = flags;
	/* The most recent dead nodes: the ones nearest the key, where the answer is decided. */
	size_t nd = lk->ndead < DHT_MAX_DEAD ? lk->ndead : DHT_MAX_DEAD;
	m.u.find.ndead = (uint8_t)nd;
	memcpy(m.u.find.dead, lk->dead + (lk->ndead - nd), nd * sizeof lk->dead[0]);
	struct pending *p = chord_request(d, P_FIND, to, &m, 1);
	if (p == NULL) {
		finish(d, lk, DHT_ERR_NO_MEMORY, NULL);
		return;
	}
	p->lk = lk;
	p->to_id_known = id_known;
	lk->hops++;
	if (lk->npath < DHT_MAX_PATH) {
		struct dht_hop *h = &lk->path[lk->npath++];
		memset(h, 0, sizeof *h);
		h->node = *to;
	}
}

static void seed(struct dht *d, struct lookup *lk)
{
	lk->ncand = 0;
	lk->nown = lk->own_pos = 0;
	if (lk->purpose == LK_JOIN) {
		struct dht_node boot;
		memset(&boot, 0, sizeof boot);
		boot.addr = d->join_via;
		contact(d, lk, &boot, false, 0);
		return;
	}
	answer_locally(d, lk, 0);
}

static void attempt_failed(struct dht *d, struct lookup *lk)
{
	if (lk->attempts >= d->cfg.lookup_tries || d->state == DHT_LEFT) {
		finish(d, lk, DHT_ERR_TIMEOUT, NULL);
		return;
	}
	lk->attempts++;
	seed(d, lk);
}

static void step(struct dht *d, struct lookup *lk)
{
	if (lk->hops >= d->cfg.max_hops * lk->attempts) {
		attempt_failed(d, lk);
		return;
	}
	if (lk->own_pos < lk->nown) {
		struct dht_node o = lk->own[lk->own_pos++];
		if (chord_is_self(d, &o))
			answer_locally(d, lk, DHT_FIND_AS_OWNER);
		else
			contact(d, lk, &o, true, DHT_FIND_AS_OWNER);
		return;
	}
	/* The untried candidate closest to the key. */
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
	if (best == lk->ncand) {
		attempt_failed(d, lk);
		return;
	}
	lk->tried[best] = true;
	contact(d, lk, &lk->cand[best], true, 0);
}

int lookup_start(struct dht *d, const struct dht_id *key, enum lookup_purpose purpose,
		 unsigned finger, dht_lookup_cb *cb, void *cb_arg)
{
	struct lookup *lk = calloc(1, sizeof *lk);
	if (lk == NULL)
		return -1;
	lk->key = *key;
	lk->purpose = purpose;
	lk->finger = finger;
	lk->cb = cb;
	lk->cb_arg = cb_arg;
	lk->started = chord_now(d);
	lk->attempts = 1;
	lk->next = d->lookups;
	d->lookups = lk;
	seed(d, lk);
	return 0;
}

static struct dht_hop *last_hop(struct lookup *lk)
{
	return lk->npath ? &lk->path[lk->npath - 1] : NULL;
}

void lookup_on_found(struct dht *d, struct lookup *lk, const struct pending *p,
		     const struct dht_msg *m)
{
	struct dht_node responder = { .id = m->from, .addr = p->to.addr };
	struct dht_hop *h = last_hop(lk);
	if (h && lk->npath <= DHT_MAX_PATH) {
		h->node.id = m->from;
		h->answered = true;
		h->rtt_us = chord_now(d) - p->sent_at;
	}
	process(d, lk, &responder, m);
}

void lookup_on_timeout(struct dht *d, struct lookup *lk, const struct pending *p)
{
	lk->timeouts++;
	if (p->to_id_known) {
		add_dead(lk, &p->to.id);
		chord_suspect(d, &p->to.id);
	}
	step(d, lk);
}

void lookup_fail_all(struct dht *d, enum dht_status status)
{
	while (d->lookups)
		finish(d, d->lookups, status, NULL);
}
