/* tools/dhtctl/files.h: dhtctl's file commands (share, fetch, list, stop, watch, forget) and the
 * streaming side of the control client they need: one request, then progress lines until the
 * last line. Internal to dhtctl. JSON values handed to callbacks are valid during the call. */
#ifndef DHTCTL_FILES_H
#define DHTCTL_FILES_H

#include <jansson.h>

#include "tools/dhtctl/ctlclient.h"
#include "tools/dhtctl/dhtctl.h"

extern const struct dhtctl_cmd dhtctl_cmd_share, dhtctl_cmd_fetch, dhtctl_cmd_list,
	dhtctl_cmd_stop, dhtctl_cmd_watch, dhtctl_cmd_forget;

/* Called for each progress line (an object with "progress"). */
typedef void ctl_progress_fn(void *arg, const json_t *progress);

/* Send REQ (not consumed) to T; pass progress lines to FN; return with the last line in *LAST
 * (the caller owns it). IDLE_MS bounds the wait for each line. Results as ctl_call(). */
enum ctl_result ctl_stream(const struct ctl_target *t, const json_t *req, int idle_ms,
			   ctl_progress_fn *fn, void *arg, json_t **last, char err[CTL_ERR_MAX]);

#endif
