/* node/control/ctlvalue.h: the values of the put and get commands. A put becomes a signed item
 * (dht/item.h): signed here with the node's own key on behalf of its local user, or as the
 * client signed it, or immutable; the values a get read become JSON. Private to node/control;
 * json_t values returned are new references. */
#ifndef NODE_CTLVALUE_H
#define NODE_CTLVALUE_H

#include <jansson.h>
#include <stdint.h>

#include "dht/kv.h"
#include "node/control/control.h"

/* The node's writer: its Ed25519 secret key (64 bytes, libsodium's form; not owned) and the
 * last sequence number it signed. */
struct ctl_writer {
	const uint8_t *sk;
	uint64_t last_seq;
};

/* The item R puts, its value pointing into R. A value the node signs gets as seq the wall
 * clock in microseconds (more than the last one it signed): a restarted node still writes
 * newer values. Return 0, or -1 if the node has no key to sign with. */
int ctlvalue_item(struct ctl_writer *w, const struct ctl_request *r, struct dht_item *out);

/* Set in OBJ "values": [{writer (hex, null if immutable), seq, value, ttl, immutable}], and
 * the first one's "value", "ttl", "writer" and "seq" as well. Return 0, or -1 on no memory. */
int ctlvalue_set_json(json_t *obj, const struct dht_value_result *res);

/* {writer, seq} of the item a put stored. */
int ctlvalue_set_stored(json_t *obj, const struct dht_item *it);

#endif
