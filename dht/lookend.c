/* How a lookup ends: whether an answer from a node asked as the owner ends it (lookowner.c's
 * rules, a read's unconfirmed end, or holding the owner to be), and ending it (the result,
 * stats and callback). The core owns every lookup; this file frees it once it has ended.
 *
 * Right after a crash the owner of a key is often dead, and its successor X is believed only
 * once it found its predecessor dead too: meanwhile the lookup holds X and asks it again after
 * 25, 50, 100... ms. A read (a get) does not wait: it ends at X, unconfirmed, since X holds the
 * dead owner's replicas and values carry their writers' signatures; writes and the ring keep
 * the rule.
 *
 * Not done here: asking (lookup.c); the rules themselves (lookowner.c). */
#include "dht/lookup_int.h"

#include <stdlib.h>
#include <string.h>

/* An owner that has yet to find its dead predecessor dead is asked again after this, then
 * twice as long each time, while the wait stays under the maximum. */
#define LOOKUP_RECHECK_US 25000
#define LOOKUP_RECHECK_MAX_US 800000

static void finish_as(struct dht *d, struct lookup *lk, enum dht_status status,
		      const struct dht_node *owner, bool unconfirmed)
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
	res.elapsed_us = rpc_now(d->rpc) - lk->started;
	res.npath = lk->npath;
	res.path = lk->path;
	res.unconfirmed = unconfirmed;
	d->stats.lookups++;
	if (status != DHT_OK)
		d->stats.lookups_failed++;
	lookstats_record(&d->lhist, &res);
	lk->cb(lk->cb_arg, &res);
	if (lk->inflight == 0 || d->state == DHT_LEFT) {
		rpc_cancel(d->rpc, lk);
		free(lk);
		return;
	}
	/* Slow questions still out: their timeouts still tell the ring of dead nodes (suspect),
	 * so the lookup stays, ended, until they end. */
	lk->ended = true;
	lk->slow_at = lk->retry_at = 0;
	lk->next = d->lookups;
	d->lookups = lk;
}

void lk_finish(struct dht *d, struct lookup *lk, enum dht_status status,
	       const struct dht_node *owner)
{
	finish_as(d, lk, status, owner, false);
}

void lk_unlink_free(struct dht *d, struct lookup *lk)
{
	for (struct lookup **pp = &d->lookups; *pp; pp = &(*pp)->next)
		if (*pp == lk) {
			*pp = lk->next;
			break;
		}
	rpc_cancel(d->rpc, lk);
	free(lk);
}

/* Hold X as the owner to be: the lookup asks nobody else meanwhile, nor the entries after X. */
static void hold(struct lookup *lk, const struct dht_node *x, const struct dht_id *need, size_t n)
{
	lk->has_held = true;
	lk->held = *x;
	lk->nneed = n;
	if (n > 0)
		memcpy(lk->need, need, n * sizeof need[0]);
	lk->own_pos = lk->nown;
}

/* Act on the answer M of X, asked as the owner. Return true if the lookup finished. */
bool lk_judge_owner(struct dht *d, struct lookup *lk, const struct dht_node *x,
		    const struct dht_msg *m)
{
	/* The anchor is ours (no answer named one) or the key lies between it and the owner. */
	bool anchored = routing_is_self(&d->rt, &lk->lower) ||
			id_in_oc(&lk->key, &lk->lower.id, &x->id);
	struct dht_id need[LOOKOWNER_MAX_NEED];
	size_t nneed = 0;
	const struct lookowner_view view = {
		.own = lk->own, .nown = lk->nown, .lower = &lk->lower.id, .fresh = lk->fresh,
		.dead = lk->dead, .ndead = lk->ndead, .slow = lk->slow, .nslow = lk->nslow,
	};
	enum owner_verdict v = lookowner_judge(&view, &x->id, m, need, &nneed);
	bool placed = routing_is_self(&d->rt, x) || anchored;
	bool confirmed = v == OWNER_YES && placed && nneed == 0;
	if (confirmed && !(lk->read && lk->slow_named)) {
		lk_finish(d, lk, DHT_OK, x);
		return true;
	}
	/* A read wants the value, not the owner: X follows nodes that did not answer in time, so
	 * it holds their replicas, and every value read back is checked by its signature. Waiting
	 * for the two faults (the dead timed out here, and by X) or for a fresh list would cost
	 * half a second; the reader asks X now and, should X hold nothing, looks again strictly. */
	if (lk->read && placed && (confirmed || lookowner_replica(&view, &x->id, m))) {
		finish_as(d, lk, DHT_OK, x, true);
		return true;
	}
	if (v == OWNER_YES && placed) {
		hold(lk, x, need, nneed); /* the slow questions decide */
	} else if (v == OWNER_WAIT && !lk->has_held && lk->recheck_gap < LOOKUP_RECHECK_MAX_US) {
		/* We named its predecessor dead to it, so it checks it now: ask it again soon. */
		lk->recheck_gap = lk->recheck_gap ? 2 * lk->recheck_gap : LOOKUP_RECHECK_US;
		lk->recheck_at = rpc_now(d->rpc) + lk->recheck_gap;
		hold(lk, x, NULL, 0);
	} else if (v == OWNER_WAIT || v == OWNER_STALE) {
		/* The anchor's own list decides: ask it next, once per state of our knowledge. */
		lk->own_pos = lk->nown;
		lk->ask_anchor = !id_list_has(lk->dead, lk->ndead, &lk->lower.id) &&
				 lk->anchor_hints != lk->hints_seen + 1;
	}
	return false;
}
