/* Transfers that start again at node start, from what DATA_DIR/transfers remembers: each state
 * file and manifest is read, checked against its content id, and the transfer made again and
 * restarted (xfer.c's xfer_restart() says what a restart trusts). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "node/log.h"
#include "node/xfer/xfer_mgr.h"
#include "node/xfer/xfer_peers.h"
#include "node/xfer/xfer_place.h"

#define STATE_MAX_BYTES (1u << 20) /* a full bitfield in hex is 64 KiB; files add 40 B each */

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
		peers_known_add(x, &st->peers[i]);
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
	return place_names(x);
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
