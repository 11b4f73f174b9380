/* The file commands of the control protocol (docs/control.md, "Files"): share, fetch, list,
 * stop, watch and forget, run against the transfer manager; a content id may be given by a
 * prefix, resolved first (xfer_resolve). Commands that follow a transfer watch it
 * (xfer_watch) and turn its events into progress lines and a last line; the operation ends
 * when the transfer reaches a state that answers the request, or when the client goes.
 * This file builds JSON and nothing else: the transfers' behaviour is node/xfer*.c's. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/control/ctlfiles.h"
#include "node/control/ctlop.h"

enum ctl_code files_code_of(enum xfer_err e)
{
	switch (e) {
	case XFER_E_USAGE:
		return CTL_USAGE;
	case XFER_E_NOT_FOUND:
		return CTL_NOT_FOUND;
	case XFER_E_IO:
		return CTL_IO;
	case XFER_E_BAD_MANIFEST:
		return CTL_BAD_MANIFEST;
	default:
		return CTL_INTERNAL;
	}
}

static const char *phase_of(enum xfer_state s)
{
	switch (s) {
	case XFER_FINDING:
		return "peers";
	case XFER_MANIFEST:
		return "manifest";
	case XFER_DOWNLOADING:
		return "download";
	default:
		return xfer_state_name(s);
	}
}

static json_t *progress_json(const struct xfer *x)
{
	struct xfer_info in;
	xfer_get_info(x, &in);
	double pct = in.bytes_total ? 100.0 * (double)in.bytes_done / (double)in.bytes_total : 0;
	json_t *p = json_pack("{s:s, s:I, s:I, s:f, s:I, s:I, s:i}", "phase", phase_of(in.state),
			      "bytes_done", (json_int_t)in.bytes_done, "bytes_total",
			      (json_int_t)in.bytes_total, "percent", pct, "rate_down",
			      (json_int_t)in.rate_down, "rate_up", (json_int_t)in.rate_up, "peers",
			      (int)in.peers);
	if (p != NULL)
		json_object_set_new(p, "eta_s", in.eta_s >= 0 ? json_real(in.eta_s) : json_null());
	return json_pack("{s:o}", "progress", p);
}

/* When a transfer completed, in Unix seconds, or null. */
static json_t *finished_json(int64_t t)
{
	return t > 0 ? json_integer((json_int_t)t) : json_null();
}

static json_t *transfer_json(const struct xfer *x)
{
	struct xfer_info in;
	xfer_get_info(x, &in);
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:i, s:s, s:I, s:I, s:i, "
			      "s:f, s:o}", "content_id", in.cid_hex, "name", in.name, "role",
			      in.seed ? "seed" : "leech", "state", xfer_state_name(in.state),
			      "bytes_done", (json_int_t)in.bytes_done, "bytes_total",
			      (json_int_t)in.bytes_total, "rate_down", (json_int_t)in.rate_down,
			      "rate_up", (json_int_t)in.rate_up, "peers", (int)in.peers, "path",
			      in.path ? in.path : "", "downloaded", (json_int_t)in.downloaded,
			      "uploaded", (json_int_t)in.uploaded, "bans", (int)in.bans, "active_s",
			      in.active_s, "finished_at", finished_json(in.finished));
	if (o != NULL && in.state == XFER_FAILED)
		json_object_set_new(o, "error", json_string(in.error));
	if (o != NULL && in.changed != NULL)
		json_object_set_new(o, "changed", json_string(in.changed));
	return o;
}

static char *failure_line(const struct xfer *x)
{
	struct xfer_info in;
	xfer_get_info(x, &in);
	return ctl_error_line(files_code_of(in.code), in.error[0] ? in.error : "the transfer failed");
}

/* End OP with LINE (taken). */
static void finish(struct ctl_op *op, char *line)
{
	xfer_unwatch(op->watch);
	op->watch = NULL;
	op_reply_line(op, line);
	op_finish(op);
}

