/* The transfers' work on the worker pool, each job in two halves: run() on a worker, with only
 * the job's own copies of paths and hashes, and done() on the loop, which applies the result if
 * its transfer still wants it. Jobs: hashing a share's chunks, checking a resumed download's
 * unrecorded chunks, verifying a downloaded chunk (read back from disk, so what is verified is
 * what will be served), saving the state file, and finishing a download (sync, directories,
 * modes and times, rename into place). Chunk buffers come from a small cache kept on the loop thread. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/disk/treemeta.h"
#include "node/log.h"
#include "node/xfer/xfer_impl.h"

#define HASH_JOB_BYTES (16u << 20) /* a share is hashed in jobs of this much data */
#define JOBS_PER_THREAD 2

/* ---- chunk buffers ---- */

uint8_t *jobs_buf_get(struct xfer_mgr *m, size_t size, size_t *cap)
{
	for (unsigned i = 0; i < m->nbufs; i++) {
		if (m->bufs[i].cap < size)
			continue;
		uint8_t *p = m->bufs[i].p;
		*cap = m->bufs[i].cap;
		m->bufs[i] = m->bufs[--m->nbufs];
		return p;
	}
	*cap = size;
	return malloc(size);
}

void jobs_buf_put(struct xfer_mgr *m, uint8_t *buf, size_t cap)
{
	if (buf == NULL)
		return;
	if (m->nbufs < XFER_MAX_BUFS) {
		m->bufs[m->nbufs++] = (struct jobbuf){ buf, cap };
		return;
	}
	free(buf);
}

void jobs_bufs_free(struct xfer_mgr *m)
{
	while (m->nbufs > 0)
		free(m->bufs[--m->nbufs].p);
}

/* ---- chunks held in memory while they arrive ---- */

static struct cbuf *cbuf_find(struct xfer *x, uint32_t chunk)
{
	for (unsigned i = 0; i < x->ncbufs; i++)
		if (x->cbufs[i].chunk == chunk)
			return &x->cbufs[i];
	return NULL;
}

static struct cbuf *cbuf_new(struct xfer *x, uint32_t chunk)
{
	struct xfer_mgr *m = x->m;
	uint32_t len = manifest_chunk_len(x->man, chunk);
	if (m->cbuf_bytes + len > XFER_CBUF_BYTES)
		return NULL;
	if (x->ncbufs == x->capcbufs) {
		unsigned cap = x->capcbufs ? x->capcbufs * 2 : 16;
		struct cbuf *n = realloc(x->cbufs, cap * sizeof *n);
		if (n == NULL)
			return NULL;
		x->cbufs = n;
		x->capcbufs = cap;
	}
	struct cbuf *c = &x->cbufs[x->ncbufs];
	c->chunk = chunk;
	c->mask = calloc(len / WIRE_BLOCK_SIZE / 8 + 1, 1);
	c->data = c->mask ? jobs_buf_get(m, len, &c->cap) : NULL;
	if (c->data == NULL) {
		free(c->mask);
		return NULL;
	}
	m->cbuf_bytes += c->cap;
	x->ncbufs++;
	return c;
}

static void cbuf_release(struct xfer_mgr *m, struct cbuf *c)
{
	m->cbuf_bytes -= c->cap;
	jobs_buf_put(m, c->data, c->cap);
	free(c->mask);
}

int jobs_keep_block(struct xfer *x, uint32_t chunk, uint32_t offset, const uint8_t *data,
		    size_t len)
{
	struct cbuf *c = cbuf_find(x, chunk);
	if (c == NULL && (c = cbuf_new(x, chunk)) == NULL)
		return -1;
	memcpy(c->data + offset, data, len);
	for (uint32_t b = offset / WIRE_BLOCK_SIZE; b * WIRE_BLOCK_SIZE < offset + len; b++)
		c->mask[b / 8] |= (uint8_t)(1u << (b % 8));
	return 0;
}

/* Take CHUNK's buffer out of the list into *OUT. Return whether there was one. */
static bool cbuf_take(struct xfer *x, uint32_t chunk, struct cbuf *out)
{
	struct cbuf *c = cbuf_find(x, chunk);
	if (c == NULL)
		return false;
	*out = *c;
	*c = x->cbufs[--x->ncbufs];
	return true;
}

