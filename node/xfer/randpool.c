/* Random numbers in blocks (node/xfer/randpool.h). A swarm of 64 nodes hears a HAVE from every
 * peer for every chunk, and each moves the chunk in the rarest-first order with a random draw:
 * at one getrandom() each that was 80,000 system calls a second across the lab. A block of 256
 * makes it one in 256. Each number is handed out once; what the source returns is not judged. */
#include "node/xfer/randpool.h"

#include <string.h>

void randpool_init(struct randpool *p, void (*fill)(void *buf, size_t len))
{
	memset(p, 0, sizeof *p);
	p->fill = fill;
}

uint64_t randpool_next(struct randpool *p)
{
	if (p->left == 0) {
		p->fill(p->v, sizeof p->v);
		p->left = RANDPOOL_WORDS;
	}
	return p->v[--p->left];
}
