/* node/xfer/xfer_place.h: a download's name, roots and storage in its output directory. */
#ifndef NODE_XFER_PLACE_H
#define NODE_XFER_PLACE_H

#include "node/xfer/xfer_core.h"

/* Set the name, the final and the partial root from the manifest. Return 0 or -1 (memory). */
int place_names(struct xfer *x);
/* The manifest is known (given, resumed, or fetched): names, room, storage. Return 0, or -1
 * with X failed (or about to fail, when called from inside the session core). */
int place_prepare(struct xfer *x);

#endif
