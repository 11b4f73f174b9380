/* node/control/ctlsec.h: the keyed control transport of a private ring (issue 11): a control
 * connection that opened with the network-key handshake (node/net/secchan.h, the control flag)
 * carries its JSON lines inside records. One per connection, owned by the control server; it
 * owns its channel and the plaintext read so far, and borrows the connection's buffers. */
#ifndef NODE_CTLSEC_H
#define NODE_CTLSEC_H

#include <event2/buffer.h>
#include <stdbool.h>

#include "node/net/secchan.h"

struct ctlsec;

/* A responder's channel under CFG (not copied: it outlives every connection), its ephemeral
 * key made from SEED (random in the node, fixed in tests), or NULL on no memory. */
struct ctlsec *ctlsec_new(const struct secchan_config *cfg, const uint8_t seed[SECCHAN_SEED_LEN]);
void ctlsec_free(struct ctlsec *c);

/* Run the handshake over what IN holds, answers into OUT; as secbuf_handshake. */
enum secchan_status ctlsec_handshake(struct ctlsec *c, struct evbuffer *in, struct evbuffer *out);

/* Open the whole records at IN's head into the plaintext buffer. Return 0, or -1 if a record is
 * malformed or forged or memory ran out: the connection must end, answering nothing. */
int ctlsec_open(struct ctlsec *c, struct evbuffer *in);

/* The lines received so far, in plaintext: the server's line reader drains it. */
struct evbuffer *ctlsec_plain(struct ctlsec *c);

/* Seal LINE and a newline as records at OUT's end. Return 0, or -1 on no memory. */
int ctlsec_send_line(struct ctlsec *c, struct evbuffer *out, const char *line);

#endif
