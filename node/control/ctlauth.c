/* The control secret and its challenge-response, on libsodium (random bytes, crypto_auth's
 * HMAC-SHA-512-256, hex) and jansson. A fresh challenge per connection means a proof seen on
 * the wire cannot be replayed on another connection. The node insists that the secret file is
 * its own and readable by no one else, since whoever reads it controls the node; a client only
 * needs to read it. Not done here: deciding who must prove it (ctlserver.c, access.h). */
#include "node/control/ctlauth.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/errtext.h"

#define SECRET_HEX (2 * CTLAUTH_KEY_LEN)

static enum ctlauth_load_result create_secret(const char *path, uint8_t key[CTLAUTH_KEY_LEN],
					      char *err, size_t errcap)
{
	char hex[SECRET_HEX + 2];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		errtext(err, errcap, "cannot create the control secret %s: %s", path, strerror(errno));
		return CTLAUTH_FAILED;
	}
	randombytes_buf(key, CTLAUTH_KEY_LEN);
	sodium_bin2hex(hex, sizeof hex, key, CTLAUTH_KEY_LEN);
	hex[SECRET_HEX] = '\n';
	int rc = write(fd, hex, SECRET_HEX + 1) == SECRET_HEX + 1 && fsync(fd) == 0 ? 0 : -1;
	int e = errno;
	sodium_memzero(hex, sizeof hex);
	if (close(fd) != 0 || rc != 0) {
		unlink(path);
		errtext(err, errcap, "cannot write the control secret %s: %s", path, strerror(e));
		return CTLAUTH_FAILED;
	}
	return CTLAUTH_CREATED;
}

/* The node's checks on the open secret file FD at PATH. */
static int check_owner(int fd, const char *path, char *err, size_t errcap)
{
	struct stat st;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errtext(err, errcap, "the control secret %s is not a regular file", path);
		return -1;
	}
	if (st.st_uid != geteuid()) {
		errtext(err, errcap, "the control secret %s belongs to another user (uid %lu); the "
		     "node's own user must own it", path, (unsigned long)st.st_uid);
		return -1;
	}
	if ((st.st_mode & 077) != 0) {
		errtext(err, errcap, "the control secret %s can be read or changed by other users "
		     "(mode %03o); run chmod 600 %s", path, (unsigned)(st.st_mode & 0777), path);
		return -1;
	}
	return 0;
}

enum ctlauth_load_result ctlauth_load(const char *path, bool owner_only,
				      uint8_t key[CTLAUTH_KEY_LEN], char *err, size_t errcap)
{
	char text[SECRET_HEX + 2];
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC | (owner_only ? O_NOFOLLOW : 0));
	if (fd < 0 && errno == ENOENT && owner_only)
		return create_secret(path, key, err, errcap);
	if (fd < 0) {
		errtext(err, errcap, "cannot read the control secret %s: %s", path, strerror(errno));
		return CTLAUTH_FAILED;
	}
	if (owner_only && check_owner(fd, path, err, errcap) != 0) {
		close(fd);
		return CTLAUTH_FAILED;
	}
	ssize_t n = read(fd, text, sizeof text);
	close(fd);
	if (n >= SECRET_HEX && (n == SECRET_HEX || text[SECRET_HEX] == '\n') &&
	    sodium_hex2bin(key, CTLAUTH_KEY_LEN, text, SECRET_HEX, NULL, &got, NULL) == 0 &&
	    got == CTLAUTH_KEY_LEN) {
		sodium_memzero(text, sizeof text);
		return CTLAUTH_LOADED;
	}
	sodium_memzero(text, sizeof text);
	errtext(err, errcap, "the control secret %s is not 64 hex digits and a newline; copy it "
	     "from the node's machine, or remove it there to have dhtnode make a new one", path);
	return CTLAUTH_FAILED;
}

enum ctlauth_kind ctlauth_parse(const char *line, size_t len, uint8_t mac[CTLAUTH_MAC_LEN])
{
	json_t *o = json_loadb(line, len, 0, NULL);
	const char *v = json_string_value(json_object_get(o, "auth"));
	size_t got = 0;
	enum ctlauth_kind k = CTLAUTH_BAD;
	if (o == NULL || json_object_get(o, "auth") == NULL)
		k = CTLAUTH_NONE;
	else if (json_object_size(o) != 1 || v == NULL)
		k = CTLAUTH_BAD;
	else if (strcmp(v, "begin") == 0)
		k = CTLAUTH_BEGIN;
	else if (strlen(v) == 2 * CTLAUTH_MAC_LEN &&
		 sodium_hex2bin(mac, CTLAUTH_MAC_LEN, v, strlen(v), NULL, &got, NULL) == 0 &&
		 got == CTLAUTH_MAC_LEN)
		k = CTLAUTH_PROOF;
	json_decref(o);
	return k;
}

char *ctlauth_challenge_line(uint8_t challenge[CTLAUTH_CHALLENGE_LEN])
{
	char hex[2 * CTLAUTH_CHALLENGE_LEN + 1];
	randombytes_buf(challenge, CTLAUTH_CHALLENGE_LEN);
	sodium_bin2hex(hex, sizeof hex, challenge, CTLAUTH_CHALLENGE_LEN);
	json_t *o = json_pack("{s:s}", "challenge", hex);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return line;
}

bool ctlauth_verify(const uint8_t mac[CTLAUTH_MAC_LEN],
		    const uint8_t challenge[CTLAUTH_CHALLENGE_LEN],
		    const uint8_t key[CTLAUTH_KEY_LEN])
{
	return crypto_auth_verify(mac, challenge, CTLAUTH_CHALLENGE_LEN, key) == 0;
}

char *ctlauth_proof_line(const char *challenge_hex, const uint8_t key[CTLAUTH_KEY_LEN])
{
	uint8_t challenge[CTLAUTH_CHALLENGE_LEN], mac[CTLAUTH_MAC_LEN];
	char hex[2 * CTLAUTH_MAC_LEN + 1];
	size_t got = 0;
	if (strlen(challenge_hex) != 2 * CTLAUTH_CHALLENGE_LEN ||
	    sodium_hex2bin(challenge, sizeof challenge, challenge_hex, strlen(challenge_hex), NULL,
			   &got, NULL) != 0 || got != sizeof challenge)
		return NULL;
	crypto_auth(mac, challenge, sizeof challenge, key);
	sodium_bin2hex(hex, sizeof hex, mac, sizeof mac);
	json_t *o = json_pack("{s:s}", "auth", hex);
	char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	return line;
}
