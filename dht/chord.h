/* dht/chord.h: the Chord protocol core, a pure state machine. It keeps a node's ring membership
 * correct (join, stabilize, rectify, fix-fingers, check-predecessor, leave, after Zave's corrected
 * Chord) and runs iterative lookups. It does no I/O: every datagram comes in through dht_input()
 * and goes out through env->send(); time, timers and randomness come from the environment; so the
 * same core runs in real nodes and in the simulator.
 *
 * Invariants the core maintains (Zave, "Reasoning about identifier spaces", TSE 2017), given that
 * no node loses every entry of its successor list at once:
 *  - a node's successor list is ordered: walking it clockwise never passes the node itself
 *    without landing on it (in rings smaller than r+1 the list wraps onto the node, which is fine);
 *  - a node is adopted as first successor only after it has answered (checked live);
 *  - the predecessor is replaced only by a node closer to us (rectify) or when it is found dead;
 *  - from every joined node, the first live successors lead to one ordered ring that goes round
 *    the circle exactly once.
 * Memory: struct dht is owned by the caller of dht_new() and freed by dht_free(). Pointers handed
 * to callbacks are valid only during the callback. */
#ifndef DHT_CHORD_H
#define DHT_CHORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/id.h"
#include "dht/msg.h"

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
	uint64_t rto_min_us, rto_max_us; /* default 100 ms and 2 s */
	unsigned maint_tries;     /* attempts of a request before its node is taken for dead (3) */
	unsigned lookup_tries;    /* whole-lookup attempts (default 4; twice that for a join) */
	uint64_t lookup_retry_us; /* attempt k starts (k-1) times this after the last failed (500 ms) */
	unsigned max_hops;        /* nodes one lookup attempt may contact (default 48) */
	/* The store (dht/kv.h). */
	unsigned kv_replicas;       /* k: successors holding a copy (default 3) */
	uint64_t kv_replicate_us;   /* owners push their keys to the replicas this often (5 s) */
	uint32_t kv_default_ttl_s;  /* for a put or announce that names none (1 hour) */
	uint32_t kv_max_ttl_s;      /* longer TTLs are cut to this (7 days) */
	size_t kv_max_bytes;        /* values plus overhead held by one node (64 MiB) */
	unsigned kv_max_peers;      /* announcements under one key (1,000) */
};

/* Fill CFG with the defaults above; the caller sets self and may change the rest. */
void dht_config_default(struct dht_config *cfg);

enum dht_status {
	DHT_OK = 0,
	DHT_ERR_TIMEOUT,     /* no answer: the node or every route to the key is unreachable */
	DHT_ERR_ID_TAKEN,    /* join refused: a member already has our id */
	DHT_ERR_NOT_JOINED,  /* the node is not in a ring */
	DHT_ERR_NO_MEMORY,
	DHT_ERR_NOT_FOUND,   /* no value under that key */
	DHT_ERR_TOO_LARGE,   /* a value above KV_MAX_VALUE bytes */
	DHT_ERR_FULL,        /* the owner's store is full (bytes, or peers under one key) */
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
};

typedef void dht_lookup_cb(void *arg, const struct dht_lookup_result *res);
typedef void dht_join_cb(void *arg, enum dht_status status);

struct dht_stats {
	uint64_t sent, received;
	uint64_t dropped[DHT_DECODE_NRESULTS]; /* malformed datagrams by reason */
	uint64_t dropped_unsolicited;          /* replies to nothing we asked */
	uint64_t timeouts;
	uint64_t lookups, lookups_failed;
	uint64_t stabilizations;
};

struct dht;

/* Return a new core, or NULL if CFG is invalid (bad bits or r) or memory runs out. ENV is copied;
 * ENV_ARG is passed to every env call. Nothing is sent until dht_create() or dht_join(). */
struct dht *dht_new(const struct dht_config *cfg, const struct dht_env *env, void *env_arg);
void dht_free(struct dht *d); /* accepts NULL; drops pending lookups without calling back */

/* Start a new ring of one node. */
void dht_create(struct dht *d);

/* Join the ring that the node at VIA belongs to. CB (may be NULL) is called once with DHT_OK,
 * DHT_ERR_ID_TAKEN or DHT_ERR_TIMEOUT. Return 0, or -1 if already joined or joining. */
int dht_join(struct dht *d, const struct dht_addr *via, dht_join_cb *cb, void *arg);

/* Leave gracefully: tell predecessor and successor, then stop. Pending lookups fail. */
void dht_leave(struct dht *d);

/* Feed one received datagram. Malformed input is dropped and counted, never trusted. */
void dht_input(struct dht *d, const uint8_t *buf, size_t len, const struct dht_addr *from);

/* Run due timers and timeouts; return the next deadline (also announced via env->set_timer). */
uint64_t dht_tick(struct dht *d);

/* Find the node that owns KEY (its successor). CB is called exactly once, possibly before
 * dht_lookup returns (a key we own ourselves). Return 0, or -1 if not joined or out of memory
 * (CB is then not called). */
int dht_lookup(struct dht *d, const struct dht_id *key, dht_lookup_cb *cb, void *arg);

enum dht_state dht_get_state(const struct dht *d);
const struct dht_node *dht_self(const struct dht *d);
unsigned dht_bits(const struct dht *d);
/* Copy the predecessor into OUT and return 0, or return -1 if none is known. */
int dht_predecessor(const struct dht *d, struct dht_node *out);
/* Copy up to MAX successors (first first) into OUT; return how many. */
size_t dht_successors(const struct dht *d, struct dht_node *out, size_t max);
/* Copy up to MAX distinct fingers and their lowest indices; return how many. */
size_t dht_fingers(const struct dht *d, struct dht_node *out, unsigned *index, size_t max);
const struct dht_stats *dht_get_stats(const struct dht *d);

#endif
