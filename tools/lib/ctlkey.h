/* tools/lib/ctlkey.h: the client's end of a private ring's keyed control channel (dhtctl
 * --network-key): the network-key handshake with the control flag (node/net/secchan.h), then
 * JSON lines sealed in records. Pure: the caller moves bytes to and from its socket. The client
 * proves a node key made afresh per connection: a control client has no identity in the ring,
 * the control secret says who it is. A ctlkey owns its keys and buffers; sealed bytes it returns
 * are malloc'd for the caller to free. */
#ifndef TOOLS_LIB_CTLKEY_H
#define TOOLS_LIB_CTLKEY_H

#include <stddef.h>
#include <stdint.h>

#include "node/net/secchan.h"

struct ctlkey;

/* A channel under the network key's STREAM_KEY (netkey_derive(NETKEY_STREAM)) whose HELLO is
 * written into HELLO (SECCHAN_HELLO_LEN bytes, to be sent first), or NULL on no memory. */
struct ctlkey *ctlkey_new(const uint8_t stream_key[SECCHAN_KEY_LEN],
			  uint8_t hello[SECCHAN_HELLO_LEN]);
void ctlkey_free(struct ctlkey *k);

/* How many bytes ctlkey_feed takes now: never 0 while no whole record waits to be taken. */
size_t ctlkey_room(const struct ctlkey *k);

/* Keep LEN bytes read from the node. Return 0, or -1 when more is kept than one record may
 * hold (a broken or hostile node) or on no memory. */
int ctlkey_feed(struct ctlkey *k, const uint8_t *in, size_t len);

/* Run the handshake over what was fed; OUT (SECCHAN_OUT_MAX bytes), *OUTLEN bytes, must be sent.
 * SECCHAN_DONE once up, SECCHAN_NEED_MORE, or why it failed. */
enum secchan_status ctlkey_handshake(struct ctlkey *k, uint8_t out[SECCHAN_OUT_MAX],
				     size_t *outlen);

/* Seal LEN bytes of IN (1 or more) as records; return them malloc'd with *OUTLEN, or NULL on no
 * memory or a cipher failure. Only once up. */
uint8_t *ctlkey_seal(struct ctlkey *k, const char *in, size_t len, size_t *outlen);

/* Move the plaintext of the whole records fed so far, at most CAP bytes, into BUF; set *N.
 * Return 0, or -1 if a record is malformed or forged. */
int ctlkey_take(struct ctlkey *k, char *buf, size_t cap, size_t *n);

#endif
