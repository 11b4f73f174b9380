/* The serving side of the replicated store (see kv.c for the whole protocol): it answers PUT,
 * GET, ANNOUNCE, GET_PEERS and REPLICATE from the local container, pushes entries to the replicas
 * (at once after a write, and every replication period for the keys we own), and hands keys over
 * when our predecessor changes or we leave. It sends through rpc.c and starts nothing that calls
 * back: the client operations and the offers of orphaned entries are kv.c's.
 *
 * A key may hold a value and announcements at once; every push, hand-off and answer carries
 * both parts, each with its own expiry. */
#include "dht/kvserve.h"

#include <string.h>

#include "dht/item.h"
#include "dht/kvtrust.h"
#include "dht/store.h"

static uint64_t expiry(struct dht *d, uint32_t ttl_s, uint64_t now)
{
	if (ttl_s == 0)
		ttl_s = d->cfg.kv_default_ttl_s;
	if (ttl_s > d->cfg.kv_max_ttl_s)
		ttl_s = d->cfg.kv_max_ttl_s;
	return now + (uint64_t)ttl_s * 1000000;
}

/* Is KEY ours, i.e. in (predecessor, self]? Without a predecessor, only when alone. */
bool kv_owns(const struct dht *d, const struct dht_id *key)
{
	if (id_eq(&d->rt.succ[0].id, &d->rt.self.id))
		return true;
	return d->rt.has_pred && id_in_oc(key, &d->rt.pred.id, &d->rt.self.id);
}

/* --- pushing entries ---------------------------------------------------------------------- */

/* Entries are packed into REPLICATE datagrams for one destination until one is full. */
struct batch {
	struct dht *d;
	struct dht_node to[ROUTING_MAX_SUCC];
	size_t nto;
	struct dht_msg m;
	size_t bytes;
	uint64_t now;
};

static void batch_flush(struct batch *b)
{
	if (b->m.u.repl.n == 0)
		return;
	b->m.type = DHT_REPLICATE;
	for (size_t i = 0; i < b->nto; i++)
		rpc_send(b->d->rpc, &b->to[i].addr, &b->m);
	b->m.u.repl.n = 0;
	b->bytes = 0;
}

/* Bytes of IT on the wire. */
static size_t item_size(const struct dht_item *it)
{
	size_t signer = DHT_ITEM_PK_LEN + 8 + DHT_ITEM_SIG_LEN;
	return 1 + (it->flags & DHT_ITEM_IMMUTABLE ? 0 : signer) + 2 + it->vlen;
}

static void batch_add(struct batch *b, const struct dht_id *key, uint8_t kind, uint64_t expires,
		      const struct dht_item *item, const struct dht_addr *peer)
{
	if (expires <= b->now)
		return;
	size_t size = ID_BYTES + 1 + 4 + (kind == DHT_ENTRY_VALUE ? item_size(item) : 19u);
	/* 29 bytes of header, one of count, then the address tokens: keep inside DHT_MSG_MAX. */
	if (b->m.u.repl.n == DHT_MAX_REPL || 30 + b->bytes + size > DHT_MSG_MAX - DHT_EXT_MAX)
		batch_flush(b);
	struct dht_repl_entry *e = &b->m.u.repl.e[b->m.u.repl.n++];
	e->key = *key;
	e->kind = kind;
	uint64_t ms = (expires - b->now) / 1000;
	e->ttl_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	if (item)
		e->item = *item;
	if (peer)
		e->peer = *peer;
	b->bytes += size;
}

static void batch_entry(struct batch *b, const struct store_entry *e)
{
	for (size_t i = 0; i < e->nitems; i++)
		batch_add(b, &e->key, DHT_ENTRY_VALUE, e->items[i].expires, &e->items[i].item,
			  NULL);
	for (size_t i = 0; i < e->npeers; i++)
		batch_add(b, &e->key, DHT_ENTRY_PEER, e->peers[i].expires, NULL, &e->peers[i].addr);
}

static void batch_init(struct batch *b, struct dht *d, uint64_t now)
{
	memset(b, 0, sizeof *b);
	b->d = d;
	b->now = now;
}

