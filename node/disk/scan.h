/* node/disk/scan.h: what a path to share holds: its regular files in manifest path order with
 * sizes, modification times and executable bits, its directories (empty ones too), and what it
 * holds that cannot be shared (symlinks, FIFOs, sockets, devices, unreadable entries), each
 * named with the reason. The scan owns its arrays; share_scan_free() releases them. */
#ifndef NODE_DISK_SCAN_H
#define NODE_DISK_SCAN_H

#include <stddef.h>
#include <stdint.h>

#define SCAN_SKIP_MAX 1000u /* skipped entries named one by one; the count goes on past it */

struct scan_skip {
	char *path;      /* the manifest path it would have had */
	const char *why; /* static text: "a symlink", "a FIFO", ... */
};

/* Manifest paths in path order: the first component is the shared file's or directory's own
 * name. Files: path, size, mtime_ns, mode (0 or MANIFEST_MODE_EXEC) at index i < n. */
struct share_scan {
	uint32_t n;
	char **path;
	uint64_t *size;
	int64_t *mtime_ns;
	uint8_t *mode;
	uint64_t total;
	uint32_t ndirs;          /* a tree's directories, its root first */
	char **dir;
	int64_t *dir_mtime_ns;
	uint32_t skipped;        /* entries not shared */
	uint32_t nskip;          /* of which named in SKIP (at most SCAN_SKIP_MAX) */
	struct scan_skip *skip;
};

/* Scan PATH (absolute; a regular file or a directory tree; a symlink named by the user is
 * followed, links inside a tree are not). Return 0, or -1 with ERR set (not found, unreadable,
 * empty, a name the manifest cannot hold, too many files). */
int storage_scan(const char *path, struct share_scan *out, char *err, size_t errcap);
void share_scan_free(struct share_scan *s); /* frees the arrays, not S; accepts a zeroed S */

#endif
