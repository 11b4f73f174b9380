/* A transfer's peers: its connections, whom to dial and when to announce or look holders up
 * (the peer book's policy, transfer/peerbook.h, which swarmsim drives too), carried out on the
 * real clock, with the DHT calls in flight. Bytes from a connection go to the session core;
 * the session itself (and its environment) is xfer_swarm.c's, above. */
#include <stdlib.h>
#include <string.h>

#include "dht/kv.h"
#include "node/log.h"
#include "node/net/addr.h"
#include "node/net/udp.h"
#include "node/xfer/xfer_peers.h"

#define ANNOUNCE_TTL_S 600

static const struct pconn_ops peer_ops;

/* ---- connections and known addresses ---- */

static int conn_add(struct xfer *x, struct pconn *c)
{
	if (x->nconns == x->capconns) {
		unsigned cap = x->capconns ? x->capconns * 2 : 16;
		struct pconn **n = realloc(x->conns, cap * sizeof *n);
		if (n == NULL)
			return -1;
		x->conns = n;
		x->capconns = cap;
	}
	x->conns[x->nconns++] = c;
	return 0;
}

static void conn_del(struct xfer *x, struct pconn *c)
{
	for (unsigned i = 0; i < x->nconns; i++)
		if (x->conns[i] == c) {
			x->conns[i] = x->conns[--x->nconns];
			return;
		}
}

struct peerbook *peers_book(struct xfer *x)
{
	if (x->book == NULL) {
		struct peerbook_config bc;
		peerbook_config_default(&bc);
		bc.self = x->m->cfg.self;
		x->book = peerbook_new(&bc);
	}
	return x->book;
}

/* What the peer book needs to know of X now. */
static struct peerbook_view view_of(const struct xfer *x)
{
	return (struct peerbook_view){
		.seeking = x->s != NULL && !x->seed && !x->complete && !session_complete(x->s),
		.holding = x->s != NULL && (x->seed || x->complete ||
					    (x->verified != NULL && !bitfield_none(x->verified))),
		.has_manifest = x->man != NULL,
		.conns = x->nconns,
	};
}

void peers_known_add(struct xfer *x, const struct dht_addr *a)
{
	if (peers_book(x) != NULL)
		peerbook_add(x->book, a);
}

static void dial_some(struct xfer *x, uint64_t now)
{
	struct peerbook_view v = view_of(x);
	const struct dht_addr *a;
	while (x->book && (a = peerbook_dial(x->book, now, &v)) != NULL) {
		struct pconn *c = pconn_connect(x->m->net, a, &peer_ops, x);
		if (c == NULL || conn_add(x, c) != 0) {
			pconn_close(c);
			peerbook_dropped(x->book, a, true, now);
		}
		v.conns = x->nconns;
	}
}


/* ---- peer connections ---- */

static int p_up(void *owner, struct pconn *c)
{
	struct xfer *x = owner;
	bool out = pconn_outgoing(c);
	if (x->s == NULL || (!out && conn_add(x, c) != 0)) {
		conn_del(x, c);
		pconn_close(c);
		return -1;
	}
	int slot = session_peer_add(x->s, c, out);
	if (slot < 0)
		return -1; /* the session closed it through e_close */
	pconn_set_slot(c, slot);
	if (out && x->book)
		peerbook_up(x->book, pconn_addr(c));
	return 0;
}

static int p_input(void *owner, struct pconn *c, const uint8_t *buf, size_t len)
{
	struct xfer *x = owner;
	if (x->s == NULL)
		return -1;
	int rc = session_input(x->s, (uint32_t)pconn_slot(c), buf, len);
	xfer_tick_sooner(x);
	return rc;
}

static void p_writable(void *owner, struct pconn *c)
{
	struct xfer *x = owner;
	if (x->s && pconn_slot(c) >= 0)
		session_writable(x->s, (uint32_t)pconn_slot(c));
}

static void p_gone(void *owner, struct pconn *c, const char *why)
{
	struct xfer *x = owner;
	char a[ADDR_STR_MAX];
	addr_format(pconn_addr(c), a);
	log_debug("transfer %.16s: peer %s: %s", x->hex, a, why);
	if (x->s && pconn_slot(c) >= 0)
		session_peer_gone(x->s, (uint32_t)pconn_slot(c));
	conn_del(x, c);
	if (pconn_outgoing(c) && x->book)
		peerbook_dropped(x->book, pconn_addr(c), pconn_slot(c) < 0, mono_now_us());
}

static const struct pconn_ops peer_ops = { p_up, p_input, p_writable, p_gone };

int peers_route(void *arg, const uint8_t cid[WIRE_CONTENT_ID_LEN], const struct pconn_ops **ops,
		void **owner)
{
	struct xfer *x = xfer_find(arg, cid);
	if (x == NULL || x->s == NULL)
		return -1;
	*ops = &peer_ops;
	*owner = x;
	return 0;
}


