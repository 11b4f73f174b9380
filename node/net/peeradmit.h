/* node/net/peeradmit.h: admission of peer-wire connections (node/net/peerconn.c's caps): room
 * for an inbound connection, routing it by its first frame, the handshake deadline, the total
 * budget. Internal to peerconn.c's parts; nothing here allocates. */
#ifndef NODE_PEERADMIT_H
#define NODE_PEERADMIT_H

#include <stdbool.h>

#include "node/net/pconn_int.h"
#include "transfer/wire.h"

/* Route inbound C by its first frame MSG, as wire_frame found it (ST). Return false if C was
 * closed. */
bool pc_route_frame(struct pconn *c, enum wire_status st, const struct wire_msg *msg);
/* Make room for an inbound connection from PEER, or return -1 to refuse it. */
int pc_admit(struct pnet *n, const struct dht_addr *peer);
/* The sweeper's callback: close connections past their handshake deadline. ARG is the pnet. */
void pc_on_sweep(evutil_socket_t fd, short what, void *arg);
/* Start the sweeper, unless it is running. */
void pc_arm_sweeper(struct pnet *n);
/* Connections we keep open at most. */
unsigned pc_conns_budget(void);

#endif
