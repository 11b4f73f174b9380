/* node/xfer/held.h: a fetch of content this node holds complete, answered with a verified
 * local copy. The copy is the pool's until it reports its end to its watcher. */
#ifndef NODE_XFER_HELD_H
#define NODE_XFER_HELD_H

#include "node/xfer/xfer_core.h"

/* Copy X's content (complete under SRC) into OUT/NAME, verifying every chunk. Return the copy
 * (under way), or NULL with *CODE and ERR set. */
struct xfer_copy *held_copy_start(struct xfer *x, const char *src, const char *out,
				  const char *name, enum xfer_err *code, char *err, size_t errcap);

#endif
