/* node/xfer/xfer_view.h: read-only looks into a transfer for the web view (node/http): its
 * session core, for transfer/session_view.h, and the address behind a session peer's
 * connection. Pointers returned are lent: valid until the loop runs again. */
#ifndef NODE_XFER_VIEW_H
#define NODE_XFER_VIEW_H

#include "dht/types.h"
#include "node/xfer/xfer.h"
#include "transfer/session.h"

/* X's session core, or NULL while it has none (hashing, stopped, failed, finding the first
 * peers of a fetch). */
const struct session *xfer_view_session(const struct xfer *x);
/* The remote address of CONN, a connection handle from session_view_peers() of X's session. */
const struct dht_addr *xfer_view_peer_addr(const void *conn);

#endif
