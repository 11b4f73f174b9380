/* node/http/api.h: the web view's own JSON documents, which the control protocol has no
 * command for: every transfer with its chunk map, peers and choker rounds. Read-only. Returned
 * json_t values are new references owned by the caller. */
#ifndef NODE_HTTP_API_H
#define NODE_HTTP_API_H

#include <jansson.h>

#include "node/xfer/xfer.h"

#define API_MAX_CHUNKS 4096 /* chunks drawn per transfer; a bigger map is cut (chunks_shown) */
#define API_MAX_PEERS 80

/* {"ok": true, "transfers": [...]} as docs/control.md's /api section says; NULL on no memory. */
json_t *api_transfers(struct xfer_mgr *m);

#endif