/* ---- the DHT ---- */

static struct dht_ticket *ticket_new(struct xfer *x, bool announce)
{
	struct dht_ticket *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->m = x->m;
	t->x = x;
	t->announce = announce;
	t->next = x->m->tickets;
	if (t->next)
		t->next->prev = t;
	x->m->tickets = t;
	return t;
}

static void ticket_free(struct dht_ticket *t)
{
	struct xfer_mgr *m = t->m;
	if (t->prev)
		t->prev->next = t->next;
	else
		m->tickets = t->next;
	if (t->next)
		t->next->prev = t->prev;
	free(t);
}

void peers_tickets_free(struct xfer_mgr *m)
{
	while (m->tickets)
		ticket_free(m->tickets);
}

static void dht_schedule(struct xfer *x)
{
	uint64_t now = mono_now_us();
	if (x->dht_ev == NULL || x->book == NULL)
		return;
	struct peerbook_view v = view_of(x);
	uint64_t next = peerbook_next_call(x->book, &v);
	if (next == UINT64_MAX) {
		evtimer_del(x->dht_ev);
		return;
	}
	uint64_t wait = next > now ? next - now : 0;
	struct timeval tv = { .tv_sec = (time_t)(wait / 1000000), .tv_usec = (suseconds_t)(wait % 1000000) };
	evtimer_add(x->dht_ev, &tv);
}

static void on_announced(void *arg, const struct dht_value_result *res)
{
	struct dht_ticket *t = arg;
	struct xfer *x = t->x;
	ticket_free(t);
	if (x == NULL)
		return;
	bool ok = res->status == DHT_OK;
	if (peerbook_announced(x->book, ok, mono_now_us()))
		log_info("transfer %.16s: announced in the DHT", x->hex);
	if (!ok)
		log_debug("transfer %.16s: announce failed: %s", x->hex, dht_status_str(res->status));
	dht_schedule(x);
}

static void on_peers(void *arg, const struct dht_value_result *res)
{
	struct dht_ticket *t = arg;
	struct xfer *x = t->x;
	ticket_free(t);
	if (x == NULL)
		return;
	uint64_t now = mono_now_us();
	struct peerbook_view v = view_of(x);
	peerbook_found(x->book, res->status == DHT_OK, res->peers, res->npeers, now, &v);
	dial_some(x, now);
	dht_schedule(x);
}

static void dht_call(struct xfer *x, enum peerbook_call call, uint64_t now)
{
	struct dht *d = x->m->cfg.d;
	struct dht_id key;
	manifest_id_to_key(x->cid, dht_bits(d), &key);
	bool announce = call == PEERBOOK_ANNOUNCE;
	struct dht_ticket *t = ticket_new(x, announce);
	int rc = t == NULL ? -1
		 : announce ? dht_announce(d, &key, &x->m->cfg.self, ANNOUNCE_TTL_S, on_announced, t)
			    : dht_get_peers(d, &key, KV_MAX_PEERS_REPLY, on_peers, t);
	if (rc == 0)
		return; /* the callback may already have run */
	if (t)
		ticket_free(t);
	peerbook_call_failed(x->book, call, now);
}

static void on_dht(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	uint64_t now = mono_now_us();
	(void)fd;
	(void)what;
	struct peerbook_view v = view_of(x);
	enum peerbook_call call;
	while (x->book && (call = peerbook_due(x->book, now, &v)) != PEERBOOK_NONE)
		dht_call(x, call, now);
	dht_schedule(x);
}

void peers_dht_kick(struct xfer *x)
{
	if (x->book)
		peerbook_kick(x->book, mono_now_us());
	dht_schedule(x);
}


/* ---- the swarm's start and end ---- */

void peers_conn_closed(struct xfer *x, struct pconn *c, enum session_close why)
{
	conn_del(x, c);
	if (pconn_outgoing(c) && x->book)
		peerbook_closed(x->book, pconn_addr(c), why, mono_now_us());
	pconn_close(c);
}

int peers_start(struct xfer *x, uint64_t now)
{
	if (x->dht_ev == NULL && (x->dht_ev = evtimer_new(x->m->base, on_dht, x)) == NULL)
		return -1;
	peerbook_start(x->book, now);
	dht_schedule(x);
	return 0;
}

void peers_house(struct xfer *x, uint64_t now)
{
	dial_some(x, now);
}

void peers_halt(struct xfer *x)
{
	for (struct dht_ticket *t = x->m->tickets; t; t = t->next)
		if (t->x == x)
			t->x = NULL;
	while (x->nconns > 0)
		pconn_close(x->conns[--x->nconns]);
	if (x->book)
		peerbook_stop(x->book);
	if (x->dht_ev)
		evtimer_del(x->dht_ev);
}
