/* node/net/secbuf.h: a private ring's channel (node/net/secchan.h) over libevent's buffers: the
 * handshake run between an input and an output evbuffer, records sealed at an output's end,
 * whole records opened from an input or from a plain buffer. It knows nothing of connections:
 * the caller says what becomes of plaintext and of failures. Nothing is allocated here but
 * evbuffer space; plaintext handed to a taker lives until the taker returns. */
#ifndef NODE_SECBUF_H
#define NODE_SECBUF_H

#include <event2/buffer.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/net/recpool.h"
#include "node/net/secchan.h"

enum secbuf_status {
	SECBUF_OK,        /* no whole record left, or the taker said stop */
	SECBUF_MALFORMED, /* a record header no record may have */
	SECBUF_FORGED,    /* a record that does not open: forged, replayed or reordered */
	SECBUF_NO_MEMORY,
};

/* Take the plaintext of one record (LEN bytes at PLAIN, writable). Return true to go on with
 * the next record, false to stop there (the connection paused or ended). */
typedef bool secbuf_take_fn(void *arg, uint8_t *plain, size_t len);

/* Run S's handshake over what IN holds: drain what it takes, add its answers to OUT. Return
 * SECCHAN_DONE once the channel is up (records may follow in IN), SECCHAN_NEED_MORE, or the
 * failure secchan_handshake reported. */
enum secchan_status secbuf_handshake(struct secchan *s, struct evbuffer *in,
				     struct evbuffer *out);

/* Seal HLEN bytes of HEAD then BLEN bytes of BODY as records of at most SECCHAN_RECORD_MAX
 * bytes at OUT's end (BODY is copied). Return 0, or -1 on no memory or a cipher failure: the
 * stream then lacks records and must end. */
int secbuf_seal(struct secchan *s, struct evbuffer *out, const uint8_t *head, size_t hlen,
		const uint8_t *body, size_t blen);

/* As secbuf_seal, but a record that fills at least half of one of POOL's buffers is sealed
 * there and referenced by OUT, not copied, and smaller ones as secbuf_seal does: so OUT never
 * references more than twice the bytes it holds. For bulk data: no allocation per record. */
int secbuf_seal_pooled(struct secchan *s, struct recpool *pool, struct evbuffer *out,
		       const uint8_t *head, size_t hlen, const uint8_t *body, size_t blen);

/* Open the whole records at IN's head in order, each drained once TAKE had it, until TAKE says
 * stop or no whole record is left. */
enum secbuf_status secbuf_open_input(struct secchan *s, struct evbuffer *in, secbuf_take_fn *take,
				     void *arg);

/* The same over LEN bytes at BUF (opened in place); *USED is set to the bytes of the records
 * taken. */
enum secbuf_status secbuf_open_span(struct secchan *s, uint8_t *buf, size_t len, size_t *used,
				    secbuf_take_fn *take, void *arg);

#endif
