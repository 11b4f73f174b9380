/* Chunk buffers: the cache of buffers for jobs and the chunks held while they arrive. Loop
 * thread only; a worker uses a buffer only while its job holds it. */
#include "node/xfer/chunkbuf.h"

#include <stdlib.h>
#include <string.h>

#include "transfer/wire.h"

uint8_t *bufcache_get(struct bufcache *c, size_t size, size_t *cap)
{
	for (unsigned i = 0; i < c->n; i++) {
		if (c->v[i].cap < size)
			continue;
		uint8_t *p = c->v[i].p;
		*cap = c->v[i].cap;
		c->v[i] = c->v[--c->n];
		return p;
	}
	*cap = size;
	return malloc(size);
}

void bufcache_put(struct bufcache *c, uint8_t *buf, size_t cap)
{
	if (buf == NULL)
		return;
	if (c->n < BUFCACHE_MAX) {
		c->v[c->n].p = buf;
		c->v[c->n].cap = cap;
		c->n++;
		return;
	}
	free(buf);
}

void bufcache_clear(struct bufcache *c)
{
	while (c->n > 0)
		free(c->v[--c->n].p);
}

static struct heldchunk *held_find(struct heldchunks *h, uint32_t chunk)
{
	for (unsigned i = 0; i < h->n; i++)
		if (h->v[i].chunk == chunk)
			return &h->v[i];
	return NULL;
}

static struct heldchunk *held_new(struct heldchunks *h, struct bufcache *c, uint32_t chunk,
				  uint32_t len)
{
	if (c->held_bytes + len > HELD_BYTES_MAX)
		return NULL;
	if (h->n == h->cap) {
		unsigned cap = h->cap ? h->cap * 2 : 16;
		struct heldchunk *n = realloc(h->v, cap * sizeof *n);
		if (n == NULL)
			return NULL;
		h->v = n;
		h->cap = cap;
	}
	struct heldchunk *hc = &h->v[h->n];
	hc->chunk = chunk;
	hc->mask = calloc(len / WIRE_BLOCK_SIZE / 8 + 1, 1);
	hc->data = hc->mask ? bufcache_get(c, len, &hc->cap) : NULL;
	if (hc->data == NULL) {
		free(hc->mask);
		return NULL;
	}
	c->held_bytes += hc->cap;
	h->n++;
	return hc;
}

int heldchunks_keep(struct heldchunks *h, struct bufcache *c, uint32_t chunk, uint32_t chunk_len,
		    uint32_t offset, const uint8_t *data, size_t len)
{
	struct heldchunk *hc = held_find(h, chunk);
	if (hc == NULL && (hc = held_new(h, c, chunk, chunk_len)) == NULL)
		return -1;
	memcpy(hc->data + offset, data, len);
	for (uint32_t b = offset / WIRE_BLOCK_SIZE; b * WIRE_BLOCK_SIZE < offset + len; b++)
		hc->mask[b / 8] |= (uint8_t)(1u << (b % 8));
	return 0;
}

bool heldchunks_take(struct heldchunks *h, uint32_t chunk, struct heldchunk *out)
{
	struct heldchunk *hc = held_find(h, chunk);
	if (hc == NULL)
		return false;
	*out = *hc;
	*hc = h->v[--h->n];
	return true;
}

void heldchunk_release(struct heldchunk *hc, struct bufcache *c)
{
	c->held_bytes -= hc->cap;
	bufcache_put(c, hc->data, hc->cap);
	free(hc->mask);
	hc->data = hc->mask = NULL;
}

void heldchunks_clear(struct heldchunks *h, struct bufcache *c)
{
	while (h->n > 0)
		heldchunk_release(&h->v[--h->n], c);
	free(h->v);
	h->v = NULL;
	h->cap = 0;
}
