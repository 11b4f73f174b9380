/* tools/dhtctl/writer.h: a user's own writer key (dht/item.h) for dhtctl: making one into a key
 * file (the node's identity.key format, node/identity.h), reading it, and signing a value with
 * it here, so that the secret never reaches the node. Internal to dhtctl. */
#ifndef DHTCTL_WRITER_H
#define DHTCTL_WRITER_H

#include "dht/msg.h"
#include "node/identity.h"
#include "tools/dhtctl/dhtctl.h"

/* Create PATH (mode 0600; it must not exist) holding a new key; print its public key. */
int writer_keygen(struct dhtctl *c, const struct dhtctl_cmd *cmd, const char *path);

/* Read the key file PATH into *OUT. Return EXIT_OK, or report and return EXIT_USAGE. */
int writer_load(struct dhtctl *c, const struct dhtctl_cmd *cmd, const char *path,
		struct identity *out);

/* Sign *ITEM (flags and value set) as ID's under REQ's key ("key" or "id"), asking the node
 * for the network's id width; seq is the wall clock in microseconds. Add "writer", "seq" and
 * "sig" to REQ. Return EXIT_OK or an exit code (reported). */
int writer_sign(struct dhtctl *c, const struct identity *id, json_t *req, struct dht_item *item);

#endif
