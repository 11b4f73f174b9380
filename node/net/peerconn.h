/* node/net/peerconn.h: peer-wire connections over TCP on libevent bufferevents. Inbound ones
 * arrive from the listener (node/net/listener.h) and are routed by the content id in their first
 * frame (the HANDSHAKE); outbound ones are dialled for an owner (a transfer). Every connection
 * shares the node's upload and download caps through one libevent rate-limit group. The network
 * object owns every connection; an owner learns of them through struct pconn_ops and ends them
 * with pconn_close(), after which no callback names them again. It does not parse beyond the first
 * frame: the bytes are the session core's. Connections are capped per host and in total, and an
 * inbound one must complete its HANDSHAKE within a deadline (see peeradmit.c). In a private ring
 * (pnet_seal) every connection is encrypted and authenticated by the network key first. */
#ifndef NODE_PEERCONN_H
#define NODE_PEERCONN_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"
#include "node/net/netkey.h"
#include "node/net/secchan.h"
#include "transfer/session.h"
#include "transfer/wire.h"

struct pnet;
struct pconn;

struct pconn_ops {
	/* The connection is up: dialled and connected, or inbound and routed to this owner.
	 * Return 0, or -1 if the owner has closed it (pconn_close). */
	int (*up)(void *owner, struct pconn *c);
	/* LEN bytes arrived. Return 0, or -1 if the owner has closed the connection. */
	int (*input)(void *owner, struct pconn *c, const uint8_t *buf, size_t len);
	/* The output backlog fell below the low-water mark. */
	void (*writable)(void *owner, struct pconn *c);
	/* The connection failed or the peer went away (WHY says how); it is gone afterwards. */
	void (*gone)(void *owner, struct pconn *c, const char *why);
};

/* Find the owner of inbound connections for content CID: fill *OPS and *OWNER and return 0,
 * or return -1 to refuse the connection. */
typedef int pnet_route_fn(void *arg, const uint8_t cid[WIRE_CONTENT_ID_LEN],
			  const struct pconn_ops **ops, void **owner);

struct pnet_config {
	uint64_t up_rate, down_rate; /* bytes per second for the whole node; 0: no cap */
	struct dht_addr self;        /* outgoing connections start from this address (port 0) */
	size_t low_water;            /* writable() fires when the backlog falls to this */
	pnet_route_fn *route;
	void *route_arg;
};

/* Return the network, or NULL on no memory. */
struct pnet *pnet_new(struct event_base *base, const struct pnet_config *cfg);
/* Close every connection without calling owners back. Accepts NULL. */
void pnet_free(struct pnet *n);

/* Make N a private ring's: every connection, dialled or accepted, first runs the network-key
 * handshake under KEY's stream subkey, proving this node's identity PK/SK, and is encrypted
 * after it (node/net/secchan.h); a peer without the key is closed before any frame flows. Call
 * before any connection. Return 0, or -1 on no memory. */
int pnet_seal(struct pnet *n, const struct netkey *key, const uint8_t pk[SECCHAN_PK_LEN],
	      const uint8_t sk[SECCHAN_SK_LEN]);

/* What the uplink did so far: *SENT, the bytes every connection has handed to the kernel and
 * the kernel has sent (it grows, but for the unsent bytes of a connection that closes), and
 * *BACKLOGGED, whether any connection has output waiting now, with us or in its socket. */
void pnet_uplink(const struct pnet *n, uint64_t *sent, bool *backlogged);
/* writable() fires when a connection's backlog falls to LOW_WATER from now on (the low_water of
 * struct pnet_config), for the connections open and those to come. */
void pnet_set_low_water(struct pnet *n, size_t low_water);

/* Take an inbound connection (a listener_take_fn): BEV may already hold bytes. */
void pnet_accept(void *n, struct bufferevent *bev, const struct dht_addr *peer);

/* Dial TO for OWNER. Return the connection (up() or gone() follows), or NULL. */
struct pconn *pconn_connect(struct pnet *n, const struct dht_addr *to,
			    const struct pconn_ops *ops, void *owner);
/* Queue HLEN bytes of HEAD, then BLEN bytes of BODY (copied), as one write. */
void pconn_send(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		size_t blen);
/* The same with BODY not copied: it must stay valid until RELEASE(BODY, BLEN, ARG) is called
 * (when it has been written, or the connection is gone). */
void pconn_send_ref(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		    size_t blen, void (*release)(const void *body, size_t blen, void *arg),
		    void *arg);
size_t pconn_backlog(const struct pconn *c);
/* End C: no callback names it again; the memory goes when the current callback returns. */
void pconn_close(struct pconn *c);

const struct dht_addr *pconn_addr(const struct pconn *c);
/* A session_env peer_key (transfer/session.h) for connections of this network (CONN): who is
 * behind C (addr_host_key), so that bans hold whatever peer id a host claims. */
void pconn_peer_key(void *arg, void *conn, uint8_t key[SESSION_KEY_LEN]);
bool pconn_outgoing(const struct pconn *c);
/* The Ed25519 key the peer proved in the network-key handshake (SECCHAN_PK_LEN bytes, valid
 * while C is), or NULL in an open ring. */
const uint8_t *pconn_peer_pubkey(const struct pconn *c);
/* The owner's number for C (a session slot), -1 until set. */
int pconn_slot(const struct pconn *c);
void pconn_set_slot(struct pconn *c, int slot);

#endif
