/* The metadata of a fetched tree: directories, executable bits, times. Only what the manifest
 * carries is applied: a file is given an x bit where it has an r bit, never setuid, setgid or
 * sticky; owners and the other permission bits stay as the node's umask made them. Times are
 * set last, once nothing more is created below a directory. */
#include "node/disk/treemeta.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct tree_meta {
	uint32_t nfiles, ndirs;
	uint8_t *mode;
	int64_t *mtime;      /* files */
	char **dir;          /* full paths, parents first */
	int64_t *dir_mtime;
};

static struct timespec ts_of(int64_t ns)
{
	int64_t s = ns / 1000000000, r = ns % 1000000000;
	if (r < 0) {
		r += 1000000000;
		s--;
	}
	return (struct timespec){ .tv_sec = (time_t)s, .tv_nsec = (long)r };
}

void tree_meta_free(struct tree_meta *t)
{
	if (t == NULL)
		return;
	for (uint32_t i = 0; t->dir && i < t->ndirs; i++)
		free(t->dir[i]);
	free(t->dir);
	free(t->dir_mtime);
	free(t->mode);
	free(t->mtime);
	free(t);
}

struct tree_meta *tree_meta_new(const struct manifest *man, const struct storage *st)
{
	struct tree_meta *t = calloc(1, sizeof *t);
	if (t == NULL)
		return NULL;
	t->nfiles = manifest_file_count(man);
	uint32_t nd = manifest_dir_count(man);
	t->mode = calloc(t->nfiles, sizeof *t->mode);
	t->mtime = calloc(t->nfiles, sizeof *t->mtime);
	t->dir = calloc(nd ? nd : 1, sizeof *t->dir);
	t->dir_mtime = calloc(nd ? nd : 1, sizeof *t->dir_mtime);
	if (t->mode == NULL || t->mtime == NULL || t->dir == NULL || t->dir_mtime == NULL)
		goto fail;
	for (uint32_t i = 0; i < t->nfiles; i++) {
		struct manifest_file f;
		manifest_file(man, i, &f);
		t->mode[i] = f.mode;
		t->mtime[i] = f.mtime_ns;
	}
	for (; t->ndirs < nd; t->ndirs++) {
		struct manifest_dir d;
		manifest_dir(man, t->ndirs, &d);
		t->dir_mtime[t->ndirs] = d.mtime_ns;
		if ((t->dir[t->ndirs] = storage_path_of(st, d.path)) == NULL)
			goto fail;
	}
	return t;
fail:
	tree_meta_free(t);
	return NULL;
}

int tree_meta_file(const struct tree_meta *t, uint32_t i, int fd)
{
	struct stat sb;
	if (i >= t->nfiles || fstat(fd, &sb) != 0)
		return -1;
	mode_t mode = sb.st_mode & 0777;
	if (t->mode[i] & MANIFEST_MODE_EXEC)
		mode |= (mode & 0444) >> 2;
	if (mode != (sb.st_mode & 07777) && fchmod(fd, mode) != 0)
		return -1;
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, ts_of(t->mtime[i]) };
	return futimens(fd, ts);
}

int tree_meta_dirs(const struct tree_meta *t, const char *base, char *err, size_t errcap)
{
	for (uint32_t i = 0; i < t->ndirs; i++)
		if (make_parent_dirs(base, t->dir[i]) != 0 ||
		    (mkdir(t->dir[i], 0777) != 0 && errno != EEXIST)) {
			snprintf(err, errcap, "cannot create the directory %s: %s", t->dir[i],
				 strerror(errno));
			return -1;
		}
	for (uint32_t i = t->ndirs; i-- > 0;) {
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, ts_of(t->dir_mtime[i]) };
		if (utimensat(AT_FDCWD, t->dir[i], ts, AT_SYMLINK_NOFOLLOW) != 0) {
			snprintf(err, errcap, "cannot set the time of %s: %s", t->dir[i],
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}
