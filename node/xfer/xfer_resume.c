/* Transfers that start again: at node start from what DATA_DIR/transfers remembers, and when a
 * stopped or failed transfer is asked for once more. A share or a finished download is trusted
 * only while its files keep the sizes and modification times recorded when they were hashed;
 * a share that changed is hashed anew (its content id changes with it), one whose files are
 * gone is dropped with a warning. An unfinished download re-hashes the chunks its partial file
 * holds but the state does not record (those written after the last save), so that nothing
 * verified is fetched twice; chunks still holes on disk are not even read.
 * Also here: the end of a download, once its files are synced and renamed into place. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/log.h"
#include "node/xfer/xfer_impl.h"

#define STATE_MAX_BYTES (1u << 20) /* a full bitfield in hex is 64 KiB; files add 40 B each */

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

bool xfer_files_changed(struct xfer *x)
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
	if (!x->seed && swarm_names(x) != 0) {
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
	if (swarm_manifest_ready(x) == 0)
		jobs_check(x);
	return x;
}

void xfer_check_done(struct xfer *x)
{
	log_info("transfer %.16s: %u of %u chunk%s verified on disk", x->hex,
		 bitfield_count(x->verified), manifest_chunk_count(x->man),
		 plural(manifest_chunk_count(x->man)));
	xfer_mark_dirty(x);
	xfer_run(x);
}

void xfer_finished(struct xfer *x, int rc, const char *err, uint64_t *size, int64_t *mtime_ns,
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

void xfer_completed(struct xfer *x)
{
	xtime_stop(x, true);
	xfer_mark_dirty(x);
	if (x->state == XFER_STOPPED || x->state == XFER_FAILED)
		return;
	x->state = XFER_SEEDING;
	log_info("transfer %.16s: complete: %s", x->hex, x->final_root);
	xfer_notify(x, XFER_EV_DONE);
	if (!x->leave) {
		swarm_dht_kick(x);
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

/* ---- at node start ---- */

static struct manifest *load_manifest(const char *dir, const uint8_t cid[MANIFEST_ID_LEN],
				      bool *damaged)
{
	uint8_t *b;
	size_t len;
	*damaged = false;
	if (xstate_read(dir, XSTATE_MANIFEST, MANIFEST_MAX_BYTES, &b, &len) != 0)
		return NULL;
	struct manifest *m = manifest_verify(b, len, cid);
	free(b);
	*damaged = m == NULL;
	return m;
}

static int load_state(const char *dir, const uint8_t cid[MANIFEST_ID_LEN], struct xstate *st)
{
	uint8_t *text;
	size_t len;
	if (xstate_read(dir, XSTATE_FILE, STATE_MAX_BYTES, &text, &len) != 0)
		return -1;
	int rc = xstate_decode((const char *)text, len, st);
	free(text);
	if (rc == 0 && memcmp(st->cid, cid, MANIFEST_ID_LEN) != 0) {
		xstate_clear(st);
		rc = -1;
	}
	return rc;
}

/* Move what ST remembers into X (ST's arrays are taken); X->man is set. */
static int fill(struct xfer *x, struct xstate *st)
{
	const struct manifest *man = x->man;
	x->seed = st->seed;
	x->leave = st->leave_when_done;
	x->complete = st->complete;
	x->active_us = st->active_ms * 1000;
	x->finished = st->finished;
	x->manifest_saved = man != NULL;
	x->chunk_size = man ? manifest_chunk_size(man) : st->chunk_size;
	x->path = st->path;
	st->path = NULL;
	x->scan.n = st->nfiles;
	x->scan.size = st->size;
	x->scan.mtime_ns = st->mtime_ns;
	st->size = NULL;
	st->mtime_ns = NULL;
	for (uint32_t i = 0; i < st->npeers; i++)
		swarm_known_add(x, &st->peers[i]);
	if (x->seed) {
		const char *base = strrchr(x->path, '/');
		x->name = strdup(base ? base + 1 : x->path);
		return x->name ? 0 : -1;
	}
	if (man == NULL)
		return 0;
	x->verified = bitfield_new(manifest_chunk_count(man));
	if (x->verified == NULL)
		return -1;
	if (st->have && bitfield_decode(x->verified, st->have, st->have_len) != 0)
		log_warn("transfer %.16s: its record of verified chunks is damaged; checking them "
			 "all on disk", x->hex);
	return swarm_names(x);
}

static void resume_one(void *arg, const char *dir, const uint8_t cid[MANIFEST_ID_LEN])
{
	struct xfer_mgr *m = arg;
	struct xstate st;
	bool damaged;
	if (load_state(dir, cid, &st) != 0) {
		log_warn("ignoring %s: its state file is missing or damaged", dir);
		return;
	}
	struct manifest *man = load_manifest(dir, cid, &damaged);
	if (damaged || (man == NULL && (st.seed || st.complete))) {
		log_warn("ignoring %s: its manifest is missing or does not match its content id", dir);
		manifest_free(man);
		xstate_clear(&st);
		return;
	}
	struct xfer *x = xfer_new(m);
	if (x == NULL)
		manifest_free(man);
	else
		x->man = man;
	if (x == NULL || xfer_set_cid(x, cid) != 0 || fill(x, &st) != 0) {
		if (x)
			xfer_remove(x);
		xstate_clear(&st);
		log_error("out of memory while resuming %s", dir);
		return;
	}
	bool stopped = st.stopped;
	xstate_clear(&st);
	if (stopped) {
		x->state = XFER_STOPPED;
		return;
	}
	/* Say what is true: a finished download or a share is served again, not fetched. */
	if (x->seed)
		log_info("sharing %s again (%s)", x->path, x->hex);
	else if (x->complete)
		log_info("seeding %s (complete, in %s)", x->hex, x->path);
	else
		log_info("resuming the download of %s", x->hex);
	xfer_restart(x);
}

void xfer_mgr_resume(struct xfer_mgr *m)
{
	xstate_foreach(m->data_dir, resume_one, m);
}
