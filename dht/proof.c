/* Node identities on the wire (dht/proof.h). Why proofs sit where they do:
 *   - Only adoption needs one. A node names others in every answer, and lookups pass through
 *     whoever routing offers; what an impostor gains is a place in the ring (the keys next to a
 *     victim's id), and that place is given by becoming someone's successor or predecessor.
 *   - Zave's invariants need successor lists to survive failures, so entries learned second
 *     hand stay in the list unproven (they were proven by the node that adopted them, if it is
 *     honest); one of them becomes our first successor only through stabilize, which proves it
 *     before it queries it (ring.c).
 *   - Proven nodes are kept by address, one id each, least recently used forgotten first: a
 *     neighbour's stabilization touches its entry every period, so it stays while it is one.
 * A proof costs one round trip, one signature and one check, once per neighbour. */
#include "dht/proof.h"

#include <stdio.h>
#include <string.h>

#include "dht/addrmap.h"
#include "dht/idproof.h"

#define PROOF_KNOWN_MAX 256
/* A node refused is not asked again for this long: an impostor that stays someone's neighbour
 * would otherwise cost a signature check and a warning every stabilization period. */
#define PROOF_REFUSED_US (60 * 1000000ULL)

enum { KNOWN_NONE, KNOWN_PROVEN, KNOWN_REFUSED };

struct proof_known {
	uint8_t state;
	struct dht_id id;
	uint8_t pk[DHT_PROOF_PK_LEN]; /* once proven */
	uint64_t refused_until;       /* once refused */
};

static const struct rpc_handler proof_rpc;

int proof_init(struct dht *d)
{
	uint64_t seed;
	rpc_random(d->rpc, &seed, sizeof seed);
	d->proof.d = d;
	d->proof.known = addrmap_new(sizeof(struct proof_known), PROOF_KNOWN_MAX, seed);
	return d->proof.known ? 0 : -1;
}

void proof_free(struct dht *d)
{
	addrmap_free(d->proof.known);
	d->proof.known = NULL;
}

void proof_drop_all(struct dht *d)
{
	memset(d->proof.wait, 0, sizeof d->proof.wait);
}

static struct proof_known *record_of(struct dht *d, const struct dht_node *node, uint8_t state)
{
	struct proof_known *k = addrmap_get(d->proof.known, &node->addr, rpc_now(d->rpc));
	return k != NULL && k->state == state && id_eq(&k->id, &node->id) ? k : NULL;
}

static struct proof_known *known_of(struct dht *d, const struct dht_node *node)
{
	return record_of(d, node, KNOWN_PROVEN);
}

static bool refused_lately(struct dht *d, const struct dht_node *node)
{
	const struct proof_known *k = record_of(d, node, KNOWN_REFUSED);
	return k != NULL && k->refused_until > rpc_now(d->rpc);
}

static void remember(struct dht *d, const struct dht_node *node, uint8_t state,
		     const uint8_t pk[DHT_PROOF_PK_LEN])
{
	bool added;
	uint64_t now = rpc_now(d->rpc);
	struct proof_known *k = addrmap_put(d->proof.known, &node->addr, now, &added);
	if (k == NULL)
		return;
	*k = (struct proof_known){ .state = state, .id = node->id,
				   .refused_until = now + PROOF_REFUSED_US };
	memcpy(k->pk, pk, sizeof k->pk);
}

bool proof_known(struct dht *d, const struct dht_node *node)
{
	return routing_is_self(&d->rt, node) || known_of(d, node) != NULL;
}

bool proof_key(struct dht *d, const struct dht_node *node, uint8_t pk[DHT_PROOF_PK_LEN])
{
	if (routing_is_self(&d->rt, node)) {
		memcpy(pk, d->cfg.sign_pk, DHT_PROOF_PK_LEN);
		return true;
	}
	const struct proof_known *k = known_of(d, node);
	if (k != NULL)
		memcpy(pk, k->pk, DHT_PROOF_PK_LEN);
	return k != NULL;
}

void proof_forget(struct dht *d, const struct dht_node *node)
{
	struct proof_known *k = known_of(d, node);
	if (k != NULL)
		k->state = KNOWN_NONE;
}

static struct proof_wait *waiting(struct dht *d, const struct dht_node *node,
				  const struct proof_handler *h, unsigned tag)
{
	for (size_t i = 0; i < PROOF_MAX_WAIT; i++) {
		struct proof_wait *w = &d->proof.wait[i];
		if (w->used && w->h == h && w->tag == tag && id_eq(&w->node.id, &node->id) &&
		    dht_addr_eq(&w->node.addr, &node->addr))
			return w;
	}
	return NULL;
}

/* The entry for a new proof of NODE for H: H's proof for a notice from NODE's address (one
 * each), else a free one, else the oldest proof for a notice. */
static struct proof_wait *slot_for(struct dht *d, const struct dht_node *node,
				   const struct proof_handler *h)
{
	struct proof_wait *free_w = NULL, *oldest = NULL;
	for (size_t i = 0; i < PROOF_MAX_WAIT; i++) {
		struct proof_wait *w = &d->proof.wait[i];
		if (!w->used) {
			free_w = free_w ? free_w : w;
			continue;
		}
		if (!w->h->for_notice)
			continue;
		if (w->h == h && dht_addr_eq(&w->node.addr, &node->addr))
			return w;
		if (oldest == NULL || w->started < oldest->started)
			oldest = w;
	}
	return free_w ? free_w : oldest;
}

