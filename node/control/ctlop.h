/* node/control/ctlop.h: one control operation while it runs, and the runner that holds the
 * open ones: how a command answers (once, or with progress lines first) and how it ends.
 * The command files (ctlcmd.c, ctlring.c, ctlfiles.c, ctlpush.c) build on this; it knows no command.
 * Private to node/control. An operation belongs to the runner until op_finish(). */
#ifndef NODE_CTLOP_H
#define NODE_CTLOP_H

#include <stdbool.h>
#include <stdint.h>

#include "node/control/ctlcmd.h"
#include "node/control/ctlvalue.h"

#define CTL_MAX_SUCC 32 /* the longest successor list a core keeps */

struct ring_walk;
struct push_cmd;
struct push_node;

struct ctlcmd {
	struct event_base *base;
	struct dht *d;
	struct xfer_mgr *files;
	struct push_node *push; /* NULL: the push command answers "internal" */
	struct ctl_writer writer; /* signs puts (ctlvalue.h); no key: put answers "internal" */
	const struct udp_seal_stats *seal; /* NULL: status shows no "network" */
	struct ctl_op *ops; /* every operation the core or a timer may still call back for */
};

struct ctl_op {
	struct ctl_op *prev, *next;
	struct ctlcmd *c;
	struct ctl_request req;
	struct dht_item item;  /* put: what was sent, its value in REQ */
	ctl_reply_cb *reply; /* NULL once cancelled */
	void *arg;
	bool starting;       /* inside ctlcmd_start: it frees the operation if it finished */
	bool replied;
	bool finished;       /* nothing will call back for it any more */
	uint64_t started_us;
	struct ring_walk *walk;   /* the ring command's walk; ctlring.c frees it */
	struct xfer_watch *watch; /* a file command following a transfer */
	struct xfer_copy *copy;   /* a fetch following a copy of what the node holds */
	struct push_cmd *push;    /* the push command's state; ctlpush.c frees it */
};

/* The line sent when memory runs out before an answer could be built. */
extern const char op_oom_line[];

/* A new operation for REQ in C's list, or NULL on no memory. */
struct ctl_op *op_new(struct ctlcmd *c, const struct ctl_request *req, ctl_reply_cb *reply,
		      void *arg);
/* Take OP out of its runner's list and free it (not its walk or watch: their files do). */
void op_free(struct ctl_op *op);

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

#endif
