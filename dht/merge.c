/* Ring unification. A ring that split in a partition repairs into two consistent rings, and
 * Chord's stabilization alone never joins them again: no pointer leads from one to the other.
 * This module makes the first such pointer; stabilization does the rest.
 *
 *   probe   every merge period, ask one node for its neighbours (GET_NEIGH): a candidate a
 *           discovery beacon told of if there is one, else the next of the passive list.
 *           Silence keeps a lost node listed; an answer removes it and goes on:
 *   mlookup look our own id up through the node that answered: in its ring, that finds the node
 *           that would be our successor there (in our own ring it finds our successor, and
 *           nothing more happens).
 *   trymerge query that node (it must prove its id and answer before we rely on it: it may
 *           become our successor; dht/proof.h). If it lies between us and
 *           our successor, it becomes our successor, with its list; in any case we notify it,
 *           and its rectify takes us as predecessor when we lie between it and its own.
 * Each link made is a crossing between the rings; the nodes around it then find closer
 * successors through their successors' predecessors, round after round, until the two rings
 * are zipped into one (the paper's gradual unification, with many crossings in parallel as
 * many nodes probe). Keys follow the predecessor changes through the usual hand-off. */
#include "dht/merge.h"

#include "dht/lookup.h"
#include "dht/proof.h"

#include <string.h>

/* Probe period, in stabilization periods: a healed partition is noticed within a few seconds
 * while a long-dead entry costs one request per period at most. */
#define MERGE_PERIODS 2
/* A node lost this long ago has left for good, not behind a partition that will heal. */
#define MERGE_LOST_MAX_US (6ULL * 3600 * 1000000)

enum merge_req { M_PROBE, M_ADOPT };
static const struct rpc_handler merge_handler;
static const struct proof_handler merge_proof;

static void request_neigh(struct dht *d, const struct dht_node *to, enum merge_req tag)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_GET_NEIGH;
	if (rpc_request(d->rpc, to, true, &m, d->cfg.maint_tries, &merge_handler, d, tag) != 0) {
		rpc_log(d->rpc, DHT_LOG_ERROR, "out of memory for a request");
		d->merge_busy = false;
	}
}

void merge_start(struct dht *d, uint64_t now)
{
	d->merge_at = now + MERGE_PERIODS * d->cfg.stabilize_us;
	d->merge_busy = false;
}

/* The node to probe now: the beacon's candidate first (it is news), else the next lost one. */
static bool next_probe(struct dht *d, struct dht_node *to)
{
	if (d->merge_has_cand) {
		d->merge_has_cand = false;
		*to = d->merge_cand;
		return true;
	}
	if (d->rt.nlost == 0)
		return false;
	d->merge_next %= d->rt.nlost;
	*to = d->rt.lost[d->merge_next++];
	return true;
}

void merge_tick(struct dht *d, uint64_t now)
{
	struct dht_node to;
	if (d->merge_at > now)
		return;
	d->merge_at = now + MERGE_PERIODS * d->cfg.stabilize_us;
	d->stats.lost_aged += routing_age_lost(&d->rt, now, MERGE_LOST_MAX_US);
	if (d->state != DHT_JOINED || d->merge_busy || !next_probe(d, &to))
		return;
	d->merge_busy = true;
	request_neigh(d, &to, M_PROBE);
}

void merge_hint(struct dht *d, const struct dht_node *node)
{
	const struct routing *rt = &d->rt;
	if (d->state != DHT_JOINED || id_eq(&node->id, &rt->self.id) || routing_at(rt, node))
		return;
	/* In one consistent ring no node lies strictly between a node and its neighbours: one that
	 * does is of another ring (or a newcomer stabilization is about to find anyway). Every
	 * point of the circle lies in some node's (pred, succ), so each beacon of another ring is
	 * taken up by the nodes next to its id, and the rest of the ring ignores it. */
	bool after = id_in_oo(&node->id, &rt->self.id, &rt->succ[0].id);
	bool before = rt->has_pred && id_in_oo(&node->id, &rt->pred.id, &rt->self.id);
	if (!after && !before)
		return;
	d->merge_cand = *node;
	d->merge_has_cand = true;
	d->stats.merge_hints++;
}

void merge_note_lost(struct dht *d, const struct dht_node *node)
{
	routing_note_lost(&d->rt, node, rpc_now(d->rpc));
}

uint64_t merge_next_deadline(const struct dht *d)
{
	return d->merge_at;
}

static void merge_found(void *arg, const struct dht_lookup_result *res)
{
	struct dht *d = arg;
	const struct dht_node *o = &res->owner;
	if (res->status != DHT_OK || d->state != DHT_JOINED || routing_is_self(&d->rt, o) ||
	    id_eq(&o->id, &d->rt.succ[0].id)) {
		d->merge_busy = false;
		return;
	}
	if (proof_known(d, o))
		request_neigh(d, o, M_ADOPT);
	else if (proof_ask(d, o, &merge_proof, 0, 0) != 0)
		d->merge_busy = false;
}

static void merge_proven(struct dht *d, const struct dht_node *node, unsigned tag, uint32_t txid,
			 enum proof_result r)
{
	(void)tag;
	(void)txid;
	if (r == PROOF_OK && d->state == DHT_JOINED)
		request_neigh(d, node, M_ADOPT);
	else
		d->merge_busy = false;
}

static const struct proof_handler merge_proof = { merge_proven, false };

static void trymerge(struct dht *d, const struct rpc_req *q, const struct dht_msg *m)
{
	const struct dht_node *o = &q->to;
	if (id_eq(&d->rt.succ[0].id, &d->rt.self.id) ||
	    id_in_oo(&o->id, &d->rt.self.id, &d->rt.succ[0].id)) {
		rpc_log(d->rpc, DHT_LOG_INFO, "merge: a node of another ring becomes our successor");
		routing_adopt(&d->rt, o, m->u.neigh.succ, m->u.neigh.nsucc);
		d->stabilize_at = rpc_now(d->rpc);
	} else {
		rpc_log(d->rpc, DHT_LOG_INFO, "merge: told a node of another ring about us");
	}
	d->stats.merges++;
	struct dht_msg n;
	memset(&n, 0, sizeof n);
	n.type = DHT_NOTIFY;
	rpc_send(d->rpc, &o->addr, &n);
}

static void merge_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	struct dht *d = arg;
	if (m->type != DHT_NEIGH || d->state != DHT_JOINED) {
		d->merge_busy = false;
		return;
	}
	if (q->tag == M_ADOPT) {
		d->merge_busy = false;
		trymerge(d, q, m);
		return;
	}
	routing_drop_lost(&d->rt, &q->to.id);
	if (lookup_start(d, &d->rt.self.id, &q->to.addr, true, merge_found, d) != 0)
		d->merge_busy = false;
}

static void merge_timeout(void *arg, const struct rpc_req *q)
{
	(void)q;
	struct dht *d = arg;
	d->merge_busy = false;
}

static const struct rpc_handler merge_handler = { merge_reply, merge_timeout };
