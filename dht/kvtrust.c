/* Taking REPLICATE: see kvtrust.h. The table is small and bounded: a node has k predecessors
 * that replicate to it, plus the odd node whose list is stale; when it is full, the entry whose
 * trust ends first makes room, and pushes from a node that cannot be checked are refused. */
#include "dht/kvtrust.h"

#include <stdlib.h>
#include <string.h>

#include "dht/item.h"
#include "dht/store.h"

/* The pusher holds an older version of a value than ours (NEWER): send it ours, so that after
 * a partition both sides end with the highest seq of each writer. */
static void push_back(struct dht *d, const struct dht_node *to, const struct dht_id *key,
		      const struct store_item *newer, uint64_t now)
{
	if (newer->expires <= now)
		return;
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_REPLICATE;
	m.u.repl.n = 1;
	m.u.repl.e[0].key = *key;
	m.u.repl.e[0].kind = DHT_ENTRY_VALUE;
	uint64_t ms = (newer->expires - now) / 1000;
	m.u.repl.e[0].ttl_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	m.u.repl.e[0].item = newer->item;
	rpc_send(d->rpc, &to->addr, &m);
}

/* A copy of a value: checked like a client's, and kept only if it is the writer's newest. */
static void apply_value(struct dht *d, const struct dht_repl_entry *e, uint64_t expires,
			uint64_t now, const struct dht_node *from)
{
	/* An owner pushes the same versions every period: only a new one costs a check. */
	if (!store_holds(d->store, &e->key, &e->item, now) &&
	    !item_verify(&e->item, &e->key, d->cfg.bits)) {
		d->stats.values_forged++;
		rpc_log(d->rpc, DHT_LOG_DEBUG, "REPLICATE value refused: not signed by its writer");
		return;
	}
	if (store_put(d->store, &e->key, &e->item, expires, now, NULL, NULL) != STORE_STALE)
		return;
	d->stats.values_stale++;
	struct store_entry *se = store_get(d->store, &e->key, now);
	const struct store_item *ours = se ? store_value_of(se, e->item.pk, now, true) : NULL;
	if (ours)
		push_back(d, from, &e->key, ours, now);
}

static void apply_entry(struct dht *d, const struct dht_repl_entry *e, uint64_t now,
			const struct dht_node *from)
{
	/* The sender's clock is not ours to trust with more than the cap. */
	uint64_t cap_ms = (uint64_t)d->cfg.kv_max_ttl_s * 1000;
	uint64_t expires = now + (e->ttl_ms < cap_ms ? e->ttl_ms : cap_ms) * 1000;
	if (e->kind == DHT_ENTRY_VALUE)
		apply_value(d, e, expires, now, from);
	else
		store_announce(d->store, &e->key, &e->peer, expires, now, false);
}

static void apply(struct dht *d, const struct dht_msg *m, const struct dht_node *from)
{
	uint64_t now = rpc_now(d->rpc);
	for (uint8_t i = 0; i < m->u.repl.n; i++)
		apply_entry(d, &m->u.repl.e[i], now, from);
}

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

/* Keep M until the check of its sender ends (the first KVTRUST_HOLD datagrams). */
static void hold(struct dht *d, struct kvtrust *t, const struct dht_msg *m)
{
	struct dht_msg copy = *m;
	memset(&copy.ext, 0, sizeof copy.ext);
	if (t->held == NULL)
		t->held = malloc(KVTRUST_HOLD * sizeof *t->held);
	int len = t->held && t->nheld < KVTRUST_HOLD
			  ? dht_msg_encode(&copy, t->held[t->nheld], DHT_MSG_MAX)
			  : -1;
	if (len < 0) {
		rpc_log(d->rpc, DHT_LOG_DEBUG, "REPLICATE dropped: %zu already held", t->nheld);
		d->stats.dropped_refused++;
		return;
	}
	t->held_len[t->nheld++] = (size_t)len;
}

/* The check ended: take what was held if TRUSTED, else drop it. */
static void release(struct dht *d, struct kvtrust *t, bool trusted)
{
	for (size_t i = 0; i < t->nheld; i++) {
		struct dht_msg m;
		if (trusted && dht_msg_decode(&m, t->held[i], t->held_len[i], d->cfg.bits) ==
				       DHT_DECODE_OK)
			apply(d, &m, &t->node);
		else
			d->stats.dropped_refused++;
	}
	rpc_log(d->rpc, DHT_LOG_DEBUG, "REPLICATE sender checked: %s, %zu held datagrams %s",
		trusted ? "a predecessor" : "not ours", t->nheld, trusted ? "taken" : "dropped");
	t->nheld = 0;
	t->checking = false;
	free(t->held);
	t->held = NULL;
}

void kvtrust_free(struct dht *d)
{
	for (size_t i = 0; i < KVTRUST_MAX; i++) {
		free(d->trust[i].held);
		d->trust[i].held = NULL;
	}
}

static void check_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	struct dht *d = arg;
	struct kvtrust *t = find(d, &q->to);
	if (t == NULL)
		return;
	t->until = 0;
	unsigned n = m->type != DHT_NEIGH ? 0
		     : m->u.neigh.nsucc < d->cfg.kv_replicas ? m->u.neigh.nsucc
							     : d->cfg.kv_replicas;
	for (unsigned i = 0; i < n; i++)
		if (routing_is_self(&d->rt, &m->u.neigh.succ[i]))
			t->until = rpc_now(d->rpc) + 4 * d->cfg.kv_replicate_us;
	release(d, t, t->until != 0);
}

static void check_timeout(void *arg, const struct rpc_req *q)
{
	struct dht *d = arg;
	struct kvtrust *t = find(d, &q->to);
	if (t) {
		release(d, t, false);
		t->used = false;
	}
}

static const struct rpc_handler check_handler = { check_reply, check_timeout };

/* Start checking FROM, holding M; false if no check can start. */
static bool start_check(struct dht *d, const struct dht_node *from, const struct dht_msg *m)
{
	struct kvtrust *t = room(d);
	if (t == NULL)
		return false;
	struct dht_msg q;
	memset(&q, 0, sizeof q);
	q.type = DHT_GET_NEIGH;
	if (rpc_request(d->rpc, from, true, &q, d->cfg.maint_tries, &check_handler, d, 0) != 0)
		return false;
	t->used = true;
	t->checking = true;
	t->node = *from;
	t->until = 0;
	t->nheld = 0;
	free(t->held);
	t->held = NULL;
	hold(d, t, m);
	return true;
}

void kvtrust_replicate(struct dht *d, const struct dht_msg *m, const struct dht_node *from)
{
	if (d->state == DHT_JOINING || routing_at(&d->rt, from)) {
		apply(d, m, from);
		return;
	}
	struct kvtrust *t = find(d, from);
	if (t && t->checking) {
		hold(d, t, m);
	} else if (t && t->until > rpc_now(d->rpc)) {
		apply(d, m, from);
	} else {
		if (t)
			t->used = false;
		if (!start_check(d, from, m)) {
			rpc_log(d->rpc, DHT_LOG_DEBUG, "REPLICATE dropped: no room to check its sender");
			d->stats.dropped_refused++;
		}
	}
}
