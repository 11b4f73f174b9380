/* One content's files on disk, for the loop thread: lazily opened descriptors for pwrite and
 * pread, file maps for uploads, the identity of each shared file as it was hashed (so that a
 * file changed in place is noticed before it is served), and span lists for workers (whose I/O
 * is node/disk/spanio.c's). Where each file lies in the stream is transfer/layout.c's. Writes
 * never preallocate: every byte of every file is written once, so a file reaches its size
 * exactly when its last chunk lands, and the parts never written stay holes that a resume can
 * skip without hashing. It does not hash, judge chunks, or know the session; renaming a
 * finished download into place is the caller's (it happens on a worker). */
#define _GNU_SOURCE /* madvise */
#include "node/disk/storage.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/disk/beneath.h"
#include "transfer/layout.h"

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
	char *full;      /* the path on disk, as the user named the root: for messages */
	char *rel;       /* the path beneath BASE, opened without following links */
	uint64_t size, off; /* as the layout says, kept here for the hot paths */
	struct ident id; /* as hashed (has_id) */
	bool has_id;
	int fd;
	struct fmap *map;
	bool nomap;      /* mapping failed once: read instead */
};

struct storage {
	char *root;
	char *base, *top; /* the directory holding the root, and the root's name in it */
	bool writable;
	uint32_t n, nopen;
	uint64_t total;
	struct layout *lay;
	struct sfile *f;
};

/* ---- paths under the root ---- */

static char *join_path(const char *root, const char *rel)
{
	if (rel[0] == '\0')
		return strdup(root);
	size_t len = strlen(root) + 1 + strlen(rel) + 1;
	char *p = malloc(len);
	if (p)
		snprintf(p, len, "%s/%s", root, rel);
	return p;
}

/* Split ROOT into the directory that holds it and its name. A share's root is resolved first
 * (the user may name it through a link); a download's root is taken as written, since its own
 * name must never be a link (one planted there would redirect the writes). */
static int split_root(struct storage *st)
{
	char *real = st->writable ? NULL : realpath(st->root, NULL);
	const char *r = real ? real : st->root;
	const char *slash = strrchr(r, '/');
	free(st->base);
	free(st->top);
	st->base = slash == NULL ? strdup(".")
		   : slash == r ? strdup("/") : strndup(r, (size_t)(slash - r));
	st->top = strdup(slash ? slash + 1 : r);
	free(real);
	return st->base && st->top ? 0 : -1;
}

static int build_paths(struct storage *st)
{
	if (split_root(st) != 0)
		return -1;
	for (uint32_t i = 0; i < st->n; i++) {
		const char *rel = layout_file(st->lay, i, &st->f[i].off, &st->f[i].size);
		char *p = join_path(st->root, rel), *q = join_path(st->top, rel);
		if (p == NULL || q == NULL) {
			free(p);
			free(q);
			return -1;
		}
		free(st->f[i].full);
		free(st->f[i].rel);
		st->f[i].full = p;
		st->f[i].rel = q;
	}
	return 0;
}

static struct storage *storage_of(const char *root, struct layout *lay, bool writable)
{
	struct storage *st = calloc(1, sizeof *st);
	if (st == NULL) {
		layout_free(lay);
		return NULL;
	}
	st->lay = lay;
	st->writable = writable;
	st->root = strdup(root);
	if (lay == NULL || st->root == NULL)
		goto fail;
	st->n = layout_count(lay);
	st->total = layout_total(lay);
	if ((st->f = calloc(st->n ? st->n : 1, sizeof *st->f)) == NULL)
		goto fail;
	for (uint32_t i = 0; i < st->n; i++)
		st->f[i].fd = -1;
	if (build_paths(st) == 0)
		return st;
fail:
	storage_free(st);
	return NULL;
}

struct storage *storage_new(const char *root, uint32_t nfiles, const char *const *paths,
			    const uint64_t *sizes, bool strip, bool writable)
{
	return storage_of(root, layout_new(nfiles, paths, sizes, strip), writable);
}

struct storage *storage_for_manifest(const struct manifest *m, const char *root, bool writable)
{
	return storage_of(root, layout_for_manifest(m), writable);
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
		free(st->f[i].rel);
	}
	layout_free(st->lay);
	free(st->f);
	free(st->root);
	free(st->base);
	free(st->top);
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
		/* A file gone already (or a link now) is recorded without an inode: the first check
		 * finds it changed. */
		struct ident now = stat_beneath(st->base, st->f[i].rel, &sb) == 0 && S_ISREG(sb.st_mode)
					   ? ident_of(&sb) : (struct ident){ 0 };
		st->f[i].id = (struct ident){ size[i], now.ino, now.dev, mtime_ns[i] };
		st->f[i].has_id = true;
	}
}

