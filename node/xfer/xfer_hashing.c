/* A transfer's chunks hashed on the pool, a few jobs in flight: a share being hashed (digests
 * computed, for its manifest), or a resumed download's chunks written but not recorded as
 * verified (compared with the manifest; chunks still holes on disk are not even read). When
 * every chunk is done, the transfer's HASHED callback (given by the manager, above) runs. */
#include <stdlib.h>
#include <string.h>

#include "node/xfer/hashjob.h"
#include "node/xfer/xfer_hashing.h"

#define HASH_JOB_BYTES (16u << 20) /* a share is hashed in jobs of this much data */
#define JOBS_PER_THREAD 2

static void hashing_more(struct xfer *x);

static void apply(struct xfer *x, const struct hashjob_result *r)
{
	uint64_t total = storage_total_size(x->sto);
	for (uint32_t i = 0; i < r->n; i++) {
		if (r->good == NULL)
			memcpy(x->digests + (size_t)(r->first + i) * MANIFEST_HASH_LEN,
			       r->digests + (size_t)i * MANIFEST_HASH_LEN, MANIFEST_HASH_LEN);
		else if (r->good[i])
			bitfield_set(x->verified, r->first + i);
		x->bytes_hashed += chunk_len_of(total, x->chunk_size, r->first + i);
	}
	x->chunks_hashed += r->n;
}

static void on_hashed(void *arg, const struct hashjob_result *r)
{
	struct xfer_ticket *t = arg;
	struct xfer *x = t->x;
	bool live = !x->removed && r->ran && t->gen == x->gen && x->state == XFER_HASHING;
	if (t->gen == x->gen)
		x->jobs_out--;
	free(t);
	if (live && r->rc != 0) {
		xfer_fail(x, XFER_E_IO, "%s", r->err);
	} else if (live) {
		apply(x, r);
		hashing_more(x);
		if (x->chunks_hashed == x->nchunks && x->jobs_out == 0)
			x->hashed(x);
	}
	xfer_unref(x);
}

/* Chunks [FIRST, FIRST + N) as a job request. Return 0, or -1 on no memory. */
static int range_req(struct xfer *x, uint32_t first, uint32_t n, struct hashjob_req *req)
{
	*req = (struct hashjob_req){ .first = first, .n = n, .chunk_size = x->chunk_size,
				     .total = storage_total_size(x->sto), .check = x->man != NULL };
	uint64_t off = (uint64_t)first * x->chunk_size;
	uint64_t end = (uint64_t)(first + n) * x->chunk_size;
	if (end > req->total)
		end = req->total;
	if (storage_spans(x->sto, off, end - off, &req->spans) != 0)
		return -1;
	if (!req->check)
		return 0;
	uint8_t *expect = malloc((size_t)n * MANIFEST_HASH_LEN), *skip = malloc(n);
	if (expect == NULL || skip == NULL) {
		free(expect);
		free(skip);
		span_list_free(&req->spans);
		return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		skip[i] = bitfield_test(x->verified, first + i);
		memcpy(expect + (size_t)i * MANIFEST_HASH_LEN, manifest_chunk_hash(x->man, first + i),
		       MANIFEST_HASH_LEN);
	}
	req->expect = expect;
	req->skip = skip;
	return 0;
}

static int submit_range(struct xfer *x, uint32_t first, uint32_t n)
{
	struct hashjob_req req;
	struct xfer_ticket *t = malloc(sizeof *t);
	if (t == NULL || range_req(x, first, n, &req) != 0) {
		free(t);
		return -1;
	}
	*t = (struct xfer_ticket){ x, x->gen };
	int rc = hashjob_submit(x->m->pool, &x->m->bufs, &req, on_hashed, t);
	free((void *)req.expect);
	free((void *)req.skip);
	if (rc != 0)
		free(t);
	return rc;
}

/* Keep a few jobs in flight. */
static void hashing_more(struct xfer *x)
{
	if (x->m->closing)
		return;
	unsigned window = JOBS_PER_THREAD * hashpool_threads(x->m->pool);
	uint32_t per = HASH_JOB_BYTES / x->chunk_size ? HASH_JOB_BYTES / x->chunk_size : 1;
	while (x->jobs_out < window && x->next_chunk < x->nchunks) {
		uint32_t n = x->nchunks - x->next_chunk < per ? x->nchunks - x->next_chunk : per;
		if (submit_range(x, x->next_chunk, n) != 0) {
			xfer_fail(x, XFER_E_INTERNAL, "out of memory while hashing");
			return;
		}
		x->next_chunk += n;
		x->jobs_out++;
		x->refs++;
	}
}

void hashing_start(struct xfer *x, uint32_t nchunks, void (*hashed)(struct xfer *x))
{
	x->hashed = hashed;
	x->nchunks = nchunks;
	x->gen++;
	x->jobs_out = 0;
	x->next_chunk = x->chunks_hashed = 0;
	x->bytes_hashed = 0;
	x->state = XFER_HASHING;
	hashing_more(x);
}
