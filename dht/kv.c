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
 *    owner (found by a lookup: this covers a handoff datagram that was lost); after six periods
 *    the owner is asked whether it holds the entry, and only if it answers that it does is our
 *    copy dropped (a copy on a node no longer among the k successors). A newcomer that claimed
 *    the keys and then vanished, or never took them, leaves them where they were, to be offered
 *    again.
 * A GET that finds nothing at the owner is retried at the successors the owner names (the
 * replicas), which covers the moment just after a join, before the handoff lands. Right after
 * a crash a GET's lookup may end at the dead owner's successor before it is confirmed as the
 * owner (lookup.c): it holds the replicas, and values are checked by their signatures, so what
 * it holds (a tombstone too) is taken; if it holds nothing, the owner is looked up strictly.
 * A key may hold a value (put/get) and announcements (announce/get_peers) at once: each write
 * touches its own part only, and every push and hand-off carries both.
 *
 * This file holds the client operations, the replication timer and the local introspection; the
 * serving side (answers, pushes, hand-off) is kvserve.c.
 * Values are signed items (item.h), one per writer under a key: whoever holds or receives one
 * checks it, and everywhere the writer's highest seq wins, which also settles a key written on
 * both sides of a partition once the rings merge (kvtrust.c sends the newer one back).
 * Not here: the container (store.c), anti-entropy by digests (whole entries are pushed; fine
 * for thousands of keys per node). */
#include "dht/kv_impl.h"

#include "dht/item.h"
#include "dht/kvserve.h"
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
	struct dht_item item;     /* OP_PUT, OP_OFFER: its value is VALUE */
	bool has_cas, by_writer;  /* OP_PUT; OP_GET */
	uint64_t cas;
	uint8_t index;            /* OP_GET: which of the key's values is asked for next */
	size_t nvalues;           /* OP_GET: those read so far, their bytes in VALBUF */
	bool answered;            /* OP_GET: a node holds values or tombstones under the key */
	struct dht_value values[KV_MAX_WRITERS];
	uint8_t valbuf[KV_MAX_WRITERS][DHT_MAX_VALUE];
	struct dht_node at;       /* where the last request went */
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
	bool confirm;             /* asking the owner alone whether it holds an orphan of ours */
	bool unconfirmed;         /* OP_GET: asking an owner the lookup has yet to confirm */
	bool strict;              /* OP_GET: that one held nothing: the owner is looked up as for a
				   * write */
	size_t nfb, fbpos;
	struct dht_node fb[DHT_MAX_FALLBACK];
};

