/* Shared files that change, on both sides of a transfer. The sharer checks, before it serves a
 * chunk, that the files holding it keep the size, time, inode and device they had when hashed,
 * and before the first block of a chunk goes out in a run it reads the chunk back and hashes
 * it on the pool (which catches a change that kept the time; the session holds the request
 * meanwhile, and the check starts as soon as a request is queued, so that it overlaps the
 * blocks sent before). Later requests trust that check while the files' identities hold. Once
 * a file fails either check, the chunks of that file are withdrawn from the session (which
 * tells the peers) before any corrupt block went out, so no peer has cause to ban us; the
 * share's state becomes "changed", and the log says which file and what to do. The
 * fetcher gives up a download that cannot finish: when some chunk it lacks is held by none of
 * its peers for the transfer's time-out, while the DHT keeps being asked for new holders, it
 * fails with a message that names the chunk and why nobody holds it, rather than wait forever.
 * The checks are stat() calls on the loop thread: one per chunk served, not per block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/log.h"
#include "node/xfer/chunkjob.h"
#include "node/xfer/xfer_changed.h"

#define CHECKS_PER_THREAD 8 /* chunk checks in flight: bounds their buffers */

struct withdrawal {
	struct xfer *x;
	uint32_t file;
};

void changed_record(struct xfer *x)
{
	x->checked_chunk = 0;
	bitfield_free(x->served_ok);
	x->served_ok = NULL;
	if (x->checking == NULL || bitfield_none(x->checking)) {
		bitfield_free(x->checking); /* else the checks in flight still clear their bits */
		x->checking = NULL;
	}
	if (x->sto != NULL && x->scan.size != NULL && x->scan.mtime_ns != NULL &&
	    x->man != NULL && x->scan.n == manifest_file_count(x->man))
		storage_record_idents(x->sto, x->scan.size, x->scan.mtime_ns);
}

/* Withdraw every chunk that holds a byte of FILE; say so the first time. */
static void withdraw_file(struct xfer *x, uint32_t file)
{
	uint64_t off, size;
	const char *path = storage_file(x->sto, file, &off, &size);
	if (path == NULL || size == 0 || x->s == NULL)
		return;
	uint32_t first = (uint32_t)(off / x->chunk_size);
	uint32_t last = (uint32_t)((off + size - 1) / x->chunk_size);
	if (session_withdrawn(x->s, first))
		return;
	for (uint32_t c = first; c <= last; c++)
		session_withdraw(x->s, c);
	if (x->changed == NULL)
		x->changed = strdup(path);
	x->state = XFER_CHANGED;
	x->checked_chunk = 0;
	log_warn("transfer %.16s: %s changed since it was shared: no longer offering its %u "
		 "chunk(s); share %s again to offer the new content (it gets a new content id)",
		 x->hex, path, last - first + 1, x->path);
}

static void on_withdraw(evutil_socket_t fd, short what, void *arg)
{
	struct withdrawal *w = arg;
	(void)fd;
	(void)what;
	if (!w->x->removed && w->x->s != NULL)
		withdraw_file(w->x, w->file);
	xfer_unref(w->x);
	free(w);
}

/* ---- a served chunk checked against the manifest ---- */

static unsigned checks_cap(const struct xfer *x)
{
	return CHECKS_PER_THREAD * hashpool_threads(x->m->pool);
}

/* A chunk that no longer reads as hashed: every file it touches is suspect, and withdrawn
 * before any of its blocks went out. Either way, the requests waiting for it may go on (a
 * stale answer too: a request of the new run may wait on the bit it clears). */
static void on_checked(void *arg, const struct chunkjob_result *r)
{
	struct xfer_ticket *t = arg;
	struct xfer *x = t->x;
	struct manifest_span sp[64];
	bool live = !x->removed && r->ran && x->s != NULL && t->gen == x->gen;
	if (!x->removed && x->checking != NULL) {
		bitfield_clear(x->checking, r->chunk);
		x->checks_out--;
	}
	if (live && r->rc == 0 && r->ok) {
		bitfield_set(x->served_ok, r->chunk);
	} else if (live) {
		log_warn("transfer %.16s: chunk %u no longer reads as it was hashed", x->hex,
			 r->chunk);
		int n = manifest_chunk_spans(x->man, r->chunk, sp, 64);
		for (int i = 0; i < n && i < 64; i++)
			withdraw_file(x, sp[i].file);
	}
	if (!x->removed && x->s != NULL)
		session_readable(x->s);
	free(t);
	xfer_unref(x);
}

