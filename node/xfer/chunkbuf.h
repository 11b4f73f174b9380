/* node/xfer/chunkbuf.h: memory for chunks, on the loop thread. A cache of chunk-sized buffers
 * kept for the next job (glibc serves such sizes with fresh mmaps, whose page faults would cost
 * as much as the hashing), and the chunks being received, held in memory until complete: the
 * loop thread only copies blocks in, and the worker that verifies a chunk writes it to disk
 * first (pwrite into the page cache costs the loop thread more than all else it does per
 * block). Buffers handed out are the caller's until given back with bufcache_put(). */
#ifndef NODE_CHUNKBUF_H
#define NODE_CHUNKBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BUFCACHE_MAX 16
#define HELD_BYTES_MAX (64u << 20) /* memory for chunks being received, node-wide */

struct bufcache {
	struct {
		uint8_t *p;
		size_t cap;
	} v[BUFCACHE_MAX];
	unsigned n;
	size_t held_bytes;       /* in struct heldchunk buffers, against HELD_BYTES_MAX */
};

/* A buffer of at least SIZE bytes (its size in *CAP), or NULL on no memory. */
uint8_t *bufcache_get(struct bufcache *c, size_t size, size_t *cap);
/* Give BUF back (NULL is ignored); kept for the next get, or freed if the cache is full. */
void bufcache_put(struct bufcache *c, uint8_t *buf, size_t cap);
void bufcache_clear(struct bufcache *c);

/* One chunk being received. */
struct heldchunk {
	uint32_t chunk;
	uint8_t *data;
	size_t cap;
	uint8_t *mask;  /* one bit per block held here; blocks written to disk directly are not */
};

/* One transfer's chunks being received. Zero-initialized is empty. */
struct heldchunks {
	struct heldchunk *v;
	unsigned n, cap;
};

/* Keep LEN bytes at OFFSET of CHUNK (CHUNK_LEN bytes long) until the chunk is taken. Return 0,
 * or -1 if there is no room (the caller writes them to disk at once instead). */
int heldchunks_keep(struct heldchunks *h, struct bufcache *c, uint32_t chunk, uint32_t chunk_len,
		    uint32_t offset, const uint8_t *data, size_t len);
/* Take CHUNK's buffer out of H into *OUT (release it with heldchunk_release). Return whether
 * there was one. */
bool heldchunks_take(struct heldchunks *h, uint32_t chunk, struct heldchunk *out);
void heldchunk_release(struct heldchunk *hc, struct bufcache *c);
/* Drop every chunk held (their data is unverified and will be fetched again), and H's array. */
void heldchunks_clear(struct heldchunks *h, struct bufcache *c);

#endif