void files_cancel(struct ctl_op *op)
{
	xfer_unwatch(op->watch);
	op->watch = NULL;
	if (op->copy != NULL) /* the copy goes on; nobody hears of its end */
		xfer_copy_watch(op->copy, NULL, NULL);
	op->copy = NULL;
	op_finish(op);
}

static void follow(struct ctl_op *op, struct xfer *x, xfer_watch_cb *cb)
{
	op->watch = xfer_watch(x, cb, op);
	if (op->watch == NULL)
		finish(op, ctl_error_line(CTL_INTERNAL, "the node ran out of memory"));
}

/* ---- share ---- */

/* What the scan left out, by path and reason (docs/control.md, share). */
static json_t *skipped_json(const struct xfer_info *in)
{
	json_t *a = json_array();
	for (uint32_t i = 0; a != NULL && i < in->nskip; i++)
		json_array_append_new(a, json_pack("{s:s, s:s}", "path", in->skip[i].path, "why",
						   in->skip[i].why));
	return a;
}

static char *share_line(struct ctl_op *op, const struct xfer *x)
{
	struct xfer_info in;
	struct dht_id key;
	unsigned bits = dht_bits(op->c->d);
	xfer_get_info(x, &in);
	manifest_id_to_key(xfer_cid(x), bits, &key);
	json_t *o = json_pack("{s:b, s:s, s:o, s:s, s:I, s:i, s:i, s:s, s:o, s:i, s:b}", "ok", 1,
			      "content_id", in.cid_hex, "key_id", ctl_id_json(&key, bits), "name",
			      in.name, "bytes", (json_int_t)in.bytes_total, "chunks", (int)in.chunks,
			      "files", (int)in.files, "path", in.path, "skipped", skipped_json(&in),
			      "skipped_count", (int)in.skipped, "done", 1);
	return ctl_line(o);
}

static void on_share(void *arg, struct xfer *x, enum xfer_event ev)
{
	struct ctl_op *op = arg;
	switch (ev) {
	case XFER_EV_PROGRESS:
		if (op->req.follow && xfer_cid(x) == NULL)
			op_reply_more(op, ctl_line(progress_json(x)));
		break;
	case XFER_EV_READY:
		finish(op, share_line(op, x));
		break;
	case XFER_EV_FAILED:
		finish(op, failure_line(x));
		break;
	case XFER_EV_STOPPED:
	case XFER_EV_GONE:
		finish(op, ctl_error_line(CTL_INTERNAL, "the share was stopped before it was ready"));
		break;
	case XFER_EV_DONE:
		break;
	}
}

static void run_share(struct ctl_op *op)
{
	char err[XFER_ERR_MAX];
	enum xfer_err code;
	struct xfer *x = xfer_share(op->c->files, op->req.path, op->req.chunk_size, &code, err,
				    sizeof err);
	struct xfer_info in;
	if (x == NULL) {
		finish(op, ctl_error_line(files_code_of(code), err));
		return;
	}
	xfer_get_info(x, &in);
	if (in.state == XFER_FAILED)
		finish(op, failure_line(x));
	else if (xfer_cid(x) != NULL) /* already shared: no hashing to wait for */
		finish(op, share_line(op, x));
	else
		follow(op, x, on_share);
}

/* ---- fetch and watch ---- */

/* SECONDS: how long the transfer (or the copy) ran, which is what a user wants to read. */
static char *done_json(const char *cid, const char *path, uint64_t bytes, double seconds,
		       int64_t finished)
{
	return ctl_line(json_pack("{s:b, s:s, s:s, s:I, s:f, s:o, s:b}", "ok", 1, "content_id",
				  cid, "path", path, "bytes", (json_int_t)bytes, "seconds", seconds,
				  "finished_at", finished_json(finished), "done", 1));
}

static char *done_line(const struct xfer *x)
{
	struct xfer_info in;
	xfer_get_info(x, &in);
	return done_json(in.cid_hex, in.path, in.bytes_total, in.active_s, in.finished);
}

