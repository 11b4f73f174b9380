/* node/ctlserver.h: the TCP side of the node's port. It accepts connections and tells them
 * apart by their first byte: '{' starts a control connection, which it serves (one request line,
 * run by ctlcmd, one answer line, close; peers on this machine only unless allowed: loopback,
 * or the node's own address); anything else goes to a hook (peer-wire, later), closed by
 * default. The server owns its connections. */
#ifndef NODE_CTLSERVER_H
#define NODE_CTLSERVER_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdbool.h>

#include "dht/msg.h"
#include "node/control/ctlcmd.h"

struct ctlserver;

/* Take a connection whose first byte is not '{'. BEV (its input holds the bytes read so far,
 * none consumed) now belongs to the hook, callbacks cleared. */
typedef void ctl_other_hook(void *arg, struct bufferevent *bev, const struct dht_addr *peer);

/* Serve the listening TCP socket FD (which the server now owns), parsing requests for a
 * network of id width BITS and running them with CMD (not owned). ANY_PEER lets non-loopback
 * clients in. Return NULL on no memory (FD is closed then too). */
struct ctlserver *ctlserver_new(struct event_base *base, int fd, struct ctlcmd *cmd,
				unsigned bits, bool any_peer);
void ctlserver_set_other_hook(struct ctlserver *s, ctl_other_hook *hook, void *arg);
/* Close every connection (cancelling their operations) and the listener. Accepts NULL. */
void ctlserver_free(struct ctlserver *s);

#endif
