/* The push command: share the path (waiting for its hashing, as share does), then hand the
 * content id to a push run (node/push/pushrun.h) and turn what it reports into progress lines
 * and the last line, the table of members. The push's behaviour is node/push's; this file
 * builds JSON and ties the run's life to the operation's: the operation finishes only when
 * the run is gone, because the core holds pointers into the run until then. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/control/ctlfiles.h"
#include "node/control/ctlop.h"
#include "node/control/ctlpush.h"
#include "node/push/pushrun.h"

#define PUSH_DEFAULT_TIMEOUT_S 3600

struct push_cmd {
	struct ctl_op *op;
	struct xfer_watch *watch; /* while the share hashes */
	struct push_run *run;
	char cid_hex[2 * MANIFEST_ID_LEN + 1];
	uint64_t bytes;
};

static void end(struct ctl_op *op)
{
	free(op->push);
	op->push = NULL;
	op_finish(op);
}

static void fail(struct ctl_op *op, char *line)
{
	op_reply_line(op, line);
	end(op);
}

static json_t *member_json(const struct push_member *mb, unsigned bits)
{
	json_t *o = json_pack("{s:o, s:o, s:s, s:I, s:I, s:f}", "id",
			      ctl_id_json(&mb->node.id, bits), "addr", ctl_addr_json(&mb->node.addr),
			      "state", push_mstate_name(mb->state), "bytes_done",
			      (json_int_t)mb->done, "bytes_total", (json_int_t)mb->total, "seconds",
			      mb->seconds);
	if (o != NULL && mb->why != PUSH_WHY_NONE)
		json_object_set_new(o, "reason", json_pack("{s:s, s:s}", "code",
							   push_why_name(mb->why), "text",
							   push_why_str(mb->why)));
	return o;
}

