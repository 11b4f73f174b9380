/* node/ctlcmd.h: runs control requests (node/control.h) against the node's core and answers
 * each with one JSON line (docs/control.md). Requests that need the ring finish later, from the
 * core's callbacks; the runner owns every operation until the core is done with it.
 * Reply lines are valid only during the reply callback. */
#ifndef NODE_CTLCMD_H
#define NODE_CTLCMD_H

#include <event2/event.h>

#include "dht/chord.h"
#include "node/control.h"

struct ctlcmd;
struct ctl_op;

/* LINE is the whole response, without its newline. */
typedef void ctl_reply_cb(void *arg, const char *line);

/* A runner for the core D (not owned). Return NULL on no memory. */
struct ctlcmd *ctlcmd_new(struct event_base *base, struct dht *d);
/* Free the runner and every operation still open. Call it after dht_free() (which drops the
 * core's callbacks) or before the core runs again: accepts NULL. */
void ctlcmd_free(struct ctlcmd *c);

/* Start REQ. REPLY is called exactly once unless the operation is cancelled, possibly before
 * this returns: then NULL is returned. Otherwise return the operation, valid until REPLY. */
struct ctl_op *ctlcmd_start(struct ctlcmd *c, const struct ctl_request *req, ctl_reply_cb *reply,
			    void *arg);

/* The client went away: never call the operation's REPLY. The runner frees it when the core
 * is done with it. */
void ctlcmd_cancel(struct ctl_op *op);

#endif
