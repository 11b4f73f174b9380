/* The transfer manager, on top of the transfers' files: the manager itself, each transfer's
 * housekeeping timer (rates, progress, batched state saves), share requests (hashed on the pool
 * by xfer_hashing.c, then described in a manifest), runs, restarts, stops and forgets. A
 * restart trusts a share or a finished download only while its files keep the sizes and
 * modification times recorded when they were hashed; a share that changed is hashed anew (its
 * content id changes with it), one whose files are gone is dropped with a warning. An
 * unfinished download re-hashes the chunks its partial file holds but the state does not record
 * (those written after the last save), so that nothing verified is fetched twice. Below it:
 * xfer_swarm.c (the session), xfer_peers.c, xfer_place.c, xfer_changed.c, xfer_core.c (a
 * transfer's memory and life); above it: xfer_fetch.c and xfer_resume.c (node start). */
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/log.h"
#include "node/net/udp.h"
#include "node/xfer/statejob.h"
#include "node/xfer/xfer_changed.h"
#include "node/xfer/xfer_hashing.h"
#include "node/xfer/xfer_mgr.h"
#include "node/xfer/xfer_peers.h"
#include "node/xfer/xfer_place.h"
#include "node/xfer/xfer_swarm.h"

#define SAVE_EVERY_US 500000      /* at most two state writes a second per transfer */
#define RATE_ALPHA 0.35           /* weight of the newest quarter second in the shown rates */
#define HASH_THREADS_MAX 8

static bool xfer_files_changed(struct xfer *x);

static const char *const state_names[] = {
	[XFER_HASHING] = "hashing",         [XFER_FINDING] = "finding_peers",
	[XFER_MANIFEST] = "manifest",       [XFER_DOWNLOADING] = "downloading",
	[XFER_SEEDING] = "seeding",         [XFER_STOPPED] = "stopped",
	[XFER_FAILED] = "failed",           [XFER_CHANGED] = "changed",
};

const char *xfer_state_name(enum xfer_state s)
{
	return (unsigned)s < sizeof state_names / sizeof state_names[0] ? state_names[s] : "?";
}

/* ---- the manager ---- */

static void on_house(evutil_socket_t fd, short what, void *arg);

/* Peer id: the node id's 20 bytes. Network id: the first 8 bytes of BLAKE2b-256 of
 * "dhtnode-wire" and one byte holding the id width, so that rings of different widths (which
 * are different networks) refuse each other's peers at the handshake. */
