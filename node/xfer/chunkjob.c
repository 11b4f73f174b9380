/* Checking one chunk on a worker: run() writes the held blocks, reads the chunk back and hashes
 * it (and each block when asked: per-block digests let the session tell which sender of a bad
 * chunk lied); done() on the loop hands the result over and frees the job. */
#include "node/xfer/chunkjob.h"

#include <stdlib.h>
#include <string.h>

#include "transfer/session.h"
#include "transfer/wire.h"

/* Chunks this large start their writeback as soon as they are written. Smaller ones come with
 * files under 512 MiB (node/xfer/xfer.c sizes chunks) and are left to the kernel and
 * the final sync: a sync_file_range per 16 KiB chunk was a disk request each, and 9% of the
 * CPU of a 64-node lab (2,048 chunks a node). */
#define WRITEBACK_MIN_CHUNK (256u * 1024)

struct chunkjob {
	struct hp_job j;
	struct bufcache *bufs;
	struct span_list spans;
	uint32_t chunk, len;
	uint8_t expect[MANIFEST_HASH_LEN];
	bool want, ok;
	struct heldchunk held;   /* the chunk's blocks kept in memory (held.data), if any */
	bool create;             /* files may be created (a download's) */
	uint8_t *buf, *digests;  /* buf: held.data, or a buffer of the cache */
	size_t bufcap;
	int rc;
	char err[SPANIO_ERR_MAX];
	chunkjob_done_fn *done;
	void *arg;
};

/* Write the blocks held in memory, then read the whole chunk back: what is verified is what
 * the disk holds, whichever way each block got there. */
static int chunk_load(struct chunkjob *c)
{
	struct span_reader rd;
	span_reader_init(&rd, &c->spans);
	rd.create = c->create;
	int rc = 0;
	for (uint32_t b = 0; rc == 0 && c->held.data && b * WIRE_BLOCK_SIZE < c->len; b++) {
		if (!(c->held.mask[b / 8] & (1u << (b % 8))))
			continue;
		uint32_t off = b * WIRE_BLOCK_SIZE;
		uint32_t n = c->len - off < WIRE_BLOCK_SIZE ? c->len - off : WIRE_BLOCK_SIZE;
		rc = span_write(&rd, c->spans.off + off, c->held.data + off, n, c->err,
				sizeof c->err);
	}
	if (rc == 0 && c->held.data && c->len >= WRITEBACK_MIN_CHUNK)
		span_start_writeback(&rd, c->spans.off, c->len);
	if (rc == 0)
		rc = span_read(&rd, c->spans.off, c->buf, c->len, c->err, sizeof c->err);
	span_reader_close(&rd);
	return rc;
}

static void chunk_run(struct hp_job *j)
{
	struct chunkjob *c = (struct chunkjob *)j;
	uint8_t d[MANIFEST_HASH_LEN];
	if ((c->rc = chunk_load(c)) != 0)
		return;
	manifest_sha256(c->buf, c->len, d);
	c->ok = memcmp(d, c->expect, sizeof d) == 0;
	if (c->ok && !c->want)
		return;
	for (uint32_t b = 0; (uint64_t)b * WIRE_BLOCK_SIZE < c->len; b++) {
		uint32_t off = b * WIRE_BLOCK_SIZE;
		uint32_t n = c->len - off < WIRE_BLOCK_SIZE ? c->len - off : WIRE_BLOCK_SIZE;
		manifest_sha256(c->buf + off, n, c->digests + (size_t)b * SESSION_DIGEST_LEN);
	}
}

static void chunk_free(struct chunkjob *c)
{
	span_list_free(&c->spans);
	if (c->held.data)
		heldchunk_release(&c->held, c->bufs);
	else
		bufcache_put(c->bufs, c->buf, c->bufcap);
	free(c->digests);
	free(c);
}

static void chunk_done(struct hp_job *j)
{
	struct chunkjob *c = (struct chunkjob *)j;
	struct chunkjob_result res = { .ran = j->ran, .chunk = c->chunk, .rc = c->rc,
				       .err = c->err, .ok = c->ok, .digests = c->digests };
	c->done(c->arg, &res);
	chunk_free(c);
}

int chunkjob_submit(struct hashpool *pool, struct bufcache *bufs, struct chunkjob_req *req,
		    chunkjob_done_fn *done, void *arg)
{
	struct chunkjob *c = calloc(1, sizeof *c);
	if (c == NULL) {
		span_list_free(&req->spans);
		if (req->held.data)
			heldchunk_release(&req->held, bufs);
		return -1;
	}
	*c = (struct chunkjob){ .bufs = bufs, .spans = req->spans, .chunk = req->chunk,
				.len = req->len, .want = req->want_digests, .held = req->held,
				.done = done, .arg = arg };
	memcpy(c->expect, req->expect, sizeof c->expect);
	memset(&req->spans, 0, sizeof req->spans);
	memset(&req->held, 0, sizeof req->held);
	if (c->held.data)
		c->buf = c->held.data; /* read back into the same memory */
	else
		c->buf = bufcache_get(bufs, c->len, &c->bufcap);
	c->create = req->create;
	c->digests = malloc(((size_t)c->len / WIRE_BLOCK_SIZE + 1) * SESSION_DIGEST_LEN);
	if (c->buf == NULL || c->digests == NULL) {
		chunk_free(c);
		return -1;
	}
	c->j.run = chunk_run;
	c->j.done = chunk_done;
	hashpool_submit(pool, &c->j);
	return 0;
}
