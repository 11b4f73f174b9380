/* node/xferstate.h: what the node remembers of each transfer across restarts, in
 * DATA_DIR/transfers/<content id>/: the manifest's bytes and a small JSON state (role, path,
 * verified chunks, the shared files' sizes and times). Files are replaced atomically (temp,
 * fsync, rename, fsync of the directory), so a kill at any moment leaves the old or the new
 * version, never a mix. Functions here do plain file I/O and may run on worker threads.
 * Strings and arrays in struct xstate are owned by it (xstate_clear frees them). */
#ifndef NODE_XFERSTATE_H
#define NODE_XFERSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"
#include "transfer/manifest.h"

#define XSTATE_DIR "transfers"
#define XSTATE_MANIFEST "manifest"
#define XSTATE_FILE "state"

struct xstate {
	uint8_t cid[MANIFEST_ID_LEN];
	bool seed;            /* shared here; else fetched */
	char *path;           /* seed: the shared path; fetch: the output directory */
	uint32_t chunk_size;  /* seed: to hash again with the same size if the files change */
	bool leave_when_done, stopped, complete;
	uint8_t *have;        /* fetch: the verified chunks in wire form (bitfield.h), or NULL */
	size_t have_len;
	uint32_t nfiles;      /* seed or complete: the files as hashed, to notice changes */
	uint64_t *size;
	int64_t *mtime_ns;
	uint32_t npeers;      /* peers we traded with, to call again after a restart even if the
			       * DHT has lost track of them */
	struct dht_addr *peers;
	uint64_t active_ms;   /* how long the transfer ran (hashing, downloading), summed over
			       * stops and restarts: the duration a user is shown */
	int64_t finished;     /* when it completed (Unix seconds), or 0 */
};

#define XSTATE_MAX_PEERS 50

void xstate_clear(struct xstate *s);

/* Encode S as one JSON text (malloc'd, NUL-terminated), or NULL on no memory. */
char *xstate_encode(const struct xstate *s);
/* Decode TEXT. Return 0, or -1 if it is not a state this version wrote. */
int xstate_decode(const char *text, size_t len, struct xstate *out);

/* DATA_DIR/transfers/<hex of CID> into OUT. Return 0, or -1 if it does not fit. */
int xstate_dir(const char *data_dir, const uint8_t cid[MANIFEST_ID_LEN], char *out, size_t cap);

/* Replace DIR/NAME with LEN bytes of BUF atomically, creating DIR (and DIR's parent) if needed.
 * Return 0, or -1 with ERR set. */
int xstate_write(const char *dir, const char *name, const void *buf, size_t len, char *err,
		 size_t errcap);
/* Read DIR/NAME whole (at most MAX bytes) into *BUF (malloc'd, with a NUL after *LEN bytes).
 * Return 0, or -1 (missing, unreadable or too large). */
int xstate_read(const char *dir, const char *name, size_t max, uint8_t **buf, size_t *len);
/* Remove DIR and the files this module puts in it. */
void xstate_remove(const char *dir);

/* Call FN for each transfer directory under DATA_DIR/transfers whose name is a content id. */
void xstate_foreach(const char *data_dir, void (*fn)(void *arg, const char *dir,
						    const uint8_t cid[MANIFEST_ID_LEN]),
		    void *arg);

#endif
