/* The replicated store's protocol, inside the Chord core.
 *
 * Placement: a key lives at its successor (the owner) and at the owner's next k successors.
 *  - A client finds the owner with a lookup and sends it PUT/ANNOUNCE/GET/GET_PEERS.
 *  - The owner stores and at once pushes a REPLICATE of the entry to its k successors; every
 *    kv_replicate_us it pushes all the entries it owns again, which also re-creates replicas on
 *    nodes that became successors since, and refreshes their age.
 *  - When a node's predecessor changes to a new node in front of it, it hands the keys that moved
 *    to the newcomer (REPLICATE); when it leaves gracefully it hands its keys to its successor.
 *  - When an owner dies, its successor already holds a replica and becomes the owner as soon as
 *    its predecessor pointer moves past the dead node; it then replicates onward.
 *  - An entry that no owner has refreshed for three periods is offered once to the key's current
 *    owner (found by a lookup: this covers a handoff datagram that was lost), then dropped after
 *    six periods: by then it is a copy on a node that is no longer among the k successors.
 * A GET that finds nothing at the owner is retried at the successors the owner names (the
 * replicas), which covers the moment just after a join, before the handoff lands.
 *
 * Not here: the container (store.c), consistency beyond last-writer-wins at the owner, and
 * anti-entropy by digests (whole entries are pushed; fine for thousands of keys per node). */
#include "dht/kv_impl.h"

#include "dht/lookup.h"
#include "dht/store.h"

#include <stdlib.h>
#include <string.h>

enum kvop_type { OP_PUT, OP_GET, OP_ANNOUNCE, OP_PEERS, OP_NEIGH, OP_OFFER };

struct kvop {
	struct kvop *next;
	struct dht *d;
	enum kvop_type type;
	struct dht_id key;
	uint8_t value[DHT_MAX_VALUE];
	uint16_t vlen;
	uint32_t ttl_s;
	uint32_t ttl_ms;          /* OP_OFFER */
	uint8_t kind;             /* OP_OFFER */
	struct dht_addr peer;     /* OP_ANNOUNCE, OP_OFFER (peer entries), OP_NEIGH (the target) */
	unsigned max;
	dht_value_cb *cb;
	dht_neighbors_cb *ncb;
	void *arg;
	unsigned attempts;
	bool has_lookup;
	struct dht_lookup_result lres;
	struct dht_hop path[DHT_MAX_PATH];
	struct dht_node owner;
	bool fallback;            /* asking the owner's successors for a GET */
	size_t nfb, fbpos;
	struct dht_node fb[DHT_MAX_FALLBACK];
};

int kv_init(struct dht *d)
{
	uint64_t seed;
	rpc_random(d->rpc, &seed, sizeof seed);
	rng_seed(&d->rng, seed);
	d->store = store_new(d->cfg.kv_max_bytes, d->cfg.kv_max_peers);
	return d->store ? 0 : -1;
}

void kv_free(struct dht *d)
{
	while (d->kvops) {
		struct kvop *op = d->kvops;
		d->kvops = op->next;
		free(op);
	}
	store_free(d->store);
}

static uint64_t expiry(struct dht *d, uint32_t ttl_s, uint64_t now)
{
	if (ttl_s == 0)
		ttl_s = d->cfg.kv_default_ttl_s;
	if (ttl_s > d->cfg.kv_max_ttl_s)
		ttl_s = d->cfg.kv_max_ttl_s;
	return now + (uint64_t)ttl_s * 1000000;
}

/* Is KEY ours, i.e. in (predecessor, self]? Without a predecessor, only when alone. */
static bool owns(const struct dht *d, const struct dht_id *key)
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

static void batch_add(struct batch *b, const struct dht_id *key, uint8_t kind, uint64_t expires,
		      const uint8_t *value, uint16_t vlen, const struct dht_addr *peer)
{
	if (expires <= b->now)
		return;
	size_t size = ID_BYTES + 1 + 4 + (kind == DHT_ENTRY_VALUE ? 2u + vlen : 19u);
	/* 29 bytes of header, one of count: keep well inside DHT_MSG_MAX. */
	if (b->m.u.repl.n == DHT_MAX_REPL || 30 + b->bytes + size > DHT_MSG_MAX)
		batch_flush(b);
	struct dht_repl_entry *e = &b->m.u.repl.e[b->m.u.repl.n++];
	e->key = *key;
	e->kind = kind;
	uint64_t ms = (expires - b->now) / 1000;
	e->ttl_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	e->value = value;
	e->vlen = vlen;
	if (peer)
		e->peer = *peer;
	b->bytes += size;
}

