/* node/ctlcmd_impl.h: the inside of the control runner, shared by ctlcmd.c (operations and the
 * one-shot commands), ctlring.c (the ring walk) and ctlfiles.c (the file commands). Private to
 * node/ctlcmd*.c, ctlring.c and ctlfiles.c. */
#ifndef NODE_CTLCMD_IMPL_H
#define NODE_CTLCMD_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "node/control/ctlcmd.h"

#define CTL_MAX_SUCC 32 /* the longest successor list a core keeps */

struct ring_walk;

struct ctlcmd {
	struct event_base *base;
	struct dht *d;
	struct xfer_mgr *files;
	struct ctl_op *ops; /* every operation the core or a timer may still call back for */
};

struct ctl_op {
	struct ctl_op *prev, *next;
	struct ctlcmd *c;
	struct ctl_request req;
	ctl_reply_cb *reply; /* NULL once cancelled */
	void *arg;
	bool starting;       /* inside ctlcmd_start: it frees the operation if it finished */
	bool replied;
	bool finished;       /* nothing will call back for it any more */
	uint64_t started_us;
	struct ring_walk *walk;
	struct xfer_watch *watch; /* a file command following a transfer */
	struct xfer_copy *copy;   /* a fetch following a copy of what the node holds */
};

/* Answer once (later answers are dropped) with LINE, which this takes and frees; NULL means
 * memory ran out and sends a fixed "internal" error. */
void op_reply_line(struct ctl_op *op, char *line);
void op_reply_json(struct ctl_op *op, json_t *obj); /* takes OBJ */
void op_reply_status(struct ctl_op *op, enum dht_status s);
/* Send a progress line (taken and freed; dropped if NULL or the client is gone). */
void op_reply_more(struct ctl_op *op, char *line);
/* Nothing will call back for OP any more: free it (at once, or at the end of ctlcmd_start). */
void op_finish(struct ctl_op *op);
/* Milliseconds since the request started. */
double op_ms(const struct ctl_op *op);

/* ctlring.c */
/* Start walking the ring for OP. Return DHT_OK, or why not (nothing was started: the caller
 * answers and frees OP). */
enum dht_status ring_start(struct ctl_op *op);
void ring_free(struct ring_walk *w); /* accepts NULL */

/* ctlfiles.c */
/* Run a file command for OP. It answers and finishes OP, at once or later (watching). */
void files_start(struct ctl_op *op);
/* The client went away: stop watching and finish OP. */
void files_cancel(struct ctl_op *op);

#endif
