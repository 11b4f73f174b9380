/* node/net/recpool.h: reusable buffers for sealed records that an output evbuffer references
 * instead of copying (secbuf_seal_pooled). Bulk records then cost no allocation: evbuffer
 * chains allocated and freed for each 16 KiB block made the allocator give its heap top back to
 * the kernel and fault fresh zeroed pages in again, a third of a keyed seed's time. The pool owns
 * its buffers. One lent by recpool_take is the borrower's until it goes back (recpool_give) or
 * to an evbuffer (recpool_add), which gives it back once it has written or dropped it, however
 * late: the pool lives on after recpool_close until the last buffer is back. One thread. */
#ifndef NODE_RECPOOL_H
#define NODE_RECPOOL_H

#include <event2/buffer.h>
#include <stddef.h>
#include <stdint.h>

struct recpool;

/* A pool of BUF_LEN-byte buffers keeping at most KEEP idle ones; NULL on no memory. */
struct recpool *recpool_new(size_t buf_len, unsigned keep);
/* The owner is done: the pool frees its idle buffers now, itself once all are back. Accepts
 * NULL. */
void recpool_close(struct recpool *p);
size_t recpool_buf_len(const struct recpool *p);

/* Lend a buffer (recpool_buf_len bytes), or return NULL on no memory. */
uint8_t *recpool_take(struct recpool *p);
/* Take back BUF, lent by P. */
void recpool_give(struct recpool *p, uint8_t *buf);
/* Append LEN bytes of BUF, lent by P, to OUT by reference: OUT gives BUF back when done with
 * it. Return 0, or -1 (BUF is back then, OUT unchanged). */
int recpool_add(struct recpool *p, struct evbuffer *out, uint8_t *buf, size_t len);

#endif
