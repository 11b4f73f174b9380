/* node/xfer/xfer_changed.h: shared files that change, and downloads that cannot finish. */
#ifndef NODE_XFER_CHANGED_H
#define NODE_XFER_CHANGED_H

#include "node/xfer/xfer_core.h"

/* Whether CHUNK may be served: its files are still those hashed. If not, their chunks are
 * withdrawn from the session right after the current call (it may not be re-entered). */
bool changed_check(struct xfer *x, uint32_t chunk);
/* Remember the files' identities as recorded in X->scan, for changed_check(). */
void changed_record(struct xfer *x);
/* A download none of whose peers holds some chunk it lacks, for the transfer's time-out: fail
 * it, saying why. Return whether it failed. */
bool changed_stalled(struct xfer *x, uint64_t now);

#endif
