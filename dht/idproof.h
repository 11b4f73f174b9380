/* dht/idproof.h: the statement a node signs to prove its id (issue 11): "I, holder of this
 * Ed25519 key, am node ID at address PROVER, answering the nonce that CHALLENGER sent me", and
 * its check, including that the id is the key's (open rings) or merely named (private rings).
 * Pure functions over caller-owned buffers: nothing allocates. */
#ifndef DHT_IDPROOF_H
#define DHT_IDPROOF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"
#include "dht/types.h"

/* "dhtnode id proof 1" | bits u8 | nonce (16) | challenger addr | prover id (20) | prover addr,
 * where addr = family u8 | ip (0, 4 or 16 bytes) | port u16, as in dht/msg.c. */
#define IDPROOF_CONTEXT "dhtnode id proof 1"
#define IDPROOF_MAX (sizeof IDPROOF_CONTEXT - 1 + 1 + DHT_PROOF_NONCE_LEN + 2 * 19 + ID_BYTES)

struct idproof_claim {
	unsigned bits;                     /* the ring's id width */
	uint8_t nonce[DHT_PROOF_NONCE_LEN]; /* chosen by the challenger */
	struct dht_addr challenger;        /* where the challenger sent from */
	struct dht_node prover;            /* the id claimed and where it was asked */
};

/* Write the bytes that are signed for C into OUT (IDPROOF_MAX bytes); return their length, or
 * -1 if an address has an unknown family. */
int idproof_encode(const struct idproof_claim *c, uint8_t out[IDPROOF_MAX]);

/* Sign C with SK into SIG; return 0, or -1 if C cannot be encoded. */
int idproof_sign(const struct idproof_claim *c, const uint8_t sk[DHT_SIGN_SK_LEN],
		 uint8_t sig[DHT_PROOF_SIG_LEN]);

enum idproof_result {
	IDPROOF_OK = 0,
	IDPROOF_BAD_SIG, /* the signature is not PK's over C: another key, or another claim */
	IDPROOF_NOT_KEYS, /* a good signature, but the id is not the hash of PK (open rings) */
};

/* Check that SIG is PK's signature over C and, unless TRUST_CHOSEN_IDS, that C's id is PK's
 * (id_from_key at C's width). */
enum idproof_result idproof_check(const struct idproof_claim *c,
				  const uint8_t pk[DHT_PROOF_PK_LEN],
				  const uint8_t sig[DHT_PROOF_SIG_LEN], bool trust_chosen_ids);
const char *idproof_result_str(enum idproof_result r);

/* Does SK hold PK as its public half (and is PK set)? */
bool idproof_pair_ok(const uint8_t pk[DHT_SIGN_PK_LEN], const uint8_t sk[DHT_SIGN_SK_LEN]);
/* Is ID the hash of PK at width BITS (an open ring's rule)? */
bool idproof_id_ok(const struct dht_id *id, const uint8_t pk[DHT_SIGN_PK_LEN], unsigned bits);

#endif