static char *stopped_line(const struct xfer *x)
{
	struct xfer_info in;
	xfer_get_info(x, &in);
	return ctl_line(json_pack("{s:b, s:s, s:s, s:I, s:I, s:f, s:b}", "ok", 1, "content_id",
				  in.cid_hex, "state", xfer_state_name(in.state), "bytes_done",
				  (json_int_t)in.bytes_done, "bytes_total",
				  (json_int_t)in.bytes_total, "active_s", in.active_s, "done", 1));
}

/* Whether X is where a follower stops: complete, failed or stopped. */
static char *end_line(const struct xfer *x)
{
	struct xfer_info in;
	xfer_get_info(x, &in);
	switch (in.state) {
	case XFER_SEEDING:
		return done_line(x);
	case XFER_FAILED:
		return failure_line(x);
	case XFER_STOPPED:
		return in.bytes_total && in.bytes_done == in.bytes_total ? done_line(x)
									   : stopped_line(x);
	default:
		return NULL;
	}
}

static void on_follow(void *arg, struct xfer *x, enum xfer_event ev)
{
	struct ctl_op *op = arg;
	switch (ev) {
	case XFER_EV_PROGRESS:
		op_reply_more(op, ctl_line(progress_json(x)));
		break;
	case XFER_EV_DONE:
		finish(op, done_line(x));
		break;
	case XFER_EV_FAILED:
		finish(op, failure_line(x));
		break;
	case XFER_EV_STOPPED:
		finish(op, end_line(x));
		break;
	case XFER_EV_GONE:
		finish(op, ctl_error_line(CTL_INTERNAL, "the transfer was removed"));
		break;
	case XFER_EV_READY:
		break;
	}
}

/* Follow X, or answer at once if it is already where following would end. */
static void follow_or_end(struct ctl_op *op, struct xfer *x)
{
	char *line = end_line(x);
	if (line != NULL)
		finish(op, line);
	else
		follow(op, x, on_follow);
}

/* ---- a fetch answered with a copy of what this node holds ---- */

static json_t *copy_progress_json(const struct xfer_copy *c)
{
	struct xfer_copy_info in;
	xfer_copy_get_info(c, &in);
	double pct = in.bytes_total ? 100.0 * (double)in.bytes_done / (double)in.bytes_total : 0;
	double eta = in.rate ? (double)(in.bytes_total - in.bytes_done) / (double)in.rate : -1;
	json_t *p = json_pack("{s:s, s:I, s:I, s:f, s:I, s:i, s:i}", "phase", "copy", "bytes_done",
			      (json_int_t)in.bytes_done, "bytes_total", (json_int_t)in.bytes_total,
			      "percent", pct, "rate_down", (json_int_t)in.rate, "rate_up", 0, "peers",
			      0);
	if (p != NULL)
		json_object_set_new(p, "eta_s", eta >= 0 ? json_real(eta) : json_null());
	return json_pack("{s:o}", "progress", p);
}

static void on_copy(void *arg, const struct xfer_copy *c, enum xfer_copy_event ev)
{
	struct ctl_op *op = arg;
	struct xfer_copy_info in;
	xfer_copy_get_info(c, &in);
	if (ev == XFER_COPY_PROGRESS) {
		op_reply_more(op, ctl_line(copy_progress_json(c)));
		return;
	}
	op->copy = NULL; /* it ends on return */
	if (ev == XFER_COPY_DONE)
		finish(op, done_json(in.cid_hex, in.path, in.bytes_total, in.seconds,
				     (int64_t)time(NULL)));
	else
		finish(op, ctl_error_line(files_code_of(in.code), in.error));
}

static void started(struct ctl_op *op)
{
	char hex[2 * MANIFEST_ID_LEN + 1];
	sodium_bin2hex(hex, sizeof hex, op->req.content, MANIFEST_ID_LEN);
	finish(op, ctl_line(json_pack("{s:b, s:b, s:s}", "ok", 1, "started", 1, "content_id",
				      hex)));
}