void jobs_cbufs_free(struct xfer *x)
{
	while (x->ncbufs > 0)
		cbuf_release(x->m, &x->cbufs[--x->ncbufs]);
}

static uint32_t chunk_len(uint64_t total, uint32_t size, uint32_t i)
{
	uint64_t off = (uint64_t)i * size;
	return total - off < size ? (uint32_t)(total - off) : size;
}

/* ---- hashing a share, and checking a resumed download ---- */

/* A range of chunks. EXPECT: compare with these digests (checking) and SKIP those marked;
 * NULL: compute digests (hashing a share). */
struct range_job {
	struct hp_job j;
	struct xfer *x;
	struct span_list spans;
	uint32_t first, n, chunk_size;
	uint64_t total;
	uint8_t *buf;
	size_t bufcap;
	uint64_t gen;
	uint8_t *dig;            /* n digests: computed, or expected */
	uint8_t *skip, *good;    /* checking: n flags each */
	bool check;
	int rc;
	char err[STORAGE_ERR_MAX];
};

static void range_run(struct hp_job *j)
{
	struct range_job *r = (struct range_job *)j;
	struct span_reader rd;
	span_reader_init(&rd, &r->spans);
	for (uint32_t i = 0; i < r->n && !atomic_load(&j->cancelled); i++) {
		uint64_t off = (uint64_t)(r->first + i) * r->chunk_size;
		uint32_t len = chunk_len(r->total, r->chunk_size, r->first + i);
		uint8_t d[MANIFEST_HASH_LEN];
		if (r->check && (r->skip[i] || span_has_hole(&rd, off, len)))
			continue;
		if (span_read(&rd, off, r->buf, len, r->err, sizeof r->err) != 0) {
			if (r->check)
				continue; /* unreadable: simply not verified, fetched again */
			r->rc = -1;
			break;
		}
		manifest_sha256(r->buf, len, r->check ? d : r->dig + (size_t)i * MANIFEST_HASH_LEN);
		if (r->check)
			r->good[i] = memcmp(d, r->dig + (size_t)i * MANIFEST_HASH_LEN, sizeof d) == 0;
	}
	span_reader_close(&rd);
}

static void range_free(struct range_job *r)
{
	span_list_free(&r->spans);
	jobs_buf_put(r->x->m, r->buf, r->bufcap);
	free(r->dig);
	free(r->skip);
	free(r->good);
	free(r);
}

static void range_done(struct hp_job *j)
{
	struct range_job *r = (struct range_job *)j;
	struct xfer *x = r->x;
	bool live = !x->removed && j->ran && r->gen == x->gen && x->state == XFER_HASHING;
	if (r->gen == x->gen)
		x->jobs_out--;
	if (live && r->rc != 0) {
		xfer_fail(x, XFER_E_IO, "%s", r->err);
	} else if (live) {
		for (uint32_t i = 0; i < r->n; i++) {
			if (!r->check)
				memcpy(x->digests + (size_t)(r->first + i) * MANIFEST_HASH_LEN,
				       r->dig + (size_t)i * MANIFEST_HASH_LEN, MANIFEST_HASH_LEN);
			else if (r->good[i])
				bitfield_set(x->verified, r->first + i);
			x->bytes_hashed += chunk_len(r->total, r->chunk_size, r->first + i);
		}
		x->chunks_hashed += r->n;
		jobs_hash_more(x);
		if (x->chunks_hashed == x->nchunks && x->jobs_out == 0)
			(r->check ? xfer_check_done : xfer_share_hashed)(x);
	}
	range_free(r);
	xfer_unref(x);
}

static struct range_job *range_new(struct xfer *x, uint32_t first, uint32_t n)
{
	struct range_job *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->x = x;
	r->first = first;
	r->n = n;
	r->chunk_size = x->chunk_size;
	r->total = storage_total_size(x->sto);
	r->check = x->man != NULL;
	r->gen = x->gen;
	r->dig = malloc((size_t)n * MANIFEST_HASH_LEN);
	r->buf = jobs_buf_get(x->m, x->chunk_size, &r->bufcap);
	uint64_t off = (uint64_t)first * x->chunk_size;
	uint64_t end = (uint64_t)(first + n) * x->chunk_size;
	if (end > r->total)
		end = r->total;
	if (r->dig == NULL || r->buf == NULL || storage_spans(x->sto, off, end - off, &r->spans) != 0)
		goto fail;
	if (r->check) {
		r->skip = calloc(n, 1);
		r->good = calloc(n, 1);
		if (r->skip == NULL || r->good == NULL)
			goto fail;
		for (uint32_t i = 0; i < n; i++) {
			r->skip[i] = bitfield_test(x->verified, first + i);
			memcpy(r->dig + (size_t)i * MANIFEST_HASH_LEN,
			       manifest_chunk_hash(x->man, first + i), MANIFEST_HASH_LEN);
		}
	}
	return r;
fail:
	range_free(r);
	return NULL;
}

