/* Shared files that change, on both sides of a transfer. The sharer checks, before it serves a
 * chunk, that the files holding it keep the size, time, inode and device they had when hashed;
 * once one does not, the chunks of that file are withdrawn from the session (which tells the
 * peers), the share's state becomes "changed", and the log says which file and what to do. The
 * fetcher gives up a download that cannot finish: when some chunk it lacks is held by none of
 * its peers for the transfer's time-out, while the DHT keeps being asked for new holders, it
 * fails with a message that names the chunk and why nobody holds it, rather than wait forever.
 * The checks are stat() calls on the loop thread: one per chunk served, not per block. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/log.h"
#include "node/xfer/xfer_impl.h"

struct withdrawal {
	struct xfer *x;
	uint32_t file;
};

void changed_record(struct xfer *x)
{
	x->checked_chunk = 0;
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
	log_warn("transfer %.16s: %s changed since it was shared (its size, time or inode are not "
		 "those hashed): no longer offering its %u chunk(s); share %s again to offer the new "
		 "content (it gets a new content id)", x->hex, path, last - first + 1, x->path);
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

bool changed_check(struct xfer *x, uint32_t chunk)
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
