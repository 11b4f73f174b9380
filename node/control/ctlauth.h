/* node/control/ctlauth.h: the control secret (--control-secret FILE, dhtctl --secret FILE) and
 * the challenge-response that proves it on a control connection (docs/control.md): the client
 * sends {"auth":"begin"}, the node answers {"challenge":HEX} with 32 random bytes, the client
 * sends {"auth":HEX}, the HMAC (libsodium crypto_auth) of the challenge under the secret, then
 * its request. Used by the control server and by tools/lib's client. Lines returned are
 * malloc'd, without the newline; the caller frees them. */
#ifndef NODE_CTLAUTH_H
#define NODE_CTLAUTH_H

#include <sodium.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CTLAUTH_KEY_LEN crypto_auth_KEYBYTES
#define CTLAUTH_CHALLENGE_LEN 32
#define CTLAUTH_MAC_LEN crypto_auth_BYTES

enum ctlauth_load_result { CTLAUTH_LOADED, CTLAUTH_CREATED, CTLAUTH_FAILED };

/* Read the secret from PATH: 64 hex digits and a newline. With OWNER_ONLY (the node) the file
 * must be a regular file of this effective user that no one else may read, and a missing one
 * is created (mode 0600, random). On CTLAUTH_FAILED, ERR says what was wrong and what to do. */
enum ctlauth_load_result ctlauth_load(const char *path, bool owner_only,
				      uint8_t key[CTLAUTH_KEY_LEN], char *err, size_t errcap);

enum ctlauth_kind {
	CTLAUTH_NONE,   /* not an auth line: a request */
	CTLAUTH_BEGIN,  /* {"auth":"begin"} */
	CTLAUTH_PROOF,  /* {"auth":HEX}: the MAC is in MAC */
	CTLAUTH_BAD,    /* an "auth" member that is neither */
};

/* What LINE (LEN bytes, need not be NUL-terminated) is. */
enum ctlauth_kind ctlauth_parse(const char *line, size_t len, uint8_t mac[CTLAUTH_MAC_LEN]);

/* Fill CHALLENGE with random bytes and return its line, or NULL on no memory. */
char *ctlauth_challenge_line(uint8_t challenge[CTLAUTH_CHALLENGE_LEN]);

/* Whether MAC proves KEY for CHALLENGE (in constant time). */
bool ctlauth_verify(const uint8_t mac[CTLAUTH_MAC_LEN],
		    const uint8_t challenge[CTLAUTH_CHALLENGE_LEN],
		    const uint8_t key[CTLAUTH_KEY_LEN]);

/* The client's proof line for CHALLENGE_HEX (the node's "challenge"), or NULL if that is not
 * 64 hex digits or on no memory. */
char *ctlauth_proof_line(const char *challenge_hex, const uint8_t key[CTLAUTH_KEY_LEN]);

#endif