static void make_ids(struct xfer_mgr *m)
{
	uint8_t in[WIRE_PROTOCOL_LEN + 1], h[crypto_generichash_BYTES];
	memcpy(m->peer_id, dht_self(m->cfg.d)->id.b, WIRE_PEER_ID_LEN);
	memcpy(in, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
	in[WIRE_PROTOCOL_LEN] = (uint8_t)dht_bits(m->cfg.d);
	crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
	memcpy(m->network, h, WIRE_NETWORK_ID_LEN);
}

/* How many bytes of blocks a session keeps queued to one peer. Unshaped, enough to keep a fast
 * link busy between write callbacks. Under a cap, little: the cap is shared by every unchoked
 * peer, and what is queued on a connection delays everything sent after it, our REQUESTs
 * included, so a deep queue would starve our own downloads from that peer (a 128 KiB queue at
 * a fifth of 1 MiB/s holds a request back for 0.6 s). One block ahead keeps the link busy. */
static size_t low_water_for(uint64_t up_rate)
{
	uint64_t w = up_rate ? up_rate / 64 : 512 * 1024;
	if (w < WIRE_BLOCK_SIZE)
		w = WIRE_BLOCK_SIZE;
	return w > 512 * 1024 ? 512 * 1024 : (size_t)w;
}

struct xfer_mgr *xfer_mgr_new(struct event_base *base, const struct xfer_config *cfg)
{
	struct xfer_mgr *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->base = base;
	m->cfg = *cfg;
	m->data_dir = strdup(cfg->data_dir);
	m->cfg.data_dir = m->data_dir;
	m->low_water = low_water_for(cfg->up_rate);
	uplink_init(&m->up);
	randpool_init(&m->rand, randombytes_buf);
	make_ids(m);
	m->hooks = (struct xfer_hooks){ .halt = swarm_halt, .house = on_house };
	struct pnet_config pc = { cfg->up_rate, cfg->down_rate, cfg->self, m->low_water / 2,
				  peers_route, m };
	unsigned threads = cfg->hash_threads > HASH_THREADS_MAX ? HASH_THREADS_MAX : cfg->hash_threads;
	m->pool = hashpool_new(base, threads);
	m->net = pnet_new(base, &pc);
	if (m->data_dir == NULL || m->pool == NULL || m->net == NULL) {
		xfer_mgr_free(m);
		return NULL;
	}
	return m;
}

/* At exit the loop no longer runs: write what the batching held back, here and now. */
static void save_now(struct xfer *x)
{
	char err[STORAGE_ERR_MAX];
	size_t len;
	if (!x->dirty || x->forget || x->statedir == NULL)
		return;
	char *text = xfer_state_text(x);
	const uint8_t *man = x->man && !x->manifest_saved ? manifest_bytes(x->man, &len) : NULL;
	if (text == NULL ||
	    (man && xstate_write(x->statedir, XSTATE_MANIFEST, man, len, err, sizeof err) != 0) ||
	    xstate_write(x->statedir, XSTATE_FILE, text, strlen(text), err, sizeof err) != 0)
		log_warn("transfer %s: cannot save its state: %s", x->hex,
			 text ? err : "out of memory");
	free(text);
}

void xfer_mgr_free(struct xfer_mgr *m)
{
	if (m == NULL)
		return;
	/* Jobs still held come back through their done() (which may not queue more), then the
	 * state is saved while every transfer is still whole. */
	m->closing = true;
	hashpool_free(m->pool);
	m->pool = NULL;
	for (struct xfer *x = m->list; x; x = x->next)
		save_now(x);
	while (m->list)
		xfer_remove(m->list);
	pnet_free(m->net);
	peers_tickets_free(m);
	bufcache_clear(&m->bufs);
	free(m->data_dir);
	free(m);
}

uint64_t xfer_mgr_uplink(const struct xfer_mgr *m)
{
	return uplink_rate(&m->up);
}

struct pnet *xfer_mgr_net(struct xfer_mgr *m)
{
	return m->net;
}


struct xfer *xfer_first(struct xfer_mgr *m)
{
	return m->list;
}

struct xfer *xfer_next(struct xfer *x)
{
	return x->next;
}

const uint8_t *xfer_cid(const struct xfer *x)
{
	return x->has_cid ? x->cid : NULL;
}

/* ---- a transfer's life ---- */

static void update_rates(struct xfer *x, uint64_t now)
{
	struct session_stats st = { 0 };
	if (x->s)
		session_stats(x->s, &st);
	uint64_t down = x->acc_down + st.downloaded, up = x->acc_up + st.uploaded;
	double dt = (double)(now - x->prev_us) / 1e6;
	if (x->prev_us != 0 && dt > 0) {
		x->rate_down += RATE_ALPHA * ((double)(down - x->prev_down) / dt - x->rate_down);
		x->rate_up += RATE_ALPHA * ((double)(up - x->prev_up) / dt - x->rate_up);
	}
	x->prev_down = down;
	x->prev_up = up;
	x->prev_us = now;
}

static void on_saved(void *arg, const struct savejob_result *r)
{
	struct xfer *x = arg;
	xfer_saved(x, r->with_manifest, r->rc, r->rc && r->ran ? r->err : NULL);
	xfer_unref(x);
}

/* Queue a save of X's state (and of its manifest, the first time). Return 0 or -1. */
static int save_start(struct xfer *x)
{
	if (x->m->closing)
		return -1;
	size_t manlen = 0;
	const uint8_t *man = x->man && !x->manifest_saved ? manifest_bytes(x->man, &manlen) : NULL;
	char *text = xfer_state_text(x);
	int rc = text ? savejob_submit(x->m->pool, x->statedir, text, man, manlen, on_saved, x) : -1;
	free(text);
	if (rc != 0)
		return -1;
	x->saving = true;
	x->refs++;
	return 0;
}

static void maybe_save(struct xfer *x, uint64_t now)
{
	if (!x->dirty || x->saving || x->forget || x->statedir == NULL ||
	    now - x->last_save_us < SAVE_EVERY_US)
		return;
	if (save_start(x) != 0)
		return; /* no memory now: the next round tries again */
	x->dirty = false;
	x->last_save_us = now;
}

/* One uplink for the node, sampled by whichever transfer's timer runs: more samples only
 * tighten the test that data waited throughout a slot. Without --up-rate, the estimate stands
 * in for the cap: X's choker sizes its slots from it, and the queue kept per peer shrinks from
 * the unshaped 512 KiB to what the rate needs (low_water_for). */
static void sample_uplink(struct xfer *x, uint64_t now)
{
	struct xfer_mgr *m = x->m;
	uint64_t sent;
	bool backlogged;
	pnet_uplink(m->net, &sent, &backlogged);
	uplink_sample(&m->up, sent, backlogged, now);
	uint64_t rate = uplink_rate(&m->up);
	if (m->cfg.up_rate != 0 || rate == 0)
		return;
	size_t lw = low_water_for(rate);
	if (lw != m->low_water) {
		m->low_water = lw;
		pnet_set_low_water(m->net, lw / 2);
	}
	if (x->s != NULL) {
		session_set_upload_rate(x->s, rate);
		session_set_send_low_water(x->s, lw);
	}
}

static void on_house(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	uint64_t now = mono_now_us();
	(void)fd;
	(void)what;
	sample_uplink(x, now);
	update_rates(x, now);
	swarm_house(x, now);
	maybe_save(x, now);
	xfer_notify(x, XFER_EV_PROGRESS);
}







/* ---- watchers ---- */




/* ---- failure and saving ---- */








/* ---- what a transfer looks like from outside ---- */


static uint64_t bytes_total(const struct xfer *x)
{
	if (x->man)
		return manifest_total_size(x->man);
	return x->seed ? x->scan.total : 0;
}

static uint64_t whole_rate(double r)
{
	return r >= 0.5 ? (uint64_t)(r + 0.5) : 0;
}

void xfer_get_info(const struct xfer *x, struct xfer_info *out)
{
	struct session_stats st = { 0 };
	if (x->s)
		session_stats(x->s, &st);
	memset(out, 0, sizeof *out);
	out->cid_hex = x->has_cid ? x->hex : "";
	out->name = x->name ? x->name : "";
	out->seed = x->seed;
	out->state = x->fail_pending ? XFER_FAILED : x->state;
	out->bytes_done = xfer_bytes_verified(x);
	out->bytes_total = bytes_total(x);
	/* The shown rates decay towards zero: nothing runs, nothing moves. */
	bool up = out->state == XFER_DOWNLOADING || out->state == XFER_SEEDING;
	out->rate_down = out->state == XFER_DOWNLOADING ? whole_rate(x->rate_down) : 0;
	out->rate_up = up ? whole_rate(x->rate_up) : 0;
	out->peers = st.peers;
	out->path = x->seed ? x->path : x->final_root ? x->final_root : x->path;
	out->error = x->error;
	out->code = x->code;
	out->downloaded = x->acc_down + st.downloaded;
	out->uploaded = x->acc_up + st.uploaded;
	out->bans = x->acc_bans + st.bans;
	out->chunks = x->man ? manifest_chunk_count(x->man) : x->nchunks;
	out->files = x->man ? manifest_file_count(x->man) : x->scan.n;
	out->active_s = (double)xtime_active_ms(x) / 1e3;
	out->finished = x->finished;
	out->eta_s = -1;
	out->changed = x->state == XFER_CHANGED ? x->changed : NULL;
	if (x->seed) {
		out->skip = x->scan.skip;
		out->nskip = x->scan.nskip;
		out->skipped = x->scan.skipped;
	}
	if (out->state == XFER_DOWNLOADING && out->rate_down > 1)
		out->eta_s = (double)(out->bytes_total - out->bytes_done) / (double)out->rate_down;
}

/* ---- share ---- */

static void share_hashed(struct xfer *x);

static struct xfer *share_start(struct xfer_mgr *m, const char *path, uint32_t chunk_size,
				struct share_scan *sc, enum xfer_err *code, char *err,
				size_t errcap)
{
	uint64_t nchunks = (sc->total + chunk_size - 1) / chunk_size;
	if (nchunks > MANIFEST_MAX_CHUNKS) {
		snprintf(err, errcap, "%s needs %llu chunks of %u bytes; a share holds at most %u: "
			 "choose a larger chunk size", path, (unsigned long long)nchunks,
			 chunk_size, MANIFEST_MAX_CHUNKS);
		*code = XFER_E_USAGE;
		share_scan_free(sc);
		return NULL;
	}
	struct xfer *x = xfer_new(m);
	const char *base = strrchr(path, '/');
	if (x == NULL || (x->path = strdup(path)) == NULL ||
	    (x->name = strdup(base ? base + 1 : path)) == NULL ||
	    (x->digests = malloc(nchunks * MANIFEST_HASH_LEN)) == NULL ||
	    (x->sto = storage_new(path, sc->n, (const char *const *)sc->path, sc->size, true,
				  false)) == NULL) {
		share_scan_free(sc);
		if (x)
			xfer_remove(x);
		snprintf(err, errcap, "out of memory");
		*code = XFER_E_INTERNAL;
		return NULL;
	}
	x->seed = true;
	x->chunk_size = chunk_size;
	x->scan = *sc;
	xtime_start(x);
	log_info("sharing %s: hashing %llu byte%s in %u file%s", path,
		 (unsigned long long)sc->total, plural(sc->total), sc->n, plural(sc->n));
	for (uint32_t i = 0; i < sc->nskip; i++)
		log_warn("sharing %s: left out %s: %s", path, sc->skip[i].path, sc->skip[i].why);
	if (sc->skipped > sc->nskip)
		log_warn("sharing %s: left out %u more entr%s", path, sc->skipped - sc->nskip,
			 sc->skipped - sc->nskip == 1 ? "y" : "ies");
	hashing_start(x, (uint32_t)nchunks, share_hashed);
	return x;
}

struct xfer *xfer_share(struct xfer_mgr *m, const char *path, uint32_t chunk_size,
			enum xfer_err *code, char *err, size_t errcap)
{
	struct share_scan sc;
	if (storage_scan(path, &sc, err, errcap) != 0) {
		*code = XFER_E_IO;
		return NULL;
	}
	if (chunk_size == 0)
		chunk_size = manifest_default_chunk(sc.total);
	for (struct xfer *x = m->list; x; x = x->next) {
		if (!x->seed || strcmp(x->path, path) != 0 || x->chunk_size != chunk_size)
			continue;
		if (x->state == XFER_STOPPED) {
			share_scan_free(&sc);
			return xfer_restart(x);
		}
		bool changed = x->state == XFER_CHANGED ||
			       (x->state == XFER_SEEDING && xfer_files_changed(x));
		if (x->state != XFER_FAILED && !changed) {
			share_scan_free(&sc);
			return x;
		}
		/* Failed, or changed since it was hashed: hash it anew (a new content id). */
		if (changed)
			log_warn("%s changed since it was shared: hashing it again", path);
		x->forget = true;
		xfer_remove(x);
		break;
	}
	return share_start(m, path, chunk_size, &sc, code, err, errcap);
}

static struct manifest *build_manifest(struct xfer *x)
{
	struct manifest_builder *b = manifest_builder_new(x->chunk_size);
	struct manifest *man = NULL;
	if (b == NULL)
		return NULL;
	const struct share_scan *sc = &x->scan;
	for (uint32_t i = 0; i < sc->n; i++)
		if (manifest_builder_add_entry(b, sc->path[i], sc->size[i], sc->mode[i],
					       sc->mtime_ns[i]) != 0)
			goto out;
	for (uint32_t i = 0; i < sc->ndirs; i++)
		if (manifest_builder_add_dir(b, sc->dir[i], sc->dir_mtime_ns[i]) != 0)
			goto out;
	for (uint32_t i = 0; i < x->nchunks; i++)
		if (manifest_builder_add_hash(b, x->digests + (size_t)i * MANIFEST_HASH_LEN) != 0)
			goto out;
	man = manifest_builder_finish(b);
out:
	manifest_builder_free(b);
	return man;
}

int xfer_set_cid(struct xfer *x, const uint8_t cid[MANIFEST_ID_LEN])
{
	char dir[4096];
	memcpy(x->cid, cid, MANIFEST_ID_LEN);
	x->has_cid = true;
	sodium_bin2hex(x->hex, sizeof x->hex, cid, MANIFEST_ID_LEN);
	if (xstate_dir(x->m->data_dir, cid, dir, sizeof dir) != 0)
		return -1;
	free(x->statedir);
	x->statedir = strdup(dir);
	return x->statedir ? 0 : -1;
}

static void share_hashed(struct xfer *x)
{
	struct manifest *man = build_manifest(x);
	if (man == NULL) {
		xfer_fail(x, XFER_E_USAGE, "cannot describe %s in one manifest (at most %u files, "
			  "%u bytes of paths and hashes)", x->path, MANIFEST_MAX_FILES,
			  MANIFEST_MAX_BYTES);
		return;
	}
	free(x->digests);
	x->digests = NULL;
	struct xfer *old = xfer_find(x->m, manifest_id(man));
	if (old != NULL) {
		/* The same content is known here already: answer with that transfer. */
		for (struct xfer_watch *w = x->watches, *next; w; w = next) {
			next = w->next;
			w->cb(w->arg, old, XFER_EV_READY);
		}
		manifest_free(man);
		xfer_remove(x);
		return;
	}
	x->man = man;
	if (xfer_set_cid(x, manifest_id(man)) != 0 ||
	    (x->verified = bitfield_new(manifest_chunk_count(man))) == NULL) {
		xfer_fail(x, XFER_E_INTERNAL, "out of memory");
		return;
	}
	bitfield_set_all(x->verified);
	xtime_stop(x, true);
	changed_record(x);
	log_info("shared %s as %s (%u chunk%s)", x->path, x->hex, manifest_chunk_count(man),
		 plural(manifest_chunk_count(man)));
	xfer_mark_dirty(x);
	if (xfer_run(x) == 0)
		xfer_notify(x, XFER_EV_READY);
}

/* ---- runs and restarts ---- */

int xfer_run(struct xfer *x)
{
	x->gen++;
	x->code = XFER_OK;
	x->error[0] = '\0';
	if (!x->seed && !x->complete)
		xtime_start(x);
	if (swarm_start(x) != 0) {
		xfer_fail(x, XFER_E_INTERNAL, "out of memory while starting the transfer");
		return -1;
	}
	return 0;
}

enum verdict { FILES_SAME, FILES_CHANGED, FILES_GONE };

/* Whether the files under ROOT are still those recorded in X->scan. */
static enum verdict files_check(struct xfer *x, const char *root)
{
	struct stat sb;
	struct share_scan now;
	char err[STORAGE_ERR_MAX];
	if (stat(root, &sb) != 0)
		return FILES_GONE;
	if (storage_scan(root, &now, err, sizeof err) != 0) {
		log_warn("%s", err);
		return FILES_GONE;
	}
	enum verdict v = now.n == x->scan.n ? FILES_SAME : FILES_CHANGED;
	for (uint32_t i = 0; v == FILES_SAME && i < now.n; i++)
		if (now.size[i] != x->scan.size[i] || now.mtime_ns[i] != x->scan.mtime_ns[i])
			v = FILES_CHANGED;
	share_scan_free(&now);
	return v;
}

/* Whether a share's (or a finished download's) files differ from those it recorded. */
static bool xfer_files_changed(struct xfer *x)
{
	return files_check(x, x->seed ? x->path : x->final_root) != FILES_SAME;
}

static void drop(struct xfer *x)
{
	x->forget = true;
	xfer_remove(x);
}

/* A share or a finished download: serve it if its files are as recorded. */
static struct xfer *restart_complete(struct xfer *x)
{
	if (!x->seed && place_names(x) != 0) {
		xfer_fail(x, XFER_E_INTERNAL, "out of memory");
		return x;
	}
	const char *root = x->seed ? x->path : x->final_root;
	enum verdict v = files_check(x, root);
	if (v == FILES_GONE) {
		log_warn("%s is gone: no longer sharing %s", root, x->hex);
		drop(x);
		return NULL;
	}
	if (v == FILES_CHANGED && !x->seed) {
		log_warn("%s changed since it was downloaded: no longer sharing %s", root, x->hex);
		drop(x);
		return NULL;
	}
	if (v == FILES_CHANGED) {
		struct xfer_mgr *m = x->m;
		char err[XFER_ERR_MAX], *path = strdup(x->path);
		enum xfer_err code;
		uint32_t chunk = x->chunk_size;
		log_warn("%s changed since it was shared: hashing it again (its content id will "
			 "change)", root);
		drop(x);
		struct xfer *nx = path ? xfer_share(m, path, chunk, &code, err, sizeof err) : NULL;
		if (nx == NULL)
			log_warn("cannot share %s again: %s", path ? path : root,
				 path ? err : "out of memory");
		free(path);
		return nx;
	}
	storage_free(x->sto);
	x->sto = storage_for_manifest(x->man, root, false);
	if (x->verified == NULL)
		x->verified = bitfield_new(manifest_chunk_count(x->man));
	if (x->sto == NULL || x->verified == NULL) {
		xfer_fail(x, XFER_E_INTERNAL, "out of memory");
		return x;
	}
	bitfield_set_all(x->verified);
	changed_record(x);
	xfer_run(x);
	return x;
}

/* A resumed download knows which of its chunks are on disk: trade. */
static void check_done(struct xfer *x)
{
	log_info("transfer %.16s: %u of %u chunk%s verified on disk", x->hex,
		 bitfield_count(x->verified), manifest_chunk_count(x->man),
		 plural(manifest_chunk_count(x->man)));
	xfer_mark_dirty(x);
	xfer_run(x);
}

struct xfer *xfer_restart(struct xfer *x)
{
	x->forget = false;
	x->fail_pending = false;
	x->code = XFER_OK;
	x->error[0] = '\0';
	xfer_mark_dirty(x);
	if (x->seed || x->complete)
		return restart_complete(x);
	xtime_start(x); /* checking what a partial download holds is part of the download */
	if (x->man == NULL) {
		xfer_run(x);
		return x;
	}
	if (place_prepare(x) == 0)
		hashing_start(x, manifest_chunk_count(x->man), check_done);
	return x;
}

int xfer_stop(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN])
{
	struct xfer *x = xfer_find(m, cid);
	if (x == NULL)
		return -1;
	if (x->state == XFER_STOPPED)
		return 0;
	x->gen++;
	x->fail_pending = false;
	swarm_halt(x);
	xtime_stop(x, false);
	x->state = XFER_STOPPED;
	log_info("transfer %s stopped", x->hex);
	xfer_mark_dirty(x);
	xfer_notify(x, XFER_EV_STOPPED);
	return 0;
}

enum xfer_err xfer_forget(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN], char *err,
			  size_t errcap)
{
	struct xfer *x = xfer_find(m, cid);
	if (x == NULL) {
		snprintf(err, errcap, "this node has no transfer of that content id; see dhtctl list");
		return XFER_E_NOT_FOUND;
	}
	if (x->state != XFER_STOPPED && x->state != XFER_FAILED && !x->fail_pending) {
		snprintf(err, errcap, "%.16s is %s: stop it first (dhtctl stop %.16s), then forget "
			 "it", x->hex, xfer_state_name(x->state), x->hex);
		return XFER_E_USAGE;
	}
	log_info("transfer %s forgotten (its files stay where they are)", x->hex);
	x->forget = true;
	xfer_remove(x);
	return XFER_OK;
}
