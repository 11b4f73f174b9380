/* How the simulated peers find each other: as real nodes do, through the peer book
 * (transfer/peerbook.h), the policy node/xfer/xfer_swarm.c runs. Each node's book says when to
 * look holders up, when to announce, and whom to dial; this file plays the DHT and the network
 * around it. A DHT call is answered after the time a lookup takes in a ring of this size (half
 * log2 of the nodes in hops, a round trip each, and one round trip more); an announcement lives
 * for its TTL, so a peer that left stays listed until it lapses, and dialling it fails as a
 * refused connection does. A lookup names a random subset of the listed nodes, at most
 * cfg->neighbours, as the DHT's store does. A dial to a node with no room comes up and is
 * closed at once, and one to a node we already trade with is closed as a duplicate, as their
 * sessions would. */
#include <math.h>
#include <stdlib.h>

#include "tools/swarmsim/swarm_int.h"

#define HOUSE_US 250000u          /* the node's house timer, which dials what is due */
#define ANNOUNCE_TTL_US 600000000u /* what the node asks of the DHT */

static struct dht_addr addr_of(uint32_t idx)
{
	struct dht_addr a = { .family = 4, .port = 7000 };
	a.ip[0] = 10;
	a.ip[1] = (uint8_t)(idx >> 16);
	a.ip[2] = (uint8_t)(idx >> 8);
	a.ip[3] = (uint8_t)idx;
	return a;
}

static uint32_t idx_of(const struct dht_addr *a)
{
	return (uint32_t)a->ip[1] << 16 | (uint32_t)a->ip[2] << 8 | a->ip[3];
}

static struct peerbook_view view_of(const struct snode *nd)
{
	const struct bitfield *have = session_have(nd->s);
	return (struct peerbook_view){
		.seeking = !session_complete(nd->s),
		.holding = have != NULL && !bitfield_none(have),
		.has_manifest = session_manifest(nd->s) != NULL,
		.conns = nd->nopen,
	};
}

/* ---- connections ---- */

static int end_track(struct snode *nd, struct end *e)
{
	if (nd->nends == nd->cap) {
		size_t cap = nd->cap ? nd->cap * 2 : 16;
		struct end **n = realloc(nd->ends, cap * sizeof *n);
		if (n == NULL)
			return -1;
		nd->ends = n;
		nd->cap = cap;
	}
	nd->ends[nd->nends++] = e;
	nd->nopen++;
	return 0;
}

static bool linked(const struct snode *a, const struct snode *b)
{
	for (size_t i = 0; i < a->nends; i++)
		if (a->ends[i]->open && a->ends[i]->other->node == b)
			return true;
	return false;
}

static uint32_t from_word(const struct snode *from)
{
	return (from->liar ? FROM_LIAR : 0) | (from->idx == 0 ? FROM_SEED : 0) |
	       (uint32_t)from->cls << FROM_CLS_SHIFT;
}

/* Connect A (side 0, the dialler) to B (side 1). */
static void connect_nodes(struct swarm *sw, struct snode *a, struct snode *b)
{
	struct net_conn *c = net_connect(sw->net, (uint32_t)a->net_id, (uint32_t)b->net_id);
	struct end *ea = calloc(1, sizeof *ea), *eb = calloc(1, sizeof *eb);
	if (c == NULL || ea == NULL || eb == NULL || end_track(a, ea) < 0 || end_track(b, eb) < 0) {
		sw->failed = true;
		return;
	}
	*ea = (struct end){ c, 0, -1, true, a, eb };
	*eb = (struct end){ c, 1, -1, true, b, ea };
	struct net_side *sa = net_conn_side(c, 0), *sb = net_conn_side(c, 1);
	net_side_set_owner(sa, ea, from_word(b));
	net_side_set_owner(sb, eb, from_word(a));
	eb->slot = session_peer_add(b->s, sb, false);
	if (ea->open)
		ea->slot = session_peer_add(a->s, sa, true);
	/* Both slots are known before the first frame (the handshake) can arrive. A refused side
	 * has closed the connection: nothing will be delivered. */
	if (ea->open && eb->open) {
		net_side_set_user(sa, a, (uint32_t)ea->slot);
		net_side_set_user(sb, b, (uint32_t)eb->slot);
	}
}

