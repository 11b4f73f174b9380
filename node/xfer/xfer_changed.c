/* Shared files that change, on both sides of a transfer. The sharer checks, before it serves a
 * chunk, that the files holding it keep the size, time, inode and device they had when hashed,
 * and the first time it serves a chunk it also reads the chunk back and hashes it on the pool
 * (which catches a change that kept the time); once a file fails either check, the chunks of
 * that file are withdrawn from the session (which tells the peers), the share's state becomes
 * "changed", and the log says which file and what to do. The hash comes after the first blocks
 * went out: a peer that verifies such a chunk before our LOST reaches it may ban us. The
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

struct withdrawal {
	struct xfer *x;
	uint32_t file;
};

void changed_record(struct xfer *x)
{
	x->checked_chunk = 0;
	bitfield_free(x->rechecked);
	x->rechecked = NULL;
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

/* ---- reading a served chunk back ---- */

struct recheck_ticket {
	struct xfer *x;
	uint64_t gen;
};

/* A chunk that no longer reads as hashed: every file it touches is suspect. */
static void on_rechecked(void *arg, const struct chunkjob_result *r)
{
	struct recheck_ticket *t = arg;
	struct xfer *x = t->x;
	struct manifest_span sp[64];
	bool ok = r->rc == 0 && r->ok;
	if (!x->removed && r->ran && !ok && x->s != NULL && t->gen == x->gen) {
		log_warn("transfer %.16s: chunk %u no longer reads as it was hashed", x->hex,
			 r->chunk);
		int n = manifest_chunk_spans(x->man, r->chunk, sp, 64);
		for (int i = 0; i < n && i < 64; i++)
			withdraw_file(x, sp[i].file);
	}
	free(t);
	xfer_unref(x);
}

/* Hash CHUNK from disk on the pool, once per share run. Without memory it is skipped. */
static void recheck(struct xfer *x, uint32_t chunk)
{
	uint32_t n = manifest_chunk_count(x->man);
	if (x->m->closing || (x->rechecked == NULL && (x->rechecked = bitfield_new(n)) == NULL) ||
	    bitfield_test(x->rechecked, chunk))
		return;
	struct chunkjob_req req = { .chunk = chunk, .len = manifest_chunk_len(x->man, chunk) };
	memcpy(req.expect, manifest_chunk_hash(x->man, chunk), MANIFEST_HASH_LEN);
	struct recheck_ticket *t = malloc(sizeof *t);
	if (t == NULL ||
	    storage_spans(x->sto, (uint64_t)chunk * x->chunk_size, req.len, &req.spans) != 0) {
		free(t);
		return;
	}
	*t = (struct recheck_ticket){ x, x->gen };
	if (chunkjob_submit(x->m->pool, &x->m->bufs, &req, on_rechecked, t) != 0) {
		free(t);
		return;
	}
	bitfield_set(x->rechecked, chunk);
	x->refs++;
}

bool changed_check(struct xfer *x, uint32_t chunk)
{
	uint32_t file;
	if (x->checked_chunk == chunk + 1)
		return true;
	uint64_t off = (uint64_t)chunk * x->chunk_size;
	if (storage_check(x->sto, off, manifest_chunk_len(x->man, chunk), &file) == 0) {
		x->checked_chunk = chunk + 1;
		if (x->seed || x->complete)
			recheck(x, chunk);
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
