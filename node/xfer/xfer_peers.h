/* node/xfer/xfer_peers.h: a transfer's peer connections, peer book and DHT calls. */
#ifndef NODE_XFER_PEERS_H
#define NODE_XFER_PEERS_H

#include "node/xfer/xfer_core.h"

/* X's peer book, made on first use. NULL on no memory. */
struct peerbook *peers_book(struct xfer *x);
/* Remember A as a peer to call (a hint from the state file, or the DHT). */
void peers_known_add(struct xfer *x, const struct dht_addr *a);
int peers_route(void *arg, const uint8_t cid[WIRE_CONTENT_ID_LEN], const struct pconn_ops **ops,
		void **owner);
/* The session closed connection C. */
void peers_conn_closed(struct xfer *x, struct pconn *c, enum session_close why);
/* The session runs: announce, look holders up, dial. Return 0 or -1 (no memory). */
int peers_start(struct xfer *x, uint64_t now);
void peers_house(struct xfer *x, uint64_t now);
void peers_dht_kick(struct xfer *x);
/* Close every connection, forget the DHT calls in flight, stop the DHT timer. */
void peers_halt(struct xfer *x);
void peers_tickets_free(struct xfer_mgr *m);

#endif
