/* node/xfer/xfer_swarm.h: a transfer's session (the session core and its environment), its
 * start and halt, and the end of a download. */
#ifndef NODE_XFER_SWARM_H
#define NODE_XFER_SWARM_H

#include "node/xfer/xfer_core.h"

int swarm_start(struct xfer *x);
/* Close every connection and free the session. Not from inside the session core. */
void swarm_halt(struct xfer *x);
void swarm_house(struct xfer *x, uint64_t now);

#endif
