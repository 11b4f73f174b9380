/* A transfer's swarm: the session core's environment (bytes to peerconn, blocks to storage,
 * verification to the pool, time and randomness to the clock and libsodium), its peers and its
 * DHT work. Whom to dial and when, and when to announce or look holders up, is the peer book's
 * policy (transfer/peerbook.h, which swarmsim drives too); this file carries it out on the real
 * clock and reports back how each call and connection went.
 * The session core may not be re-entered or freed from its own callbacks: failures found
 * there are reported through xfer_fail_later(). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include "dht/kv.h"
#include "node/net/addr.h"
#include "node/log.h"
#include "node/net/udp.h"
#include "node/xfer/xfer_impl.h"

#define MAX_SESSION_PEERS 80        /* inbound and outbound together */
#define ANNOUNCE_TTL_S 600
#define TICK_MIN_US 5000
#define TICK_MAX_US 200000

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

/* X's peer book, made on first use. NULL on no memory. */
static struct peerbook *book_of(struct xfer *x)
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

void swarm_known_add(struct xfer *x, const struct dht_addr *a)
{
	if (book_of(x) != NULL)
		peerbook_add(x->book, a);
}

uint32_t swarm_good_peers(const struct xfer *x, struct dht_addr *out, uint32_t max)
{
	return x->book ? peerbook_good(x->book, out, max) : 0;
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

/* ---- the session core's environment ---- */

static void release_map(const void *body, size_t blen, void *arg)
{
	(void)body;
	(void)blen;
	fmap_unref(arg);
}

/* A block read from a file map goes out by reference: the kernel copies it from the page
 * cache into the socket, and no copy is made here. */
static void e_send(void *arg, void *conn, const uint8_t *head, size_t hlen, const uint8_t *body,
		   size_t blen)
{
	struct xfer *x = arg;
	if (blen > 0 && body == x->mapped && x->mapped_map != NULL) {
		fmap_ref(x->mapped_map);
		pconn_send_ref(conn, head, hlen, body, blen, release_map, x->mapped_map);
		x->mapped_map = NULL;
		return;
	}
	pconn_send(conn, head, hlen, body, blen);
}

static size_t e_backlog(void *arg, void *conn)
{
	(void)arg;
	return pconn_backlog(conn);
}

static void e_close(void *arg, void *conn, enum session_close why)
{
	struct xfer *x = arg;
	struct pconn *c = conn;
	conn_del(x, c);
	if (pconn_outgoing(c) && x->book)
		peerbook_closed(x->book, pconn_addr(c), why, mono_now_us());
	pconn_close(c);
}

static void e_store(void *arg, void *conn, uint32_t chunk, uint32_t offset, const uint8_t *data,
		    size_t len)
{
	struct xfer *x = arg;
	char err[STORAGE_ERR_MAX];
	(void)conn;
	if (x->fail_pending || x->sto == NULL ||
	    jobs_keep_block(x, chunk, offset, data, len) == 0)
		return;
	uint64_t off = (uint64_t)chunk * x->chunk_size + offset;
	if (storage_write(x->sto, off, data, len, err, sizeof err) != 0)
		xfer_fail_later(x, XFER_E_IO, "%s", err);
}

static const uint8_t *e_read(void *arg, uint32_t chunk, uint32_t offset, uint32_t len)
{
	struct xfer *x = arg;
	char err[STORAGE_ERR_MAX];
	x->mapped_map = NULL;
	if (len > sizeof x->upbuf || x->sto == NULL || !changed_check(x, chunk))
		return NULL;
	uint64_t off = (uint64_t)chunk * x->chunk_size + offset;
	struct fmap *map;
	const uint8_t *p = x->m->cfg.debug_corrupt ? NULL : storage_map(x->sto, off, len, &map);
	if (p != NULL) {
		/* A chunk's first block: its other blocks will follow. */
		if (offset == 0)
			storage_willneed(x->sto, off, manifest_chunk_len(x->man, chunk));
		x->mapped = p;
		x->mapped_map = map;
		return p;
	}
	if (storage_read(x->sto, off, x->upbuf, len, err, sizeof err) != 0) {
		/* While a download is renamed into place, a lazily opened path may move under us:
		 * refusing the block is enough then. Otherwise the data is gone. */
		if (!x->finalizing)
			xfer_fail_later(x, XFER_E_IO, "%s", err);
		return NULL;
	}
	if (x->m->cfg.debug_corrupt)
		for (uint32_t i = 0; i < len; i++)
			x->upbuf[i] ^= 0xa5;
	return x->upbuf;
}

static void e_verify(void *arg, uint32_t chunk, bool want_digests)
{
	struct xfer *x = arg;
	if (jobs_verify(x, chunk, want_digests) != 0)
		xfer_fail_later(x, XFER_E_INTERNAL, "out of memory while verifying a chunk");
}

static void e_ban(void *arg, const uint8_t peer_id[WIRE_PEER_ID_LEN])
{
	struct xfer *x = arg;
	char hex[2 * 8 + 1];
	sodium_bin2hex(hex, sizeof hex, peer_id, 8);
	log_warn("transfer %.16s: banned peer %s... for sending corrupt data", x->hex, hex);
}

static void e_manifest(void *arg, const struct manifest *m)
{
	struct xfer *x = arg;
	size_t len;
	const uint8_t *b = manifest_bytes(m, &len);
	x->man = manifest_decode(b, len);
	if (x->man == NULL) {
		xfer_fail_later(x, XFER_E_INTERNAL, "out of memory while taking the manifest");
		return;
	}
	x->manifest_saved = false;
	xfer_mark_dirty(x);
	if (swarm_manifest_ready(x) == 0) {
		x->state = XFER_DOWNLOADING;
		uint64_t size = manifest_total_size(x->man);
		uint32_t n = manifest_chunk_count(x->man);
		log_info("transfer %.16s: manifest received: %s, %llu byte%s in %u chunk%s", x->hex,
			 x->name, (unsigned long long)size, plural(size), n, plural(n));
	}
}

static uint64_t e_now(void *arg)
{
	(void)arg;
	return mono_now_us();
}

static uint64_t e_rand(void *arg)
{
	uint64_t v;
	(void)arg;
	randombytes_buf(&v, sizeof v);
	return v;
}

static void e_log(void *arg, const char *msg)
{
	struct xfer *x = arg;
	log_debug("transfer %.16s: %s", x->hex, msg);
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
	return x->s ? session_input(x->s, (uint32_t)pconn_slot(c), buf, len) : -1;
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

int swarm_route(void *arg, const uint8_t cid[WIRE_CONTENT_ID_LEN], const struct pconn_ops **ops,
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

void swarm_tickets_free(struct xfer_mgr *m)
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

void swarm_on_dht(evutil_socket_t fd, short what, void *arg)
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

void swarm_dht_kick(struct xfer *x)
{
	if (x->book)
		peerbook_kick(x->book, mono_now_us());
	dht_schedule(x);
}

/* ---- the session's life ---- */

void swarm_on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	(void)fd;
	(void)what;
	if (x->s == NULL)
		return;
	uint64_t now = mono_now_us();
	uint64_t next = session_tick(x->s, now);
	uint64_t wait = next > now ? next - now : 0;
	wait = wait < TICK_MIN_US ? TICK_MIN_US : wait > TICK_MAX_US ? TICK_MAX_US : wait;
	struct timeval tv = { .tv_sec = 0, .tv_usec = (suseconds_t)wait };
	evtimer_add(x->tick_ev, &tv);
}

static void want_finalize(struct xfer *x)
{
	if (x->finalizing || x->complete)
		return;
	if (x->saving) {
		x->finalize_wanted = true; /* the house timer starts it once the save is done */
		return;
	}
	x->finalize_wanted = false;
	if (jobs_finalize(x) != 0)
		xfer_fail(x, XFER_E_INTERNAL, "out of memory while finishing the download");
}

int swarm_start(struct xfer *x)
{
	struct session_config sc;
	session_config_default(&sc);
	memcpy(sc.network, x->m->network, sizeof sc.network);
	memcpy(sc.content, x->cid, sizeof sc.content);
	memcpy(sc.peer_id, x->m->peer_id, sizeof sc.peer_id);
	sc.manifest = x->man;
	sc.have = x->man ? x->verified : NULL;
	sc.max_peers = MAX_SESSION_PEERS;
	sc.send_low_water = x->m->low_water;
	struct session_env env = {
		.arg = x, .send = e_send, .backlog = e_backlog, .close = e_close,
		.store = e_store, .read = e_read, .verify = e_verify, .ban = e_ban,
		.peer_key = pconn_peer_key,
		.manifest = e_manifest, .now = e_now, .rand64 = e_rand, .log = e_log,
	};
	x->s = book_of(x) ? session_new(&sc, &env) : NULL;
	if (x->s == NULL)
		return -1;
	uint64_t now = mono_now_us();
	bool done = x->seed || x->complete;
	x->state = done ? XFER_SEEDING : x->man ? XFER_DOWNLOADING : XFER_FINDING;
	x->deadline_us = now + (uint64_t)(x->timeout_s ? x->timeout_s : XFER_DEFAULT_TIMEOUT_S) *
				       1000000;
	peerbook_start(x->book, now);
	x->run_us = now;
	static const struct timeval soon = { .tv_usec = 1000 };
	evtimer_add(x->tick_ev, &soon);
	dht_schedule(x);
	if (!done && x->man && session_complete(x->s))
		want_finalize(x);
	return 0;
}

void swarm_halt(struct xfer *x)
{
	for (struct dht_ticket *t = x->m->tickets; t; t = t->next)
		if (t->x == x)
			t->x = NULL;
	x->finalize_wanted = false;
	jobs_cbufs_free(x);
	while (x->nconns > 0)
		pconn_close(x->conns[--x->nconns]);
	if (x->book)
		peerbook_stop(x->book);
	if (x->s != NULL) {
		struct session_stats st;
		session_stats(x->s, &st);
		x->acc_down += st.downloaded;
		x->acc_up += st.uploaded;
		x->acc_bans += st.bans;
		session_free(x->s);
		x->s = NULL;
	}
	if (x->tick_ev)
		evtimer_del(x->tick_ev);
	if (x->dht_ev)
		evtimer_del(x->dht_ev);
}

void swarm_chunk_checked(struct xfer *x, uint32_t chunk, bool ok, const uint8_t *digests)
{
	session_chunk_verified(x->s, chunk, ok, digests);
	if (ok) {
		bitfield_set(x->verified, chunk);
		xfer_mark_dirty(x);
		swarm_dht_kick(x);
	}
	if (session_complete(x->s))
		want_finalize(x);
}

static void not_found(struct xfer *x)
{
	unsigned s = x->timeout_s ? x->timeout_s : XFER_DEFAULT_TIMEOUT_S;
	uint32_t holders = x->book ? peerbook_holders_seen(x->book) : 0;
	x->forget = true; /* nothing was fetched: nothing to resume */
	if (holders == 0)
		xfer_fail(x, XFER_E_NOT_FOUND, "no holder of %s was found in the DHT within %u s: "
			  "check the content id, and that a node sharing it is in this ring", x->hex,
			  s);
	else
		xfer_fail(x, XFER_E_NOT_FOUND, "the DHT named %u holder%s of %s, but none sent "
			  "the manifest within %u s: they may be gone or unreachable",
			  holders, plural(holders), x->hex, s);
	if (!x->saving && x->statedir)
		xstate_remove(x->statedir);
}

void swarm_house(struct xfer *x, uint64_t now)
{
	if (x->finalize_wanted && !x->saving)
		want_finalize(x);
	if (x->s == NULL)
		return;
	if (x->man == NULL) {
		x->state = x->nconns > 0 ? XFER_MANIFEST : XFER_FINDING;
		if (now >= x->deadline_us) {
			not_found(x);
			return;
		}
	} else if (changed_stalled(x, now)) {
		return;
	}
	dial_some(x, now);
}

/* ---- names and storage ---- */

int swarm_names(struct xfer *x)
{
	if (x->final_root != NULL)
		return 0;
	x->chunk_size = manifest_chunk_size(x->man);
	char *name = storage_content_name(x->man);
	if (name == NULL && (name = malloc(8 + 17)) != NULL)
		snprintf(name, 8 + 17, "content-%.16s", x->hex);
	size_t len = name ? strlen(x->path) + strlen(name) + 16 : 0;
	x->final_root = len ? malloc(len) : NULL;
	x->part_root = len ? malloc(len) : NULL;
	if (name == NULL || x->final_root == NULL || x->part_root == NULL) {
		free(name);
		return -1;
	}
	free(x->name);
	x->name = name;
	snprintf(x->final_root, len, "%s/%s", x->path, name);
	snprintf(x->part_root, len, "%s/.%s.part", x->path, name);
	return 0;
}

/* Refuse early what would fail later: a name taken in the output directory, a disk too full. */
static int check_room(struct xfer *x, bool *in_place)
{
	struct stat sb;
	struct statvfs vs;
	bool part = lstat(x->part_root, &sb) == 0, final = lstat(x->final_root, &sb) == 0;
	*in_place = !part && final && x->verified && bitfield_all(x->verified);
	if (final && !*in_place) {
		xfer_fail_later(x, XFER_E_IO, "%s already exists; move it away or fetch into "
				"another directory", x->final_root);
		return -1;
	}
	uint64_t need = manifest_total_size(x->man) - xfer_bytes_verified(x);
	if (statvfs(x->path, &vs) == 0 && (uint64_t)vs.f_bavail * vs.f_frsize < need) {
		xfer_fail_later(x, XFER_E_IO, "not enough space in %s: %llu bytes needed, %llu free",
				x->path, (unsigned long long)need,
				(unsigned long long)vs.f_bavail * vs.f_frsize);
		return -1;
	}
	return 0;
}

int swarm_manifest_ready(struct xfer *x)
{
	if (swarm_names(x) != 0 || (x->verified == NULL &&
				    (x->verified = bitfield_new(manifest_chunk_count(x->man))) == NULL)) {
		xfer_fail_later(x, XFER_E_INTERNAL, "out of memory");
		return -1;
	}
	bool in_place;
	if (check_room(x, &in_place) != 0)
		return -1;
	x->in_place = in_place;
	storage_free(x->sto);
	x->sto = storage_for_manifest(x->man, in_place ? x->final_root : x->part_root, !in_place);
	if (x->sto == NULL) {
		xfer_fail_later(x, XFER_E_INTERNAL, "out of memory");
		return -1;
	}
	return 0;
}
