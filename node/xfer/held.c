/* A fetch of content this node already holds complete (shared from where it lies, or fetched
 * into another directory) is answered with a copy made here rather than over the network, and
 * the copy is verified as a download is: every chunk read from the held files is checked
 * against the manifest before it is written, because those files may have changed since they
 * were hashed. As a download, the copy is written under the hidden partial name and renamed
 * into place only once every file is synced. The work runs on the pool, a batch of chunks per
 * job, so that the loop thread can pass progress on between batches. A copy owns what it
 * reads (its own manifest, paths) and does not depend on the transfer it was made from. */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/log.h"
#include "node/net/udp.h"
#include "node/xfer/held.h"
#include "node/xfer/statejob.h"

#define BATCH_BYTES (64u << 20) /* copied per job: progress at least every ~0.1 s */
#define PROGRESS_EVERY_US 250000

struct xfer_copy {
	struct hp_job j;           /* first: the pool hands the job back as the copy */
	struct xfer_mgr *m;
	struct manifest *man;
	char hex[2 * MANIFEST_ID_LEN + 1];
	char *parent, *part, *final;
	struct storage *src, *dst;
	struct span_list from, to, files;
	struct span_reader rd, wr;
	uint8_t *buf;
	uint32_t next_chunk;       /* the worker's: the next chunk to copy */
	uint64_t bytes_done;       /* copied and verified, as of the last batch */
	uint64_t started_us, shown_us;
	bool part_existed;         /* a partial download's leftovers: not ours to remove */
	xfer_copy_cb *cb;
	void *arg;
	enum xfer_err code;
	int rc;
	char err[XFER_ERR_MAX];
};

static void copy_free(struct xfer_copy *c)
{
	span_reader_close(&c->rd);
	span_reader_close(&c->wr);
	span_list_free(&c->from);
	span_list_free(&c->to);
	span_list_free(&c->files);
	storage_free(c->src);
	storage_free(c->dst);
	manifest_free(c->man);
	free(c->parent);
	free(c->part);
	free(c->final);
	free(c->buf);
	free(c);
}

/* Create every file (empty ones too) at its size and sync it: what a rename then shows is
 * whole and on disk. */
