/* node/control/ctlserver.h: the control connections. It takes each connection whose first
 * byte is '{' from the listener (node/net/listener.h) and serves it: one request line, run by
 * ctlcmd, one answer line (or progress lines and a last line), close. Clients: from this
 * machine (loopback, or the node's own address) unless ANY_PEER, and then only the node's own
 * user and root (access.h) or whoever proves the control secret (ctlauth.h). The server owns
 * its connections. */
#ifndef NODE_CTLSERVER_H
#define NODE_CTLSERVER_H

#include <event2/bufferevent.h>
#include <stdbool.h>
#include <stdint.h>

#include "dht/msg.h"
#include "node/control/ctlcmd.h"

struct ctlserver;

/* A server parsing requests for a network of id width BITS and running them with CMD (not
 * owned). ANY_PEER lets clients from other machines connect; SELF is the node's own address;
 * SECRET (CTLAUTH_KEY_LEN bytes, copied; NULL: none) is the control secret clients may prove.
 * Return NULL on no memory. */
struct ctlserver *ctlserver_new(struct ctlcmd *cmd, unsigned bits, bool any_peer,
				const struct dht_addr *self, const uint8_t *secret);
struct netkey;
/* Make S a private ring's control server: clients may open with the control handshake under
 * KEY, this node proving its identity PK/SK (SECCHAN_PK_LEN, SECCHAN_SK_LEN bytes, copied), and
 * with --control-any, clients other than the node's user and root must. Return 0, or -1 on no
 * memory. */
int ctlserver_seal(struct ctlserver *s, const struct netkey *key, const uint8_t *pk,
		   const uint8_t *sk);
/* Serve BEV (which the server now owns; its input may hold the request's first bytes) from
 * PEER. Its signature is the listener's listener_take_fn; ARG is the server. */
void ctlserver_take(void *arg, struct bufferevent *bev, const struct dht_addr *peer);
/* Close every connection (cancelling their operations). Accepts NULL. */
void ctlserver_free(struct ctlserver *s);

#endif
