/* node/control/ctlring.h: the ring command, a walk of successor pointers from this node
 * (docs/control.md). Private to node/control. The walk belongs to its operation's op->walk
 * and frees itself when it answers. */
#ifndef NODE_CTLRING_H
#define NODE_CTLRING_H

#include "node/control/ctlop.h"

/* Start walking the ring for OP. Return DHT_OK, or why not (nothing was started: the caller
 * answers and frees OP). */
enum dht_status ring_start(struct ctl_op *op);
/* Free a walk whose operation is being torn down with the runner. Accepts NULL. */
void ring_free(struct ring_walk *w);

#endif