/* ND dials the node at A: refused if it is gone, as its session would answer otherwise. */
static void dial(struct swarm *sw, struct snode *nd, const struct dht_addr *a, uint64_t now)
{
	uint32_t i = idx_of(a);
	struct snode *to = i < sw->n ? &sw->nodes[i] : NULL;
	if (to == NULL || to->s == NULL) {
		peerbook_dropped(nd->book, a, true, now);
		return;
	}
	if (linked(nd, to)) {
		sw->dials_dup++;
		peerbook_closed(nd->book, a, SESSION_CLOSE_DUPLICATE, now);
		return;
	}
	peerbook_up(nd->book, a);
	if (to->nopen >= sw->cfg->max_conns) {
		sw->dials_full++;
		peerbook_dropped(nd->book, a, false, now);
		return;
	}
	connect_nodes(sw, nd, to);
}

static void dial_some(struct swarm *sw, struct snode *nd)
{
	uint64_t now = evq_now(sw->q);
	struct peerbook_view v = view_of(nd);
	const struct dht_addr *a;
	while (!sw->failed && (a = peerbook_dial(nd->book, now, &v)) != NULL) {
		dial(sw, nd, a, now);
		v.conns = nd->nopen;
	}
}

void find_closed(struct swarm *sw, struct end *e, enum session_close why)
{
	struct snode *nd = e->node;
	if (e->side == 0 && nd->book) {
		struct dht_addr a = addr_of(e->other->node->idx);
		peerbook_closed(nd->book, &a, why, evq_now(sw->q));
	}
}

void find_gone(struct swarm *sw, struct end *e)
{
	struct snode *nd = e->node;
	if (e->side == 0 && nd->book) {
		struct dht_addr a = addr_of(e->other->node->idx);
		peerbook_dropped(nd->book, &a, e->slot < 0, evq_now(sw->q));
	}
}

/* ---- the DHT ---- */

static void ev_dht(void *ctx, void *arg, uint64_t gen);

/* Set ND's DHT timer to its book's next call, voiding the one set before. */
static void dht_schedule(struct swarm *sw, struct snode *nd)
{
	struct peerbook_view v = view_of(nd);
	uint64_t next = peerbook_next_call(nd->book, &v), now = evq_now(sw->q);
	nd->dht_gen++;
	if (next != UINT64_MAX)
		at(sw, next > now ? next : now, ev_dht, nd, nd->dht_gen);
}

static void ev_announced(void *ctx, void *arg, uint64_t u)
{
	struct swarm *sw = ctx;
	struct snode *nd = arg;
	(void)u;
	if (nd->book == NULL)
		return;
	nd->listed_until = evq_now(sw->q) + ANNOUNCE_TTL_US;
	peerbook_announced(nd->book, true, evq_now(sw->q));
	dht_schedule(sw, nd);
}

/* Name at most cfg->neighbours listed nodes, chosen at random, in sw->answer. */
static size_t lookup_answer(struct swarm *sw)
{
	uint64_t now = evq_now(sw->q);
	uint32_t k = 0;
	for (uint32_t i = 0; i < sw->n; i++)
		if (sw->nodes[i].listed_until > now)
			sw->scratch[k++] = i;
	uint32_t want = k < sw->cfg->neighbours ? k : sw->cfg->neighbours;
	for (uint32_t i = 0; i < want; i++) {
		uint32_t j = i + (uint32_t)rng_below(&sw->rng, k - i);
		uint32_t t = sw->scratch[i];
		sw->scratch[i] = sw->scratch[j];
		sw->scratch[j] = t;
		sw->answer[i] = addr_of(sw->scratch[i]);
	}
	return want;
}

