/* A window on a transfer for the web view: it hands out the session core and resolves the
 * session's connection handles (our struct pconn) to addresses. It changes nothing. */
#include "node/xfer/xfer_view.h"

#include "node/xfer/xfer_core.h"

const struct session *xfer_view_session(const struct xfer *x)
{
	return x->s;
}

const struct dht_addr *xfer_view_peer_addr(const void *conn)
{
	return pconn_addr(conn);
}
