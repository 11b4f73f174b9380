/* Fetch requests: a fetch always ends with a verified copy where the user asked for it, or with
 * an error that says why not. The cases, by what the node already has of the content:
 *   nothing                  a new download into OUT;
 *   held complete            (shared, or fetched) already in OUT: that transfer; elsewhere: a
 *                            verified copy into OUT (held.c);
 *   a download into OUT      that transfer, resumed if it was stopped or had failed;
 *   a download elsewhere     refused while under way or stopped half way (its data is there),
 *                            moved to OUT if it had fetched nothing yet.
 * OUT must be a directory this node can write in, whichever case applies. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/log.h"
#include "node/xfer/held.h"
#include "node/xfer/xfer_mgr.h"
#include "node/xfer/xfer_place.h"

/* access() says yes to root whatever the mode or the attributes: only creating a file tells. */
static int out_dir_ok(const char *out, char *err, size_t errcap)
{
	struct stat sb;
	char probe[4096];
	if (stat(out, &sb) != 0) {
		snprintf(err, errcap, "the output directory %s cannot be used: %s", out,
			 strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		snprintf(err, errcap, "the output %s is not a directory; name a directory with -o",
			 out);
		return -1;
	}
	snprintf(probe, sizeof probe, "%s/.dhtnode-probe-XXXXXX", out);
	int fd = mkstemp(probe);
	if (fd < 0) {
		snprintf(err, errcap, "cannot write to the output directory %s: %s; choose "
			 "another with -o, or fix its permissions", out, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(probe);
	return 0;
}

/* Whether A and B are the same file or directory (paths may differ: links, "//", "/."). */
static bool same_place(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static struct xfer *fetch_new(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN],
			      const char *out, bool leave, uint32_t timeout_s,
			      enum xfer_err *code, char *err, size_t errcap)
{
	struct xfer *x = xfer_new(m);
	if (x == NULL || xfer_set_cid(x, cid) != 0 || (x->path = strdup(out)) == NULL) {
		if (x)
			xfer_remove(x);
		snprintf(err, errcap, "out of memory");
		*code = XFER_E_INTERNAL;
		return NULL;
	}
	x->leave = leave;
	x->timeout_s = timeout_s;
	log_info("fetching %s into %s", x->hex, out);
	xfer_mark_dirty(x);
	xfer_run(x);
	return x;
}

/* X holds the content complete: if not already in OUT, copy it there. */
static struct xfer *fetch_held(struct xfer *x, const char *out, struct xfer_copy **copy,
			       enum xfer_err *code, char *err, size_t errcap)
{
	if (!x->seed && place_names(x) != 0) {
		snprintf(err, errcap, "out of memory");
		*code = XFER_E_INTERNAL;
		return NULL;
	}
	const char *src = x->seed ? x->path : x->final_root;
	const char *slash = strrchr(src, '/'), *name = slash ? slash + 1 : src;
	char dest[4096];
	snprintf(dest, sizeof dest, "%s/%s", out, name);
	if (same_place(src, dest)) /* the held copy is where it is asked for */
		return x->state == XFER_STOPPED || x->state == XFER_FAILED ? xfer_restart(x) : x;
	if (access(dest, F_OK) == 0) {
		snprintf(err, errcap, "%s already exists; move it away or fetch into another "
			 "directory", dest);
		*code = XFER_E_IO;
		return NULL;
	}
	*copy = held_copy_start(x, src, out, name, code, err, errcap);
	return NULL;
}

/* A download of X, not complete, asked for into OUT. */
static struct xfer *fetch_again(struct xfer *x, const char *out, bool leave, uint32_t timeout_s,
				enum xfer_err *code, char *err, size_t errcap)
{
	bool idle = x->state == XFER_STOPPED || x->state == XFER_FAILED;
	if (!same_place(out, x->path) && (!idle || x->man != NULL)) {
		*code = XFER_E_USAGE;
		if (idle)
			snprintf(err, errcap, "a partial download of %.16s is in %s: fetch it with -o "
				 "%s to resume it there, or forget it (dhtctl forget) to start again "
				 "elsewhere", x->hex, x->path, x->path);
		else
			snprintf(err, errcap, "%.16s is being downloaded into %s: wait until it is "
				 "complete, then fetch it again to get a copy here, or stop and "
				 "forget it and fetch it here", x->hex, x->path);
		return NULL;
	}
	if (!same_place(out, x->path)) { /* nothing fetched yet: the new directory replaces it */
		char *p = strdup(out);
		if (p == NULL) {
			*code = XFER_E_INTERNAL;
			snprintf(err, errcap, "out of memory");
			return NULL;
		}
		free(x->path);
		x->path = p;
	}
	if (!idle)
		return x;
	x->leave = leave;
	x->timeout_s = timeout_s;
	return xfer_restart(x);
}

struct xfer *xfer_fetch(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN], const char *out,
			bool leave, uint32_t timeout_s, struct xfer_copy **copy,
			enum xfer_err *code, char *err, size_t errcap)
{
	*copy = NULL;
	if (out_dir_ok(out, err, errcap) != 0) {
		*code = XFER_E_IO;
		return NULL;
	}
	struct xfer *x = xfer_find(m, cid);
	if (x == NULL)
		return fetch_new(m, cid, out, leave, timeout_s, code, err, errcap);
	if (x->seed || x->complete)
		return fetch_held(x, out, copy, code, err, errcap);
	return fetch_again(x, out, leave, timeout_s, code, err, errcap);
}
