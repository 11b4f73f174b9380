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
#include <unistd.h>

#include "node/disk/beneath.h"

struct tree_meta {
	uint32_t nfiles, ndirs;
	uint8_t *mode;
	int64_t *mtime;      /* files */
	char **dir;          /* full paths, parents first: for messages */
	char **rel;          /* the same beneath BASE, created and opened without following links */
	char *base;
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
	for (uint32_t i = 0; t->rel && i < t->ndirs; i++)
		free(t->rel[i]);
	free(t->dir);
	free(t->rel);
	free(t->base);
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
	t->rel = calloc(nd ? nd : 1, sizeof *t->rel);
	t->dir_mtime = calloc(nd ? nd : 1, sizeof *t->dir_mtime);
	t->base = strdup(storage_base(st));
	if (t->mode == NULL || t->mtime == NULL || t->dir == NULL || t->rel == NULL ||
	    t->dir_mtime == NULL || t->base == NULL)
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
		t->dir[t->ndirs] = storage_path_of(st, d.path);
		t->rel[t->ndirs] = storage_rel_of(st, d.path);
		if (t->dir[t->ndirs] == NULL || t->rel[t->ndirs] == NULL) {
			t->ndirs++; /* so that they are freed */
			goto fail;
		}
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

/* Give directory I its time, through a descriptor opened beneath the base. */
static int dir_time(const struct tree_meta *t, uint32_t i)
{
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, ts_of(t->dir_mtime[i]) };
	int fd = open_beneath(t->base, t->rel[i], O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0)
		return -1;
	int rc = futimens(fd, ts);
	int saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

int tree_meta_dirs(const struct tree_meta *t, char *err, size_t errcap)
{
	for (uint32_t i = 0; i < t->ndirs; i++)
		if (mkdirs_beneath(t->base, t->rel[i], 0) != 0) {
			snprintf(err, errcap, "cannot create the directory %s: %s", t->dir[i],
				 errno == ELOOP ? "a symbolic link is in the way" : strerror(errno));
			return -1;
		}
	for (uint32_t i = t->ndirs; i-- > 0;)
		if (dir_time(t, i) != 0) {
			snprintf(err, errcap, "cannot set the time of %s: %s", t->dir[i],
				 errno == ELOOP ? "a symbolic link is in the way" : strerror(errno));
			return -1;
		}
	return 0;
}
