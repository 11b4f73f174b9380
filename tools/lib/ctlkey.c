/* The client's keyed control channel: secchan as initiator over a byte buffer of what the node
 * sent. The buffer holds at most one record and what came with it, since records are opened
 * as soon as the caller has room for their plaintext. */
#include "tools/lib/ctlkey.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define RAW_MAX (2 * (SECCHAN_RECORD_MAX + SECCHAN_OVERHEAD))

struct ctlkey {
	struct secchan_config cfg; /* the secchan points here */
	struct secchan *sc;
	uint8_t raw[RAW_MAX];      /* bytes read, not yet taken */
	size_t rawlen;
	size_t plainlen;           /* RAW's first bytes: an opened record's plaintext not yet taken */
};

struct ctlkey *ctlkey_new(const uint8_t stream_key[SECCHAN_KEY_LEN],
			  uint8_t hello[SECCHAN_HELLO_LEN])
{
	uint8_t seed[SECCHAN_SEED_LEN];
	struct ctlkey *k = sodium_init() < 0 ? NULL : sodium_malloc(sizeof *k);
	if (k == NULL)
		return NULL;
	memset(k, 0, sizeof *k);
	memcpy(k->cfg.stream_key, stream_key, SECCHAN_KEY_LEN);
	crypto_sign_keypair(k->cfg.pk, k->cfg.sk);
	k->cfg.aes = crypto_aead_aes256gcm_is_available() != 0;
	k->cfg.control = true;
	randombytes_buf(seed, sizeof seed);
	k->sc = secchan_new(&k->cfg, true, seed);
	sodium_memzero(seed, sizeof seed);
	if (k->sc == NULL) {
		sodium_free(k);
		return NULL;
	}
	secchan_hello(k->sc, hello);
	return k;
}

void ctlkey_free(struct ctlkey *k)
{
	if (k == NULL)
		return;
	secchan_free(k->sc);
	sodium_free(k);
}

/* Drop the first N bytes of RAW (never the plaintext still to be taken). */
static void drop(struct ctlkey *k, size_t n)
{
	memmove(k->raw, k->raw + n, k->rawlen - n);
	k->rawlen -= n;
}

size_t ctlkey_room(const struct ctlkey *k)
{
	return RAW_MAX - k->rawlen;
}

int ctlkey_feed(struct ctlkey *k, const uint8_t *in, size_t len)
{
	if (len > RAW_MAX - k->rawlen)
		return -1;
	memcpy(k->raw + k->rawlen, in, len);
	k->rawlen += len;
	return 0;
}

enum secchan_status ctlkey_handshake(struct ctlkey *k, uint8_t out[SECCHAN_OUT_MAX],
				     size_t *outlen)
{
	size_t used = 0;
	enum secchan_status st = secchan_handshake(k->sc, k->raw, k->rawlen, &used, out, outlen);
	drop(k, used);
	return st;
}

uint8_t *ctlkey_seal(struct ctlkey *k, const char *in, size_t len, size_t *outlen)
{
	size_t records = (len + SECCHAN_RECORD_MAX - 1) / SECCHAN_RECORD_MAX;
	uint8_t *out = malloc(len + records * SECCHAN_OVERHEAD), *at = out;
	if (out == NULL)
		return NULL;
	for (size_t done = 0; done < len;) {
		size_t n = len - done < SECCHAN_RECORD_MAX ? len - done : SECCHAN_RECORD_MAX;
		if (secchan_seal(k->sc, (const uint8_t *)in + done, n, NULL, 0, at) != 0) {
			free(out);
			return NULL;
		}
		at += n + SECCHAN_OVERHEAD;
		done += n;
	}
	*outlen = (size_t)(at - out);
	return out;
}

/* Open the record at RAW's head if it is whole. Return 1 if one was opened, 0 if none is
 * whole, -1 if it is malformed or forged. */
static int open_next(struct ctlkey *k)
{
	if (k->rawlen < SECCHAN_HEADER_LEN)
		return 0;
	size_t len = secchan_record_len(k->raw);
	if (len == 0)
		return -1;
	if (k->rawlen < len)
		return 0;
	uint8_t *plain;
	if (secchan_open(k->sc, k->raw, len, &plain, &k->plainlen) != 0)
		return -1;
	memmove(k->raw, plain, k->plainlen); /* the plaintext first, then what followed */
	memmove(k->raw + k->plainlen, k->raw + len, k->rawlen - len);
	k->rawlen -= len - k->plainlen;
	return 1;
}

int ctlkey_take(struct ctlkey *k, char *buf, size_t cap, size_t *n)
{
	*n = 0;
	while (*n < cap) {
		if (k->plainlen == 0) {
			int rc = open_next(k);
			if (rc <= 0)
				return rc;
		}
		size_t m = k->plainlen < cap - *n ? k->plainlen : cap - *n;
		memcpy(buf + *n, k->raw, m);
		*n += m;
		k->plainlen -= m;
		drop(k, m);
	}
	return 0;
}