void jobs_hash_more(struct xfer *x)
{
	if (x->m->closing)
		return;
	unsigned window = JOBS_PER_THREAD * hashpool_threads(x->m->pool);
	uint32_t per = HASH_JOB_BYTES / x->chunk_size ? HASH_JOB_BYTES / x->chunk_size : 1;
	while (x->jobs_out < window && x->next_chunk < x->nchunks) {
		uint32_t n = x->nchunks - x->next_chunk < per ? x->nchunks - x->next_chunk : per;
		struct range_job *r = range_new(x, x->next_chunk, n);
		if (r == NULL) {
			xfer_fail(x, XFER_E_INTERNAL, "out of memory while hashing");
			return;
		}
		r->j.run = range_run;
		r->j.done = range_done;
		x->next_chunk += n;
		x->jobs_out++;
		x->refs++;
		hashpool_submit(x->m->pool, &r->j);
	}
}

int jobs_check(struct xfer *x)
{
	x->nchunks = manifest_chunk_count(x->man);
	x->gen++;
	x->jobs_out = 0;
	x->next_chunk = x->chunks_hashed = 0;
	x->bytes_hashed = 0;
	x->state = XFER_HASHING;
	jobs_hash_more(x);
	return x->state == XFER_FAILED ? -1 : 0;
}

/* ---- verifying a downloaded chunk ---- */

struct verify_job {
	struct hp_job j;
	struct xfer *x;
	struct span_list spans;
	uint32_t chunk, len;
	uint64_t gen;
	uint8_t expect[MANIFEST_HASH_LEN];
	bool want, ok;
	struct cbuf held;        /* the chunk's blocks kept in memory (held.data), if any */
	char *base;              /* where files may be created */
	uint8_t *buf, *digests;  /* buf: held.data, or a buffer of the cache */
	size_t bufcap;
	int rc;
	char err[STORAGE_ERR_MAX];
};

/* Write the blocks held in memory, then read the whole chunk back: what is verified is what
 * the disk holds, whichever way each block got there. */
static int verify_load(struct verify_job *v)
{
	struct span_reader rd;
	span_reader_init(&rd, &v->spans);
	rd.create_base = v->base;
	int rc = 0;
	for (uint32_t b = 0; rc == 0 && v->held.data && b * WIRE_BLOCK_SIZE < v->len; b++) {
		if (!(v->held.mask[b / 8] & (1u << (b % 8))))
			continue;
		uint32_t off = b * WIRE_BLOCK_SIZE;
		uint32_t n = v->len - off < WIRE_BLOCK_SIZE ? v->len - off : WIRE_BLOCK_SIZE;
		rc = span_write(&rd, v->spans.off + off, v->held.data + off, n, v->err,
				sizeof v->err);
	}
	if (rc == 0 && v->held.data)
		span_start_writeback(&rd, v->spans.off, v->len);
	if (rc == 0)
		rc = span_read(&rd, v->spans.off, v->buf, v->len, v->err, sizeof v->err);
	span_reader_close(&rd);
	return rc;
}

static void verify_run(struct hp_job *j)
{
	struct verify_job *v = (struct verify_job *)j;
	uint8_t d[MANIFEST_HASH_LEN];
	if ((v->rc = verify_load(v)) != 0)
		return;
	manifest_sha256(v->buf, v->len, d);
	v->ok = memcmp(d, v->expect, sizeof d) == 0;
	if (v->ok && !v->want)
		return;
	/* Per-block digests let the session tell which sender of a bad chunk lied. */
	for (uint32_t b = 0; (uint64_t)b * WIRE_BLOCK_SIZE < v->len; b++) {
		uint32_t off = b * WIRE_BLOCK_SIZE;
		uint32_t n = v->len - off < WIRE_BLOCK_SIZE ? v->len - off : WIRE_BLOCK_SIZE;
		manifest_sha256(v->buf + off, n, v->digests + (size_t)b * SESSION_DIGEST_LEN);
	}
}

