/* node/xfer/xfer_changed.h: shared files that change, and downloads that cannot finish. */
#ifndef NODE_XFER_CHANGED_H
#define NODE_XFER_CHANGED_H

#include "node/xfer/xfer_core.h"

enum serve { SERVE_NOW, SERVE_LATER, SERVE_NO };
/* Whether CHUNK may be served now: NO if its files are no longer those hashed (their chunks
 * are then withdrawn from the session right after the current call, which may not be
 * re-entered); LATER while its bytes are being checked against the manifest (a share's or a
 * finished download's, once per run; session_readable() follows the check). */
enum serve changed_may_serve(struct xfer *x, uint32_t chunk);
/* A request for CHUNK was queued: start its check if it needs one. */
void changed_prepare(struct xfer *x, uint32_t chunk);
/* Remember the files' identities as recorded in X->scan, for changed_check(). */
void changed_record(struct xfer *x);
/* A download none of whose peers holds some chunk it lacks, for the transfer's time-out: fail
 * it, saying why. Return whether it failed. */
bool changed_stalled(struct xfer *x, uint64_t now);

#endif