static void ev_found(void *ctx, void *arg, uint64_t u)
{
	struct swarm *sw = ctx;
	struct snode *nd = arg;
	(void)u;
	if (nd->book == NULL)
		return;
	size_t n = lookup_answer(sw);
	struct peerbook_view v = view_of(nd);
	peerbook_found(nd->book, true, sw->answer, n, evq_now(sw->q), &v);
	dial_some(sw, nd);
	dht_schedule(sw, nd);
}

static void ev_dht(void *ctx, void *arg, uint64_t gen)
{
	struct swarm *sw = ctx;
	struct snode *nd = arg;
	if (nd->book == NULL || gen != nd->dht_gen)
		return;
	uint64_t now = evq_now(sw->q);
	struct peerbook_view v = view_of(nd);
	enum peerbook_call c;
	while ((c = peerbook_due(nd->book, now, &v)) != PEERBOOK_NONE)
		at(sw, now + sw->dht_us, c == PEERBOOK_ANNOUNCE ? ev_announced : ev_found, nd, 0);
	dht_schedule(sw, nd);
}

void find_kick(struct swarm *sw, struct snode *nd)
{
	if (nd->book == NULL)
		return;
	peerbook_kick(nd->book, evq_now(sw->q));
	dht_schedule(sw, nd);
}

/* ---- a node's life ---- */

static void ev_house(void *ctx, void *arg, uint64_t u)
{
	struct swarm *sw = ctx;
	struct snode *nd = arg;
	(void)u;
	if (nd->book == NULL || session_complete(nd->s))
		return;
	dial_some(sw, nd);
	at(sw, evq_now(sw->q) + HOUSE_US, ev_house, nd, 0);
}

void find_join(struct swarm *sw, struct snode *nd)
{
	if (sw->dht_us == 0) {
		double hops = 0.5 * log2((double)sw->n) + 1;
		sw->dht_us = (uint64_t)(hops * 2 * (double)sw->cfg->latency_us);
	}
	struct peerbook_config bc;
	peerbook_config_default(&bc);
	bc.self = addr_of(nd->idx);
	if (bc.max_conns > sw->cfg->max_conns) {
		bc.max_conns = sw->cfg->max_conns;
		bc.enough_conns = bc.max_conns / 2;
	}
	nd->book = peerbook_new(&bc);
	if (nd->book == NULL) {
		sw->failed = true;
		return;
	}
	uint64_t now = evq_now(sw->q);
	peerbook_start(nd->book, now);
	dht_schedule(sw, nd);
	at(sw, now + HOUSE_US, ev_house, nd, 0);
}

static void stats_add(struct peerbook_stats *sum, const struct peerbook_stats *st)
{
	sum->known += st->known;
	sum->lookups += st->lookups;
	sum->learned_late += st->learned_late;
	sum->dials += st->dials;
	sum->failures += st->failures;
	sum->redials += st->redials;
	if (st->min_redial_wait_us < sum->min_redial_wait_us)
		sum->min_redial_wait_us = st->min_redial_wait_us;
}

void find_leave(struct swarm *sw, struct snode *nd)
{
	struct peerbook_stats st;
	peerbook_stats(nd->book, &st);
	stats_add(&sw->book_left, &st);
	peerbook_free(nd->book);
	nd->book = NULL;
}

void find_totals(const struct swarm *sw, struct swarm_result *r)
{
	struct peerbook_stats sum = sw->book_left, st;
	for (uint32_t i = 0; i < sw->n; i++)
		if (sw->nodes[i].book != NULL) {
			peerbook_stats(sw->nodes[i].book, &st);
			stats_add(&sum, &st);
		}
	r->known = sum.known;
	r->lookups = sum.lookups;
	r->learned_late = sum.learned_late;
	r->dials = sum.dials;
	r->dials_full = sw->dials_full;
	r->dials_dup = sw->dials_dup;
	r->dials_full = sw->dials_full;
	r->dials_dup = sw->dials_dup;
	r->dial_failures = sum.failures;
	r->redials = sum.redials;
	r->min_redial_wait_s = sum.min_redial_wait_us == UINT64_MAX
				       ? -1
				       : (double)sum.min_redial_wait_us / 1e6;
}
