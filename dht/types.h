/* dht/types.h: the Chord core's public types: its configuration, the environment it is given,
 * statuses, lookup results and counters. Apart from chord.h so that the core's inner modules
 * (the request layer, lookups, the store) can name them without depending on the core's entry
 * points. Plain values: nothing here owns memory. */
#ifndef DHT_TYPES_H
#define DHT_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/id.h"
#include "dht/msg.h"

#define DHT_SIGN_PK_LEN 32   /* crypto_sign_PUBLICKEYBYTES */
#define DHT_SIGN_SK_LEN 64   /* crypto_sign_SECRETKEYBYTES */
#define DHT_SIGN_SEED_LEN 32 /* crypto_sign_SEEDBYTES */

enum dht_log_level { DHT_LOG_ERROR, DHT_LOG_WARN, DHT_LOG_INFO, DHT_LOG_DEBUG };

struct dht_env {
	/* Send one datagram. The core never waits for it. */
	void (*send)(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len);
	/* Ask to have dht_tick() called at (or soon after) AT, in the env's microseconds. A later
	 * call replaces the earlier request. */
	void (*set_timer)(void *arg, uint64_t at);
	uint64_t (*now)(void *arg);                          /* monotonic microseconds */
	void (*random)(void *arg, void *buf, size_t len);     /* random bytes */
	void (*log)(void *arg, enum dht_log_level level, const char *msg); /* may be NULL */
	/* An application request (DHT_MSG_IS_APP) from FROM, which the core does not serve: the
	 * node answers it, if at all, with dht_app_reply(). Called only while joined. May be NULL
	 * (such requests are then dropped). M is valid during the call. */
	void (*app_request)(void *arg, const struct dht_msg *m, const struct dht_addr *from);
};

struct dht_config {
	unsigned bits;            /* id width n, 8..160 (default 160) */
	unsigned succ_len;        /* r, the successor list length, 2..32 (default 8) */
	struct dht_node self;     /* our id and the address others reach us at */
	uint64_t stabilize_us;    /* default 1 s */
	uint64_t check_pred_us;   /* default 2 s */
	uint64_t fix_fingers_us;  /* one finger per period once all were fixed (default 2 s) */
	uint64_t fix_fingers_fast_us; /* one finger per period until then (default 100 ms) */
	uint64_t rto_init_us;     /* first request timeout, before any round trip is measured */
	/* Request timeouts follow each destination's measured round trip (dht/rpc.c), within
	 * [rto_min_us, rto_max_us] (default 10 ms and 2 s); a destination measured fewer than three
	 * times gets at least 100 ms (RPC_RTO_NEW_MIN_US). */
	uint64_t rto_min_us, rto_max_us;
	unsigned maint_tries;     /* attempts of a request before its node is taken for dead (3) */
	unsigned lookup_tries;    /* whole-lookup attempts (default 4; twice that for a join) */
	uint64_t lookup_retry_us; /* attempt k >= 2 starts (k-2) times this after the last failed (500 ms) */
	unsigned max_hops;        /* nodes one lookup attempt may contact (default 48) */
	/* The store (dht/kv.h). */
	unsigned kv_replicas;       /* k: successors holding a copy (default 3) */
	uint64_t kv_replicate_us;   /* owners push their keys to the replicas this often (5 s) */
	uint32_t kv_default_ttl_s;  /* for a put or announce that names none (1 hour) */
	uint32_t kv_max_ttl_s;      /* longer TTLs are cut to this (7 days) */
	size_t kv_max_bytes;        /* values plus overhead held by one node (64 MiB) */
	unsigned kv_max_peers;      /* announcements under one key (1,000) */
	/* Hostile neighbours. */
	uint32_t rate_per_s;        /* datagrams a second taken from one IP (1,000) */
	uint32_t rate_burst;        /* in bursts of at most this many (2,000) */
	size_t kv_quota_bytes;      /* values written by one IP and peers at one IP, held by one
				     * node (0: a sixteenth of kv_max_bytes) */
	/* Identity (dht/proof.h): the node's Ed25519 key pair, with which it proves its id to
	 * the nodes that take it as a neighbour. In an open ring a node's id must be the hash of
	 * its public key (id_from_key at the ring's width), its own as everyone else's. With
	 * TRUST_CHOSEN_IDS (a private ring: every member holds the network key, and --id may
	 * choose ids) a node proves only that it holds the key it names. dht_new() refuses a key
	 * pair whose halves do not match, and in an open ring an id that is not its key's. */
	uint8_t sign_pk[DHT_SIGN_PK_LEN], sign_sk[DHT_SIGN_SK_LEN];
	bool trust_chosen_ids;
};

