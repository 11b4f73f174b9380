/* The scan of a path to share: a walk of the tree that records every regular file (size, time,
 * executable bit) and every directory (time), and names what it leaves out and why, so that the
 * user hears of a symlink or a FIFO that the fetched copy will not have. Links inside a tree are
 * never followed: a share holds what lies under its root and nothing it points at. It reads no
 * file's content; opening one is only to see that it can be read. */
#include "node/disk/scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transfer/manifest.h"

struct scan_ctx {
	struct share_scan *out;
	uint32_t cap, dcap;
	char *err;
	size_t errcap;
};

static int64_t mtime_of(const struct stat *sb)
{
	return (int64_t)sb->st_mtim.tv_sec * 1000000000 + sb->st_mtim.tv_nsec;
}

static int oom(struct scan_ctx *x)
{
	snprintf(x->err, x->errcap, "out of memory while scanning");
	return -1;
}

static int path_ok(struct scan_ctx *x, const char *mpath)
{
	if (manifest_path_valid(mpath))
		return 0;
	snprintf(x->err, x->errcap, "cannot share '%s': a path component is empty or longer than "
		 "%u bytes, or the path is longer than %u bytes", mpath, MANIFEST_MAX_COMPONENT,
		 MANIFEST_MAX_PATH);
	return -1;
}

/* Grow the file arrays to room for one more. */
static int files_reserve(struct scan_ctx *x)
{
	struct share_scan *o = x->out;
	if (o->n < x->cap)
		return 0;
	uint32_t cap = x->cap ? x->cap * 2 : 16;
	char **p = realloc(o->path, cap * sizeof *p);
	if (p)
		o->path = p;
	uint64_t *s = realloc(o->size, cap * sizeof *s);
	if (s)
		o->size = s;
	int64_t *t = realloc(o->mtime_ns, cap * sizeof *t);
	if (t)
		o->mtime_ns = t;
	uint8_t *m = realloc(o->mode, cap * sizeof *m);
	if (m)
		o->mode = m;
	if (p == NULL || s == NULL || t == NULL || m == NULL)
		return -1;
	x->cap = cap;
	return 0;
}

static int add_file(struct scan_ctx *x, const char *mpath, const struct stat *sb)
{
	struct share_scan *o = x->out;
	if (path_ok(x, mpath) != 0)
		return -1;
	if (o->n >= MANIFEST_MAX_FILES) {
		snprintf(x->err, x->errcap, "too many files: a share holds at most %u",
			 MANIFEST_MAX_FILES);
		return -1;
	}
	if (files_reserve(x) != 0 || (o->path[o->n] = strdup(mpath)) == NULL)
		return oom(x);
	o->size[o->n] = (uint64_t)sb->st_size;
	o->mtime_ns[o->n] = mtime_of(sb);
	o->mode[o->n] = (sb->st_mode & 0111) ? MANIFEST_MODE_EXEC : 0;
	o->total += (uint64_t)sb->st_size;
	o->n++;
	return 0;
}

static int add_dir(struct scan_ctx *x, const char *mpath, const struct stat *sb)
{
	struct share_scan *o = x->out;
	if (path_ok(x, mpath) != 0)
		return -1;
	if (o->ndirs >= MANIFEST_MAX_DIRS) {
		snprintf(x->err, x->errcap, "too many directories: a share holds at most %u",
			 MANIFEST_MAX_DIRS);
		return -1;
	}
	if (o->ndirs == x->dcap) {
		uint32_t cap = x->dcap ? x->dcap * 2 : 16;
		char **p = realloc(o->dir, cap * sizeof *p);
		if (p)
			o->dir = p;
		int64_t *t = realloc(o->dir_mtime_ns, cap * sizeof *t);
		if (t)
			o->dir_mtime_ns = t;
		if (p == NULL || t == NULL)
			return oom(x);
		x->dcap = cap;
	}
	if ((o->dir[o->ndirs] = strdup(mpath)) == NULL)
		return oom(x);
	o->dir_mtime_ns[o->ndirs++] = mtime_of(sb);
	return 0;
}

static int add_skip(struct scan_ctx *x, const char *mpath, const char *why)
{
	struct share_scan *o = x->out;
	o->skipped++;
	if (o->nskip >= SCAN_SKIP_MAX)
		return 0;
	if (o->skip == NULL && (o->skip = calloc(SCAN_SKIP_MAX, sizeof *o->skip)) == NULL)
		return oom(x);
	if ((o->skip[o->nskip].path = strdup(mpath)) == NULL)
		return oom(x);
	o->skip[o->nskip++].why = why;
	return 0;
}

static const char *kind_of(mode_t m)
{
	return S_ISLNK(m) ? "a symlink" : S_ISFIFO(m) ? "a FIFO" : S_ISSOCK(m) ? "a socket"
	       : S_ISCHR(m) || S_ISBLK(m) ? "a device" : "not a regular file";
}

