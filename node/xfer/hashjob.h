/* node/xfer/hashjob.h: hashing a range of chunks on the pool, from files named by a span list:
 * computing their digests (a share being hashed), or comparing them with the manifest's (a
 * resumed download's chunks that were written but not recorded). The job owns its inputs; the
 * caller learns the outcome through DONE on the loop thread, whose result lives only during
 * the call. */
#ifndef NODE_HASHJOB_H
#define NODE_HASHJOB_H

#include <stdbool.h>
#include <stdint.h>

#include "node/disk/hashpool.h"
#include "node/disk/spanio.h"
#include "node/xfer/chunkbuf.h"

struct hashjob_req {
	struct span_list spans;  /* the chunks' bytes (taken by hashjob_submit, even on failure) */
	uint32_t first, n, chunk_size;
	uint64_t total;          /* the content's size: the last chunk may be short */
	/* CHECK: compare with EXPECT (n digests) and skip chunks with SKIP[i] set or with holes;
	 * else compute the digests. EXPECT and SKIP are copied. */
	bool check;
	const uint8_t *expect, *skip;
};

struct hashjob_result {
	bool ran;                /* false: cancelled at shutdown, nothing else is set */
	int rc;                  /* hashing: -1 if a file could not be read (ERR says which) */
	const char *err;
	uint32_t first, n;
	const uint8_t *digests;  /* hashing: n digests */
	const uint8_t *good;     /* checking: n flags, set for chunks that match */
};

typedef void hashjob_done_fn(void *arg, const struct hashjob_result *res);

/* Queue the job. Return 0, or -1 on no memory (DONE is then never called). */
int hashjob_submit(struct hashpool *pool, struct bufcache *bufs, struct hashjob_req *req,
		   hashjob_done_fn *done, void *arg);

/* The length of chunk I of a content of TOTAL bytes in chunks of SIZE. */
uint32_t chunk_len_of(uint64_t total, uint32_t size, uint32_t i);

#endif