/* Address the batch to our first k distinct successors other than ourselves. */
static void batch_to_replicas(struct batch *b)
{
	struct dht *d = b->d;
	for (unsigned j = 0; j < d->rt.nsucc && b->nto < d->cfg.kv_replicas; j++) {
		const struct dht_node *s = &d->rt.succ[j];
		bool dup = id_eq(&s->id, &d->rt.self.id);
		for (size_t i = 0; i < b->nto && !dup; i++)
			dup = id_eq(&b->to[i].id, &s->id);
		if (!dup)
			b->to[b->nto++] = *s;
	}
}

static void push_one(struct dht *d, const struct store_entry *e, uint64_t now)
{
	struct batch b;
	batch_init(&b, d, now);
	batch_to_replicas(&b);
	batch_entry(&b, e);
	batch_flush(&b);
}

struct replicate_ctx {
	struct batch b;
	void (*orphan)(void *arg, struct store_entry *e);
	void *arg;
};

static void replicate_entry(void *arg, struct store_entry *e)
{
	struct replicate_ctx *c = arg;
	if (!kv_owns(c->b.d, &e->key)) {
		c->orphan(c->arg, e);
		return;
	}
	e->refreshed = c->b.now;
	batch_entry(&c->b, e);
}

void kv_replicate(struct dht *d, uint64_t now, void (*orphan)(void *arg, struct store_entry *e),
		  void *arg)
{
	struct replicate_ctx c = { .orphan = orphan, .arg = arg };
	batch_init(&c.b, d, now);
	batch_to_replicas(&c.b);
	store_foreach(d->store, replicate_entry, &c);
	batch_flush(&c.b);
}

/* --- serving requests ------------------------------------------------------------------------ */

static uint8_t status_of(enum store_result r)
{
	switch (r) {
	case STORE_OK: return DHT_OK;
	case STORE_FULL: return DHT_ERR_FULL;
	case STORE_STALE: return DHT_ERR_STALE;
	case STORE_CAS: return DHT_ERR_CAS;
	default: return DHT_ERR_NO_MEMORY;
	}
}

static void serve_get(struct dht *d, const struct dht_msg *req, struct dht_msg *out, uint64_t now)
{
	out->type = DHT_VALUE;
	struct store_entry *e = store_get(d->store, &req->u.get.key, now);
	const struct store_item *it = NULL;
	if (e) {
		/* Tombstones too: a reader that sees one reads no older copy elsewhere. */
		out->u.value.count = (uint8_t)store_values(e, now, true);
		it = req->u.get.by_writer ? store_value_of(e, req->u.get.pk, now, true)
					  : store_value_at(e, req->u.get.index, now, true);
	}
	if (it) {
		out->u.value.status = DHT_OK;
		out->u.value.ttl_s = (uint32_t)((it->expires - now) / 1000000);
		out->u.value.item = it->item;
		return;
	}
	/* Not here: name our successors, where the replicas are. */
	out->u.value.status = DHT_ERR_NOT_FOUND;
	for (unsigned j = 0; j < d->rt.nsucc && out->u.value.nnodes < d->cfg.kv_replicas &&
			     out->u.value.nnodes < DHT_MAX_FALLBACK; j++)
		if (!id_eq(&d->rt.succ[j].id, &d->rt.self.id))
			out->u.value.nodes[out->u.value.nnodes++] = d->rt.succ[j];
}

/* Answer a write with STORED and, if it took, pass the entry on to the replicas at once. */
static void stored(struct dht *d, const struct dht_id *key, enum store_result r,
		   struct dht_msg *out, uint64_t now)
{
	struct store_entry *e;
	out->type = DHT_STORED;
	out->u.stored.status = status_of(r);
	if (r == STORE_OK && (e = store_get(d->store, key, now)))
		push_one(d, e, now);
}

/* A client's PUT: the owner checks the signature (or the content's hash) before storing. */
static void serve_put(struct dht *d, const struct dht_msg *req, const struct dht_node *from,
		      struct dht_msg *out, uint64_t now)
{
	const struct dht_item *it = &req->u.put.item;
	if (!store_holds(d->store, &req->u.put.key, it, now) &&
	    !item_verify(it, &req->u.put.key, d->cfg.bits)) {
		d->stats.values_forged++;
		rpc_log(d->rpc, DHT_LOG_DEBUG, "PUT refused: a value not signed by its writer");
		out->type = DHT_STORED;
		out->u.stored.status = DHT_ERR_FORGED;
		return;
	}
	enum store_result r = store_put(d->store, &req->u.put.key, it,
					expiry(d, req->u.put.ttl_s, now), now, &from->addr,
					req->u.put.has_cas ? &req->u.put.cas : NULL);
	if (r == STORE_STALE)
		d->stats.values_stale++;
	stored(d, &req->u.put.key, r, out, now);
}