static void batch_entry(struct batch *b, const struct store_entry *e)
{
	if (e->kind == DHT_ENTRY_VALUE) {
		batch_add(b, &e->key, e->kind, e->expires, e->value, e->vlen, NULL);
		return;
	}
	for (size_t i = 0; i < e->npeers; i++)
		batch_add(b, &e->key, e->kind, e->peers[i].expires, NULL, 0, &e->peers[i].addr);
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

/* --- serving requests ------------------------------------------------------------------------ */

static uint8_t status_of(enum store_result r)
{
	return r == STORE_OK ? DHT_OK : r == STORE_FULL ? DHT_ERR_FULL : DHT_ERR_NO_MEMORY;
}

static void serve_get(struct dht *d, const struct dht_msg *req, struct dht_msg *out, uint64_t now)
{
	out->type = DHT_VALUE;
	struct store_entry *e = store_get(d->store, &req->u.get.key, now);
	if (e && e->kind == DHT_ENTRY_VALUE) {
		out->u.value.status = DHT_OK;
		out->u.value.ttl_s = (uint32_t)((e->expires - now) / 1000000);
		out->u.value.vlen = e->vlen;
		out->u.value.value = e->value;
		return;
	}
	/* Not here: name our successors, where the replicas are. */
	out->u.value.status = DHT_ERR_NOT_FOUND;
	for (unsigned j = 0; j < d->rt.nsucc && out->u.value.nnodes < d->cfg.kv_replicas &&
			     out->u.value.nnodes < DHT_MAX_FALLBACK; j++)
		if (!id_eq(&d->rt.succ[j].id, &d->rt.self.id))
			out->u.value.nodes[out->u.value.nnodes++] = d->rt.succ[j];
}

static void apply_repl(struct dht *d, const struct dht_repl_entry *e, uint64_t now)
{
	uint64_t expires = now + (uint64_t)e->ttl_ms * 1000;
	if (e->kind == DHT_ENTRY_VALUE)
		store_put(d->store, &e->key, e->value, e->vlen, expires, now);
	else
		store_announce(d->store, &e->key, &e->peer, expires, now);
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

/* Answer REQ into OUT (left with type 0 when there is no answer). */
static void serve(struct dht *d, const struct dht_msg *req, struct dht_msg *out)
{
	uint64_t now = rpc_now(d->rpc);
	enum store_result r;
	switch (req->type) {
	case DHT_PUT:
		r = store_put(d->store, &req->u.put.key, req->u.put.value, req->u.put.vlen,
			      expiry(d, req->u.put.ttl_s, now), now);
		stored(d, &req->u.put.key, r, out, now);
		break;
	case DHT_ANNOUNCE:
		r = store_announce(d->store, &req->u.announce.key, &req->u.announce.peer,
				   expiry(d, req->u.announce.ttl_s, now), now);
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
		for (uint8_t i = 0; i < req->u.repl.n; i++)
			apply_repl(d, &req->u.repl.e[i], now);
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
	serve(d, m, &out);
	if (out.type) {
		out.txid = m->txid;
		rpc_send(d->rpc, &from->addr, &out);
	}
	return true;
}

/* --- client operations ---------------------------------------------------------------------- */

static void op_unlink(struct dht *d, struct kvop *op)
{
	for (struct kvop **pp = &d->kvops; *pp; pp = &(*pp)->next)
		if (*pp == op) {
			*pp = op->next;
			return;
		}
}

static void op_done(struct dht *d, struct kvop *op, enum dht_status status, const struct dht_msg *m)
{
	op_unlink(d, op);
	if (op->type == OP_NEIGH) {
		struct dht_neighbors n;
		memset(&n, 0, sizeof n);
		n.status = status;
		n.node.id = m ? m->from : op->key;
		n.node.addr = op->peer;
		if (m && status == DHT_OK) {
			n.has_pred = m->u.neigh.has_pred;
			n.pred = m->u.neigh.pred;
			n.nsucc = m->u.neigh.nsucc;
			n.succ = m->u.neigh.succ;
		}
		op->ncb(op->arg, &n);
	} else if (op->cb) {
		struct dht_value_result res;
		memset(&res, 0, sizeof res);
		res.status = status;
		res.key = op->key;
		res.lookup = op->has_lookup ? &op->lres : NULL;
		res.owner = op->owner;
		if (m && status == DHT_OK && m->type == DHT_VALUE) {
			res.value = m->u.value.value;
			res.len = m->u.value.vlen;
			res.ttl_s = m->u.value.ttl_s;
		}
		if (m && status == DHT_OK && m->type == DHT_PEERS) {
			res.npeers = m->u.peers.npeers;
			res.peers = m->u.peers.peers;
		}
		op->cb(op->arg, &res);
	}
	free(op);
}

/* The request of OP into M. */
static void op_msg(const struct kvop *op, struct dht_msg *m)
{
	memset(m, 0, sizeof *m);
	switch (op->type) {
	case OP_PUT:
		m->type = DHT_PUT;
		m->u.put.key = op->key;
		m->u.put.ttl_s = op->ttl_s;
		m->u.put.vlen = op->vlen;
		m->u.put.value = op->value;
		break;
	case OP_GET:
		m->type = DHT_GET;
		m->u.get.key = op->key;
		break;
	case OP_ANNOUNCE:
		m->type = DHT_ANNOUNCE;
		m->u.announce.key = op->key;
		m->u.announce.ttl_s = op->ttl_s;
		m->u.announce.peer = op->peer;
		break;
	case OP_PEERS:
		m->type = DHT_GET_PEERS;
		m->u.get_peers.key = op->key;
		m->u.get_peers.max = (uint8_t)op->max;
		break;
	case OP_NEIGH:
	case OP_OFFER:
		m->type = DHT_GET_NEIGH;
		break;
	}
}

static void op_reply(struct dht *d, struct kvop *op, const struct dht_msg *m);
static const struct rpc_handler op_handler;

/* Send the operation's request to NODE, or serve it ourselves if NODE is us. */
static void op_send(struct dht *d, struct kvop *op, const struct dht_node *node)
{
	struct dht_msg m;
	op_msg(op, &m);
	if (routing_is_self(&d->rt, node)) {
		struct dht_msg out;
		memset(&out, 0, sizeof out);
		serve(d, &m, &out);
		out.from = d->rt.self.id;
		op_reply(d, op, &out);
		return;
	}
	if (rpc_request(d->rpc, node, true, &m, d->cfg.maint_tries, &op_handler, op, 0) != 0)
		op_done(d, op, DHT_ERR_NO_MEMORY, NULL);
}

static void offer(struct dht *d, struct kvop *op)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_REPLICATE;
	m.u.repl.n = 1;
	struct dht_repl_entry *e = &m.u.repl.e[0];
	e->key = op->key;
	e->kind = op->kind;
	e->ttl_ms = op->ttl_ms;
	e->vlen = op->vlen;
	e->value = op->value;
	e->peer = op->peer;
	if (!routing_is_self(&d->rt, &op->owner))
		rpc_send(d->rpc, &op->owner.addr, &m);
}

static void op_on_lookup(void *arg, const struct dht_lookup_result *res)
{
	struct kvop *op = arg;
	struct dht *d = op->d;
	op->has_lookup = true;
	op->lres = *res;
	memcpy(op->path, res->path, res->npath * sizeof op->path[0]);
	op->lres.path = op->path;
	if (res->status != DHT_OK) {
		op_done(d, op, res->status, NULL);
		return;
	}
	op->owner = res->owner;
	if (op->type == OP_OFFER) {
		offer(d, op);
		op_done(d, op, DHT_OK, NULL);
		return;
	}
	op_send(d, op, &res->owner);
}

/* Find OP's owner. DEFER when a caller's entry point starts OP: it must return before OP's
 * callback runs. */
static void op_lookup(struct dht *d, struct kvop *op, bool defer)
{
	if (lookup_start(d, &op->key, NULL, defer, op_on_lookup, op) != 0)
		op_done(d, op, DHT_ERR_NO_MEMORY, NULL);
}

static void op_next_fallback(struct dht *d, struct kvop *op)
{
	if (op->fbpos < op->nfb) {
		struct dht_node n = op->fb[op->fbpos++];
		op_send(d, op, &n);
		return;
	}
	op_done(d, op, DHT_ERR_NOT_FOUND, NULL);
}

static void op_reply(struct dht *d, struct kvop *op, const struct dht_msg *m)
{
	switch (m->type) {
	case DHT_STORED:
		op_done(d, op, (enum dht_status)m->u.stored.status, m);
		return;
	case DHT_PEERS:
		op_done(d, op, m->u.peers.status == DHT_OK ? DHT_OK : DHT_ERR_NOT_FOUND, m);
		return;
	case DHT_VALUE:
		if (m->u.value.status == DHT_OK) {
			op_done(d, op, DHT_OK, m);
			return;
		}
		if (!op->fallback) {
			op->fallback = true;
			op->nfb = m->u.value.nnodes;
			memcpy(op->fb, m->u.value.nodes, op->nfb * sizeof op->fb[0]);
		}
		op_next_fallback(d, op);
		return;
	default:
		op_done(d, op, DHT_ERR_TIMEOUT, NULL);
		return;
	}
}

static void op_timeout(void *arg, const struct rpc_req *q)
{
	struct kvop *op = arg;
	struct dht *d = op->d;
	(void)q;
	if (op->fallback) {
		op_next_fallback(d, op);
		return;
	}
	/* The owner died between the lookup and the request: look again, once. */
	if (op->attempts < 2) {
		op->attempts++;
		op_lookup(d, op, false);
		return;
	}
	op_done(d, op, DHT_ERR_TIMEOUT, NULL);
}

static void op_on_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	struct kvop *op = arg;
	if (m->type == DHT_ERROR) {
		op_timeout(op, q);
		return;
	}
	op_reply(op->d, op, m);
}

static const struct rpc_handler op_handler = { op_on_reply, op_timeout };

static void neigh_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	struct kvop *op = arg;
	(void)q;
	op_done(op->d, op, m->type == DHT_NEIGH ? DHT_OK : DHT_ERR_NOT_JOINED, m);
}