/* Fill CFG with the defaults above; the caller sets self and the key pair, and may change the
 * rest. */
void dht_config_default(struct dht_config *cfg);
/* Set CFG's key pair from a 32-byte SEED (deterministic: for simulators and tests) and, unless
 * CFG trusts chosen ids, its id to the key's at CFG's width. */
void dht_config_seed_key(struct dht_config *cfg, const uint8_t seed[DHT_SIGN_SEED_LEN]);

enum dht_status {
	DHT_OK = 0,
	DHT_ERR_TIMEOUT,     /* no answer: the node or every route to the key is unreachable */
	DHT_ERR_ID_TAKEN,    /* join refused: a member already has our id */
	DHT_ERR_NOT_JOINED,  /* the node is not in a ring */
	DHT_ERR_NO_MEMORY,
	DHT_ERR_NOT_FOUND,   /* no value under that key */
	DHT_ERR_TOO_LARGE,   /* a value above KV_MAX_VALUE bytes */
	DHT_ERR_FULL,        /* the owner's store is full (bytes, or peers under one key) */
	DHT_ERR_FORGED,      /* a value its writer did not sign (or not the hash of its bytes) */
	DHT_ERR_STALE,       /* the writer's value there is newer (a higher seq) */
	DHT_ERR_CAS,         /* the writer's value there does not have the seq the put expected */
};
const char *dht_status_str(enum dht_status s);

enum dht_state { DHT_IDLE, DHT_JOINING, DHT_JOINED, DHT_LEFT };

#define DHT_MAX_PATH 64

struct dht_hop {
	struct dht_node node;
	uint64_t rtt_us; /* 0 if it did not answer */
	bool answered;
};

struct dht_lookup_result {
	enum dht_status status;
	struct dht_id key;
	struct dht_node owner;   /* valid if status == DHT_OK */
	unsigned hops;           /* nodes contacted (0: answered from our own state) */
	unsigned timeouts;       /* hops that did not answer */
	unsigned attempts;       /* whole-lookup attempts used */
	uint64_t elapsed_us;
	size_t npath;
	const struct dht_hop *path; /* the nodes contacted, in order */
	bool unconfirmed;        /* a read's owner, taken before the dead before it timed out */
};

typedef void dht_lookup_cb(void *arg, const struct dht_lookup_result *res);
typedef void dht_join_cb(void *arg, enum dht_status status);

struct dht_stats {
	uint64_t sent, received;
	uint64_t dropped[DHT_DECODE_NRESULTS]; /* malformed datagrams by reason */
	uint64_t dropped_unsolicited;          /* replies to nothing we asked */
	uint64_t dropped_rate;                 /* over their IP's rate limit */
	uint64_t dropped_unproven;             /* requests without a valid address token */
	uint64_t dropped_refused;              /* writes and notices refused by the rules of
						* kv.c and ring.c (not a member) */
	uint64_t challenges;                   /* token challenges sent */
	uint64_t values_forged;                /* values refused: a bad signature or hash */
	uint64_t values_stale;                 /* values refused: older than the one held */
	uint64_t timeouts;
	uint64_t lookups, lookups_failed;
	uint64_t stabilizations;
	uint64_t merges;                       /* links made to a node of another ring */
	uint64_t merge_hints;                  /* beacons of a node where our ring has none */
	uint64_t lost_aged;                    /* passive list entries dropped for age */
	uint64_t ids_refused;                  /* nodes that could not prove the id they claim */
	uint64_t proofs;                       /* ids proven to us (dht/proof.c) */
};

#endif