static void verify_free(struct verify_job *v)
{
	span_list_free(&v->spans);
	if (v->held.data)
		cbuf_release(v->x->m, &v->held);
	else
		jobs_buf_put(v->x->m, v->buf, v->bufcap);
	free(v->base);
	free(v->digests);
	free(v);
}

static void verify_done(struct hp_job *j)
{
	struct verify_job *v = (struct verify_job *)j;
	struct xfer *x = v->x;
	if (!x->removed && j->ran && x->s != NULL && v->gen == x->gen) {
		if (v->rc != 0)
			xfer_fail(x, XFER_E_IO, "%s", v->err);
		else
			swarm_chunk_checked(x, v->chunk, v->ok, v->digests);
	}
	verify_free(v);
	xfer_unref(x);
}

int jobs_verify(struct xfer *x, uint32_t chunk, bool want_digests)
{
	if (x->m->closing)
		return 0;
	struct verify_job *v = calloc(1, sizeof *v);
	if (v == NULL)
		return -1;
	v->x = x;
	v->chunk = chunk;
	v->len = manifest_chunk_len(x->man, chunk);
	v->gen = x->gen;
	v->want = want_digests;
	memcpy(v->expect, manifest_chunk_hash(x->man, chunk), MANIFEST_HASH_LEN);
	if (cbuf_take(x, chunk, &v->held))
		v->buf = v->held.data; /* read back into the same memory */
	else
		v->buf = jobs_buf_get(x->m, v->len, &v->bufcap);
	v->base = strdup(x->path);
	v->digests = malloc(((size_t)v->len / WIRE_BLOCK_SIZE + 1) * SESSION_DIGEST_LEN);
	if (v->buf == NULL || v->base == NULL || v->digests == NULL ||
	    storage_spans(x->sto, (uint64_t)chunk * x->chunk_size, v->len, &v->spans) != 0) {
		verify_free(v);
		return -1;
	}
	v->j.run = verify_run;
	v->j.done = verify_done;
	x->refs++;
	hashpool_submit(x->m->pool, &v->j);
	return 0;
}

/* ---- saving the state ---- */

struct save_job {
	struct hp_job j;
	struct xfer *x;
	char *dir, *text;
	uint8_t *man;
	size_t manlen;
	int rc;
	char err[STORAGE_ERR_MAX];
};

static void save_run(struct hp_job *j)
{
	struct save_job *s = (struct save_job *)j;
	if (s->man)
		s->rc = xstate_write(s->dir, XSTATE_MANIFEST, s->man, s->manlen, s->err,
				     sizeof s->err);
	if (s->rc == 0)
		s->rc = xstate_write(s->dir, XSTATE_FILE, s->text, strlen(s->text), s->err,
				     sizeof s->err);
}

static void save_done(struct hp_job *j)
{
	struct save_job *s = (struct save_job *)j;
	if (!j->ran)
		s->rc = -1;
	xfer_saved(s->x, s->man != NULL, s->rc, s->rc && j->ran ? s->err : NULL);
	xfer_unref(s->x);
	free(s->dir);
	free(s->text);
	free(s->man);
	free(s);
}

int jobs_save(struct xfer *x)
{
	if (x->m->closing)
		return -1;
	struct save_job *s = calloc(1, sizeof *s);
	if (s == NULL)
		return -1;
	s->x = x;
	s->dir = strdup(x->statedir);
	s->text = xfer_state_text(x);
	if (x->man && !x->manifest_saved) {
		const uint8_t *b = manifest_bytes(x->man, &s->manlen);
		if ((s->man = malloc(s->manlen)) != NULL)
			memcpy(s->man, b, s->manlen);
	}
	if (s->dir == NULL || s->text == NULL || (x->man && !x->manifest_saved && !s->man)) {
		free(s->dir);
		free(s->text);
		free(s->man);
		free(s);
		return -1;
	}
	s->j.run = save_run;
	s->j.done = save_done;
	x->saving = true;
	x->refs++;
	hashpool_submit(x->m->pool, &s->j);
	return 0;
}

/* ---- finishing a download ---- */

