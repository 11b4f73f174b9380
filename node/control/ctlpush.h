/* node/control/ctlpush.h: the push command (docs/control.md, push): share a path, then push it
 * to every member of the ring (node/push/pushrun.h), with progress lines and a last line that
 * is the table of members. Private to node/control. The command's state hangs off op->push and
 * is freed with it. */
#ifndef NODE_CTLPUSH_H
#define NODE_CTLPUSH_H

#include "node/control/ctlop.h"

/* Run the push command for OP. It answers and finishes OP, at once or later. */
void pushcmd_start(struct ctl_op *op);
/* The client went away: the push stops asking (members that accepted go on fetching), and OP
 * finishes once the core holds nothing of it. */
void pushcmd_cancel(struct ctl_op *op);
/* The runner is freed after the core: free OP's push state without waiting. */
void pushcmd_free(struct ctl_op *op);

#endif