/* Read CHUNK from disk and hash it on the pool. Return 0, or -1 if it cannot start now (too
 * many in flight, or no memory): a later request, or the end of another check, tries again. */
static int check_start(struct xfer *x, uint32_t chunk)
{
	uint32_t n = manifest_chunk_count(x->man);
	if (x->m->closing || x->checks_out >= checks_cap(x) ||
	    (x->served_ok == NULL && (x->served_ok = bitfield_new(n)) == NULL) ||
	    (x->checking == NULL && (x->checking = bitfield_new(n)) == NULL))
		return -1;
	struct chunkjob_req req = { 0 };
	if (xfer_chunk_job(x, chunk, &req, on_checked) != 0)
		return -1;
	bitfield_set(x->checking, chunk);
	x->checks_out++;
	return 0;
}

/* Whether CHUNK was read and hashed in this run (a download's own chunks were, as received). */
static bool hash_checked(const struct xfer *x, uint32_t chunk)
{
	return !(x->seed || x->complete) ||
	       (x->served_ok != NULL && bitfield_test(x->served_ok, chunk));
}

void changed_prepare(struct xfer *x, uint32_t chunk)
{
	if (!hash_checked(x, chunk) && (x->checking == NULL || !bitfield_test(x->checking, chunk)))
		check_start(x, chunk);
}

/* Whether the files holding CHUNK are still those hashed; if not, they are withdrawn right
 * after the current call (the session may not be re-entered). */
static bool files_same(struct xfer *x, uint32_t chunk)
{
	uint32_t file;
	if (x->checked_chunk == chunk + 1)
		return true;
	uint64_t off = (uint64_t)chunk * x->chunk_size;
	if (storage_check(x->sto, off, manifest_chunk_len(x->man, chunk), &file) == 0) {
		x->checked_chunk = chunk + 1;
		return true;
	}
	static const struct timeval now = { 0, 0 };
	struct withdrawal *w = malloc(sizeof *w);
	if (w == NULL)
		return false; /* the next request for the chunk tries again */
	*w = (struct withdrawal){ x, file };
	x->refs++;
	if (event_base_once(x->m->base, -1, EV_TIMEOUT, on_withdraw, w, &now) != 0) {
		x->refs--;
		free(w);
	}
	return false;
}

enum serve changed_may_serve(struct xfer *x, uint32_t chunk)
{
	if (!files_same(x, chunk))
		return SERVE_NO;
	if (hash_checked(x, chunk))
		return SERVE_NOW;
	changed_prepare(x, chunk);
	return SERVE_LATER;
}

bool changed_stalled(struct xfer *x, uint64_t now)
{
	bool withdrawn;
	uint32_t c = x->complete ? UINT32_MAX : session_orphan(x->s, &withdrawn);
	if (c == UINT32_MAX) {
		x->orphan_since_us = 0;
		return false;
	}
	if (x->orphan_since_us < x->run_us)
		x->orphan_since_us = now;
	unsigned s = x->timeout_s ? x->timeout_s : XFER_DEFAULT_TIMEOUT_S;
	if (now - x->orphan_since_us < (uint64_t)s * 1000000)
		return false;
	if (withdrawn)
		xfer_fail(x, XFER_E_NOT_FOUND, "no peer holds chunk %u any more; the sharer withdrew "
			  "it (its file changed): ask for the content to be shared again, which gives "
			  "it a new content id", c);
	else
		xfer_fail(x, XFER_E_NOT_FOUND, "no peer holds chunk %u any more: the peers that had "
			  "it left, and the DHT named no other within %u s", c, s);
	return true;
}
