/* node/net/peerseal.h: a private ring's peer-wire connections (node/net/peerconn.c) over the
 * network-key channel: the handshake, opening records, sealing sends. Internal to peerconn.c's
 * parts; a connection's channel and gathered sends are freed with it (pc_conn_free). */
#ifndef NODE_PEERSEAL_H
#define NODE_PEERSEAL_H

#include <stddef.h>
#include <stdint.h>

#include "node/net/pconn_int.h"

/* Open the records that have arrived whole in C's input, while the output backlog allows. */
void pc_open_records(struct pconn *c);
/* C's read callback in a private ring: the handshake, then records. */
void pc_sealed_read(struct pconn *c);
/* Seal every connection's gathered sends, each as one record. */
void pc_uncork(struct pnet *n);
/* Send HEAD and BODY as one record, or gather them while the network is corked. */
void pc_sealed_send(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		 size_t blen);
/* Give C its channel in a private ring. Return 0, or -1 on no memory. */
int pc_seal_conn(struct pconn *c);

#endif
