/* dht/bytes.h: bounds-checked big-endian readers and writers over caller-owned buffers.
 * Every codec reads network bytes only through struct breader: a read past the end fails and
 * leaves the reader marked bad, it never touches memory outside the buffer. Nothing allocates. */
#ifndef DHT_BYTES_H
#define DHT_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct breader {
	const uint8_t *p;
	size_t len;
	size_t pos;
	bool bad; /* sticky: set by the first failed read */
};

void br_init(struct breader *r, const void *buf, size_t len);
size_t br_left(const struct breader *r);
/* Each returns 0, or -1 (and reads nothing) if fewer bytes are left than asked for. */
int br_u8(struct breader *r, uint8_t *v);
int br_u16(struct breader *r, uint16_t *v);
int br_u32(struct breader *r, uint32_t *v);
int br_u64(struct breader *r, uint64_t *v);
int br_bytes(struct breader *r, void *out, size_t n);
/* Point *OUT at the next N bytes inside the buffer (no copy) and skip them. */
int br_ref(struct breader *r, const uint8_t **out, size_t n);

struct bwriter {
	uint8_t *p;
	size_t cap;
	size_t len;
	bool bad; /* sticky: set by the first write that did not fit */
};

void bw_init(struct bwriter *w, void *buf, size_t cap);
/* Each returns 0, or -1 (and writes nothing) if the bytes do not fit. */
int bw_u8(struct bwriter *w, uint8_t v);
int bw_u16(struct bwriter *w, uint16_t v);
int bw_u32(struct bwriter *w, uint32_t v);
int bw_u64(struct bwriter *w, uint64_t v);
int bw_bytes(struct bwriter *w, const void *src, size_t n);

/* Plain big-endian stores and loads for fixed-size fields already bounds-checked by the caller. */
void be16_put(uint8_t *p, uint16_t v);
void be32_put(uint8_t *p, uint32_t v);
void be64_put(uint8_t *p, uint64_t v);
uint16_t be16_get(const uint8_t *p);
uint32_t be32_get(const uint8_t *p);
uint64_t be64_get(const uint8_t *p);

#endif