static void neigh_timeout(void *arg, const struct rpc_req *q)
{
	struct kvop *op = arg;
	(void)q;
	op_done(op->d, op, DHT_ERR_TIMEOUT, NULL);
}

static const struct rpc_handler neigh_handler = { neigh_reply, neigh_timeout };

static struct kvop *op_new(struct dht *d, enum kvop_type type, const struct dht_id *key,
			   dht_value_cb *cb, void *arg)
{
	if (d->state != DHT_JOINED)
		return NULL;
	struct kvop *op = calloc(1, sizeof *op);
	if (op == NULL)
		return NULL;
	op->d = d;
	op->type = type;
	if (key)
		op->key = *key;
	op->cb = cb;
	op->arg = arg;
	op->attempts = 1;
	op->next = d->kvops;
	d->kvops = op;
	return op;
}

int kv_put(struct dht *d, const struct dht_id *key, const void *value, size_t len,
	    uint32_t ttl_s, dht_value_cb *cb, void *arg)
{
	if (len > DHT_MAX_VALUE)
		return -1;
	struct kvop *op = op_new(d, OP_PUT, key, cb, arg);
	if (op == NULL)
		return -1;
	memcpy(op->value, value, len);
	op->vlen = (uint16_t)len;
	op->ttl_s = ttl_s;
	op_lookup(d, op, true);
	return 0;
}

