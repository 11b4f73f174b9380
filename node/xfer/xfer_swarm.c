/* A transfer's session: the session core's environment (bytes to peerconn, blocks to memory
 * or storage, verification to the pool, time to the clock, randomness to libsodium in blocks), its
 * start, tick and halt, a downloaded chunk's verification, and the end of a download (synced
 * and renamed into place on the pool, then recorded, announced, maybe left). Peers and the DHT
 * are xfer_peers.c's, below. The session core may not be re-entered or freed from its own
 * callbacks: failures found there are reported through xfer_fail_later(). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/log.h"
#include "node/net/udp.h"
#include "node/xfer/chunkjob.h"
#include "node/xfer/statejob.h"
#include "node/xfer/xfer_changed.h"
#include "node/xfer/xfer_peers.h"
#include "node/xfer/xfer_place.h"
#include "node/xfer/xfer_swarm.h"

#define MAX_SESSION_PEERS 80        /* inbound and outbound together */

static void xfer_completed(struct xfer *x);

static int verify_chunk(struct xfer *x, uint32_t chunk, bool want_digests);
static void chunk_checked(struct xfer *x, uint32_t chunk, bool ok, const uint8_t *digests);

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
	peers_conn_closed(arg, conn, why);
}

static void e_store(void *arg, void *conn, uint32_t chunk, uint32_t offset, const uint8_t *data,
		    size_t len)
{
	struct xfer *x = arg;
	char err[STORAGE_ERR_MAX];
	(void)conn;
	if (x->fail_pending || x->sto == NULL ||
	    heldchunks_keep(&x->held, &x->m->bufs, chunk, manifest_chunk_len(x->man, chunk), offset,
			    data, len) == 0)
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
	if (len > sizeof x->upbuf || x->sto == NULL)
		return NULL;
	enum serve may = changed_may_serve(x, chunk);
	if (may != SERVE_NOW)
		return may == SERVE_LATER ? SESSION_READ_LATER : NULL;
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
	if (verify_chunk(x, chunk, want_digests) != 0)
		xfer_fail_later(x, XFER_E_INTERNAL, "out of memory while verifying a chunk");
}

static void e_will_read(void *arg, uint32_t chunk)
{
	struct xfer *x = arg;
	if (x->sto != NULL)
		changed_prepare(x, chunk);
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
	if (place_prepare(x) == 0) {
		x->state = XFER_DOWNLOADING;
		uint64_t size = manifest_total_size(x->man);
		uint32_t n = manifest_chunk_count(x->man);
		log_info("transfer %.16s: manifest received: %s, %llu byte%s in %u chunk%s", x->hex,
			 x->name, (unsigned long long)size, plural(size), n, plural(n));
		peers_dht_kick(x); /* newcomers can fetch the manifest from us now */
	}
}

static uint64_t e_now(void *arg)
{
	(void)arg;
	return mono_now_us();
}

static uint64_t e_rand(void *arg)
{
	struct xfer *x = arg;
	return randpool_next(&x->m->rand);
}

static void e_log(void *arg, const char *msg)
{
	struct xfer *x = arg;
	log_debug("transfer %.16s: %s", x->hex, msg);
}


/* ---- a downloaded chunk's verification ---- */

static void on_verified(void *arg, const struct chunkjob_result *r)
{
	struct xfer_ticket *t = arg;
	struct xfer *x = t->x;
	if (!x->removed && r->ran && x->s != NULL && t->gen == x->gen) {
		if (r->rc != 0)
			xfer_fail(x, XFER_E_IO, "%s", r->err);
		else
			chunk_checked(x, r->chunk, r->ok, r->digests);
	}
	free(t);
	xfer_unref(x);
}

static int verify_chunk(struct xfer *x, uint32_t chunk, bool want_digests)
{
	if (x->m->closing)
		return 0;
	struct chunkjob_req req = { .want_digests = want_digests, .create = true };
	heldchunks_take(&x->held, chunk, &req.held);
	return xfer_chunk_job(x, chunk, &req, on_verified);
}

/* ---- the end of a download ---- */

static void finished(struct xfer *x, int rc, const char *err, uint64_t *size, int64_t *mtime_ns,
		     uint32_t n)
{
	if (rc != 0) {
		free(size);
		free(mtime_ns);
		xfer_fail(x, XFER_E_IO, "%s", err);
		return;
	}
	share_scan_free(&x->scan);
	x->scan.n = n;
	x->scan.size = size;
	x->scan.mtime_ns = mtime_ns;
	if (!x->in_place && storage_move(x->sto, x->final_root) != 0) {
		xfer_fail(x, XFER_E_INTERNAL, "out of memory");
		return;
	}
	changed_record(x);
	x->in_place = true;
	x->complete = true;
	xfer_completed(x);
}

