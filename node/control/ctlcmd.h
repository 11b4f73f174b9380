/* node/control/ctlcmd.h: runs control requests (node/control/control.h) against the node's core
 * and its transfers and answers each with one JSON line, or for streaming commands with progress
 * lines and a last line (docs/control.md). Requests that need the ring finish later, from the
 * core's callbacks; the runner owns every operation until nothing can call back for it any more.
 * Reply lines are valid only during the reply callback. */
#ifndef NODE_CTLCMD_H
#define NODE_CTLCMD_H

#include <event2/event.h>

#include "dht/chord.h"
#include "node/control/control.h"
#include "node/xfer/xfer.h"

struct ctlcmd;
struct ctl_op;

/* LINE is one line of the response, without its newline. MORE: a progress line, more follow;
 * otherwise it is the last (or only) line. */
typedef void ctl_reply_cb(void *arg, const char *line, bool more);

/* A runner for the core D (not owned). Return NULL on no memory. */
struct ctlcmd *ctlcmd_new(struct event_base *base, struct dht *d);
/* Run the file commands (share, fetch, list, stop, watch) with M (not owned); without it they
 * answer "internal". */
void ctlcmd_set_files(struct ctlcmd *c, struct xfer_mgr *m);
/* Run the push command with P (not owned; node/push/push.h), and show P's public key in
 * status; without it push answers "internal". */
struct push_node;
void ctlcmd_set_push(struct ctlcmd *c, struct push_node *p);
/* Sign puts with the node's Ed25519 secret key SK (64 bytes, not owned); without it a put
 * answers "internal" unless its client signed it. */
void ctlcmd_set_writer(struct ctlcmd *c, const uint8_t *sk);
/* Show ST (not owned; node/net/udp.h: the datagrams refused before the core) in status. */
struct udp_seal_stats;
void ctlcmd_set_seal(struct ctlcmd *c, const struct udp_seal_stats *st);
/* Free the runner and every operation still open. Call it after dht_free() (which drops the
 * core's callbacks) or before the core runs again: accepts NULL. */
void ctlcmd_free(struct ctlcmd *c);

/* Start REQ. REPLY is called with the last line exactly once unless the operation is cancelled,
 * possibly before this returns: then NULL is returned. Otherwise return the operation, valid
 * until that last REPLY. */
struct ctl_op *ctlcmd_start(struct ctlcmd *c, const struct ctl_request *req, ctl_reply_cb *reply,
			    void *arg);

/* The client went away: never call the operation's REPLY. The runner frees it when the core
 * is done with it. */
void ctlcmd_cancel(struct ctl_op *op);

#endif
