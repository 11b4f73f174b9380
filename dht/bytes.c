/* Bounds-checked byte readers and writers (after OpenBSD's ibuf_get_n32): the only way codecs
 * touch bytes from the network. Big-endian throughout, as on every wire we speak. */
#include "dht/bytes.h"

#include <string.h>

void be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void be32_put(uint8_t *p, uint32_t v)
{
	be16_put(p, (uint16_t)(v >> 16));
	be16_put(p + 2, (uint16_t)v);
}

void be64_put(uint8_t *p, uint64_t v)
{
	be32_put(p, (uint32_t)(v >> 32));
	be32_put(p + 4, (uint32_t)v);
}

uint16_t be16_get(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

uint32_t be32_get(const uint8_t *p)
{
	return ((uint32_t)be16_get(p) << 16) | be16_get(p + 2);
}

uint64_t be64_get(const uint8_t *p)
{
	return ((uint64_t)be32_get(p) << 32) | be32_get(p + 4);
}

void br_init(struct breader *r, const void *buf, size_t len)
{
	r->p = buf;
	r->len = buf ? len : 0;
	r->pos = 0;
	r->bad = false;
}

size_t br_left(const struct breader *r)
{
	return r->len - r->pos;
}

/* Claim N bytes, or fail without moving. */
static const uint8_t *br_take(struct breader *r, size_t n)
{
	if (r->bad || n > br_left(r)) {
		r->bad = true;
		return NULL;
	}
	const uint8_t *p = r->p + r->pos;
	r->pos += n;
	return p;
}

int br_u8(struct breader *r, uint8_t *v)
{
	const uint8_t *p = br_take(r, 1);
	if (p == NULL)
		return -1;
	*v = p[0];
	return 0;
}

int br_u16(struct breader *r, uint16_t *v)
{
	const uint8_t *p = br_take(r, 2);
	if (p == NULL)
		return -1;
	*v = be16_get(p);
	return 0;
}

int br_u32(struct breader *r, uint32_t *v)
{
	const uint8_t *p = br_take(r, 4);
	if (p == NULL)
		return -1;
	*v = be32_get(p);
	return 0;
}

int br_u64(struct breader *r, uint64_t *v)
{
	const uint8_t *p = br_take(r, 8);
	if (p == NULL)
		return -1;
	*v = be64_get(p);
	return 0;
}

int br_bytes(struct breader *r, void *out, size_t n)
{
	const uint8_t *p = br_take(r, n);
	if (p == NULL)
		return -1;
	if (n)
		memcpy(out, p, n);
	return 0;
}

int br_ref(struct breader *r, const uint8_t **out, size_t n)
{
	const uint8_t *p = br_take(r, n);
	if (p == NULL)
		return -1;
	*out = p;
	return 0;
}

void bw_init(struct bwriter *w, void *buf, size_t cap)
{
	w->p = buf;
	w->cap = buf ? cap : 0;
	w->len = 0;
	w->bad = false;
}

static uint8_t *bw_take(struct bwriter *w, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return NULL;
	}
	uint8_t *p = w->p + w->len;
	w->len += n;
	return p;
}

int bw_u8(struct bwriter *w, uint8_t v)
{
	uint8_t *p = bw_take(w, 1);
	if (p == NULL)
		return -1;
	p[0] = v;
	return 0;
}

int bw_u16(struct bwriter *w, uint16_t v)
{
	uint8_t *p = bw_take(w, 2);
	if (p == NULL)
		return -1;
	be16_put(p, v);
	return 0;
}

int bw_u32(struct bwriter *w, uint32_t v)
{
	uint8_t *p = bw_take(w, 4);
	if (p == NULL)
		return -1;
	be32_put(p, v);
	return 0;
}

int bw_u64(struct bwriter *w, uint64_t v)
{
	uint8_t *p = bw_take(w, 8);
	if (p == NULL)
		return -1;
	be64_put(p, v);
	return 0;
}

int bw_bytes(struct bwriter *w, const void *src, size_t n)
{
	uint8_t *p = bw_take(w, n);
	if (p == NULL)
		return -1;
	if (n)
		memcpy(p, src, n);
	return 0;
}