static bool readable(const char *disk)
{
	int fd = open(disk, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static int scan_dir(struct scan_ctx *x, const char *disk, const char *mpath, bool top);

/* TOP: the path the user named, whose symlink is followed and whose failures are errors. */
static int scan_entry(struct scan_ctx *x, const char *disk, const char *mpath, bool top)
{
	struct stat sb;
	if ((top ? stat(disk, &sb) : lstat(disk, &sb)) != 0) {
		snprintf(x->err, x->errcap, "cannot read %s: %s", disk, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		if (add_dir(x, mpath, &sb) != 0)
			return -1;
		return scan_dir(x, disk, mpath, top);
	}
	if (!S_ISREG(sb.st_mode))
		return add_skip(x, mpath, kind_of(sb.st_mode));
	if (!top && !readable(disk))
		return add_skip(x, mpath, "unreadable");
	return add_file(x, mpath, &sb);
}

static int scan_child(struct scan_ctx *x, const char *disk, const char *mpath, const char *name)
{
	size_t dl = strlen(disk) + strlen(name) + 2, ml = strlen(mpath) + strlen(name) + 2;
	char *dp = malloc(dl), *mp = malloc(ml);
	int rc = -1;
	if (dp && mp) {
		snprintf(dp, dl, "%s/%s", disk, name);
		snprintf(mp, ml, "%s/%s", mpath, name);
		rc = scan_entry(x, dp, mp, false);
	} else {
		oom(x);
	}
	free(dp);
	free(mp);
	return rc;
}

static int scan_dir(struct scan_ctx *x, const char *disk, const char *mpath, bool top)
{
	DIR *d = opendir(disk);
	if (d == NULL && !top) {
		/* Listed as a directory it would come out empty: say it was left out instead. */
		free(x->out->dir[--x->out->ndirs]);
		return add_skip(x, mpath, "an unreadable directory");
	}
	if (d == NULL) {
		snprintf(x->err, x->errcap, "cannot read the directory %s: %s", disk,
			 strerror(errno));
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while (rc == 0 && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			rc = scan_child(x, disk, mpath, e->d_name);
	closedir(d);
	return rc;
}

struct sort_entry {
	char *path;
	uint64_t size;
	int64_t mtime_ns;
	uint8_t mode;
};

static int cmp_entry(const void *a, const void *b)
{
	return manifest_path_cmp(((const struct sort_entry *)a)->path,
				 ((const struct sort_entry *)b)->path);
}

/* Sort N entries of the parallel arrays (SIZE and MODE may be NULL) into path order. */
static int sort_arrays(uint32_t n, char **path, uint64_t *size, int64_t *mtime, uint8_t *mode)
{
	struct sort_entry *e = malloc((n ? n : 1) * sizeof *e);
	if (e == NULL)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		e[i] = (struct sort_entry){ path[i], size ? size[i] : 0, mtime[i],
					    mode ? mode[i] : 0 };
	qsort(e, n, sizeof *e, cmp_entry);
	for (uint32_t i = 0; i < n; i++) {
		path[i] = e[i].path;
		mtime[i] = e[i].mtime_ns;
		if (size)
			size[i] = e[i].size;
		if (mode)
			mode[i] = e[i].mode;
	}
	free(e);
	return 0;
}

int storage_scan(const char *path, struct share_scan *out, char *err, size_t errcap)
{
	memset(out, 0, sizeof *out);
	struct scan_ctx x = { out, 0, 0, err, errcap };
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (path[0] != '/' || *base == '\0') {
		snprintf(err, errcap, "give an absolute path to a file or a directory, not '%s'",
			 path);
		return -1;
	}
	if (scan_entry(&x, path, base, true) != 0)
		goto fail;
	if (out->total == 0) {
		snprintf(err, errcap, "nothing to share: %s holds no bytes (empty files only, or no "
			 "regular files)", path);
		goto fail;
	}
	if (sort_arrays(out->n, out->path, out->size, out->mtime_ns, out->mode) != 0 ||
	    sort_arrays(out->ndirs, out->dir, NULL, out->dir_mtime_ns, NULL) != 0) {
		oom(&x);
		goto fail;
	}
	return 0;
fail:
	share_scan_free(out);
	return -1;
}

void share_scan_free(struct share_scan *s)
{
	for (uint32_t i = 0; s->path && i < s->n; i++)
		free(s->path[i]);
	for (uint32_t i = 0; s->dir && i < s->ndirs; i++)
		free(s->dir[i]);
	for (uint32_t i = 0; s->skip && i < s->nskip; i++)
		free(s->skip[i].path);
	free(s->path);
	free(s->size);
	free(s->mtime_ns);
	free(s->mode);
	free(s->dir);
	free(s->dir_mtime_ns);
	free(s->skip);
	memset(s, 0, sizeof *s);
}
