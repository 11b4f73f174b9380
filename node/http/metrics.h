/* node/http/metrics.h: the node's metrics in Prometheus text exposition format 0.0.4:
 * datagrams, lookups (hop and latency histograms), the ring, the store, each transfer, and
 * process facts from /proc. The text goes into a caller's evbuffer. */
#ifndef NODE_HTTP_METRICS_H
#define NODE_HTTP_METRICS_H

#include <event2/buffer.h>

#include "dht/chord.h"
#include "node/net/udp.h"
#include "node/xfer/xfer.h"

/* Append every metric of D, SEAL (the datagrams refused before D) and M to OUT; SEAL and M may
 * be NULL. Return 0, or -1 on no memory. */
int metrics_write(struct evbuffer *out, const struct dht *d, const struct udp_seal_stats *seal,
		  struct xfer_mgr *m);

#endif