int kv_init(struct dht *d)
{
	uint64_t seed;
	rpc_random(d->rpc, &seed, sizeof seed);
	rng_seed(&d->rng, seed);
	uint8_t hash_key[STORE_HASH_KEY_LEN];
	rpc_random(d->rpc, hash_key, sizeof hash_key);
	size_t quota = d->cfg.kv_quota_bytes ? d->cfg.kv_quota_bytes : d->cfg.kv_max_bytes / 16;
	d->store = store_new(d->cfg.kv_max_bytes, d->cfg.kv_max_peers, quota, hash_key);
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
		struct dht_node succ[DHT_MAX_NODES];
		if (m && status == DHT_OK) {
			n.has_pred = m->u.neigh.has_pred;
			n.pred = m->u.neigh.pred;
			/* As dht_successors() reports ours: each node once. */
			n.nsucc = routing_distinct(&m->from, m->u.neigh.succ, m->u.neigh.nsucc, succ,
						   DHT_MAX_NODES);
			n.succ = succ;
		}
		op->ncb(op->arg, &n);
	} else if (op->cb) {
		struct dht_value_result res;
		memset(&res, 0, sizeof res);
		res.status = status;
		res.key = op->key;
		res.lookup = op->has_lookup ? &op->lres : NULL;
		res.owner = op->owner;
		res.nvalues = op->nvalues;
		res.values = op->values;
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
		m->u.put.has_cas = op->has_cas;
		m->u.put.cas = op->cas;
		m->u.put.item = op->item;
		m->u.put.item.value = op->value;
		break;
	case OP_GET:
		m->type = DHT_GET;
		m->u.get.key = op->key;
		m->u.get.by_writer = op->by_writer;
		m->u.get.index = op->index;
		memcpy(m->u.get.pk, op->item.pk, DHT_ITEM_PK_LEN);
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
	op->at = *node;
	if (routing_is_self(&d->rt, node)) {
		struct dht_msg out;
		memset(&out, 0, sizeof out);
		kv_answer(d, &m, &d->rt.self, &out);
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
	e->item = op->item;
	e->item.value = op->value;
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
	op->unconfirmed = res->unconfirmed;
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
	/* A get reads from replicas too: a confirmation asks whether the owner itself holds. */
	bool read = op->type == OP_GET && !op->confirm && !op->strict;
	if ((read ? lookup_start_read(d, &op->key, defer, op_on_lookup, op)
		  : lookup_start(d, &op->key, NULL, defer, op_on_lookup, op)) != 0)
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

_Static_assert(KV_MAX_WRITERS == STORE_MAX_WRITERS, "a get reads every value a key holds");

/* Has OP read a value of PK's already (the key's values changed between two questions)? */
static bool have_writer(const struct kvop *op, const uint8_t *pk)
{
	for (size_t i = 0; i < op->nvalues; i++)
		if (memcmp(op->values[i].item.pk, pk, DHT_ITEM_PK_LEN) == 0)
			return true;
	return false;
}

/* Keep the value a VALUE answer carries if its signature checks; true if the next of the key's
 * values was asked for. */
static bool collect(struct dht *d, struct kvop *op, const struct dht_msg *m)
{
	const struct dht_item *it = &m->u.value.item;
	bool wanted = !op->by_writer || memcmp(it->pk, op->item.pk, DHT_ITEM_PK_LEN) == 0;
	bool valid = wanted && item_verify(it, &op->key, d->cfg.bits);
	op->answered |= valid;
	if (!valid) {
		d->stats.values_forged++;
	} else if (!(it->flags & DHT_ITEM_TOMBSTONE) && op->nvalues < KV_MAX_WRITERS &&
		   !have_writer(op, it->pk)) {
		struct dht_value *v = &op->values[op->nvalues];
		memcpy(op->valbuf[op->nvalues], it->value, it->vlen);
		v->item = *it;
		v->item.value = op->valbuf[op->nvalues++];
		v->ttl_s = m->u.value.ttl_s;
	}
	if (op->by_writer || op->index + 1 >= m->u.value.count || op->index + 1 >= KV_MAX_WRITERS)
		return false;
	op->index++;
	struct dht_node at = op->at;
	op_send(d, op, &at);
	return true;
}

/* A GET's answer: gather every value, or try the replicas if the node asked has none. */
static void get_reply(struct dht *d, struct kvop *op, const struct dht_msg *m)
{
	if (m->u.value.status == DHT_OK && !op->confirm && collect(d, op, m))
		return;
	/* Deleted values are not found: the replicas may hold a copy the tombstone did not reach. */
	if (op->nvalues > 0 || op->answered || op->confirm) {
		enum dht_status st = op->confirm ? (enum dht_status)m->u.value.status
				     : op->nvalues > 0 ? DHT_OK : DHT_ERR_NOT_FOUND;
		op_done(d, op, st, m);
		return;
	}
	/* A replica holding nothing says nothing of the owner, which the lookup did not confirm
	 * (maybe a node that was only slow): find it by the strict rules. */
	if (op->unconfirmed) {
		op->unconfirmed = false;
		op->strict = true;
		op->index = 0;
		op_lookup(d, op, false);
		return;
	}
	if (!op->fallback) {
		op->fallback = true;
		op->nfb = m->u.value.nnodes;
		memcpy(op->fb, m->u.value.nodes, op->nfb * sizeof op->fb[0]);
	}
	op->index = 0;
	op_next_fallback(d, op);
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
		get_reply(d, op, m);
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
	if (op->nvalues > 0 || op->answered) { /* the node went between two of a key's values */
		op_done(d, op, op->nvalues > 0 ? DHT_OK : DHT_ERR_NOT_FOUND, NULL);
		return;
	}
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

int kv_put(struct dht *d, const struct dht_id *key, const struct dht_item *item, uint32_t ttl_s,
	   const uint64_t *cas, dht_value_cb *cb, void *arg)
{
	if (item->vlen > DHT_MAX_VALUE)
		return -1;
	struct kvop *op = op_new(d, OP_PUT, key, cb, arg);
	if (op == NULL)
		return -1;
	op->item = *item;
	if (item->vlen)
		memcpy(op->value, item->value, item->vlen);
	op->item.value = op->value;
	op->has_cas = cas != NULL;
	op->cas = cas ? *cas : 0;
	op->ttl_s = ttl_s;
	op_lookup(d, op, true);
	return 0;
}

int kv_get(struct dht *d, const struct dht_id *key, const uint8_t *writer, dht_value_cb *cb,
	   void *arg)
{
	struct kvop *op = op_new(d, OP_GET, key, cb, arg);
	if (op == NULL)
		return -1;
	op->by_writer = writer != NULL;
	if (writer)
		memcpy(op->item.pk, writer, DHT_ITEM_PK_LEN);
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
	uint64_t now;
	unsigned offers; /* offers and confirmations started in this tick */
};

/* Offer one part of an entry (KIND: the value IT, or its first peer; living until EXPIRES) to
 * the key's owner. */
static void offer_part(struct dht *d, const struct store_entry *e, uint8_t kind,
		       const struct dht_item *it, uint64_t expires, uint64_t now)
{
	if (expires <= now)
		return;
	struct kvop *op = op_new(d, OP_OFFER, &e->key, NULL, NULL);
	if (op == NULL)
		return;
	op->kind = kind;
	uint64_t ms = (expires - now) / 1000;
	op->ttl_ms = ms > UINT32_MAX ? UINT32_MAX : (uint32_t)ms;
	if (kind == DHT_ENTRY_VALUE) {
		op->item = *it;
		if (it->vlen)
			memcpy(op->value, it->value, it->vlen);
		op->item.value = op->value;
	} else {
		op->peer = e->peers[0].addr; /* one peer is enough to re-create the key there */
	}
	op_lookup(d, op, false);
}

/* Offer an entry nobody refreshes to the key's owner, once: its value and its peers. */
static void start_offer(struct dht *d, const struct store_entry *e, uint64_t now)
{
	for (size_t i = 0; i < e->nitems; i++)
		offer_part(d, e, DHT_ENTRY_VALUE, &e->items[i].item, e->items[i].expires, now);
	if (e->npeers > 0)
		offer_part(d, e, DHT_ENTRY_PEER, NULL, store_peers_expire(e), now);
}

/* The owner answered whether it holds an orphan of ours (RES->key): drop our copy only if it
 * does, and if we still do not own the key; else keep it, to be offered again. */
static void confirm_done(void *arg, const struct dht_value_result *res)
{
	struct dht *d = arg;
	uint64_t now = rpc_now(d->rpc);
	struct store_entry *e = store_get(d->store, &res->key, now);
	if (e == NULL || kv_owns(d, &res->key))
		return;
	if (res->status == DHT_OK && !routing_is_self(&d->rt, &res->owner)) {
		store_remove(d->store, &res->key);
		return;
	}
	e->refreshed = now;
	e->offered = false;
}

/* Ask E's owner whether it holds E's value (or, without one, its peers). The lookup is
 * deferred: the answer must not come while the store is being walked. */
static void start_confirm(struct dht *d, struct store_entry *e, uint64_t now)
{
	struct kvop *op = op_new(d, store_values(e, now, true) ? OP_GET : OP_PEERS, &e->key,
				 confirm_done, d);
	if (op == NULL)
		return;
	op->confirm = true;
	op->max = 1;
	/* Not again until this answer is in, or three more periods have gone. */
	e->refreshed = now - 3 * d->cfg.kv_replicate_us;
	op_lookup(d, op, true);
}

/* An entry we hold but do not own: a replica, or a copy nobody refreshes any more. */
static void tick_orphan(void *arg, struct store_entry *e)
{
	struct tick_ctx *t = arg;
	struct dht *d = t->d;
	uint64_t period = d->cfg.kv_replicate_us, now = t->now;
	if (t->offers >= 32 || now - e->refreshed <= 3 * period)
		return;
	t->offers++;
	if (e->offered) {
		if (now - e->refreshed > 6 * period)
			start_confirm(d, e, now);
		return;
	}
	e->offered = true;
	start_offer(d, e, now);
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
	t.now = now;
	kv_replicate(d, now, tick_orphan, &t);
}

void kv_joined(struct dht *d)
{
	d->repl_at = rpc_now(d->rpc) + d->cfg.kv_replicate_us;
}

uint64_t kv_next_deadline(const struct dht *d)
{
	return d->repl_at;
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

/* Report one part of an entry (KIND: BYTES value bytes or peers, living until EXPIRES). */
static void info_part(struct foreach_ctx *c, const struct store_entry *e, enum dht_kv_kind kind,
		      size_t bytes, uint64_t expires)
{
	if (c->left == 0 || expires <= c->now)
		return;
	c->left--;
	struct dht_kv_entry_info info = {
		.key = e->key,
		.kind = kind,
		.bytes = bytes,
		.ttl_s = (uint32_t)((expires - c->now) / 1000000),
		.owned = kv_owns(c->d, &e->key),
	};
	c->fn(c->arg, &info);
}

static void info_entry(void *arg, struct store_entry *e)
{
	struct foreach_ctx *c = arg;
	size_t bytes = 0;
	for (size_t i = 0; i < e->nitems; i++)
		bytes += e->items[i].item.vlen;
	if (e->nitems > 0)
		info_part(c, e, KV_VALUE, bytes, store_items_expire(e));
	if (e->npeers > 0)
		info_part(c, e, KV_PEERS, e->npeers, store_peers_expire(e));
}

void dht_kv_foreach(const struct dht *d, size_t max,
		    void (*fn)(void *arg, const struct dht_kv_entry_info *e), void *arg)
{
	struct foreach_ctx c = { d, max, rpc_now(d->rpc), fn, arg };
	/* store_foreach takes a mutable store; info_entry only reads. */
	store_foreach(d->store, info_entry, &c);
}
