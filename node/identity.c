/* The data directory and the node's key pair. The key file is small text so that a person can
 * see which public key a node has; it is written to a temporary file, synced and renamed into
 * place, so a crash during the first start leaves either no key or a whole one. A key file that
 * does not parse, or whose public key does not match its seed, is refused rather than replaced:
 * silently making a new key would give the node a new id and orphan what the ring knows of it.
 * Nothing here keeps state between calls; the caller holds the lock descriptor. */
#include "node/identity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/errtext.h"
#include "node/log.h"

#define HEADER "dhtnode-identity 1\n"
#define SEED_TAG "ed25519-seed "
#define PUB_TAG "ed25519-public "

int datadir_default(char *out, size_t cap, const char *xdg_state_home, const char *home,
		    const char *name)
{
	int n;
	if (xdg_state_home != NULL && xdg_state_home[0] == '/')
		n = snprintf(out, cap, "%s/dhtnode/%s", xdg_state_home, name);
	else if (home != NULL && home[0] != '\0')
		n = snprintf(out, cap, "%s/.local/state/dhtnode/%s", home, name);
	else
		n = snprintf(out, cap, "./dhtnode-data-%s", name);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* mkdir -p with mode 0700 for what we create; existing directories keep their mode. */
static int mkdirs(const char *dir, char *err, size_t errcap)
{
	char path[PATH_MAX];
	if (strlen(dir) >= sizeof path) {
		errtext(err, errcap, "data directory path is too long: %s", dir);
		return -1;
	}
	strcpy(path, dir);
	for (char *p = path + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char c = *p;
		*p = '\0';
		if (mkdir(path, 0700) != 0 && errno != EEXIST) {
			errtext(err, errcap, "cannot create data directory %s: %s; choose another with "
			     "--data-dir", path, strerror(errno));
			return -1;
		}
		*p = c;
		if (c == '\0')
			break;
	}
	struct stat st;
	if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		errtext(err, errcap, "data directory %s is not a directory; choose another with "
		     "--data-dir", dir);
		return -1;
	}
	return 0;
}

/* Create DIR/NAME-XXXXXX; return its descriptor and path, or -1. */
static int make_temp(const char *dir, const char *name, char *path, size_t cap)
{
	int n = snprintf(path, cap, "%s/%s-XXXXXX", dir, name);
	if (n < 0 || (size_t)n >= cap) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return mkstemp(path);
}

static int probe_writable(const char *dir, char *err, size_t errcap)
{
	char path[PATH_MAX];
	int fd = make_temp(dir, ".probe", path, sizeof path);
	if (fd < 0) {
		errtext(err, errcap, "data directory %s is not writable (%s); fix its permissions or "
		     "choose another with --data-dir", dir, strerror(errno));
		return -1;
	}
	close(fd);
	unlink(path);
	return 0;
}

int datadir_open(const char *dir, char *err, size_t errcap)
{
	char path[PATH_MAX];
	if (mkdirs(dir, err, errcap) != 0 || probe_writable(dir, err, errcap) != 0)
		return -1;
	snprintf(path, sizeof path, "%s/lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		errtext(err, errcap, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	if (fcntl(fd, F_SETLK, &fl) != 0) {
		errtext(err, errcap, "data directory %s is in use by another dhtnode; give each node "
		     "its own --data-dir", dir);
		close(fd);
		return -1;
	}
	/* The pid is for people looking at the directory; the lock is what counts. */
	if (ftruncate(fd, 0) == 0)
		dprintf(fd, "%ld\n", (long)getpid());
	return fd;
}

int identity_encode(const struct identity *id, char *out, size_t cap)
{
	char seed_hex[crypto_sign_SEEDBYTES * 2 + 1], pk_hex[crypto_sign_PUBLICKEYBYTES * 2 + 1];
	uint8_t seed[crypto_sign_SEEDBYTES];
	crypto_sign_ed25519_sk_to_seed(seed, id->sk);
	sodium_bin2hex(seed_hex, sizeof seed_hex, seed, sizeof seed);
	sodium_bin2hex(pk_hex, sizeof pk_hex, id->pk, sizeof id->pk);
	int n = snprintf(out, cap, HEADER SEED_TAG "%s\n" PUB_TAG "%s\n", seed_hex, pk_hex);
	sodium_memzero(seed, sizeof seed);
	sodium_memzero(seed_hex, sizeof seed_hex);
	return n < 0 || (size_t)n >= cap ? -1 : n;
}

