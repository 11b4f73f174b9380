/* The control secret and its challenge-response, on libsodium (random bytes, crypto_auth's
 * HMAC-SHA-512-256, hex) and jansson. A fresh challenge per connection means a proof seen on
 * the wire cannot be replayed on another connection. The file itself is node/secretfile's:
 * whoever reads it controls the node, so the node insists that it is private. Not done here:
 * deciding who must prove it (ctlserver.c, access.h). */
#include "node/control/ctlauth.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "node/errtext.h"
#include "node/secretfile.h"

_Static_assert(CTLAUTH_KEY_LEN == SECRETFILE_LEN, "the control secret is a secret file");

enum ctlauth_load_result ctlauth_load(const char *path, bool owner_only,
				      uint8_t key[CTLAUTH_KEY_LEN], char *err, size_t errcap)
{
	static const char what[] = "the control secret";
	switch (secretfile_read(path, what, owner_only, "copy it from the node's machine, or "
				"remove it there to have dhtnode make a new one", key, err, errcap)) {
	case SECRETFILE_OK:
		return CTLAUTH_LOADED;
	case SECRETFILE_MISSING:
		if (owner_only)
			return secretfile_create(path, what, key, err, errcap) == 0 ? CTLAUTH_CREATED
										  : CTLAUTH_FAILED;
		errtext(err, errcap, "cannot read the control secret %s: no such file", path);
		return CTLAUTH_FAILED;
	case SECRETFILE_FAILED:
		break;
	}
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
