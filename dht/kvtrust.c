/* Who may push REPLICATE to us: see kvtrust.h. The table is small and bounded: a node has
 * k predecessors that replicate to it, plus the odd node whose list is stale; when it is full,
 * the entry whose trust ends first makes room. */
#include "dht/kvtrust.h"

#include <string.h>

static struct kvtrust *find(struct dht *d, const struct dht_node *n)
{
	for (size_t i = 0; i < KVTRUST_MAX; i++) {
		struct kvtrust *t = &d->trust[i];
		if (t->used && id_eq(&t->node.id, &n->id) && dht_addr_eq(&t->node.addr, &n->addr))
			return t;
	}
	return NULL;
}

/* A free entry, or the one not being checked whose trust ends first; NULL if all are checking. */
static struct kvtrust *room(struct dht *d)
{
	struct kvtrust *best = NULL;
	for (size_t i = 0; i < KVTRUST_MAX; i++) {
		struct kvtrust *t = &d->trust[i];
		if (!t->used)
			return t;
		if (!t->checking && (best == NULL || t->until < best->until))
			best = t;
	}
	return best;
}

static void check_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	struct dht *d = arg;
	struct kvtrust *t = find(d, &q->to);
	if (t == NULL)
		return;
	t->checking = false;
	t->until = 0;
	if (m->type != DHT_NEIGH)
		return;
	unsigned n = m->u.neigh.nsucc < d->cfg.kv_replicas ? m->u.neigh.nsucc : d->cfg.kv_replicas;
	for (unsigned i = 0; i < n; i++)
		if (routing_is_self(&d->rt, &m->u.neigh.succ[i]))
			t->until = rpc_now(d->rpc) + 4 * d->cfg.kv_replicate_us;
}

static void check_timeout(void *arg, const struct rpc_req *q)
{
	struct dht *d = arg;
	struct kvtrust *t = find(d, &q->to);
	if (t)
		t->used = false;
}

static const struct rpc_handler check_handler = { check_reply, check_timeout };

bool kvtrust_allowed(struct dht *d, const struct dht_node *from)
{
	if (d->state == DHT_JOINING || routing_at(&d->rt, from))
		return true;
	struct kvtrust *t = find(d, from);
	if (t && (t->checking || t->until > rpc_now(d->rpc)))
		return !t->checking;
	if (t == NULL && (t = room(d)) == NULL)
		return false;
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_GET_NEIGH;
	memset(t, 0, sizeof *t);
	if (rpc_request(d->rpc, from, true, &m, 1, &check_handler, d, 0) != 0)
		return false;
	t->used = true;
	t->checking = true;
	t->node = *from;
	return false;
}
