/* node/net/aesgcm.h: AES-256-GCM for one direction of a secchan, through OpenSSL's EVP
 * interface, whose AES-NI and carry-less multiply code runs twice as fast as Debian 12's
 * libsodium 1.0.18 (here about 0.25 CPU s per GiB sealed, against 0.5). One context per key,
 * made once and reused for every record. Pure: no I/O. An aesgcm owns its context (freed,
 * with the key schedule wiped, by aesgcm_free); the caller owns every buffer. */
#ifndef NODE_AESGCM_H
#define NODE_AESGCM_H

#include <stddef.h>
#include <stdint.h>

#define AESGCM_KEY_LEN 32
#define AESGCM_NONCE_LEN 12
#define AESGCM_TAG_LEN 16

struct aesgcm;

/* A context sealing (ENCRYPT) or opening records under KEY, or NULL on no memory. */
struct aesgcm *aesgcm_new(const uint8_t key[AESGCM_KEY_LEN], int encrypt);
/* Free G and wipe its key schedule. Accepts NULL. */
void aesgcm_free(struct aesgcm *g);

/* A message sealed as one: HLEN bytes of HEAD then BLEN bytes of BODY (either may be empty). */
struct aesgcm_msg {
	const uint8_t *head, *body;
	size_t hlen, blen;
};

/* Encrypt M into OUT (M->hlen + M->blen bytes) under NONCE with ADLEN bytes of AD authenticated
 * too, and write the tag into TAG. The parts are read where they lie, so a record costs no copy
 * of its plaintext; a part may be its own place in OUT (in place), but must not overlap it
 * otherwise. Return 0, or -1 if OpenSSL failed (OUT is then wiped). */
int aesgcm_seal(struct aesgcm *g, const struct aesgcm_msg *m, uint8_t *out, const uint8_t *ad,
		size_t adlen, const uint8_t nonce[AESGCM_NONCE_LEN], uint8_t tag[AESGCM_TAG_LEN]);
/* Decrypt the LEN bytes of C in place, checking TAG over AD and C. Return 0, or -1 if the
 * tag does not match (C is then wiped: no unauthenticated plaintext leaves). */
int aesgcm_open(struct aesgcm *g, uint8_t *c, size_t len, const uint8_t *ad, size_t adlen,
		const uint8_t nonce[AESGCM_NONCE_LEN], const uint8_t tag[AESGCM_TAG_LEN]);

#endif
