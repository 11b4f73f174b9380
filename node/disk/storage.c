/* One content's files on disk: the map from stream offsets to (file, offset), lazily opened
 * descriptors for the loop thread's pwrite and pread, the identity of each shared file as it was
 * hashed (so that a file changed in place is noticed before it is served), and path lists for
 * workers. Writes never preallocate: every byte of every file is written once, so a file
 * reaches its size exactly when its last chunk lands, and the parts never written stay holes
 * that a resume can skip without hashing. It does not hash, judge chunks, or know the session;
 * renaming a finished download into place is the caller's (it happens on a worker). */
#define _GNU_SOURCE /* SEEK_DATA, SEEK_HOLE */
#include "node/disk/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Descriptors one storage keeps open; past this all are closed and reopened on demand. A tree
 * of many small files would otherwise run the process out of descriptors. */
#define MAX_OPEN 64
/* Files at least this large are mapped for uploads; smaller ones are read into a buffer. A map
 * per small file would cost more than the copy it saves, and a process has a limited number. */
#define MAP_MIN (1u << 20)

struct fmap {
	void *addr;
	size_t len;
	unsigned refs;
};

/* What says a shared file is the one hashed, short of reading it. */
struct ident {
	uint64_t size, ino, dev;
	int64_t mtime_ns;
};

struct sfile {
	char *full;      /* the path on disk */
	uint64_t size, off;
	struct ident id; /* as hashed (has_id) */
	bool has_id;
	int fd;
	struct fmap *map;
	bool nomap;      /* mapping failed once: read instead */
};

struct storage {
	char *root;
	bool writable, single, strip;
	uint32_t n, nopen;
	uint64_t total;
	char **mpath;    /* manifest paths, to rebuild full paths after a move */
	struct sfile *f;
};

