/* node/xfer/chunkjob.h: checking one chunk against its manifest digest on the pool. For a
 * download, the blocks held in memory are written first and the whole chunk is then read
 * back, so that what is verified is what the disk holds (and will be served); for a share, the
 * chunk is only read back. The job owns its inputs; DONE's result lives only during the call. */
#ifndef NODE_CHUNKJOB_H
#define NODE_CHUNKJOB_H

#include <stdbool.h>
#include <stdint.h>

#include "node/disk/hashpool.h"
#include "node/disk/spanio.h"
#include "node/xfer/chunkbuf.h"
#include "transfer/manifest.h"

struct chunkjob_req {
	struct span_list spans;  /* the chunk's bytes (taken by chunkjob_submit, even on failure) */
	uint32_t chunk, len;
	uint8_t expect[MANIFEST_HASH_LEN];
	bool want_digests;       /* per-block digests too, if the chunk is bad (or asked anyway) */
	/* A download's: its files may be created, and the blocks held in memory for the chunk
	 * (taken; held.data NULL if none) are written first. */
	bool create;
	struct heldchunk held;
};

struct chunkjob_result {
	bool ran;                /* false: cancelled at shutdown, nothing else is set */
	uint32_t chunk;
	int rc;                  /* -1: the chunk could not be written or read (ERR says why) */
	const char *err;
	bool ok;                 /* read back, it matches the manifest */
	const uint8_t *digests;  /* per block (SESSION_DIGEST_LEN each), if asked or not ok */
};

typedef void chunkjob_done_fn(void *arg, const struct chunkjob_result *res);

/* Queue the job. Return 0, or -1 on no memory (DONE is then never called). */
int chunkjob_submit(struct hashpool *pool, struct bufcache *bufs, struct chunkjob_req *req,
		    chunkjob_done_fn *done, void *arg);

#endif