int kv_get(struct dht *d, const struct dht_id *key, dht_value_cb *cb, void *arg)
{
	struct kvop *op = op_new(d, OP_GET, key, cb, arg);
	if (op == NULL)
		return -1;
	op_lookup(d, op, true);
	return 0;
}

int kv_announce(struct dht *d, const struct dht_id *key, const struct dht_addr *peer,
		 uint32_t ttl_s, dht_value_cb *cb, void *arg)
{
	struct kvop *op = op_new(d, OP_ANNOUNCE, key, cb, arg);
	if (op == NULL)
		return -1;
	op->peer = *peer;
	op->ttl_s = ttl_s;
	op_lookup(d, op, true);
	return 0;
}

int kv_get_peers(struct dht *d, const struct dht_id *key, unsigned max, dht_value_cb *cb,
		  void *arg)
{
	struct kvop *op = op_new(d, OP_PEERS, key, cb, arg);
	if (op == NULL)
		return -1;
	op->max = max > KV_MAX_PEERS_REPLY ? KV_MAX_PEERS_REPLY : max;
	op_lookup(d, op, true);
	return 0;
}

int kv_query_neighbors(struct dht *d, const struct dht_addr *addr, dht_neighbors_cb *cb,
			void *arg)
{
	if (d->state != DHT_JOINED || cb == NULL)
		return -1;
	struct kvop *op = op_new(d, OP_NEIGH, NULL, NULL, arg);
	if (op == NULL)
		return -1;
	op->ncb = cb;
	op->peer = *addr;
	struct dht_node to;
	memset(&to, 0, sizeof to);
	to.addr = *addr;
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_GET_NEIGH;
	if (rpc_request(d->rpc, &to, false, &m, d->cfg.maint_tries, &neigh_handler, op, 0) != 0) {
		op_unlink(d, op);
		free(op);
		return -1;
	}
	return 0;
}

