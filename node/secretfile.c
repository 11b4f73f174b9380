/* Secret files on libsodium (random bytes, hex, wiping copies). The node insists that a secret
 * file is its own and private, since whoever reads it holds the power the secret gives; a client
 * such as dhtctl only needs to read it. */
#include "node/secretfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/errtext.h"

#define SECRET_HEX (2 * SECRETFILE_LEN)

int secretfile_create(const char *path, const char *what, uint8_t key[SECRETFILE_LEN],
		      char *err, size_t errcap)
{
	char hex[SECRET_HEX + 2];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			errtext(err, errcap, "%s already exists; a key file is never overwritten: "
				"give a new name, or remove the old file first if it is truly no "
				"longer needed", path);
		else
			errtext(err, errcap, "cannot create %s %s: %s", what, path, strerror(errno));
		return -1;
	}
	randombytes_buf(key, SECRETFILE_LEN);
	sodium_bin2hex(hex, sizeof hex, key, SECRETFILE_LEN);
	hex[SECRET_HEX] = '\n';
	int rc = write(fd, hex, SECRET_HEX + 1) == SECRET_HEX + 1 && fsync(fd) == 0 ? 0 : -1;
	int e = errno;
	sodium_memzero(hex, sizeof hex);
	if (close(fd) != 0 || rc != 0) {
		unlink(path);
		errtext(err, errcap, "cannot write %s %s: %s", what, path, strerror(e));
		return -1;
	}
	return 0;
}

/* Whether PATH lies directly in $CREDENTIALS_DIRECTORY, where systemd's LoadCredential= puts a
 * copy of a file that the service's (dynamic) user could not read where it is: the copy belongs
 * to root and the user reads it through an ACL, whose mask shows as the group's bits. The
 * directory must be closed to others, so that the relaxed file check below still means that
 * only the node's user and root can read the key. */
static bool in_credentials_dir(const char *path)
{
	const char *dir = getenv("CREDENTIALS_DIRECTORY");
	const char *slash = strrchr(path, '/');
	char parent[PATH_MAX];
	struct stat d, p;
	if (dir == NULL || *dir == '\0' || slash == NULL || (size_t)(slash - path) >= sizeof parent)
		return false;
	memcpy(parent, path, (size_t)(slash - path));
	parent[slash - path] = '\0';
	return stat(dir, &d) == 0 && stat(slash == path ? "/" : parent, &p) == 0 &&
	       d.st_dev == p.st_dev && d.st_ino == p.st_ino && (d.st_mode & 007) == 0 &&
	       (d.st_uid == 0 || d.st_uid == geteuid());
}

/* The node's checks on the open secret file FD at PATH. */
static int check_owner(int fd, const char *path, const char *what, char *err, size_t errcap)
{
	struct stat st;
	bool credential = in_credentials_dir(path);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errtext(err, errcap, "%s %s is not a regular file", what, path);
		return -1;
	}
	if (st.st_uid != geteuid() && !(credential && st.st_uid == 0)) {
		errtext(err, errcap, "%s %s belongs to another user (uid %lu); the node's own user "
			"must own it (under systemd, pass it with LoadCredential=, see dhtnode(1))",
			what, path, (unsigned long)st.st_uid);
		return -1;
	}
	if ((st.st_mode & (credential ? 037 : 077)) != 0) {
		errtext(err, errcap, "%s %s can be read or changed by other users (mode %03o); run "
			"chmod 600 %s", what, path, (unsigned)(st.st_mode & 0777), path);
		return -1;
	}
	return 0;
}

enum secretfile_result secretfile_read(const char *path, const char *what, bool owner_only,
				       const char *hint, uint8_t key[SECRETFILE_LEN], char *err,
				       size_t errcap)
{
	char text[SECRET_HEX + 2];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | (owner_only ? O_NOFOLLOW : 0));
	if (fd < 0 && errno == ENOENT)
		return SECRETFILE_MISSING;
	if (fd < 0) {
		errtext(err, errcap, "cannot read %s %s: %s", what, path,
			errno == ELOOP ? "it is a symbolic link; name the file itself"
				       : strerror(errno));
		return SECRETFILE_FAILED;
	}
	if (owner_only && check_owner(fd, path, what, err, errcap) != 0) {
		close(fd);
		return SECRETFILE_FAILED;
	}
	ssize_t n = read(fd, text, sizeof text);
	close(fd);
	bool ok = n >= SECRET_HEX && (n == SECRET_HEX || (n == SECRET_HEX + 1 &&
							   text[SECRET_HEX] == '\n')) &&
		  sodium_hex2bin(key, SECRETFILE_LEN, text, SECRET_HEX, NULL, &got, NULL) == 0 &&
		  got == SECRETFILE_LEN;
	sodium_memzero(text, sizeof text);
	if (ok)
		return SECRETFILE_OK;
	errtext(err, errcap, "%s %s is not 64 hex digits and a newline; %s", what, path, hint);
	return SECRETFILE_FAILED;
}