static void set_err(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

/* ---- layout ---- */

static char *join_path(const char *root, const char *mpath, bool single, bool strip)
{
	if (single)
		return strdup(root);
	const char *rel = mpath;
	if (strip) {
		const char *slash = strchr(mpath, '/');
		rel = slash ? slash + 1 : mpath;
	}
	size_t len = strlen(root) + 1 + strlen(rel) + 1;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s/%s", root, rel);
	return p;
}

static int build_paths(struct storage *st)
{
	for (uint32_t i = 0; i < st->n; i++) {
		char *p = join_path(st->root, st->mpath[i], st->single, st->strip);
		if (p == NULL)
			return -1;
		free(st->f[i].full);
		st->f[i].full = p;
	}
	return 0;
}

struct storage *storage_new(const char *root, uint32_t nfiles, const char *const *paths,
			    const uint64_t *sizes, bool strip, bool writable)
{
	struct storage *st = calloc(1, sizeof *st);
	if (st == NULL)
		return NULL;
	st->n = nfiles;
	st->writable = writable;
	st->single = nfiles == 1 && strchr(paths[0], '/') == NULL;
	st->strip = strip;
	st->root = strdup(root);
	st->f = calloc(nfiles, sizeof *st->f);
	st->mpath = calloc(nfiles, sizeof *st->mpath);
	if (st->root == NULL || st->f == NULL || st->mpath == NULL)
		goto fail;
	for (uint32_t i = 0; i < nfiles; i++) {
		st->f[i].fd = -1;
		st->f[i].size = sizes[i];
		st->f[i].off = st->total;
		st->total += sizes[i];
		if ((st->mpath[i] = strdup(paths[i])) == NULL)
			goto fail;
	}
	if (build_paths(st) == 0)
		return st;
fail:
	storage_free(st);
	return NULL;
}

struct storage *storage_for_manifest(const struct manifest *m, const char *root, bool writable)
{
	uint32_t n = manifest_file_count(m);
	const char **paths = calloc(n, sizeof *paths);
	uint64_t *sizes = calloc(n, sizeof *sizes);
	char *name = storage_content_name(m);
	struct storage *st = NULL;
	if (paths == NULL || sizes == NULL)
		goto out;
	for (uint32_t i = 0; i < n; i++) {
		struct manifest_file f;
		manifest_file(m, i, &f);
		paths[i] = f.path;
		sizes[i] = f.size;
	}
	st = storage_new(root, n, paths, sizes, name != NULL, writable);
out:
	free(name);
	free(paths);
	free(sizes);
	return st;
}

static void close_all(struct storage *st)
{
	for (uint32_t i = 0; i < st->n; i++)
		if (st->f[i].fd >= 0) {
			close(st->f[i].fd);
			st->f[i].fd = -1;
		}
	st->nopen = 0;
}

void fmap_ref(struct fmap *m)
{
	m->refs++;
}

void fmap_unref(struct fmap *m)
{
	if (m == NULL || --m->refs > 0)
		return;
	munmap(m->addr, m->len);
	free(m);
}

void storage_free(struct storage *st)
{
	if (st == NULL)
		return;
	for (uint32_t i = 0; st->f && i < st->n; i++) {
		if (st->f[i].fd >= 0)
			close(st->f[i].fd);
		fmap_unref(st->f[i].map);
		free(st->f[i].full);
	}
	for (uint32_t i = 0; st->mpath && i < st->n; i++)
		free(st->mpath[i]);
	free(st->mpath);
	free(st->f);
	free(st->root);
	free(st);
}

const char *storage_root(const struct storage *st)
{
	return st->root;
}

uint64_t storage_total_size(const struct storage *st)
{
	return st->total;
}

int storage_move(struct storage *st, const char *root)
{
	char *r = strdup(root);
	if (r == NULL)
		return -1;
	close_all(st);
	free(st->root);
	st->root = r;
	st->writable = false;
	return build_paths(st);
}

char *storage_content_name(const struct manifest *m)
{
	struct manifest_file f;
	if (manifest_file(m, 0, &f) != 0)
		return NULL;
	const char *slash = strchr(f.path, '/');
	if (manifest_file_count(m) == 1 && slash == NULL)
		return strdup(f.path);
	if (slash == NULL)
		return NULL;
	size_t len = (size_t)(slash - f.path);
	for (uint32_t i = 1; i < manifest_file_count(m); i++) {
		struct manifest_file g;
		manifest_file(m, i, &g);
		if (strncmp(g.path, f.path, len + 1) != 0)
			return NULL;
	}
	return strndup(f.path, len);
}

/* The first non-empty file holding stream offset OFF (< total). Binary search: trees may hold
 * tens of thousands of files. */
static uint32_t file_at(const struct storage *st, uint64_t off)
{
	uint32_t lo = 0, hi = st->n;
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (st->f[mid].off <= off)
			lo = mid;
		else
			hi = mid;
	}
	while (lo < st->n && st->f[lo].off + st->f[lo].size <= off)
		lo++;
	return lo;
}

/* ---- is a shared file still the one hashed? ---- */