/* Request tags carry the entry and its generation. */
#define GEN_MAX (UINT32_MAX / PROOF_MAX_WAIT)

int proof_ask(struct dht *d, const struct dht_node *node, const struct proof_handler *h,
	      unsigned tag, uint32_t txid)
{
	struct proof_wait *w = waiting(d, node, h, tag);
	if (w != NULL) {
		w->txid = txid;
		return 0;
	}
	if (refused_lately(d, node) || (w = slot_for(d, node, h)) == NULL)
		return -1;
	d->proof.next_gen = (d->proof.next_gen + 1) % GEN_MAX;
	*w = (struct proof_wait){ .used = true, .gen = d->proof.next_gen,
				  .started = rpc_now(d->rpc), .node = *node, .h = h, .tag = tag,
				  .txid = txid };
	unsigned i = (unsigned)(w - d->proof.wait);
	rpc_random(d->rpc, w->nonce, sizeof w->nonce);
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_PROVE;
	memcpy(m.u.prove.nonce, w->nonce, sizeof w->nonce);
	if (rpc_request(d->rpc, node, true, &m, d->cfg.maint_tries, &proof_rpc, &d->proof,
			w->gen * PROOF_MAX_WAIT + i) != 0) {
		w->used = false;
		return -1;
	}
	return 0;
}

void proof_answer(struct dht *d, const struct dht_msg *m, const struct dht_node *from)
{
	struct idproof_claim c = { .bits = d->cfg.bits, .challenger = from->addr,
				   .prover = d->cfg.self };
	memcpy(c.nonce, m->u.prove.nonce, sizeof c.nonce);
	struct dht_msg a;
	memset(&a, 0, sizeof a);
	a.type = DHT_PROOF;
	a.txid = m->txid;
	memcpy(a.u.proof.pk, d->cfg.sign_pk, sizeof a.u.proof.pk);
	if (idproof_sign(&c, d->cfg.sign_sk, a.u.proof.sig) == 0)
		rpc_send(d->rpc, &from->addr, &a);
}

/* "1.2.3.4:5" or "[1:2:...:8]:5", for the log: the core has no inet_ntop. */
static void addr_text(const struct dht_addr *a, char *out, size_t cap)
{
	if (a->family == 4) {
		snprintf(out, cap, "%u.%u.%u.%u:%u", a->ip[0], a->ip[1], a->ip[2], a->ip[3],
			 (unsigned)a->port);
		return;
	}
	size_t n = (size_t)snprintf(out, cap, "[");
	for (int i = 0; i < 16 && n < cap; i += 2)
		n += (size_t)snprintf(out + n, cap - n, "%s%x", i ? ":" : "",
				      (unsigned)(a->ip[i] << 8 | a->ip[i + 1]));
	if (n < cap)
		snprintf(out + n, cap - n, "]:%u", (unsigned)a->port);
}

static enum proof_result check(struct dht *d, const struct proof_wait *w, const struct dht_msg *m)
{
	struct idproof_claim c = { .bits = d->cfg.bits, .challenger = d->cfg.self.addr,
				   .prover = w->node };
	memcpy(c.nonce, w->nonce, sizeof c.nonce);
	enum idproof_result r = idproof_check(&c, m->u.proof.pk, m->u.proof.sig,
					      d->cfg.trust_chosen_ids);
	char id[ID_HEX_MAX], at[64];
	id_to_hex(&w->node.id, d->cfg.bits, id);
	addr_text(&w->node.addr, at, sizeof at);
	if (r != IDPROOF_OK) {
		remember(d, &w->node, KNOWN_REFUSED, m->u.proof.pk);
		d->stats.ids_refused++;
		rpc_log(d->rpc, DHT_LOG_WARN, "refused node %s at %s: it cannot prove that id (%s)", id,
			at, idproof_result_str(r));
		return PROOF_REFUSED;
	}
	remember(d, &w->node, KNOWN_PROVEN, m->u.proof.pk);
	d->stats.proofs++;
	rpc_log(d->rpc, DHT_LOG_DEBUG, "node %s at %s proved its id", id, at);
	return PROOF_OK;
}

/* Take the entry Q's tag names out of the table, then call its handler; nothing if the entry
 * has been given to another proof since. */
static void end(struct proofs *ps, const struct rpc_req *q, const struct dht_msg *m)
{
	struct dht *d = ps->d;
	struct proof_wait *e = &ps->wait[q->tag % PROOF_MAX_WAIT];
	if (!e->used || e->gen != q->tag / PROOF_MAX_WAIT)
		return;
	struct proof_wait w = *e;
	e->used = false;
	enum proof_result r = PROOF_FAILED;
	if (m != NULL && m->type == DHT_PROOF)
		r = check(d, &w, m);
	w.h->done(d, &w.node, w.tag, w.txid, r);
}

static void proof_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	end(arg, q, m);
}

static void proof_timeout(void *arg, const struct rpc_req *q)
{
	end(arg, q, NULL);
}

static const struct rpc_handler proof_rpc = { proof_reply, proof_timeout };
