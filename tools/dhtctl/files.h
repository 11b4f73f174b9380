/* tools/dhtctl/files.h: dhtctl's file commands (share, fetch, list, stop, watch, forget); they
 * stream with tools/lib/ctlclient.h's ctl_stream. Internal to dhtctl. */
#ifndef DHTCTL_FILES_H
#define DHTCTL_FILES_H

#include <jansson.h>

#include "tools/dhtctl/dhtctl.h"

extern const struct dhtctl_cmd dhtctl_cmd_share, dhtctl_cmd_fetch, dhtctl_cmd_list,
	dhtctl_cmd_stop, dhtctl_cmd_watch, dhtctl_cmd_forget, dhtctl_cmd_push;

#endif
