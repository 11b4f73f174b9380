/* Worker threads' I/O on span lists: pread and pwrite through one descriptor kept open per
 * reader, holes found with SEEK_HOLE, writeback started early, parent directories made as
 * needed. It knows neither the storage that made the list nor what the bytes mean. */
#define _GNU_SOURCE /* SEEK_HOLE, sync_file_range */
#include "node/disk/spanio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/disk/beneath.h"

void io_errf(char *err, size_t cap, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, cap, fmt, ap);
	va_end(ap);
}

void span_list_free(struct span_list *l)
{
	for (uint32_t i = 0; l->v && i < l->n; i++) {
		free(l->v[i].path);
		free(l->v[i].rel);
	}
	free(l->v);
	free(l->base);
	memset(l, 0, sizeof *l);
}

void span_reader_init(struct span_reader *r, const struct span_list *l)
{
	r->l = l;
	r->cur = 0;
	r->fd = -1;
	r->create = false;
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

int span_open(const struct span_list *l, uint32_t i, int flags, char *err, size_t errcap)
{
	const struct span *s = &l->v[i];
	int fd = open_beneath(l->base, s->rel, flags | O_NONBLOCK, 0666);
	if (fd < 0 && errno == ENOENT && (flags & O_CREAT) && mkdirs_beneath(l->base, s->rel, 1) == 0)
		fd = open_beneath(l->base, s->rel, flags | O_NONBLOCK, 0666);
	if (fd >= 0 && (flags & O_CREAT) && !fd_is_own_file(fd)) {
		close(fd);
		io_errf(err, errcap, "cannot write %s: it is not a file of ours (a FIFO, a device, or "
			"a file with other hard links)", s->path);
		return -1;
	}
	if (fd < 0)
		io_errf(err, errcap, "cannot open %s: %s", s->path,
			errno == ELOOP ? "it is (or lies under) a symbolic link" : strerror(errno));
	return fd;
}

static int reader_open(struct span_reader *r, uint32_t i, char *err, size_t errcap)
{
	if (r->fd >= 0 && r->cur == i)
		return r->fd;
	span_reader_close(r);
	r->fd = span_open(r->l, i, r->create ? O_RDWR | O_CREAT : O_RDONLY, err, errcap);
	r->cur = i;
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
			io_errf(err, errcap, "%s %s: %s", write ? "writing" : "reading", s->path,
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
		io_errf(err, errcap, "%s past the end of the spans", write ? "write" : "read");
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
	if (!r->create) {
		io_errf(err, errcap, "the spans were opened for reading");
		return -1;
	}
	return span_io(r, off, (uint8_t *)buf, len, true, err, errcap);
}

/* Each file piece of [OFF, OFF + LEN) with its open descriptor (-1 if it would not open), in
 * stream order, until FN returns false. Return whether every piece was visited and the range
 * lay within the spans. */
static bool each_piece(struct span_reader *r, uint64_t off, uint64_t len,
		       bool (*fn)(int fd, off_t at, uint64_t n, void *arg), void *arg)
{
	char err[SPANIO_ERR_MAX];
	uint64_t rel = off - r->l->off;
	int i = span_find(r->l, &rel);
	while (len > 0 && i >= 0 && (uint32_t)i < r->l->n) {
		const struct span *s = &r->l->v[i];
		uint64_t n = s->len - rel < len ? s->len - rel : len;
		int fd = reader_open(r, (uint32_t)i, err, sizeof err);
		if (!fn(fd, (off_t)(s->file_off + rel), n, arg))
			return false;
		len -= n;
		rel = 0;
		i++;
	}
	return len == 0;
}

static bool start_writeback(int fd, off_t at, uint64_t n, void *arg)
{
	(void)arg;
	if (fd >= 0)
		sync_file_range(fd, at, (off_t)n, SYNC_FILE_RANGE_WRITE);
	return true;
}

void span_start_writeback(struct span_reader *r, uint64_t off, uint64_t len)
{
	each_piece(r, off, len, start_writeback, NULL);
}

/* SEEK_HOLE also finds the end of the file, which counts as a hole here. */
static bool no_hole(int fd, off_t at, uint64_t n, void *arg)
{
	(void)arg;
	off_t hole = fd >= 0 ? lseek(fd, at, SEEK_HOLE) : -1;
	return hole >= 0 && (uint64_t)hole >= (uint64_t)at + n;
}

bool span_has_hole(struct span_reader *r, uint64_t off, uint64_t len)
{
	return !each_piece(r, off, len, no_hole, NULL);
}
