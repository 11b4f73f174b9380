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

static char *copy_of(const char *rel)
{
	char *c = strdup(rel);
	if (c == NULL)
		errno = ENOMEM;
	return c;
}

int open_beneath(const char *base, const char *rel, int flags, mode_t mode)
{
	const char *last;
	char *copy = copy_of(rel);
	int dfd = copy ? walk_parent(base, copy, &last, 0) : -1;
	int fd = dfd >= 0 ? openat(dfd, last, flags | O_NOFOLLOW | O_CLOEXEC, mode) : -1;
	int saved = errno;
	if (dfd >= 0)
		close(dfd);
	free(copy);
	errno = saved;
	return fd;
}

int stat_beneath(const char *base, const char *rel, struct stat *sb)
{
	const char *last;
	char *copy = copy_of(rel);
	int dfd = copy ? walk_parent(base, copy, &last, 0) : -1;
	int rc = dfd >= 0 ? fstatat(dfd, last, sb, AT_SYMLINK_NOFOLLOW) : -1;
	int saved = errno;
	if (dfd >= 0)
		close(dfd);
	free(copy);
	errno = saved;
	return rc;
}

int mkdirs_beneath(const char *base, const char *rel, int parents_only)
{
	const char *last;
	char *copy = copy_of(rel);
	int dfd = copy ? walk_parent(base, copy, &last, 1) : -1;
	int rc = dfd >= 0 ? 0 : -1;
	if (rc == 0 && !parents_only && mkdirat(dfd, last, 0777) != 0 && errno != EEXIST)
		rc = -1;
	int saved = errno;
	if (dfd >= 0)
		close(dfd);
	free(copy);
	errno = saved;
	return rc;
}

const char *rel_under(const char *base, const char *full)
{
	size_t n = strlen(base);
	while (n > 1 && base[n - 1] == '/')
		n--;
	if (strncmp(base, full, n) != 0)
		return NULL;
	if (n == 1 && base[0] == '/')
		return full + 1;
	return full[n] == '/' ? full + n + 1 : NULL;
}
