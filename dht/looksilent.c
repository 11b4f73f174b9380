/* What a lookup knows of silent nodes: the dead (timed out) and the slow (past their expected
 * answer time, still out), how they count (owners passed over or asked again, questions ahead)
 * and which of them a question names. Works on the lookup's own arrays; allocates nothing.
 *
 * A hop whose question is slow is named dead to others only where that decides no owner
 * (lk_question_hints): nothing else is decided on slowness.
 *
 * Not done here: asking (lookup.c); choosing which dead to name (lookowner_hints). */
#include "dht/lookup_int.h"

#include <string.h>

void lk_add_dead(struct lookup *lk, const struct dht_id *id)
{
	if (id_list_has(lk->dead, lk->ndead, id))
		return;
	if (lk->ndead == LOOKUP_MAX_DEAD) {
		memmove(&lk->dead[0], &lk->dead[1], (LOOKUP_MAX_DEAD - 1) * sizeof lk->dead[0]);
		lk->ndead--;
	}
	lk->dead[lk->ndead++] = *id;
	lk->hints_seen++;
}

void lk_slow_remove(struct lookup *lk, const struct dht_id *id)
{
	for (size_t i = 0; i < lk->nslow; i++)
		if (id_eq(&lk->slow[i], id)) {
			memmove(&lk->slow[i], &lk->slow[i + 1], (lk->nslow - i - 1) * sizeof lk->slow[0]);
			lk->nslow--;
			return;
		}
}

void lk_slow_add(struct lookup *lk, const struct dht_id *id)
{
	if (id_list_has(lk->slow, lk->nslow, id))
		return;
	if (lk->nslow == LOOKUP_MAX_SLOW)
		lk_slow_remove(lk, &lk->slow[0]);
	lk->slow[lk->nslow++] = *id;
	lk->hints_seen++;
}

/* Is owner candidate ID not to be asked now: dead, or for a read, slow (its question is still
 * out and decides if it comes; meanwhile a read asks the next, which holds its replicas)? */
bool lk_passed_over(const struct lookup *lk, const struct dht_id *id)
{
	return id_list_has(lk->dead, lk->ndead, id) ||
	       (lk->read && id_list_has(lk->slow, lk->nslow, id));
}

/* A node is asked as owner again in an attempt only once more is known of the dead and slow
 * (its answer may then count): answers pointing back and forth between two nodes must not loop
 * until the hop limit. */
bool lk_asked_has(const struct lookup *lk, const struct dht_id *id)
{
	for (size_t i = 0; i < lk->nasked; i++)
		if (id_eq(&lk->asked[i], id))
			return lk->asked_hints[i] == lk->hints_seen;
	return false;
}

/* Questions out that the route has not gone past: all but the slow ones to nodes before near
 * (farther from the key). */
unsigned lk_questions_ahead(const struct lookup *lk)
{
	unsigned passed = 0;
	for (size_t i = 0; lk->has_near && i < lk->nslow; i++)
		passed += !id_in_oc(&lk->slow[i], &lk->near, &lk->key);
	return passed < lk->inflight ? lk->inflight - passed : 0;
}

/* The dead hints of a question to TO (RE_ROUTE: to the route's source again, every node it
 * named being dead or slow). The slow are named too, so that the source names others, when
 * that decides no owner: the source answered NEXT (it will again: its list ends before the
 * key; should it answer OWNER, its list is not taken as fresh), or the lookup is a read, which
 * takes no owner found so as confirmed (slow_named). The source checks only its own neighbours
 * among them (findserve.c), which a live one answers. */
size_t lk_question_hints(struct lookup *lk, unsigned bits, const struct dht_id *to,
			 bool re_route, struct dht_id out[DHT_MAX_DEAD])
{
	if (!re_route || lk->nslow == 0 || !(lk->src_routed || lk->read))
		return lookowner_hints(&lk->key, bits, lk->dead, lk->ndead, out);
	lk->slow_named = true;
	lk->slow_named_to = *to;
	struct dht_id both[LOOKUP_MAX_DEAD + LOOKUP_MAX_SLOW];
	memcpy(both, lk->dead, lk->ndead * sizeof both[0]);
	memcpy(both + lk->ndead, lk->slow, lk->nslow * sizeof both[0]);
	return lookowner_hints(&lk->key, bits, both, lk->ndead + lk->nslow, out);
}

/* The node P asked answered: not slow, and not dead after all if the held owner waited for it. */
void lk_heard(struct lookup *lk, const struct rpc_req *p)
{
	if (!p->to_id_known)
		return;
	lk_slow_remove(lk, &p->to.id);
	if (lk->has_held && id_list_has(lk->need, lk->nneed, &p->to.id))
		lk->has_held = false; /* its answer decides */
}
