/* Paths walked one component at a time with openat(O_NOFOLLOW): the portable form of
 * openat2's RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS. A walk costs one openat per directory
 * level; the callers keep what they open (storage.c) or open once per job (spanio.c). */
#include "node/disk/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Open the directory holding the last component of REL, beneath BASE; set *LAST to that
 * component (inside COPY, which holds REL). Return the directory's descriptor, or -1. */
static int walk_parent(const char *base, char *copy, const char **last, int create)
{
	int dfd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char *s = copy, *slash;
	while (dfd >= 0 && (slash = strchr(s, '/')) != NULL) {
		*slash = '\0';
		if (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0) {
			close(dfd);
			errno = EINVAL;
			return -1;
		}
		if (create && mkdirat(dfd, s, 0777) != 0 && errno != EEXIST) {
			close(dfd);
			return -1;
		}
		int next = openat(dfd, s, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(dfd);
		dfd = next;
		s = slash + 1;
	}
	if (dfd >= 0 && (s[0] == '\0' || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)) {
		close(dfd);
		errno = EINVAL;
		return -1;
	}
	*last = s;
	return dfd;
}

/* Walk to REL's parent beneath BASE (CREATE: making missing directories on the way), run OP
 * on it and REL's last component, and close it. Return what OP returned, or -1; errno as OP
 * or the walk left it. */
static int at_parent(const char *base, const char *rel, int create,
		     int (*op)(int dfd, const char *last, void *arg), void *arg)
{
	const char *last;
	char *copy = strdup(rel);
	if (copy == NULL) {
		errno = ENOMEM;
		return -1;
	}
	int dfd = walk_parent(base, copy, &last, create);
	int rc = dfd >= 0 ? op(dfd, last, arg) : -1;
	int saved = errno;
	if (dfd >= 0)
		close(dfd);
	free(copy);
	errno = saved;
	return rc;
}

struct open_args {
	int flags;
	mode_t mode;
};

static int open_op(int dfd, const char *last, void *arg)
{
	const struct open_args *o = arg;
	return openat(dfd, last, o->flags | O_NOFOLLOW | O_CLOEXEC, o->mode);
}

int open_beneath(const char *base, const char *rel, int flags, mode_t mode)
{
	struct open_args o = { flags, mode };
	return at_parent(base, rel, 0, open_op, &o);
}

static int stat_op(int dfd, const char *last, void *arg)
{
	return fstatat(dfd, last, arg, AT_SYMLINK_NOFOLLOW);
}

int stat_beneath(const char *base, const char *rel, struct stat *sb)
{
	return at_parent(base, rel, 0, stat_op, sb);
}

static int mkdir_op(int dfd, const char *last, void *arg)
{
	if (*(const int *)arg || mkdirat(dfd, last, 0777) == 0 || errno == EEXIST)
		return 0;
	return -1;
}

int mkdirs_beneath(const char *base, const char *rel, int parents_only)
{
	return at_parent(base, rel, 1, mkdir_op, &parents_only);
}

int fd_is_own_file(int fd)
{
	struct stat sb;
	return fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_nlink <= 1;
}
