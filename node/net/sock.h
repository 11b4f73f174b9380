/* node/net/sock.h: the node's two listening sockets, a UDP socket for the DHT and a TCP listener
 * for control and peer-wire connections (node/net/listener.h tells them apart), bound to the same
 * address and port, with error messages a person can act on. The caller owns and closes the
 * returned descriptors. */
#ifndef NODE_SOCK_H
#define NODE_SOCK_H

#include <stddef.h>

#include "dht/msg.h"

/* Open a non-blocking, close-on-exec socket of TYPE (SOCK_DGRAM or SOCK_STREAM) bound to ADDR;
 * a stream socket is also listening. Return the descriptor, or -1 with ERR set. */
int sock_open(const struct dht_addr *addr, int type, char *err, size_t errcap);

#endif
