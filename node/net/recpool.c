/* Record buffers kept for reuse: a stack of idle ones, so the buffer taken next is the one
 * written last and likely still in cache. Idle buffers beyond KEEP are freed, which bounds what
 * a past burst leaves behind; the buffers in use are bounded by their owner (peerconn's output
 * backlog). Not done here: sealing, knowing what a buffer holds. */
#include "node/net/recpool.h"

#include <stdbool.h>
#include <stdlib.h>

struct recpool {
	size_t buf_len;
	unsigned keep, nidle, lent;
	bool closed;
	uint8_t **idle; /* KEEP slots */
};

struct recpool *recpool_new(size_t buf_len, unsigned keep)
{
	struct recpool *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->buf_len = buf_len;
	p->keep = keep;
	p->idle = calloc(keep ? keep : 1, sizeof *p->idle);
	if (p->idle == NULL) {
		free(p);
		return NULL;
	}
	return p;
}

static void pool_free(struct recpool *p)
{
	while (p->nidle > 0)
		free(p->idle[--p->nidle]);
	free(p->idle);
	free(p);
}

void recpool_close(struct recpool *p)
{
	if (p == NULL)
		return;
	p->closed = true;
	while (p->nidle > 0)
		free(p->idle[--p->nidle]);
	if (p->lent == 0)
		pool_free(p);
}

size_t recpool_buf_len(const struct recpool *p)
{
	return p->buf_len;
}

uint8_t *recpool_take(struct recpool *p)
{
	uint8_t *buf = p->nidle > 0 ? p->idle[--p->nidle] : malloc(p->buf_len);
	if (buf != NULL)
		p->lent++;
	return buf;
}

void recpool_give(struct recpool *p, uint8_t *buf)
{
	p->lent--;
	if (!p->closed && p->nidle < p->keep)
		p->idle[p->nidle++] = buf;
	else
		free(buf);
	if (p->closed && p->lent == 0)
		pool_free(p);
}

static void given_back(const void *data, size_t len, void *arg)
{
	(void)len;
	recpool_give(arg, (uint8_t *)data);
}

int recpool_add(struct recpool *p, struct evbuffer *out, uint8_t *buf, size_t len)
{
	if (evbuffer_add_reference(out, buf, len, given_back, p) == 0)
		return 0;
	recpool_give(p, buf);
	return -1;
}