int storage_check(struct storage *st, uint64_t off, uint64_t len, uint32_t *file)
{
	if (len == 0 || off >= st->total)
		return 0;
	for (uint32_t i = layout_file_at(st->lay, off); i < st->n && st->f[i].off < off + len; i++) {
		const struct sfile *f = &st->f[i];
		struct stat sb;
		if (!f->has_id || f->size == 0)
			continue;
		struct ident now = stat_beneath(st->base, f->rel, &sb) == 0 && S_ISREG(sb.st_mode)
					   ? ident_of(&sb) : (struct ident){ 0 };
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
	char *rel = layout_rel_path(st->lay, mpath);
	char *p = rel ? join_path(st->root, rel) : NULL;
	free(rel);
	return p;
}

char *storage_rel_of(const struct storage *st, const char *mpath)
{
	char *rel = layout_rel_path(st->lay, mpath);
	char *p = rel ? join_path(st->top, rel) : NULL;
	free(rel);
	return p;
}

const char *storage_base(const struct storage *st)
{
	return st->base;
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

/* Whether the file open at FD is a regular file, and the one recorded as hashed (if any). */
static bool file_is_recorded(const struct sfile *f, int fd)
{
	struct stat sb;
	if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode))
		return false;
	return !f->has_id || ((uint64_t)sb.st_ino == f->id.ino && (uint64_t)sb.st_dev == f->id.dev);
}

static int open_file(struct storage *st, uint32_t i, char *err, size_t cap)
{
	struct sfile *f = &st->f[i];
	if (f->fd >= 0)
		return f->fd;
	if (st->nopen >= MAX_OPEN)
		close_all(st);
	int flags = st->writable ? O_RDWR | O_CREAT : O_RDONLY;
	f->fd = open_beneath(st->base, f->rel, flags | O_NONBLOCK, 0666);
	if (f->fd < 0 && errno == ENOENT && st->writable && !layout_single(st->lay) &&
	    mkdirs_beneath(st->base, f->rel, 1) == 0)
		f->fd = open_beneath(st->base, f->rel, flags | O_NONBLOCK, 0666);
	if (f->fd >= 0 && (st->writable ? !fd_is_own_file(f->fd) : !file_is_recorded(f, f->fd))) {
		close(f->fd);
		f->fd = -1;
		io_errf(err, cap, "cannot open %s: %s", f->full,
			st->writable ? "it is not a file of ours (a FIFO, a device, or a file with "
				       "other hard links)" : "it is not the file that was shared");
		return -1;
	}
	if (f->fd < 0) {
		io_errf(err, cap, "cannot open %s: %s", f->full,
			errno == ELOOP ? "it is (or lies under) a symbolic link" : strerror(errno));
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
	uint32_t i = layout_file_at(st->lay, off);
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
	uint32_t i = layout_file_at(st->lay, off);
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
		uint32_t i = layout_file_at(st->lay, off);
		if (i >= st->n) {
			io_errf(err, errcap, "%s past the end of the content", write ? "write" : "read");
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
			io_errf(err, errcap, "%s %s: %s", write ? "writing" : "reading", f->full,
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

int storage_spans(const struct storage *st, uint64_t off, uint64_t len, struct span_list *out)
{
	memset(out, 0, sizeof *out);
	out->off = off;
	out->len = len;
	if (len == 0 || off + len > st->total)
		return len == 0 ? 0 : -1;
	uint32_t first = layout_file_at(st->lay, off), last = layout_file_at(st->lay, off + len - 1);
	out->v = calloc(last - first + 1, sizeof *out->v);
	out->base = strdup(st->base);
	if (out->v == NULL || out->base == NULL) {
		span_list_free(out);
		return -1;
	}
	for (uint32_t i = first; i <= last; i++) {
		const struct sfile *f = &st->f[i];
		if (f->size == 0)
			continue;
		uint64_t a = off > f->off ? off : f->off;
		uint64_t b = off + len < f->off + f->size ? off + len : f->off + f->size;
		struct span *s = &out->v[out->n++];
		s->file_off = a - f->off;
		s->len = b - a;
		if ((s->path = strdup(f->full)) == NULL || (s->rel = strdup(f->rel)) == NULL) {
			span_list_free(out);
			return -1;
		}
	}
	return 0;
}

int storage_all_paths(const struct storage *st, struct span_list *out)
{
	memset(out, 0, sizeof *out);
	out->v = calloc(st->n ? st->n : 1, sizeof *out->v);
	out->base = strdup(st->base);
	if (out->v == NULL || out->base == NULL) {
		span_list_free(out);
		return -1;
	}
	out->len = st->total;
	for (uint32_t i = 0; i < st->n; i++) {
		struct span *s = &out->v[out->n++];
		s->len = st->f[i].size;
		if ((s->path = strdup(st->f[i].full)) == NULL || (s->rel = strdup(st->f[i].rel)) == NULL) {
			span_list_free(out);
			return -1;
		}
	}
	return 0;
}