struct fin_job {
	struct hp_job j;
	struct xfer *x;
	struct span_list files;
	char *parent, *part, *final, *statedir, *state;
	bool in_place;
	struct tree_meta *meta;  /* directories, modes and times to give the tree */
	uint64_t *size;
	int64_t *mtime_ns;
	int rc;
	char err[STORAGE_ERR_MAX];
};

/* Sync one file (creating it if empty files were never written) and note its size and time. */
static int fin_file(struct fin_job *f, uint32_t i)
{
	const char *path = f->files.v[i].path;
	struct stat sb;
	if (make_parent_dirs(f->parent, path) != 0) {
		snprintf(f->err, sizeof f->err, "cannot create the directories of %s: %s", path,
			 strerror(errno));
		return -1;
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || fdatasync(fd) != 0 || tree_meta_file(f->meta, i, fd) != 0 ||
	    fstat(fd, &sb) != 0) {
		snprintf(f->err, sizeof f->err, "cannot finish %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	f->size[i] = (uint64_t)sb.st_size;
	f->mtime_ns[i] = (int64_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec;
	return 0;
}

static void fin_run(struct hp_job *j)
{
	struct fin_job *f = (struct fin_job *)j;
	for (uint32_t i = 0; i < f->files.n; i++)
		if ((f->rc = fin_file(f, i)) != 0)
			return;
	if ((f->rc = tree_meta_dirs(f->meta, f->parent, f->err, sizeof f->err)) != 0)
		return;
	/* Every chunk is recorded before the rename: a node killed right after it finds the
	 * whole file verified under its final name, and uses it in place. */
	if ((f->rc = xstate_write(f->statedir, XSTATE_FILE, f->state, strlen(f->state), f->err,
				  sizeof f->err)) != 0 || f->in_place)
		return;
	/* Only now, with every chunk verified and synced, does the name appear. */
	f->rc = jobs_into_place(f->parent, f->part, f->final, f->err, sizeof f->err);
}

int jobs_into_place(const char *parent, const char *part, const char *final, char *err,
		    size_t errcap)
{
	if (access(final, F_OK) == 0) {
		snprintf(err, errcap, "%s appeared in the meantime; the data stays in %s", final,
			 part);
		return -1;
	}
	if (rename(part, final) != 0) {
		snprintf(err, errcap, "cannot rename %s to %s: %s", part, final, strerror(errno));
		return -1;
	}
	int dfd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

static void fin_free(struct fin_job *f)
{
	span_list_free(&f->files);
	free(f->parent);
	free(f->part);
	free(f->final);
	free(f->statedir);
	free(f->state);
	free(f->size);
	free(f->mtime_ns);
	tree_meta_free(f->meta);
	free(f);
}

static void fin_done(struct hp_job *j)
{
	struct fin_job *f = (struct fin_job *)j;
	struct xfer *x = f->x;
	x->finalizing = false;
	xfer_saved(x, false, 0, NULL);
	if (!x->removed && j->ran) {
		xfer_finished(x, f->rc, f->err, f->size, f->mtime_ns, f->files.n);
		f->size = NULL; /* taken */
		f->mtime_ns = NULL;
	}
	fin_free(f);
	xfer_unref(x);
}

int jobs_finalize(struct xfer *x)
{
	if (x->m->closing)
		return 0;
	struct fin_job *f = calloc(1, sizeof *f);
	if (f == NULL)
		return -1;
	f->x = x;
	f->in_place = x->in_place;
	f->parent = strdup(x->path);
	f->part = strdup(x->part_root);
	f->final = strdup(x->final_root);
	f->statedir = strdup(x->statedir);
	f->state = xfer_state_text(x);
	if (f->parent == NULL || f->part == NULL || f->final == NULL || f->statedir == NULL ||
	    f->state == NULL || (f->meta = tree_meta_new(x->man, x->sto)) == NULL ||
	    storage_all_paths(x->sto, &f->files) != 0)
		goto fail;
	f->size = calloc(f->files.n, sizeof *f->size);
	f->mtime_ns = calloc(f->files.n, sizeof *f->mtime_ns);
	if (f->size == NULL || f->mtime_ns == NULL)
		goto fail;
	f->j.run = fin_run;
	f->j.done = fin_done;
	x->finalizing = true;
	x->saving = true;
	x->dirty = false;
	x->refs++;
	hashpool_submit(x->m->pool, &f->j);
	return 0;
fail:
	fin_free(f);
	return -1;
}