/* Read "TAG<hex>\n" of exactly N bytes at *P (within END) into OUT and advance *P. */
static int read_hex_line(const char **p, const char *end, const char *tag, uint8_t *out,
			 size_t n)
{
	size_t taglen = strlen(tag), hexlen = 2 * n;
	if ((size_t)(end - *p) < taglen + hexlen + 1 || memcmp(*p, tag, taglen) != 0 ||
	    (*p)[taglen + hexlen] != '\n')
		return -1;
	size_t got = 0;
	if (sodium_hex2bin(out, n, *p + taglen, hexlen, NULL, &got, NULL) != 0 || got != n)
		return -1;
	*p += taglen + hexlen + 1;
	return 0;
}

int identity_decode(const char *text, size_t len, struct identity *out)
{
	const char *p = text, *end = text + len;
	uint8_t seed[crypto_sign_SEEDBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	int ret = -1;
	size_t hlen = strlen(HEADER);
	if (len < hlen || memcmp(p, HEADER, hlen) != 0)
		goto out;
	p += hlen;
	if (read_hex_line(&p, end, SEED_TAG, seed, sizeof seed) != 0 ||
	    read_hex_line(&p, end, PUB_TAG, pk, sizeof pk) != 0 || p != end)
		goto out;
	crypto_sign_seed_keypair(out->pk, out->sk, seed);
	if (sodium_memcmp(out->pk, pk, sizeof pk) != 0)
		goto out;
	ret = 0;
out:
	sodium_memzero(seed, sizeof seed);
	if (ret != 0)
		sodium_memzero(out, sizeof *out);
	return ret;
}

/* Write TEXT to DIR/NAME atomically: a temporary file, fsync, rename, then fsync the directory
 * so the rename itself survives a power cut. */
static int write_atomic(const char *dir, const char *name, const char *text, size_t len)
{
	char tmp[PATH_MAX], path[PATH_MAX];
	int fd = make_temp(dir, name, tmp, sizeof tmp), dfd, ret = -1;
	if (fd < 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	if (fchmod(fd, 0600) != 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto out;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret != 0) {
		int saved = errno;
		unlink(tmp);
		errno = saved;
	}
	return ret;
}

static enum identity_result create_key(const char *dir, const char *path, struct identity *out,
				       char *err, size_t errcap)
{
	char text[IDENTITY_TEXT_MAX];
	crypto_sign_keypair(out->pk, out->sk);
	int n = identity_encode(out, text, sizeof text);
	int rc = n < 0 ? -1 : write_atomic(dir, IDENTITY_FILE, text, (size_t)n);
	sodium_memzero(text, sizeof text);
	if (rc != 0) {
		errtext(err, errcap, "cannot write %s: %s; check the data directory or choose "
		     "another with --data-dir", path, strerror(errno));
		return IDENTITY_FAILED;
	}
	return IDENTITY_CREATED;
}

enum identity_result identity_load(const char *dir, struct identity *out, char *err,
				   size_t errcap)
{
	char path[PATH_MAX], text[IDENTITY_TEXT_MAX];
	enum identity_result res = IDENTITY_FAILED;
	snprintf(path, sizeof path, "%s/%s", dir, IDENTITY_FILE);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return create_key(dir, path, out, err, errcap);
	if (fd < 0) {
		errtext(err, errcap, "cannot read %s: %s", path, strerror(errno));
		return IDENTITY_FAILED;
	}
	struct stat st;
	ssize_t n = read(fd, text, sizeof text);
	if (n < 0 || identity_decode(text, (size_t)n, out) != 0) {
		errtext(err, errcap, "%s is damaged or not a dhtnode key; move it away to start with "
		     "a new key (and a new node id), or restore it from a backup", path);
		goto out;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("%s can be read by other users; run chmod 600 on it", path);
	res = IDENTITY_LOADED;
out:
	sodium_memzero(text, sizeof text);
	close(fd);
	return res;
}