static struct ident ident_of(const struct stat *sb)
{
	return (struct ident){ (uint64_t)sb->st_size, (uint64_t)sb->st_ino, (uint64_t)sb->st_dev,
			       (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec };
}

void storage_record_idents(struct storage *st, const uint64_t *size, const int64_t *mtime_ns)
{
	for (uint32_t i = 0; i < st->n; i++) {
		struct stat sb;
		/* A file gone already is recorded without an inode: the first check finds it changed. */
		struct ident now = stat(st->f[i].full, &sb) == 0 ? ident_of(&sb) : (struct ident){ 0 };
		st->f[i].id = (struct ident){ size[i], now.ino, now.dev, mtime_ns[i] };
		st->f[i].has_id = true;
	}
}

int storage_check(struct storage *st, uint64_t off, uint64_t len, uint32_t *file)
{
	if (len == 0 || off >= st->total)
		return 0;
	for (uint32_t i = file_at(st, off); i < st->n && st->f[i].off < off + len; i++) {
		const struct sfile *f = &st->f[i];
		struct stat sb;
		if (!f->has_id || f->size == 0)
			continue;
		struct ident now = stat(f->full, &sb) == 0 ? ident_of(&sb) : (struct ident){ 0 };
		if (now.size != f->id.size || now.mtime_ns != f->id.mtime_ns ||
		    now.ino != f->id.ino || now.dev != f->id.dev) {
			*file = i;
			return -1;
		}
	}
	return 0;
}

char *storage_path_of(const struct storage *st, const char *mpath)
{
	if (st->strip && strchr(mpath, '/') == NULL)
		return strdup(st->root);
	return join_path(st->root, mpath, st->single, st->strip);
}

const char *storage_file(const struct storage *st, uint32_t i, uint64_t *off, uint64_t *size)
{
	if (i >= st->n)
		return NULL;
	*off = st->f[i].off;
	*size = st->f[i].size;
	return st->f[i].full;
}

/* ---- the loop thread's descriptors ---- */

int storage_mkparents(const char *base, const char *path)
{
	size_t skip = strlen(base);
	char *p = strdup(path);
	if (p == NULL)
		return -1;
	int rc = 0;
	for (char *s = p + skip + 1; rc == 0 && (s = strchr(s, '/')) != NULL; s++) {
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			rc = -1;
		*s = '/';
	}
	free(p);
	return rc;
}

/* The directory that holds the root: what exists before a download starts. */
static char *root_parent(const struct storage *st)
{
	char *p = strdup(st->root);
	char *slash = p ? strrchr(p, '/') : NULL;
	if (slash)
		slash[slash == p ? 1 : 0] = '\0';
	return p;
}

static int open_file(struct storage *st, uint32_t i, char *err, size_t cap)
{
	struct sfile *f = &st->f[i];
	if (f->fd >= 0)
		return f->fd;
	if (st->nopen >= MAX_OPEN)
		close_all(st);
	int flags = (st->writable ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC;
	f->fd = open(f->full, flags, 0644);
	if (f->fd < 0 && errno == ENOENT && st->writable && !st->single) {
		char *parent = root_parent(st);
		if (parent && storage_mkparents(parent, f->full) == 0)
			f->fd = open(f->full, flags, 0644);
		free(parent);
	}
	if (f->fd < 0) {
		set_err(err, cap, "cannot open %s: %s", f->full, strerror(errno));
		return -1;
	}
	st->nopen++;
	return f->fd;
}

/* Only the kernel reads the mapped bytes (writev copies them into the socket), so a file cut
 * short under us costs that connection an EFAULT, not the process a SIGBUS. */
const uint8_t *storage_map(struct storage *st, uint64_t off, size_t len, struct fmap **map)
{
	char err[STORAGE_ERR_MAX];
	if (off >= st->total)
		return NULL;
	uint32_t i = file_at(st, off);
	struct sfile *f = &st->f[i];
	if (f->size < MAP_MIN || f->nomap || off + len > f->off + f->size)
		return NULL;
	if (f->map == NULL) {
		int fd = open_file(st, i, err, sizeof err);
		void *a = fd >= 0 ? mmap(NULL, f->size, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
		f->map = a != MAP_FAILED ? calloc(1, sizeof *f->map) : NULL;
		if (f->map == NULL) {
			if (a != MAP_FAILED)
				munmap(a, f->size);
			f->nomap = fd >= 0;
			return NULL;
		}
		*f->map = (struct fmap){ a, f->size, 1 };
	}
	*map = f->map;
	return (const uint8_t *)f->map->addr + (off - f->off);
}

void storage_willneed(struct storage *st, uint64_t off, size_t len)
{
	uint32_t i = off < st->total ? file_at(st, off) : st->n;
	if (i >= st->n || st->f[i].map == NULL)
		return;
	struct sfile *f = &st->f[i];
	uint64_t in = off - f->off, page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t start = in / page * page, end = in + len < f->size ? in + len : f->size;
	madvise((uint8_t *)f->map->addr + start, (size_t)(end - start), MADV_WILLNEED);
}

/* Move LEN bytes between BUF and the content at OFF, across file boundaries: pwrite when
 * WRITE, else pread. Return 0, or -1 with what failed and where in ERR. */
static int storage_io(struct storage *st, uint64_t off, uint8_t *b, size_t len, bool write,
		      char *err, size_t errcap)
{
	while (len > 0) {
		uint32_t i = off < st->total ? file_at(st, off) : st->n;
		if (i >= st->n) {
			set_err(err, errcap, "%s past the end of the content", write ? "write" : "read");
			return -1;
		}
		struct sfile *f = &st->f[i];
		uint64_t in = off - f->off;
		size_t n = f->size - in < len ? (size_t)(f->size - in) : len;
		int fd = open_file(st, i, err, errcap);
		if (fd < 0)
			return -1;
		ssize_t k = write ? pwrite(fd, b, n, (off_t)in) : pread(fd, b, n, (off_t)in);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0) {
			set_err(err, errcap, "%s %s: %s", write ? "writing" : "reading", f->full,
				k < 0 ? strerror(errno)
				: write ? "nothing written" : "the file is shorter than when it was shared");
			return -1;
		}
		b += k;
		off += (uint64_t)k;
		len -= (size_t)k;
	}
	return 0;
}

int storage_write(struct storage *st, uint64_t off, const void *buf, size_t len, char *err,
		  size_t errcap)
{
	/* storage_io only reads from BUF when writing. */
	return storage_io(st, off, (uint8_t *)(uintptr_t)buf, len, true, err, errcap);
}

int storage_read(struct storage *st, uint64_t off, void *buf, size_t len, char *err,
		 size_t errcap)
{
	return storage_io(st, off, buf, len, false, err, errcap);
}

/* ---- span lists, for workers ---- */

void span_list_free(struct span_list *l)
{
	for (uint32_t i = 0; l->v && i < l->n; i++)
		free(l->v[i].path);
	free(l->v);
	memset(l, 0, sizeof *l);
}

int storage_spans(const struct storage *st, uint64_t off, uint64_t len, struct span_list *out)
{
	memset(out, 0, sizeof *out);
	out->off = off;
	out->len = len;
	if (len == 0 || off + len > st->total)
		return len == 0 ? 0 : -1;
	uint32_t first = file_at(st, off), last = file_at(st, off + len - 1);
	out->v = calloc(last - first + 1, sizeof *out->v);
	if (out->v == NULL)
		return -1;
	for (uint32_t i = first; i <= last; i++) {
		const struct sfile *f = &st->f[i];
		if (f->size == 0)
			continue;
		uint64_t a = off > f->off ? off : f->off;
		uint64_t b = off + len < f->off + f->size ? off + len : f->off + f->size;
		struct span *s = &out->v[out->n++];
		s->file_off = a - f->off;
		s->len = b - a;
		if ((s->path = strdup(f->full)) == NULL) {
			span_list_free(out);
			return -1;
		}
	}
	return 0;
}

int storage_all_paths(const struct storage *st, struct span_list *out)
{
	memset(out, 0, sizeof *out);
	out->v = calloc(st->n, sizeof *out->v);
	if (out->v == NULL)
		return -1;
	out->len = st->total;
	for (uint32_t i = 0; i < st->n; i++) {
		out->v[i].len = st->f[i].size;
		if ((out->v[i].path = strdup(st->f[i].full)) == NULL) {
			span_list_free(out);
			return -1;
		}
		out->n++;
	}
	return 0;
}

void span_reader_init(struct span_reader *r, const struct span_list *l)
{
	r->l = l;
	r->cur = 0;
	r->fd = -1;
	r->create_base = NULL;
}

void span_reader_close(struct span_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
}

/* The span holding list-relative offset *REL; *REL becomes the offset inside it. */
static int span_find(const struct span_list *l, uint64_t *rel)
{
	for (uint32_t i = 0; i < l->n; i++) {
		if (*rel < l->v[i].len)
			return (int)i;
		*rel -= l->v[i].len;
	}
	return -1;
}

static int reader_open(struct span_reader *r, uint32_t i, char *err, size_t errcap)
{
	if (r->fd >= 0 && r->cur == i)
		return r->fd;
	span_reader_close(r);
	const char *path = r->l->v[i].path;
	int flags = (r->create_base ? O_RDWR | O_CREAT : O_RDONLY) | O_CLOEXEC;
	r->fd = open(path, flags, 0644);
	if (r->fd < 0 && errno == ENOENT && r->create_base &&
	    storage_mkparents(r->create_base, path) == 0)
		r->fd = open(path, flags, 0644);
	r->cur = i;
	if (r->fd < 0)
		set_err(err, errcap, "cannot open %s: %s", path, strerror(errno));
	return r->fd;
}

/* Read or write LEN bytes at stream offset OFF through the spans. */
static int span_io(struct span_reader *r, uint64_t off, uint8_t *b, size_t len, bool write,
		   char *err, size_t errcap)
{
	uint64_t rel = off - r->l->off;
	int i = span_find(r->l, &rel);
	while (len > 0 && i >= 0 && (uint32_t)i < r->l->n) {
		const struct span *s = &r->l->v[i];
		size_t n = s->len - rel < len ? (size_t)(s->len - rel) : len;
		int fd = reader_open(r, (uint32_t)i, err, errcap);
		if (fd < 0)
			return -1;
		off_t at = (off_t)(s->file_off + rel);
		ssize_t got = write ? pwrite(fd, b, n, at) : pread(fd, b, n, at);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			set_err(err, errcap, "%s %s: %s", write ? "writing" : "reading", s->path,
				got < 0 ? strerror(errno) : "the file is shorter than expected");
			return -1;
		}
		b += got;
		len -= (size_t)got;
		rel += (uint64_t)got;
		if (rel == s->len) {
			rel = 0;
			i++;
		}
	}
	if (len > 0) {
		set_err(err, errcap, "%s past the end of the spans", write ? "write" : "read");
		return -1;
	}
	return 0;
}

int span_read(struct span_reader *r, uint64_t off, void *buf, size_t len, char *err,
	      size_t errcap)
{
	return span_io(r, off, buf, len, false, err, errcap);
}

int span_write(struct span_reader *r, uint64_t off, const void *buf, size_t len, char *err,
	       size_t errcap)
{
	if (r->create_base == NULL) {
		set_err(err, errcap, "the spans were opened for reading");
		return -1;
	}
	return span_io(r, off, (uint8_t *)buf, len, true, err, errcap);
}

void span_start_writeback(struct span_reader *r, uint64_t off, uint64_t len)
{
	char err[STORAGE_ERR_MAX];
	uint64_t rel = off - r->l->off;
	int i = span_find(r->l, &rel);
	while (len > 0 && i >= 0 && (uint32_t)i < r->l->n) {
		const struct span *s = &r->l->v[i];
		uint64_t n = s->len - rel < len ? s->len - rel : len;
		int fd = reader_open(r, (uint32_t)i, err, sizeof err);
		if (fd >= 0)
			sync_file_range(fd, (off_t)(s->file_off + rel), (off_t)n,
					SYNC_FILE_RANGE_WRITE);
		len -= n;
		rel = 0;
		i++;
	}
}

bool span_has_hole(struct span_reader *r, uint64_t off, uint64_t len)
{
	char err[STORAGE_ERR_MAX];
	uint64_t rel = off - r->l->off;
	int i = span_find(r->l, &rel);
	while (len > 0 && i >= 0 && (uint32_t)i < r->l->n) {
		const struct span *s = &r->l->v[i];
		uint64_t n = s->len - rel < len ? s->len - rel : len;
		int fd = reader_open(r, (uint32_t)i, err, sizeof err);
		if (fd < 0)
			return true;
		off_t at = (off_t)(s->file_off + rel);
		/* SEEK_HOLE also finds the end of the file, which counts as a hole here. */
		off_t hole = lseek(fd, at, SEEK_HOLE);
		if (hole < 0 || (uint64_t)hole < s->file_off + rel + n)
			return true;
		len -= n;
		rel = 0;
		i++;
	}
	return len > 0;
}