static int sync_files(struct xfer_copy *c)
{
	for (uint32_t i = 0; i < c->files.n; i++) {
		const char *path = c->files.v[i].path;
		int fd = span_open(&c->files, i, O_WRONLY | O_CREAT, c->err, sizeof c->err);
		if (fd < 0)
			return -1;
		if (ftruncate(fd, (off_t)c->files.v[i].len) != 0 || fdatasync(fd) != 0) {
			snprintf(c->err, sizeof c->err, "cannot write %s: %s", path,
				 strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	return 0;
}

static int copy_chunk(struct xfer_copy *c, uint32_t i)
{
	uint64_t off = (uint64_t)i * manifest_chunk_size(c->man);
	uint32_t len = manifest_chunk_len(c->man, i);
	if (span_read(&c->rd, off, c->buf, len, c->err, sizeof c->err) != 0)
		return -1;
	if (!manifest_chunk_ok(c->man, i, c->buf, len)) {
		snprintf(c->err, sizeof c->err, "%s changed since this node verified it (chunk %u "
			 "no longer matches content %.16s): no copy was made; stop and forget it "
			 "here, then fetch it again (or share the changed files anew)",
			 storage_root(c->src), i, c->hex);
		return -1;
	}
	return span_write(&c->wr, off, c->buf, len, c->err, sizeof c->err);
}

static void copy_run(struct hp_job *j)
{
	struct xfer_copy *c = (struct xfer_copy *)j;
	uint32_t n = manifest_chunk_count(c->man);
	uint64_t batch = 0;
	while (c->rc == 0 && c->next_chunk < n && batch < BATCH_BYTES &&
	       !atomic_load(&j->cancelled)) {
		batch += manifest_chunk_len(c->man, c->next_chunk);
		if ((c->rc = copy_chunk(c, c->next_chunk)) == 0)
			c->next_chunk++;
	}
	if (c->rc != 0 || c->next_chunk < n)
		return;
	span_reader_close(&c->wr);
	c->rc = sync_files(c);
	if (c->rc == 0)
		c->rc = rename_into_place(c->parent, c->part, c->final, c->err, sizeof c->err);
}

/* A failed copy leaves nothing of its own behind: its files, then its directories. */
static void discard(struct xfer_copy *c)
{
	size_t top = strlen(c->part);
	if (c->part_existed)
		return;
	for (uint32_t i = 0; i < c->files.n; i++) {
		char dir[4096];
		unlink(c->files.v[i].path);
		snprintf(dir, sizeof dir, "%s", c->files.v[i].path);
		for (char *s; strlen(dir) > top && (s = strrchr(dir, '/')) != NULL;) {
			*s = '\0';
			if (strlen(dir) >= top)
				rmdir(dir);
		}
	}
}

static void copy_end(struct xfer_copy *c, enum xfer_copy_event ev)
{
	if (ev == XFER_COPY_DONE)
		log_info("copied %s from this node's copy into %s", c->hex, c->final);
	else
		log_warn("no copy of %s into %s: %s", c->hex, c->parent, c->err);
	if (ev == XFER_COPY_FAILED)
		discard(c);
	if (c->cb)
		c->cb(c->arg, c, ev);
	copy_free(c);
}

static void copy_done(struct hp_job *j)
{
	struct xfer_copy *c = (struct xfer_copy *)j;
	uint64_t now = mono_now_us();
	if (c->rc == 0 && (!j->ran || c->m->closing)) {
		c->rc = -1;
		snprintf(c->err, sizeof c->err, "the node stopped before the copy was made");
	}
	c->bytes_done = (uint64_t)c->next_chunk * manifest_chunk_size(c->man);
	if (c->bytes_done > manifest_total_size(c->man))
		c->bytes_done = manifest_total_size(c->man);
	if (c->rc != 0) {
		c->code = XFER_E_IO;
		copy_end(c, XFER_COPY_FAILED);
		return;
	}
	if (c->next_chunk == manifest_chunk_count(c->man)) {
		copy_end(c, XFER_COPY_DONE);
		return;
	}
	if (c->cb && now - c->shown_us >= PROGRESS_EVERY_US) {
		c->shown_us = now;
		c->cb(c->arg, c, XFER_COPY_PROGRESS);
	}
	hashpool_submit(c->m->pool, j);
}

/* The copy's own manifest, paths and storage: X may go while the copy runs. */
static int copy_setup(struct xfer_copy *c, struct xfer *x, const char *src, const char *out,
		      const char *name)
{
	size_t len, plen = strlen(out) + strlen(name) + 16;
	const uint8_t *b = manifest_bytes(x->man, &len);
	memcpy(c->hex, x->hex, sizeof c->hex);
	c->man = manifest_verify(b, len, x->cid);
	c->parent = strdup(out);
	c->part = malloc(plen);
	c->final = malloc(plen);
	if (c->man == NULL || c->parent == NULL || c->part == NULL || c->final == NULL)
		return -1;
	snprintf(c->final, plen, "%s/%s", out, name);
	snprintf(c->part, plen, "%s/.%s.part", out, name);
	uint64_t total = manifest_total_size(c->man);
	c->src = storage_for_manifest(c->man, src, false);
	c->dst = storage_for_manifest(c->man, c->part, true);
	c->buf = malloc(manifest_chunk_size(c->man));
	if (c->src == NULL || c->dst == NULL || c->buf == NULL ||
	    storage_spans(c->src, 0, total, &c->from) != 0 ||
	    storage_spans(c->dst, 0, total, &c->to) != 0 ||
	    storage_all_paths(c->dst, &c->files) != 0)
		return -1;
	span_reader_init(&c->rd, &c->from);
	span_reader_init(&c->wr, &c->to);
	c->wr.create = true;
	return 0;
}

struct xfer_copy *held_copy_start(struct xfer *x, const char *src, const char *out,
				  const char *name, enum xfer_err *code, char *err, size_t errcap)
{
	struct xfer_copy *c = calloc(1, sizeof *c);
	if (c == NULL || copy_setup(c, x, src, out, name) != 0) {
		if (c)
			copy_free(c);
		*code = XFER_E_INTERNAL;
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	struct stat sb;
	c->part_existed = lstat(c->part, &sb) == 0;
	c->m = x->m;
	c->started_us = c->shown_us = mono_now_us();
	c->j.run = copy_run;
	c->j.done = copy_done;
	log_info("fetch of %s into %s: copying this node's copy in %s", c->hex, out, src);
	hashpool_submit(c->m->pool, &c->j);
	return c;
}

void xfer_copy_watch(struct xfer_copy *c, xfer_copy_cb *cb, void *arg)
{
	c->cb = cb;
	c->arg = arg;
}

void xfer_copy_get_info(const struct xfer_copy *c, struct xfer_copy_info *out)
{
	double s = (double)(mono_now_us() - c->started_us) / 1e6;
	out->cid_hex = c->hex;
	out->path = c->final;
	out->bytes_done = c->bytes_done;
	out->bytes_total = manifest_total_size(c->man);
	out->seconds = s;
	out->rate = s > 0 ? (uint64_t)((double)c->bytes_done / s) : 0;
	out->code = c->code;
	out->error = c->err;
}
