/* transfer/layout.h: how one content's files lie in its byte stream and under its root, with
 * no disk in sight. The files lie end to end in manifest order; each sits at a path relative to
 * the root (a single file whose path has no '/' is the root itself; in a tree the first path
 * component names the root and is stripped). node/disk/storage.c opens what this names.
 * Objects and strings returned are the caller's to free, unless said otherwise. */
#ifndef TRANSFER_LAYOUT_H
#define TRANSFER_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "transfer/manifest.h"

/* The name a content is saved under: its one file's path, or the first component its paths
 * share, or NULL if they share none (a manifest we did not make). */
char *layout_content_name(const struct manifest *m);

struct layout;

/* The layout of NFILES files with manifest PATHS and SIZES; STRIP: the first component of each
 * path names the root and is left out of the relative path. Return NULL on no memory. */
struct layout *layout_new(uint32_t nfiles, const char *const *paths, const uint64_t *sizes,
			  bool strip);
/* The same for a manifest's files. */
struct layout *layout_for_manifest(const struct manifest *m);
void layout_free(struct layout *l);

uint32_t layout_count(const struct layout *l);
uint64_t layout_total(const struct layout *l);
/* Whether the one file is the root itself (its relative path is then ""). */
bool layout_single(const struct layout *l);
/* File I's path relative to the root (owned by L), and the stream range it covers; NULL if I
 * is out of range. */
const char *layout_file(const struct layout *l, uint32_t i, uint64_t *off, uint64_t *size);
/* The first non-empty file holding stream offset OFF, or the count if OFF is past the end. */
uint32_t layout_file_at(const struct layout *l, uint64_t off);
/* The path relative to the root of manifest path MPATH (a file's or a directory's; the tree's
 * own name is "" ), malloc'd; NULL on no memory. */
char *layout_rel_path(const struct layout *l, const char *mpath);

#endif