static void run_fetch(struct ctl_op *op)
{
	char err[XFER_ERR_MAX];
	enum xfer_err code;
	const struct ctl_request *r = &op->req;
	struct xfer_copy *copy;
	struct xfer *x = xfer_fetch(op->c->files, r->content, r->path, r->leave_when_done,
				    r->timeout_s, &copy, &code, err, sizeof err);
	if (copy != NULL && r->follow) {
		op->copy = copy;
		xfer_copy_watch(copy, on_copy, op);
		return;
	}
	if (copy != NULL) {
		started(op);
		return;
	}
	if (x == NULL) {
		finish(op, ctl_error_line(files_code_of(code), err));
		return;
	}
	struct xfer_info in;
	xfer_get_info(x, &in);
	if (r->follow)
		follow_or_end(op, x);
	else if (in.state == XFER_FAILED)
		finish(op, failure_line(x));
	else
		started(op);
}

static struct xfer *find_or_answer(struct ctl_op *op)
{
	struct xfer *x = xfer_find(op->c->files, op->req.content);
	if (x == NULL)
		finish(op, ctl_error_line(CTL_NOT_FOUND, "this node has no transfer of that content "
					  "id; see dhtctl list"));
	return x;
}

/* ---- list and stop ---- */

static void run_list(struct ctl_op *op)
{
	json_t *arr = json_array();
	for (struct xfer *x = xfer_first(op->c->files); arr != NULL && x; x = xfer_next(x))
		if (json_array_append_new(arr, transfer_json(x)) != 0) {
			json_decref(arr);
			arr = NULL;
		}
	finish(op, ctl_line(json_pack("{s:b, s:o}", "ok", 1, "transfers", arr)));
}

static void run_forget(struct ctl_op *op)
{
	char err[XFER_ERR_MAX];
	enum xfer_err code = xfer_forget(op->c->files, op->req.content, err, sizeof err);
	char hex[2 * MANIFEST_ID_LEN + 1];
	sodium_bin2hex(hex, sizeof hex, op->req.content, MANIFEST_ID_LEN);
	if (code != XFER_OK)
		finish(op, ctl_error_line(files_code_of(code), err));
	else
		finish(op, ctl_line(json_pack("{s:b, s:s}", "ok", 1, "forgotten", hex)));
}

static void run_stop(struct ctl_op *op)
{
	struct xfer *x = find_or_answer(op);
	if (x == NULL)
		return;
	struct xfer_info in;
	xfer_stop(op->c->files, op->req.content);
	xfer_get_info(x, &in);
	finish(op, ctl_line(json_pack("{s:b, s:s}", "ok", 1, "stopped", in.cid_hex)));
}

/* Name the content id a request gave by a prefix. Return 0, or -1 with OP answered. */
static int resolve(struct ctl_op *op)
{
	char err[XFER_ERR_MAX];
	enum xfer_err code;
	if (op->req.content_hex[0] == '\0')
		return 0; /* share and list name no content */
	code = xfer_resolve(op->c->files, op->req.content_hex, op->req.content, err, sizeof err);
	if (code == XFER_OK)
		return 0;
	finish(op, ctl_error_line(files_code_of(code), err));
	return -1;
}

void files_start(struct ctl_op *op)
{
	struct xfer *x;
	if (op->c->files == NULL) {
		finish(op, ctl_error_line(CTL_INTERNAL, "this node does not run transfers"));
		return;
	}
	if (resolve(op) != 0)
		return;
	switch (op->req.cmd) {
	case CTL_SHARE:
		run_share(op);
		break;
	case CTL_FETCH:
		run_fetch(op);
		break;
	case CTL_LIST:
		run_list(op);
		break;
	case CTL_STOP:
		run_stop(op);
		break;
	case CTL_FORGET:
		run_forget(op);
		break;
	case CTL_WATCH:
		if ((x = find_or_answer(op)) != NULL)
			follow_or_end(op, x);
		break;
	default:
		finish(op, ctl_error_line(CTL_INTERNAL, "not a file command"));
		break;
	}
}
