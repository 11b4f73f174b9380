/* node/identity.h: the node's data directory and its long-term Ed25519 identity: where the
 * directory is by default, creating and locking it, and loading the key pair from it (creating
 * one on first start). Nothing returned is allocated; the caller keeps the lock's descriptor
 * open for as long as the node runs. */
#ifndef NODE_IDENTITY_H
#define NODE_IDENTITY_H

#include <sodium.h>
#include <stddef.h>
#include <stdint.h>

#define IDENTITY_FILE "identity.key"
#define IDENTITY_TEXT_MAX 256

struct identity {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

/* Write the default data directory for the node NAME (its address and port, "127.0.0.2-4000":
 * two nodes on one machine differ in one or the other) into OUT: $XDG_STATE_HOME/dhtnode/NAME
 * if XDG_STATE_HOME is an absolute path, else HOME/.local/state/dhtnode/NAME, else (HOME unset
 * or empty) ./dhtnode-data-NAME. Either of XDG_STATE_HOME and HOME may be NULL. Return 0, or
 * -1 if OUT is too small. */
int datadir_default(char *out, size_t cap, const char *xdg_state_home, const char *home,
		    const char *name);

/* Create DIR and its missing parents (mode 0700), check that files can be created in it, and
 * lock it so that no second node uses it at the same time. Return the lock's descriptor, or -1
 * with ERR set to a sentence saying what to do. */
int datadir_open(const char *dir, char *err, size_t errcap);

/* The key file's text: a version line, then the secret seed and the public key in hex. Return
 * the length written into OUT (NUL-terminated), or -1 if CAP is too small. */
int identity_encode(const struct identity *id, char *out, size_t cap);

/* Parse the key file's text. Return 0, or -1 if it is malformed or the public key does not
 * belong to the seed (a damaged file). */
int identity_decode(const char *text, size_t len, struct identity *out);

enum identity_result { IDENTITY_LOADED, IDENTITY_CREATED, IDENTITY_FAILED };

/* Load DIR/identity.key, or create it (mode 0600, written atomically) if it does not exist.
 * On IDENTITY_FAILED, ERR says what was wrong. */
enum identity_result identity_load(const char *dir, struct identity *out, char *err,
				   size_t errcap);

#endif
