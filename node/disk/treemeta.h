/* node/disk/treemeta.h: what a fetched tree gets once its data is verified, beyond the bytes:
 * its directories (empty ones too), each file's executable bit and every entry's modification
 * time, as the manifest carries them. Built on the loop thread from the manifest and the
 * download's storage, applied on a worker; the object is the caller's to free. */
#ifndef NODE_DISK_TREEMETA_H
#define NODE_DISK_TREEMETA_H

#include <stddef.h>
#include <stdint.h>

#include "node/disk/storage.h"
#include "transfer/manifest.h"

struct tree_meta;

/* MAN's modes and times at the paths ST gives them. Return NULL on no memory. */
struct tree_meta *tree_meta_new(const struct manifest *man, const struct storage *st);
void tree_meta_free(struct tree_meta *t); /* accepts NULL */
/* Give file I (in manifest order), open as FD, its executable bit (an x wherever the file may be
 * read, so the umask it was created under still holds; setuid, setgid and sticky are cleared)
 * and its time. Return 0, or -1 with errno set. */
int tree_meta_file(const struct tree_meta *t, uint32_t i, int fd);
/* Create every directory of the tree that is missing (beneath the storage's base, following no
 * link), then give each its time, children before parents (a parent's time moves when a child
 * is created, not when it is touched). Return 0, or -1 with ERR set. */
int tree_meta_dirs(const struct tree_meta *t, char *err, size_t errcap);

#endif
