/* node/xfer/randpool.h: the random numbers the session cores draw for their tie-breaks (rarity
 * order, picker, choker), taken from a source (libsodium's randombytes_buf in the node) a block
 * at a time instead of one system call per number. Not for secrets. A plain struct, no
 * allocation. */
#ifndef NODE_XFER_RANDPOOL_H
#define NODE_XFER_RANDPOOL_H

#include <stddef.h>
#include <stdint.h>

#define RANDPOOL_WORDS 256

struct randpool {
	void (*fill)(void *buf, size_t len); /* the source: fills BUF with LEN random bytes */
	uint64_t v[RANDPOOL_WORDS];
	unsigned left;                       /* words of v not handed out yet, taken from the end */
};

/* Draw from FILL, a block of RANDPOOL_WORDS numbers at a time. */
void randpool_init(struct randpool *p, void (*fill)(void *buf, size_t len));
/* Return the next number, refilling the block when it is used up. */
uint64_t randpool_next(struct randpool *p);

#endif