/* The peer an ANNOUNCE from FROM adds: FROM's own IP (proven by rpc.c's token), at the port the
 * announcement names, so that nobody can point a swarm at a third party's address. */
static struct dht_addr announced_peer(const struct dht_msg *req, const struct dht_addr *from)
{
	struct dht_addr a = *from;
	a.port = req->u.announce.peer.port;
	return a;
}

void kv_answer(struct dht *d, const struct dht_msg *req, const struct dht_node *from,
	       struct dht_msg *out)
{
	uint64_t now = rpc_now(d->rpc);
	enum store_result r;
	struct dht_addr peer;
	switch (req->type) {
	case DHT_PUT:
		serve_put(d, req, from, out, now);
		break;
	case DHT_ANNOUNCE:
		peer = announced_peer(req, &from->addr);
		r = store_announce(d->store, &req->u.announce.key, &peer,
				   expiry(d, req->u.announce.ttl_s, now), now, true);
		stored(d, &req->u.announce.key, r, out, now);
		break;
	case DHT_GET:
		serve_get(d, req, out, now);
		break;
	case DHT_GET_PEERS: {
		size_t max = req->u.get_peers.max < DHT_MAX_PEERS ? req->u.get_peers.max
								   : DHT_MAX_PEERS;
		out->type = DHT_PEERS;
		out->u.peers.npeers = (uint8_t)store_peers(d->store, &req->u.get_peers.key, now,
							   out->u.peers.peers, max, &d->rng);
		out->u.peers.status = out->u.peers.npeers ? DHT_OK : DHT_ERR_NOT_FOUND;
		break;
	}
	case DHT_REPLICATE:
		kvtrust_replicate(d, req, from);
		break;
	default:
		break;
	}
}

bool kv_on_request(struct dht *d, const struct dht_msg *m, const struct dht_node *from)
{
	if (m->type < DHT_PUT || m->type > DHT_REPLICATE)
		return false;
	struct dht_msg out;
	memset(&out, 0, sizeof out);
	kv_answer(d, m, from, &out);
	if (out.type) {
		out.txid = m->txid;
		rpc_send(d->rpc, &from->addr, &out);
	}
	return true;
}

struct handoff_ctx {
	struct batch b;
	const struct dht_id *lo, *hi;
};

static void handoff_entry(void *arg, struct store_entry *e)
{
	struct handoff_ctx *h = arg;
	if (h->lo == NULL || id_in_oc(&e->key, h->lo, h->hi))
		batch_entry(&h->b, e);
}

/* Push the entries whose keys lie in (LO, HI] (all if LO is NULL) to TO. */
static void handoff(struct dht *d, const struct dht_node *to, const struct dht_id *lo,
		    const struct dht_id *hi)
{
	if (routing_is_self(&d->rt, to))
		return;
	struct handoff_ctx h;
	batch_init(&h.b, d, rpc_now(d->rpc));
	h.b.to[0] = *to;
	h.b.nto = 1;
	h.lo = lo;
	h.hi = hi;
	store_foreach(d->store, handoff_entry, &h);
	batch_flush(&h.b);
}

void kv_pred_changed(struct dht *d, bool had_old, const struct dht_node *old)
{
	if (!d->rt.has_pred)
		return;
	/* The keys in (old, new] now belong to the new predecessor. Without an old one (it died
	 * and was cleared, or we were alone) every key outside (new, self] goes: some may be
	 * another owner's replicas, which the newcomer offers on or drops, but a key it now owns
	 * must not stay behind, or its owner would answer with less than we hold. */
	if (had_old)
		handoff(d, &d->rt.pred, &old->id, &d->rt.pred.id);
	else
		handoff(d, &d->rt.pred, &d->rt.self.id, &d->rt.pred.id);
}

void kv_handoff_all(struct dht *d)
{
	if (d->state != DHT_JOINED || id_eq(&d->rt.succ[0].id, &d->rt.self.id))
		return;
	if (d->rt.has_pred)
		handoff(d, &d->rt.succ[0], &d->rt.pred.id, &d->rt.self.id);
	else
		handoff(d, &d->rt.succ[0], NULL, NULL);
}
