/* Answers to FIND: the side of a lookup a node plays for others (and for its own lookups, which
 * ask it first). It reads the routing state and asks nothing: the asker contacts every hop
 * itself (lookup.c).
 *
 * A hop answers FOUND with one of: SELF (the key lies in (its predecessor, itself]); OWNER (the
 * key lies in an arc (A, X] of its successor list: X owns it, A is the entry before, the hop
 * itself for its first successor); NEXT (the nodes it knows that precede the key most closely);
 * PRED (asked as owner, its predecessor lies between the key and it). Every answer carries the
 * hop's predecessor.
 *
 * A question names the dead nodes the asker found nearest the key (FIND's dead hints). They are
 * left out of the answer, and a hint naming our predecessor or first successor has the ring
 * check it at once (the suspect hook): right after a crash, this is how the dead owner's
 * successor comes to find its predecessor dead, and so to answer for the key.
 *
 * Not done here: deciding whether an answer is believed (lookup.c, lookowner.c). */
#include "dht/findserve.h"

#include <string.h>

/* OWNER: the anchor (the entry before the key's arc, or ourselves), then the list from the arc
 * on. The entries the asker found dead are left out, as our list will drop them: the arc is
 * the one between live entries, and with every entry before the key dead, we are the anchor,
 * which tells the asker the list is fresh (the owner's predecessor check still guards it).
 * Entries not known dead are left in: positions tell the asker how fresh each entry is. Return
 * false if the key lies past our list. */
static bool answer_owner(struct dht *d, const struct dht_id *key, const struct dht_id *dead,
			 size_t ndead, struct dht_msg *out)
{
	const struct routing *rt = &d->rt;
	const struct dht_node *anchor = &rt->self;
	unsigned j = 0;
	for (; j < rt->nsucc; j++) {
		if (id_list_has(dead, ndead, &rt->succ[j].id))
			continue;
		if (id_in_oc(key, &anchor->id, &rt->succ[j].id))
			break;
		anchor = &rt->succ[j];
	}
	if (j == rt->nsucc || routing_is_self(rt, &rt->succ[j]))
		return false;
	out->u.found.status = DHT_FOUND_OWNER;
	out->u.found.nodes[0] = *anchor;
	out->u.found.nnodes = 1;
	for (; j < rt->nsucc && out->u.found.nnodes < DHT_MAX_NODES; j++)
		if (!id_list_has(dead, ndead, &rt->succ[j].id))
			out->u.found.nodes[out->u.found.nnodes++] = rt->succ[j];
	return true;
}

void findserve_answer(struct dht *d, const struct dht_id *key, uint8_t flags,
		      const struct dht_id *dead, size_t ndead, struct dht_msg *out)
{
	const struct routing *rt = &d->rt;
	const struct dht_id *self = &rt->self.id;
	bool pred_ok = rt->has_pred && !id_list_has(dead, ndead, &rt->pred.id);
	if (rt->has_pred && !pred_ok)
		d->suspect(d, &rt->pred.id); /* an asker found it dead: check it now */
	for (size_t i = 0; i < ndead; i++)
		if (id_eq(&dead[i], &rt->succ[0].id))
			d->suspect(d, &dead[i]);

	out->type = DHT_FOUND;
	out->u.found.has_pred = rt->has_pred;
	out->u.found.pred = rt->pred;
	if (id_eq(&rt->succ[0].id, self) ||
	    (rt->has_pred && id_in_oc(key, &rt->pred.id, self))) {
		out->u.found.status = DHT_FOUND_SELF;
		return;
	}
	if ((flags & DHT_FIND_AS_OWNER) && pred_ok) {
		/* We were named owner, but our predecessor lies between us and the key: it is the
		 * better candidate (typically a node that joined since the asker's source heard). */
		out->u.found.status = DHT_FOUND_PRED;
		out->u.found.nnodes = 1;
		out->u.found.nodes[0] = rt->pred;
		return;
	}
	/* A list that wraps onto us says the key is ours, but our predecessor (checked above) knows
	 * better: such a list is stale. Route instead. */
	if (answer_owner(d, key, dead, ndead, out))
		return;
	out->u.found.status = DHT_FOUND_NEXT;
	out->u.found.nnodes = (uint8_t)routing_closest_preceding(rt, key, dead, ndead,
								  out->u.found.nodes, 4);
}

void findserve_reply(struct dht *d, const struct dht_msg *req, const struct dht_addr *from)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.txid = req->txid;
	if (d->state != DHT_JOINED) {
		m.type = DHT_ERROR;
		m.u.error.code = DHT_ERR_NOT_READY;
	} else {
		findserve_answer(d, &req->u.find.key, req->u.find.flags, req->u.find.dead,
				 req->u.find.ndead, &m);
	}
	rpc_send(d->rpc, from, &m);
}
