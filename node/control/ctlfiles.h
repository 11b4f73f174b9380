/* node/control/ctlfiles.h: the file commands (share, fetch, list, stop, watch) of the control
 * protocol, run against the transfer manager. Private to node/control. */
#ifndef NODE_CTLFILES_H
#define NODE_CTLFILES_H

#include "node/control/ctlop.h"

/* Run a file command for OP. It answers and finishes OP, at once or later (watching). */
void files_start(struct ctl_op *op);
/* The client went away: stop watching and finish OP. */
void files_cancel(struct ctl_op *op);
/* The control code for a transfer error (ctlpush.c shares too). */
enum ctl_code files_code_of(enum xfer_err e);

#endif
