/* When a lookup believes an owner, and what its questions tell of the dead.
 *
 * An OWNER answer is not taken on trust: X is asked too (AS_OWNER), and accepted if it answers
 * SELF. Only when X has no live predecessor to decide by (it died, or X has just joined) is X
 * accepted without that, and only if X is the anchor's own first successor, checked at the
 * anchor's last stabilization. Deeper entries are copies of copies and may miss nodes that joined
 * since; so may a predecessor named in a PRED answer.
 *
 * Right after a crash the owner of a key is often dead, and its successor X still names it as
 * predecessor. The dead nodes a lookup found (it names those nearest the key in each question:
 * FIND's dead hints) are left out of the OWNER lists it gets, so the live node before the key
 * answers as the anchor with X first. X is then accepted once the entries before it timed out
 * here and X itself found its predecessor dead (it checks at once when told): our timeouts alone
 * may be lost datagrams, and two independent faults are needed to name a wrong owner, as before.
 * A node whose question is merely slow is never taken for dead: a yes that hangs on one holds
 * only once it times out.
 *
 * A read needs a value, not the owner: the node right after the silent ones holds their
 * replicas, and values carry their writers' signatures (lookowner_replica).
 *
 * Not done here: asking, waiting and asking again (lookup.c); answering (findserve.c). */
#include "dht/lookowner.h"

#include <string.h>

/* Is ID dead, or else slow and then added to NEED? */
static bool dead_or_need(const struct lookowner_view *v, const struct dht_id *id,
			 struct dht_id *need, size_t *nneed)
{
	if (id_list_has(v->dead, v->ndead, id) || id_list_has(need, *nneed, id))
		return true;
	if (!id_list_has(v->slow, v->nslow, id) || *nneed == LOOKOWNER_MAX_NEED)
		return false;
	need[(*nneed)++] = *id;
	return true;
}

enum owner_verdict lookowner_judge(const struct lookowner_view *v, const struct dht_id *x,
				   const struct dht_msg *m, struct dht_id need[LOOKOWNER_MAX_NEED],
				   size_t *nneed)
{
	*nneed = 0;
	if (m->u.found.status == DHT_FOUND_SELF)
		return OWNER_YES;
	/* Its place in the owner list (questions are out in parallel: not always the last). */
	size_t pos = 0;
	while (pos < v->nown && !id_eq(&v->own[pos].id, x))
		pos++;
	if (m->u.found.status == DHT_FOUND_OWNER || pos == v->nown)
		return OWNER_NO; /* its own list places the key ahead of it, or no list names it */
	/* A predecessor not yet dead decides: the responder would have said SELF. */
	if (m->u.found.has_pred && !dead_or_need(v, &m->u.found.pred.id, need, nneed))
		return OWNER_NO;
	if (!v->fresh)
		return OWNER_STALE;
	/* Deep in the list: every entry before it must be dead. */
	bool skipped = pos > 0;
	for (size_t i = 0; i < pos; i++)
		if (!dead_or_need(v, &v->own[i].id, need, nneed))
			return OWNER_STALE;
	for (size_t i = 0; i < v->ndead; i++)
		skipped |= id_in_oo(&v->dead[i], v->lower, x);
	/* Our own timeouts may be lost datagrams, and a live node skipped would own the key: it
	 * must have found its predecessor dead too. Only the anchor's first successor, with no
	 * node between them, is taken on our word alone (a false death then costs two faults). */
	if (skipped && m->u.found.has_pred)
		return OWNER_WAIT;
	return OWNER_YES;
}

static bool silent(const struct lookowner_view *v, const struct dht_id *id)
{
	return id_list_has(v->dead, v->ndead, id) || id_list_has(v->slow, v->nslow, id);
}

bool lookowner_replica(const struct lookowner_view *v, const struct dht_id *x,
		       const struct dht_msg *m)
{
	if (m->u.found.status == DHT_FOUND_SELF)
		return true;
	if (m->u.found.status == DHT_FOUND_OWNER)
		return false;
	size_t pos = 0;
	while (pos < v->nown && !id_eq(&v->own[pos].id, x))
		pos++;
	if (pos == v->nown || (m->u.found.has_pred && !silent(v, &m->u.found.pred.id)))
		return false;
	for (size_t i = 0; i < pos; i++)
		if (!silent(v, &v->own[i].id))
			return false;
	return true;
}

/* How far ID lies from KEY, either way round the ring. */
static void key_gap(const struct dht_id *key, unsigned bits, const struct dht_id *id,
		    struct dht_id *gap)
{
	struct dht_id back;
	id_sub(gap, key, id, bits);
	id_sub(&back, id, key, bits);
	if (id_cmp(&back, gap) < 0)
		*gap = back;
}

/* The nearest to the key, because that is where the answer is decided: the entries before the
 * key in the answering node's list and the owner candidates after it. */
size_t lookowner_hints(const struct dht_id *key, unsigned bits, const struct dht_id *dead,
		       size_t ndead, struct dht_id out[DHT_MAX_DEAD])
{
	struct dht_id gap[DHT_MAX_DEAD], g;
	size_t n = 0;
	for (size_t i = 0; i < ndead; i++) {
		const struct dht_id *id = &dead[i];
		key_gap(key, bits, id, &g);
		size_t pos = n;
		while (pos > 0 && id_cmp(&g, &gap[pos - 1]) < 0)
			pos--;
		if (pos == DHT_MAX_DEAD)
			continue;
		size_t last = n < DHT_MAX_DEAD ? n : DHT_MAX_DEAD - 1;
		memmove(&out[pos + 1], &out[pos], (last - pos) * sizeof out[0]);
		memmove(&gap[pos + 1], &gap[pos], (last - pos) * sizeof gap[0]);
		out[pos] = *id;
		gap[pos] = g;
		if (n < DHT_MAX_DEAD)
			n++;
	}
	return n;
}
