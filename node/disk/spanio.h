/* node/disk/spanio.h: worker threads' file I/O on a stream range given as pieces of files (a
 * span list, made on the loop thread by storage_spans()). A worker opens what it reads itself,
 * beneath the list's base directory without following links (node/disk/beneath.h), and never
 * shares a descriptor with the loop. The caller owns the lists. */
#ifndef NODE_SPANIO_H
#define NODE_SPANIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SPANIO_ERR_MAX 512

/* A stream range as pieces of files. */
struct span {
	char *path;     /* the full path, for messages */
	char *rel;      /* the path beneath the list's BASE, for opening */
	uint64_t file_off;
	uint64_t len;
};
struct span_list {
	struct span *v;
	uint32_t n;
	uint64_t off, len; /* the stream range covered */
	char *base;        /* the directory holding the content's root */
};

void span_list_free(struct span_list *l); /* frees the contents, not L */

/* Format an error message (what failed, and where) into ERR, of CAP bytes. */
void io_errf(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Open span I's file (O_CREAT in FLAGS: creating it and its parent directories as needed).
 * Return the descriptor, or -1 with ERR set. */
int span_open(const struct span_list *l, uint32_t i, int flags, char *err, size_t errcap);

/* Reading a span list on a worker: one descriptor kept open between calls. Set CREATE after
 * span_reader_init() to write too: files and their parent directories are then created as
 * needed. */
struct span_reader {
	const struct span_list *l;
	uint32_t cur;
	int fd;
	bool create;
};
void span_reader_init(struct span_reader *r, const struct span_list *l);
void span_reader_close(struct span_reader *r);
/* Read LEN bytes at stream offset OFF (within the list's range). Return 0, or -1 with ERR. */
int span_read(struct span_reader *r, uint64_t off, void *buf, size_t len, char *err,
	      size_t errcap);
/* Write LEN bytes at stream offset OFF (the reader must have CREATE set). Return 0, or -1
 * with ERR set (ENOSPC among others). */
int span_write(struct span_reader *r, uint64_t off, const void *buf, size_t len, char *err,
	       size_t errcap);
/* Start writing [OFF, OFF + LEN) to disk without waiting (sync_file_range), so that the
 * fdatasync before a finished download is renamed into place has little left to do. */
void span_start_writeback(struct span_reader *r, uint64_t off, uint64_t len);
/* Whether [OFF, OFF + LEN) has a hole (a range never written) or lies past a file's end: such a
 * chunk cannot be complete, so a resume need not hash it. Errors count as holes. */
bool span_has_hole(struct span_reader *r, uint64_t off, uint64_t len);

#endif
