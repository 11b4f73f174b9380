/* Hashing a range of chunks on a worker: run() reads and hashes with only the job's own copies
 * of paths and digests; done() on the loop hands the result to the owner and frees the job. */
#include "node/xfer/hashjob.h"

#include <stdlib.h>
#include <string.h>

#include "transfer/manifest.h"

struct hashjob {
	struct hp_job j;
	struct bufcache *bufs;
	struct span_list spans;
	uint32_t first, n, chunk_size;
	uint64_t total;
	uint8_t *buf;
	size_t bufcap;
	uint8_t *dig;            /* n digests: computed, or expected */
	uint8_t *skip, *good;    /* checking: n flags each */
	bool check;
	int rc;
	char err[SPANIO_ERR_MAX];
	hashjob_done_fn *done;
	void *arg;
};

uint32_t chunk_len_of(uint64_t total, uint32_t size, uint32_t i)
{
	uint64_t off = (uint64_t)i * size;
	return total - off < size ? (uint32_t)(total - off) : size;
}

static void hash_run(struct hp_job *j)
{
	struct hashjob *h = (struct hashjob *)j;
	struct span_reader rd;
	span_reader_init(&rd, &h->spans);
	for (uint32_t i = 0; i < h->n && !atomic_load(&j->cancelled); i++) {
		uint64_t off = (uint64_t)(h->first + i) * h->chunk_size;
		uint32_t len = chunk_len_of(h->total, h->chunk_size, h->first + i);
		uint8_t d[MANIFEST_HASH_LEN];
		if (h->check && (h->skip[i] || span_has_hole(&rd, off, len)))
			continue;
		if (span_read(&rd, off, h->buf, len, h->err, sizeof h->err) != 0) {
			if (h->check)
				continue; /* unreadable: simply not verified, fetched again */
			h->rc = -1;
			break;
		}
		manifest_sha256(h->buf, len, h->check ? d : h->dig + (size_t)i * MANIFEST_HASH_LEN);
		if (h->check)
			h->good[i] = memcmp(d, h->dig + (size_t)i * MANIFEST_HASH_LEN, sizeof d) == 0;
	}
	span_reader_close(&rd);
}

static void hash_free(struct hashjob *h)
{
	span_list_free(&h->spans);
	bufcache_put(h->bufs, h->buf, h->bufcap);
	free(h->dig);
	free(h->skip);
	free(h->good);
	free(h);
}

static void hash_done(struct hp_job *j)
{
	struct hashjob *h = (struct hashjob *)j;
	struct hashjob_result res = {
		.ran = j->ran, .rc = h->rc, .err = h->err, .first = h->first, .n = h->n,
		.digests = h->dig, .good = h->good,
	};
	h->done(h->arg, &res);
	hash_free(h);
}

int hashjob_submit(struct hashpool *pool, struct bufcache *bufs, struct hashjob_req *req,
		   hashjob_done_fn *done, void *arg)
{
	struct hashjob *h = calloc(1, sizeof *h);
	if (h == NULL) {
		span_list_free(&req->spans);
		return -1;
	}
	*h = (struct hashjob){ .bufs = bufs, .spans = req->spans, .first = req->first, .n = req->n,
			       .chunk_size = req->chunk_size, .total = req->total,
			       .check = req->check, .done = done, .arg = arg };
	memset(&req->spans, 0, sizeof req->spans);
	size_t dlen = (size_t)req->n * MANIFEST_HASH_LEN;
	h->dig = malloc(dlen);
	h->buf = bufcache_get(bufs, req->chunk_size, &h->bufcap);
	if (h->dig == NULL || h->buf == NULL)
		goto fail;
	if (h->check) {
		h->skip = malloc(req->n);
		h->good = calloc(req->n, 1);
		if (h->skip == NULL || h->good == NULL)
			goto fail;
		memcpy(h->dig, req->expect, dlen);
		memcpy(h->skip, req->skip, req->n);
	}
	h->j.run = hash_run;
	h->j.done = hash_done;
	hashpool_submit(pool, &h->j);
	return 0;
fail:
	hash_free(h);
	return -1;
}
