/* node/http/httpd.h: the node's web view over libevent's evhttp (--http ADDR:PORT): one
 * self-contained page (the ring, lookups, the store, transfers), JSON under /api/ and
 * Prometheus metrics under /metrics (docs/control.md). Read-only: GET and HEAD only. The
 * server owns its evhttp and its pending requests; the core, the transfers and the control
 * runner it reads stay the caller's and must outlive it. */
#ifndef NODE_HTTPD_H
#define NODE_HTTPD_H

#include <event2/event.h>
#include <stddef.h>

#include "dht/chord.h"
#include "node/control/ctlcmd.h"
#include "node/xfer/xfer.h"

struct httpd_config {
	struct event_base *base;
	struct dht *d;
	struct xfer_mgr *files;
	struct ctlcmd *cmd;        /* runs status, ring, list and lookup as dhtctl would */
	const struct udp_seal_stats *seal; /* datagrams refused before the core (node/net/udp.h) */
	struct dht_addr addr;      /* where to listen; beyond loopback only with a secret */
	const uint8_t *secret;     /* the control secret, or NULL: then only the node's user and
				    * root on this machine are served */
};

struct httpd;

/* Listen on CFG->addr. Return the server, or NULL with ERR set to a sentence saying what
 * failed (a port in use, an address beyond loopback without a secret). */
struct httpd *httpd_new(const struct httpd_config *cfg, char *err, size_t errcap);
/* Drop pending requests (their control operations are cancelled) and stop. Accepts NULL. */
void httpd_free(struct httpd *h);

#endif