/* The fetch is complete and its data in place: record, announce, notify, maybe leave. */
static void xfer_completed(struct xfer *x)
{
	xtime_stop(x, true);
	xfer_mark_dirty(x);
	if (x->state == XFER_STOPPED || x->state == XFER_FAILED)
		return;
	x->state = XFER_SEEDING;
	log_info("transfer %.16s: complete: %s", x->hex, x->final_root);
	xfer_notify(x, XFER_EV_DONE);
	if (!x->leave) {
		peers_dht_kick(x);
		return;
	}
	x->gen++;
	swarm_halt(x);
	x->state = XFER_STOPPED;
	x->forget = true; /* left when done: nothing to resume */
	if (!x->saving)
		xstate_remove(x->statedir);
	xfer_notify(x, XFER_EV_STOPPED);
}

static void on_finished(void *arg, struct finishjob_result *r)
{
	struct xfer *x = arg;
	x->finalizing = false;
	xfer_saved(x, false, 0, NULL);
	if (!x->removed && r->ran) {
		finished(x, r->rc, r->err, r->size, r->mtime_ns, r->n);
		r->size = NULL; /* taken */
		r->mtime_ns = NULL;
	}
	xfer_unref(x);
}

static int finish_start(struct xfer *x)
{
	if (x->m->closing)
		return 0;
	char *state = xfer_state_text(x);
	struct finishjob_req req = { .parent = x->path, .part = x->part_root,
				     .final = x->final_root, .statedir = x->statedir,
				     .state = state, .in_place = x->in_place };
	if (state == NULL || (req.meta = tree_meta_new(x->man, x->sto)) == NULL ||
	    storage_all_paths(x->sto, &req.files) != 0) {
		tree_meta_free(req.meta);
		free(state);
		return -1;
	}
	int rc = finishjob_submit(x->m->pool, &req, on_finished, x);
	free(state);
	if (rc != 0)
		return -1;
	x->finalizing = true;
	x->saving = true;
	x->dirty = false;
	x->refs++;
	return 0;
}

/* ---- the session's life ---- */

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	(void)fd;
	(void)what;
	if (x->s == NULL)
		return;
	xfer_tick_arm(x, session_tick(x->s, mono_now_us()));
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
	if (finish_start(x) != 0)
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
	/* The choker's slots follow the uplink: the cap if one was given, else what the node has
	 * measured so far (0, the default four slots, until it knows). */
	sc.upload_rate = x->m->cfg.up_rate ? x->m->cfg.up_rate : uplink_rate(&x->m->up);
	struct session_env env = {
		.arg = x, .send = e_send, .backlog = e_backlog, .close = e_close,
		.store = e_store, .read = e_read, .verify = e_verify, .ban = e_ban,
		.will_read = e_will_read,
		.peer_key = pconn_peer_key,
		.manifest = e_manifest, .now = e_now, .rand64 = e_rand, .log = e_log,
	};
	if (x->tick_ev == NULL && (x->tick_ev = evtimer_new(x->m->base, on_tick, x)) == NULL)
		return -1;
	x->s = peers_book(x) ? session_new(&sc, &env) : NULL;
	if (x->s == NULL)
		return -1;
	uint64_t now = mono_now_us();
	bool done = x->seed || x->complete;
	x->state = done ? XFER_SEEDING : x->man ? XFER_DOWNLOADING : XFER_FINDING;
	x->deadline_us = now + (uint64_t)(x->timeout_s ? x->timeout_s : XFER_DEFAULT_TIMEOUT_S) *
				       1000000;
	x->run_us = now;
	static const struct timeval soon = { .tv_usec = 1000 };
	x->tick_at = now + 1000;
	evtimer_add(x->tick_ev, &soon);
	if (peers_start(x, now) != 0)
		return -1;
	if (!done && x->man && session_complete(x->s))
		want_finalize(x);
	return 0;
}

void swarm_halt(struct xfer *x)
{
	x->finalize_wanted = false;
	heldchunks_clear(&x->held, &x->m->bufs);
	peers_halt(x);
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
}

static void chunk_checked(struct xfer *x, uint32_t chunk, bool ok, const uint8_t *digests)
{
	session_chunk_verified(x->s, chunk, ok, digests);
	xfer_tick_sooner(x);
	if (ok) {
		bitfield_set(x->verified, chunk);
		xfer_mark_dirty(x);
		peers_dht_kick(x);
	}
	if (session_complete(x->s))
		want_finalize(x);
}

static void not_found(struct xfer *x)
{
	unsigned s = x->timeout_s ? x->timeout_s : XFER_DEFAULT_TIMEOUT_S;
	uint32_t peers = x->book ? peerbook_peers_seen(x->book) : 0;
	x->forget = true; /* nothing was fetched: nothing to resume */
	if (peers == 0)
		xfer_fail(x, XFER_E_NOT_FOUND, "no holder of %s was found in the DHT within %u s: "
			  "check the content id, and that a node sharing it is in this ring", x->hex,
			  s);
	else
		xfer_fail(x, XFER_E_NOT_FOUND, "the DHT named %u other peer%s of %s, but none sent "
			  "the manifest within %u s: those that have it may be gone or unreachable, "
			  "or only others looking for it were found", peers, plural(peers), x->hex, s);
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
	peers_house(x, now);
}

