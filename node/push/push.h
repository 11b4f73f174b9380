/* node/push/push.h: the node's side of pushes (docs/control.md, push). It answers the push
 * messages the core hands up (dht_env.app_request): a PUSH is checked (node/push/pushauth.h)
 * and, if this node takes pushes, becomes an ordinary fetch into the push directory that keeps
 * seeding (node/xfer/xfer.h); a PUSH_STATUS is answered with how far that fetch is. It also
 * holds what a pusher needs (node/push/pushrun.h): the node's signing key. The struct owns its
 * copy of the keys; the core and the transfers are the caller's. */
#ifndef NODE_PUSH_H
#define NODE_PUSH_H

#include <stdint.h>

#include "dht/chord.h"
#include "node/identity.h"
#include "node/push/pushauth.h"
#include "node/xfer/xfer.h"

#define PUSH_MAX_HELD 64      /* pushed contents a node remembers, for status answers */
#define PUSH_FIND_TIMEOUT_S 120 /* how long a pushed fetch looks for a holder */

struct push_node;

struct push_config {
	struct dht *d;
	struct xfer_mgr *files;
	const struct identity *ident; /* copied */
	const char *accept_dir;       /* absolute; NULL: refuse every push and write nothing */
	const struct push_keys *keys; /* copied */
};

/* Return NULL on no memory. */
struct push_node *push_node_new(const struct push_config *cfg);
void push_node_free(struct push_node *p); /* accepts NULL; wipes the secret key */

/* The dht_env.app_request callback; ARG is the push_node. */
void push_node_request(void *arg, const struct dht_msg *m, const struct dht_addr *from);

/* The node's public key, and the whole key pair for signing (valid while P lives). */
const uint8_t *push_node_pk(const struct push_node *p);
const struct identity *push_node_identity(const struct push_node *p);
struct dht *push_node_core(const struct push_node *p);

#endif
