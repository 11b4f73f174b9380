/* node/xfer/xfer_hashing.h: a transfer's chunks hashed on the pool, a few jobs in flight. */
#ifndef NODE_XFER_HASHING_H
#define NODE_XFER_HASHING_H

#include "node/xfer/xfer_core.h"

/* Hash X's NCHUNKS chunks on the pool: compute their digests into X->digests (a share, no
 * manifest yet), or check them against the manifest into X->verified. HASHED runs when all
 * are done (not if X fails or restarts first). */
void hashing_start(struct xfer *x, uint32_t nchunks, void (*hashed)(struct xfer *x));

#endif
