/* tools/dhtctl/files.h: dhtctl's file commands (share, fetch, list, stop, watch, forget) and the
 * streaming side of the control client they need: one request, then progress lines until the
 * last line. Internal to dhtctl. JSON values handed to callbacks are valid during the call. */
#ifndef DHTCTL_FILES_H
#define DHTCTL_FILES_H

#include <jansson.h>
#include <signal.h>

#include "tools/dhtctl/ctlclient.h"
#include "tools/dhtctl/dhtctl.h"

extern const struct dhtctl_cmd dhtctl_cmd_share, dhtctl_cmd_fetch, dhtctl_cmd_list,
	dhtctl_cmd_stop, dhtctl_cmd_watch, dhtctl_cmd_forget;

/* Called for each progress line (an object with "progress"). */
typedef void ctl_progress_fn(void *arg, const json_t *progress);

struct ctl_stream_cb {
	ctl_progress_fn *fn; /* NULL: progress lines are dropped */
	void *arg;
	/* If a signal handler sets this, the stream ends at once with CTL_NO_ANSWER. */
	const volatile sig_atomic_t *interrupted;
};

/* Send REQ (not consumed) to T; pass progress lines to CB's FN (CB may be NULL); return with
 * the last line in *LAST (the caller owns it). IDLE_MS bounds the wait for each line. Results
 * as ctl_call(). */
enum ctl_result ctl_stream(const struct ctl_target *t, const json_t *req, int idle_ms,
			   const struct ctl_stream_cb *cb, json_t **last, char err[CTL_ERR_MAX]);

#endif