/* --- maintenance ------------------------------------------------------------------------------ */

struct tick_ctx {
	struct dht *d;
	struct batch b;
	unsigned offers;
	size_t nstale;
	struct dht_id stale[64];
};

/* Offer an entry nobody refreshes to the key's owner, once. */
static void start_offer(struct dht *d, const struct store_entry *e, uint64_t now)
{
	struct kvop *op = op_new(d, OP_OFFER, &e->key, NULL, NULL);
	if (op == NULL)
		return;
	op->kind = e->kind;
	uint64_t ms = (e->expires - now) / 1000;
	op->ttl_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	if (e->kind == DHT_ENTRY_VALUE) {
		memcpy(op->value, e->value, e->vlen);
		op->vlen = e->vlen;
	} else if (e->npeers > 0) {
		op->peer = e->peers[0].addr; /* one peer is enough to re-create the key there */
	}
	op_lookup(d, op, false);
}

static void tick_entry(void *arg, struct store_entry *e)
{
	struct tick_ctx *t = arg;
	struct dht *d = t->d;
	uint64_t period = d->cfg.kv_replicate_us, now = t->b.now;
	if (owns(d, &e->key)) {
		e->refreshed = now;
		batch_entry(&t->b, e);
		return;
	}
	if (now - e->refreshed > 6 * period && e->offered) {
		if (t->nstale < sizeof t->stale / sizeof t->stale[0])
			t->stale[t->nstale++] = e->key;
	} else if (now - e->refreshed > 3 * period && !e->offered && t->offers < 32) {
		e->offered = true;
		t->offers++;
		start_offer(d, e, now);
	}
}

void kv_tick(struct dht *d, uint64_t now)
{
	if (d->state != DHT_JOINED || now < d->repl_at)
		return;
	d->repl_at = now + d->cfg.kv_replicate_us;
	store_expire(d->store, now);
	struct tick_ctx t;
	memset(&t, 0, sizeof t);
	t.d = d;
	batch_init(&t.b, d, now);
	batch_to_replicas(&t.b);
	store_foreach(d->store, tick_entry, &t);
	batch_flush(&t.b);
	for (size_t i = 0; i < t.nstale; i++)
		store_remove(d->store, &t.stale[i]);
}

void kv_joined(struct dht *d)
{
	d->repl_at = rpc_now(d->rpc) + d->cfg.kv_replicate_us;
}

uint64_t kv_next_deadline(const struct dht *d)
{
	return d->repl_at;
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

void kv_fail_all(struct dht *d, enum dht_status status)
{
	while (d->kvops)
		op_done(d, d->kvops, status, NULL);
}

/* --- introspection ---------------------------------------------------------------------------- */

size_t dht_kv_count(const struct dht *d)
{
	return store_count(d->store);
}

size_t dht_kv_bytes(const struct dht *d)
{
	return store_bytes(d->store);
}

struct foreach_ctx {
	const struct dht *d;
	size_t left;
	uint64_t now;
	void (*fn)(void *arg, const struct dht_kv_entry_info *e);
	void *arg;
};

static void info_entry(void *arg, struct store_entry *e)
{
	struct foreach_ctx *c = arg;
	if (c->left == 0 || e->expires <= c->now)
		return;
	c->left--;
	struct dht_kv_entry_info info = {
		.key = e->key,
		.kind = e->kind == DHT_ENTRY_VALUE ? KV_VALUE : KV_PEERS,
		.bytes = e->kind == DHT_ENTRY_VALUE ? e->vlen : e->npeers,
		.ttl_s = (uint32_t)((e->expires - c->now) / 1000000),
		.owned = owns(c->d, &e->key),
	};
	c->fn(c->arg, &info);
}

void dht_kv_foreach(const struct dht *d, size_t max,
		    void (*fn)(void *arg, const struct dht_kv_entry_info *e), void *arg)
{
	struct foreach_ctx c = { d, max, rpc_now(d->rpc), fn, arg };
	/* store_foreach takes a mutable store; info_entry only reads. */
	store_foreach(d->store, info_entry, &c);
}
