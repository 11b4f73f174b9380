/* node/net/listener.h: the TCP side of the node's port. It accepts connections, reads until
 * the first byte tells which protocol a connection speaks ('{': a control request, anything
 * else: peer wire) and hands the connection to that protocol's taker. It knows neither
 * protocol. It owns a connection only until it hands it over. */
#ifndef NODE_LISTENER_H
#define NODE_LISTENER_H

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "dht/msg.h"

struct listener;

/* Take a connection. BEV (its input holds the bytes read so far, none consumed; callbacks
 * cleared) now belongs to the taker; PEER is the remote address. */
typedef void listener_take_fn(void *arg, struct bufferevent *bev, const struct dht_addr *peer);

struct listener_takers {
	listener_take_fn *control; /* first byte '{' */
	void *control_arg;
	listener_take_fn *peer;    /* any other first byte; NULL: close such connections */
	void *peer_arg;
};

/* Accept on the listening TCP socket FD (which the listener now owns). Return NULL on no
 * memory (FD is closed then too). */
struct listener *listener_new(struct event_base *base, int fd, const struct listener_takers *t);
/* Close the listener and the connections not yet handed over. Accepts NULL. */
void listener_free(struct listener *l);

#endif
