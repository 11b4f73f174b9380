/* node/disk/storage.h: where one content's bytes live on disk, for the loop thread. The files
 * lie end to end as one byte stream under a root as transfer/layout.h says. This module writes
 * received blocks with pwrite and reads blocks to upload with pread or file maps (with
 * descriptors it opens lazily), checks that a shared file is still the one hashed, and lists
 * spans by full path for worker threads (their I/O: node/disk/spanio.h). Scanning a path to
 * share is node/disk/scan.c's.
 * Objects returned are the caller's to free; error texts name the file and the reason. */
#ifndef NODE_STORAGE_H
#define NODE_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/disk/scan.h"
#include "node/disk/spanio.h"
#include "transfer/manifest.h"

#define STORAGE_ERR_MAX SPANIO_ERR_MAX

struct storage;

/* Storage for NFILES files with manifest PATHS and SIZES under ROOT. One file whose path has no
 * '/' is ROOT itself; otherwise each file is ROOT/PATH with PATH's first component removed if
 * STRIP (it names ROOT). WRITABLE: files are opened for writing and created as needed (a
 * download); otherwise only read. Return NULL on no memory. */
struct storage *storage_new(const char *root, uint32_t nfiles, const char *const *paths,
			    const uint64_t *sizes, bool strip, bool writable);
/* The same for a manifest's files. */
struct storage *storage_for_manifest(const struct manifest *m, const char *root, bool writable);
void storage_free(struct storage *st);

const char *storage_root(const struct storage *st);
uint64_t storage_total_size(const struct storage *st);
/* Point at ROOT from now on (after the partial root was renamed into place), read-only. Open
 * descriptors are closed. Return 0, or -1 on no memory (nothing changes). */
int storage_move(struct storage *st, const char *root);

/* Remember each file's identity as the share was hashed: SIZE and MTIME_NS as scanned (before
 * hashing), inode and device as they are now. */
void storage_record_idents(struct storage *st, const uint64_t *size, const int64_t *mtime_ns);
/* Whether the files holding [OFF, OFF + LEN) are still those recorded (size, modification time,
 * inode and device, by stat of the path, so a file replaced under its name counts as changed).
 * Return 0 if so or if nothing was recorded, else -1 with *FILE the first that changed. */
int storage_check(struct storage *st, uint64_t off, uint64_t len, uint32_t *file);
/* The full path of manifest path MPATH (a file's or a directory's; the tree's own name is the
 * root), malloc'd; NULL on no memory. */
char *storage_path_of(const struct storage *st, const char *mpath);
/* The path of manifest path MPATH beneath storage_base(), malloc'd; NULL on no memory. */
char *storage_rel_of(const struct storage *st, const char *mpath);
/* The directory holding the root, beneath which every file is opened without following links
 * (node/disk/beneath.h). */
const char *storage_base(const struct storage *st);
/* File I's full path and the stream range it covers; NULL if I is out of range. */
const char *storage_file(const struct storage *st, uint32_t i, uint64_t *off, uint64_t *size);

/* Write LEN bytes at stream offset OFF. Return 0, or -1 with ERR set. */
int storage_write(struct storage *st, uint64_t off, const void *buf, size_t len, char *err,
		  size_t errcap);
/* Read LEN bytes at stream offset OFF into BUF. Return 0, or -1 with ERR set (also for a file
 * shorter than the manifest says). */
int storage_read(struct storage *st, uint64_t off, void *buf, size_t len, char *err,
		 size_t errcap);

/* Uploads without a copy: a read-only map of a file, counted so that it outlives the storage
 * for as long as queued output still points into it. */
struct fmap;
void fmap_ref(struct fmap *m);
void fmap_unref(struct fmap *m); /* accepts NULL; unmaps at the last reference */
/* Return a pointer to LEN bytes at stream offset OFF, in a map of the one file that holds them
 * all, and set *MAP (take a reference for as long as the pointer is used); or NULL if they lie
 * in a small file, across files, or the file cannot be mapped: then use storage_read(). The
 * bytes may be handed to the kernel (write, send) but not read here: a file truncated under
 * the map faults on access. */
const uint8_t *storage_map(struct storage *st, uint64_t off, size_t len, struct fmap **map);

/* Start reading [OFF, OFF + LEN) of a mapped file from disk in the background, so that the
 * uploads that follow do not stall the loop thread on a cold page. */
void storage_willneed(struct storage *st, uint64_t off, size_t len);

/* Fill OUT with the spans of [OFF, OFF + LEN) (empty files are left out). Return 0 or -1. */
int storage_spans(const struct storage *st, uint64_t off, uint64_t len, struct span_list *out);
/* Every file's full path, empty files included, in stream order. Return 0 or -1. */
int storage_all_paths(const struct storage *st, struct span_list *out);

#endif