static json_t *members_json(const struct push_cmd *pc, const struct push_run *r)
{
	size_t n;
	const struct push_member *m = push_run_members(r, &n);
	unsigned bits = dht_bits(pc->op->c->d);
	json_t *arr = json_array();
	for (size_t i = 0; arr != NULL && i < n; i++) {
		struct push_member mb = m[i];
		if (mb.state == PM_SOURCE)
			mb.done = mb.total = pc->bytes;
		if (json_array_append_new(arr, member_json(&mb, bits)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	}
	return arr;
}

static void on_progress(void *arg, const struct push_run *r)
{
	struct push_cmd *pc = arg;
	if (!pc->op->req.follow)
		return;
	json_t *p = json_pack("{s:s, s:s, s:f, s:o}", "phase",
			      push_run_walking(r) ? "walk" : "push", "content_id", pc->cid_hex,
			      "seconds", push_run_seconds(r), "members", members_json(pc, r));
	op_reply_more(pc->op, ctl_line(json_pack("{s:o}", "progress", p)));
}

/* The counts of the table, and the push's time: until the last copy was verified. */
static int set_summary(json_t *o, const struct push_run *r)
{
	size_t n, counts[PM_TIMEOUT + 1] = { 0 };
	double seconds = 0;
	const struct push_member *m = push_run_members(r, &n);
	for (size_t i = 0; i < n; i++) {
		counts[m[i].state]++;
		if (m[i].state == PM_VERIFIED && m[i].seconds > seconds)
			seconds = m[i].seconds;
	}
	return json_object_set_new(o, "verified", json_integer((json_int_t)(counts[PM_SOURCE] +
									       counts[PM_VERIFIED] +
									       counts[PM_HAD]))) |
	       json_object_set_new(o, "refused", json_integer((json_int_t)counts[PM_REFUSED])) |
	       json_object_set_new(o, "no_answer", json_integer((json_int_t)counts[PM_NO_ANSWER])) |
	       json_object_set_new(o, "failed", json_integer((json_int_t)(counts[PM_FAILED] +
									    counts[PM_TIMEOUT]))) |
	       json_object_set_new(o, "seconds", json_real(seconds));
}

static void on_done(void *arg, const struct push_run *r)
{
	struct push_cmd *pc = arg;
	json_t *o = json_pack("{s:b, s:s, s:s, s:I, s:o, s:b}", "ok", 1, "content_id",
			      pc->cid_hex, "path", pc->op->req.path, "bytes", (json_int_t)pc->bytes,
			      "members", members_json(pc, r), "done", 1);
	if (o != NULL && set_summary(o, r) != 0) {
		json_decref(o);
		o = NULL;
	}
	op_reply_json(pc->op, o);
	push_run_cancel(pc->run);
}

static void on_gone(void *arg)
{
	struct push_cmd *pc = arg;
	end(pc->op);
}

static const struct push_run_cb run_cb = { on_progress, on_done, on_gone };

/* The share is ready as X: push its content. */
static void begin(struct ctl_op *op, struct xfer *x)
{
	struct push_cmd *pc = op->push;
	struct xfer_info in;
	uint32_t timeout = op->req.timeout_s ? op->req.timeout_s : PUSH_DEFAULT_TIMEOUT_S;
	xfer_get_info(x, &in);
	pc->bytes = in.bytes_total;
	sodium_bin2hex(pc->cid_hex, sizeof pc->cid_hex, xfer_cid(x), MANIFEST_ID_LEN);
	pc->run = push_run_new(op->c->base, op->c->push, xfer_cid(x), timeout, &run_cb, pc);
	if (pc->run == NULL) {
		enum dht_status st = dht_get_state(op->c->d) == DHT_JOINED ? DHT_ERR_NO_MEMORY
									 : DHT_ERR_NOT_JOINED;
		fail(op, ctl_error_line(ctl_code_of(st), ctl_status_advice(st)));
	}
}

static char *failure_line(struct xfer *x, const char *what)
{
	struct xfer_info in;
	xfer_get_info(x, &in);
	return ctl_error_line(files_code_of(in.code), in.error && in.error[0] ? in.error : what);
}

static void on_share(void *arg, struct xfer *x, enum xfer_event ev)
{
	struct ctl_op *op = arg;
	struct push_cmd *pc = op->push;
	if (ev == XFER_EV_PROGRESS && op->req.follow) {
		struct xfer_info in;
		xfer_get_info(x, &in);
		op_reply_more(op, ctl_line(json_pack("{s:{s:s, s:I, s:I}}", "progress", "phase",
						     "hashing", "bytes_done", (json_int_t)in.bytes_done,
						     "bytes_total", (json_int_t)in.bytes_total)));
	}
	if (ev == XFER_EV_PROGRESS || ev == XFER_EV_DONE)
		return;
	xfer_unwatch(pc->watch);
	pc->watch = NULL;
	if (ev == XFER_EV_READY)
		begin(op, x);
	else if (ev == XFER_EV_FAILED)
		fail(op, failure_line(x, "the share failed"));
	else
		fail(op, ctl_error_line(CTL_INTERNAL, "the share was stopped before it was ready"));
}

void pushcmd_start(struct ctl_op *op)
{
	char err[XFER_ERR_MAX];
	enum xfer_err code;
	struct xfer_info in;
	if (op->c->files == NULL || op->c->push == NULL) {
		op_reply_line(op, ctl_error_line(CTL_INTERNAL, "this node cannot push"));
		op_finish(op);
		return;
	}
	op->push = calloc(1, sizeof *op->push);
	if (op->push == NULL) {
		op_reply_line(op, NULL);
		op_finish(op);
		return;
	}
	op->push->op = op;
	struct xfer *x = xfer_share(op->c->files, op->req.path, op->req.chunk_size, &code, err,
				    sizeof err);
	if (x == NULL) {
		fail(op, ctl_error_line(files_code_of(code), err));
		return;
	}
	xfer_get_info(x, &in);
	if (in.state == XFER_FAILED)
		fail(op, failure_line(x, "the share failed"));
	else if (xfer_cid(x) != NULL)
		begin(op, x);
	else if ((op->push->watch = xfer_watch(x, on_share, op)) == NULL)
		fail(op, ctl_error_line(CTL_INTERNAL, "the node ran out of memory"));
}

void pushcmd_cancel(struct ctl_op *op)
{
	struct push_cmd *pc = op->push;
	xfer_unwatch(pc->watch);
	pc->watch = NULL;
	if (pc->run != NULL)
		push_run_cancel(pc->run); /* on_gone ends the operation */
	else
		end(op);
}

void pushcmd_free(struct ctl_op *op)
{
	if (op->push == NULL)
		return;
	push_run_free(op->push->run);
	free(op->push);
	op->push = NULL;
}
