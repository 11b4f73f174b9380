/* AES-256-GCM through OpenSSL's EVP. The key schedule is set once in aesgcm_new; each record
 * only sets its nonce, so a record costs the cipher and no setup. The layout (12-byte nonce,
 * associated data, detached 16-byte tag) is the standard one libsodium's crypto_aead_aes256gcm
 * also uses, so both produce the same bytes. */
#include "node/net/aesgcm.h"

#include <limits.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>

struct aesgcm {
	EVP_CIPHER_CTX *ctx;
	int encrypt;
};

struct aesgcm *aesgcm_new(const uint8_t key[AESGCM_KEY_LEN], int encrypt)
{
	struct aesgcm *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	g->encrypt = encrypt;
	g->ctx = EVP_CIPHER_CTX_new();
	if (g->ctx == NULL ||
	    EVP_CipherInit_ex(g->ctx, EVP_aes_256_gcm(), NULL, key, NULL, encrypt) != 1) {
		aesgcm_free(g);
		return NULL;
	}
	return g;
}

void aesgcm_free(struct aesgcm *g)
{
	if (g == NULL)
		return;
	EVP_CIPHER_CTX_free(g->ctx); /* cleanses the key schedule */
	free(g);
}

/* Set NONCE for one record and feed AD; the contexts' direction never changes. */
static int start(struct aesgcm *g, const uint8_t *ad, size_t adlen,
		 const uint8_t nonce[AESGCM_NONCE_LEN])
{
	int n;
	if (adlen > INT_MAX || EVP_CipherInit_ex(g->ctx, NULL, NULL, NULL, nonce, g->encrypt) != 1)
		return -1;
	return EVP_CipherUpdate(g->ctx, NULL, &n, ad, (int)adlen) == 1 ? 0 : -1;
}

/* Encrypt LEN bytes of IN into OUT, the next part of the record begun by start(). */
static int update(struct aesgcm *g, const uint8_t *in, size_t len, uint8_t *out)
{
	int n;
	return len == 0 || EVP_EncryptUpdate(g->ctx, out, &n, in, (int)len) == 1 ? 0 : -1;
}

int aesgcm_seal(struct aesgcm *g, const struct aesgcm_msg *m, uint8_t *out, const uint8_t *ad,
		size_t adlen, const uint8_t nonce[AESGCM_NONCE_LEN], uint8_t tag[AESGCM_TAG_LEN])
{
	size_t len = m->hlen + m->blen;
	int fin;
	if (len > INT_MAX || start(g, ad, adlen, nonce) != 0 || update(g, m->head, m->hlen, out) != 0 ||
	    update(g, m->body, m->blen, out + m->hlen) != 0 ||
	    EVP_EncryptFinal_ex(g->ctx, out + len, &fin) != 1 ||
	    EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_GET_TAG, AESGCM_TAG_LEN, tag) != 1) {
		sodium_memzero(out, len);
		return -1;
	}
	return 0;
}

int aesgcm_open(struct aesgcm *g, uint8_t *c, size_t len, const uint8_t *ad, size_t adlen,
		const uint8_t nonce[AESGCM_NONCE_LEN], const uint8_t tag[AESGCM_TAG_LEN])
{
	int n, fin;
	if (len > INT_MAX || start(g, ad, adlen, nonce) != 0 ||
	    EVP_DecryptUpdate(g->ctx, c, &n, c, (int)len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(g->ctx, EVP_CTRL_GCM_SET_TAG, AESGCM_TAG_LEN, (void *)tag) != 1 ||
	    EVP_DecryptFinal_ex(g->ctx, c + n, &fin) != 1) {
		sodium_memzero(c, len);
		return -1;
	}
	return 0;
}
