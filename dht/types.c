/* The defaults and the names of the core's public types (dht/types.h). */
#include "dht/types.h"

#include <sodium.h>
#include <string.h>

_Static_assert(DHT_SIGN_PK_LEN == crypto_sign_PUBLICKEYBYTES, "Ed25519 public key");
_Static_assert(DHT_SIGN_SK_LEN == crypto_sign_SECRETKEYBYTES, "Ed25519 secret key");
_Static_assert(DHT_SIGN_SEED_LEN == crypto_sign_SEEDBYTES, "Ed25519 seed");

void dht_config_default(struct dht_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->bits = 160;
	cfg->succ_len = 8;
	cfg->stabilize_us = 1000000;
	cfg->check_pred_us = 2000000;
	cfg->fix_fingers_us = 2000000;
	cfg->fix_fingers_fast_us = 100000;
	cfg->rto_init_us = 500000;
	cfg->rto_min_us = 10000;
	cfg->rto_max_us = 2000000;
	cfg->maint_tries = 3;
	cfg->lookup_tries = 4;
	cfg->lookup_retry_us = 500000;
	cfg->max_hops = 48;
	cfg->kv_replicas = 3;
	cfg->kv_replicate_us = 5000000;
	cfg->kv_default_ttl_s = 3600;
	cfg->kv_max_ttl_s = 7 * 24 * 3600;
	cfg->kv_max_bytes = 64u << 20;
	cfg->kv_max_peers = 1000;
	cfg->rate_per_s = 1000;
	cfg->rate_burst = 2000;
}

void dht_config_seed_key(struct dht_config *cfg, const uint8_t seed[DHT_SIGN_SEED_LEN])
{
	crypto_sign_seed_keypair(cfg->sign_pk, cfg->sign_sk, seed);
	if (!cfg->trust_chosen_ids)
		id_from_key(&cfg->self.id, cfg->sign_pk, sizeof cfg->sign_pk, cfg->bits);
}

const char *dht_status_str(enum dht_status s)
{
	switch (s) {
	case DHT_OK: return "ok";
	case DHT_ERR_TIMEOUT: return "no answer (node or route unreachable)";
	case DHT_ERR_ID_TAKEN: return "a member of the ring already has this id";
	case DHT_ERR_NOT_JOINED: return "not in a ring";
	case DHT_ERR_NO_MEMORY: return "out of memory";
	case DHT_ERR_NOT_FOUND: return "not found";
	case DHT_ERR_TOO_LARGE: return "value too large (at most 1000 bytes)";
	case DHT_ERR_FULL: return "the owner's store is full, or the writer's quota there is used up";
	case DHT_ERR_FORGED: return "the value's signature does not match its writer";
	case DHT_ERR_STALE: return "the writer's value there has a higher sequence number";
	case DHT_ERR_CAS: return "the writer's value there does not have the expected sequence number";
	}
	return "?";
}
