/* node/xfer/xfer_mgr.h: what xfer.c (the manager) offers the files above it, xfer_fetch.c and
 * xfer_resume.c, beyond the public node/xfer/xfer.h. */
#ifndef NODE_XFER_MGR_H
#define NODE_XFER_MGR_H

#include "node/xfer/xfer_core.h"

/* Run a stopped or failed transfer again, or a resumed one for the first time. Return the
 * transfer to report (another one if a changed share had to be hashed anew), or NULL if it
 * was dropped (its data is gone). */
struct xfer *xfer_restart(struct xfer *x);
int xfer_set_cid(struct xfer *x, const uint8_t cid[MANIFEST_ID_LEN]);
/* Ready to trade: make the session, start timers and DHT work. Return 0, or -1 (X failed). */
int xfer_run(struct xfer *x);

#endif
