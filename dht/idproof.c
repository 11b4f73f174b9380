/* The signed statement of an id proof (dht/idproof.h). What it binds, and why:
 *   - the nonce: fresh from the challenger, so that no old answer can be replayed;
 *   - the challenger's address: a node that claims an id it does not hold cannot relay the
 *     challenge to the id's true holder and pass its answer on, since the holder signs the
 *     address the challenge came from, which is the impostor's, not the challenger's;
 *   - the prover's id and address: what the challenger adopts is that very node reference;
 *   - the width and a context string: a proof means one thing, in one ring size, and no
 *     signature made for another purpose with the same key (pushes) is ever a proof.
 * Ed25519 through libsodium; an open ring's id is the key's BLAKE2b hash (dht/id.c). */
#include "dht/idproof.h"

#include <sodium.h>
#include <string.h>

#include "dht/bytes.h"

_Static_assert(DHT_PROOF_PK_LEN == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key");
_Static_assert(DHT_PROOF_SIG_LEN == crypto_sign_BYTES, "Ed25519 signature");

static void put_addr(struct bwriter *w, const struct dht_addr *a)
{
	bw_u8(w, a->family);
	bw_bytes(w, a->ip, a->family == 4 ? 4 : a->family == 6 ? 16 : 0);
	bw_u16(w, a->port);
}

static bool family_ok(const struct dht_addr *a)
{
	return a->family == 0 || a->family == 4 || a->family == 6;
}

int idproof_encode(const struct idproof_claim *c, uint8_t out[IDPROOF_MAX])
{
	if (!family_ok(&c->challenger) || !family_ok(&c->prover.addr) || c->bits > 255)
		return -1;
	struct bwriter w;
	bw_init(&w, out, IDPROOF_MAX);
	bw_bytes(&w, IDPROOF_CONTEXT, sizeof IDPROOF_CONTEXT - 1);
	bw_u8(&w, (uint8_t)c->bits);
	bw_bytes(&w, c->nonce, DHT_PROOF_NONCE_LEN);
	put_addr(&w, &c->challenger);
	bw_bytes(&w, c->prover.id.b, ID_BYTES);
	put_addr(&w, &c->prover.addr);
	return w.bad ? -1 : (int)w.len;
}

int idproof_sign(const struct idproof_claim *c, const uint8_t sk[DHT_SIGN_SK_LEN],
		 uint8_t sig[DHT_PROOF_SIG_LEN])
{
	uint8_t buf[IDPROOF_MAX];
	int len = idproof_encode(c, buf);
	if (len < 0)
		return -1;
	return crypto_sign_detached(sig, NULL, buf, (unsigned long long)len, sk) == 0 ? 0 : -1;
}

enum idproof_result idproof_check(const struct idproof_claim *c,
				  const uint8_t pk[DHT_PROOF_PK_LEN],
				  const uint8_t sig[DHT_PROOF_SIG_LEN], bool trust_chosen_ids)
{
	uint8_t buf[IDPROOF_MAX];
	int len = idproof_encode(c, buf);
	if (len < 0 || crypto_sign_verify_detached(sig, buf, (unsigned long long)len, pk) != 0)
		return IDPROOF_BAD_SIG;
	if (trust_chosen_ids || idproof_id_ok(&c->prover.id, pk, c->bits))
		return IDPROOF_OK;
	return IDPROOF_NOT_KEYS;
}

bool idproof_id_ok(const struct dht_id *id, const uint8_t pk[DHT_SIGN_PK_LEN], unsigned bits)
{
	struct dht_id want;
	id_from_key(&want, pk, DHT_SIGN_PK_LEN, bits);
	return id_eq(&want, id);
}

/* libsodium's secret key is the seed followed by the public key: comparing that half catches a
 * key pair put together wrong without a key derivation per core (the simulators make many). */
bool idproof_pair_ok(const uint8_t pk[DHT_SIGN_PK_LEN], const uint8_t sk[DHT_SIGN_SK_LEN])
{
	static const uint8_t zero[DHT_SIGN_PK_LEN];
	return memcmp(sk + crypto_sign_SEEDBYTES, pk, DHT_SIGN_PK_LEN) == 0 &&
	       memcmp(pk, zero, sizeof zero) != 0;
}

const char *idproof_result_str(enum idproof_result r)
{
	switch (r) {
	case IDPROOF_OK: return "proven";
	case IDPROOF_BAD_SIG: return "the signature does not check";
	case IDPROOF_NOT_KEYS: return "its id is not the hash of the key it signed with";
	}
	return "?";
}
