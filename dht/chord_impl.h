/* dht/chord_impl.h: the inside of struct dht, shared by chord.c (membership and maintenance) and
 * lookup.c (iterative lookups). Private to dht/: nothing outside includes it. */
#ifndef DHT_CHORD_IMPL_H
#define DHT_CHORD_IMPL_H

#include "dht/chord.h"
#include "dht/kv.h"
#include "dht/rng.h"
#include "dht/routing.h"
#include "dht/store.h"

#define LOOKUP_MAX_CAND 48
#define LOOKUP_MAX_DEAD 16
#define LOOKUP_MAX_ASKED 16

/* Why a request is outstanding: what to do with its answer or its timeout. */
enum pending_kind {
	P_STAB_SUCC,  /* stabilize: GET_NEIGH to the first successor */
	P_STAB_PRED,  /* stabilize: GET_NEIGH to the successor's predecessor, a closer successor */
	P_CHECK_PRED, /* check-predecessor: PING */
	P_JOIN_NEIGH, /* join: JOIN to the successor we found */
	P_FIND,       /* one hop of a lookup */
	P_KV,         /* a store request (PUT, GET, ANNOUNCE, GET_PEERS) of a kvop */
	P_QUERY,      /* GET_NEIGH for dht_query_neighbors() */
};

struct lookup;
struct kvop;

struct pending {
	uint32_t txid;
	enum pending_kind kind;
	struct dht_node to;
	bool to_id_known;    /* false for a join's bootstrap address */
	uint8_t type;        /* the request, kept small so that a retry can resend it */
	uint8_t find_flags;
	uint8_t ndead;
	struct dht_id key;
	struct dht_id dead[DHT_MAX_DEAD];
	unsigned tries_left;
	uint64_t sent_at, deadline;
	struct lookup *lk;   /* for P_FIND */
	struct kvop *op;     /* for P_KV and P_QUERY: rebuilds the request on a retry */
};

enum lookup_purpose { LK_USER, LK_FINGER, LK_JOIN };

struct lookup {
	struct lookup *next;
	struct dht_id key;
	enum lookup_purpose purpose;
	unsigned finger; /* for LK_FINGER */
	dht_lookup_cb *cb;
	void *cb_arg;
	uint64_t started;
	unsigned attempts, hops, timeouts;
	bool boot_heard;         /* a join's contact answered in this attempt */
	uint64_t retry_at;       /* when the next attempt starts; 0 if one is running */
	bool has_boot;           /* a join's first hop: an address whose id we do not know */
	struct dht_addr boot;
	/* Candidates preceding the key, and owner candidates (from an OWNER answer) tried in order. */
	size_t ncand;
	struct dht_node cand[LOOKUP_MAX_CAND];
	bool tried[LOOKUP_MAX_CAND];
	size_t nown, own_pos;
	struct dht_node own[DHT_MAX_NODES];
	struct dht_node lower;   /* the anchor A of the last OWNER answer: the key is in (A, own[0]] */
	bool fresh;              /* that answer came from A itself: its first successor is fresh */
	unsigned local_answers;  /* guards the answer_locally() recursion */
	size_t nasked;           /* nodes asked as owner in this attempt */
	struct dht_id asked[LOOKUP_MAX_ASKED];
	size_t ndead;
	struct dht_id dead[LOOKUP_MAX_DEAD];
	size_t npath;
	struct dht_hop path[DHT_MAX_PATH];
};

struct dht {
	struct dht_config cfg;
	struct dht_env env;
	void *env_arg;
	enum dht_state state;
	struct routing rt;
	struct dht_stats stats;

	size_t npend, cappend;
	struct pending *pend;
	uint32_t next_txid;
	struct lookup *lookups;

	uint64_t srtt, rttvar; /* microseconds; srtt 0 until the first sample */
	uint64_t stabilize_at, check_pred_at, fix_at;
	bool stabilizing, checking_pred, fixing;
	unsigned lone_failures; /* rounds our only successor has not answered */
	unsigned stab_steps;    /* closer successors adopted in this stabilization round */
	unsigned next_finger;
	bool fingers_fast;     /* until one pass over every finger is done */
	uint64_t last_deadline; /* the last one announced through env->set_timer */

	struct store *store;
	struct rng rng;        /* for random subsets of peers; seeded from env->random */
	struct kvop *kvops;
	uint64_t repl_at;

	dht_join_cb *join_cb;
	void *join_arg;
	struct dht_addr join_via;
};

/* chord.c */
uint64_t chord_now(struct dht *d);
uint64_t chord_rto(const struct dht *d);
void chord_log(struct dht *d, enum dht_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Send a request and remember it; return the pending entry (valid until the next call that adds
 * or removes one), or NULL on no memory. */
struct pending *chord_request(struct dht *d, enum pending_kind kind, const struct dht_node *to,
			      const struct dht_msg *m, unsigned tries);
void chord_send(struct dht *d, const struct dht_addr *to, struct dht_msg *m);
void chord_join_found(struct dht *d, const struct dht_lookup_result *res);
void chord_finger_found(struct dht *d, unsigned i, const struct dht_lookup_result *res);
/* A node did not answer a lookup hop: forget it as a finger; stabilize at once if it is our
 * first successor. */
void chord_suspect(struct dht *d, const struct dht_id *id);

/* Tell the environment our earliest deadline if it changed; return it. */
uint64_t chord_rearm(struct dht *d);
/* Is NODE this very node (same id at the same address)? A node with our id elsewhere is not. */
bool chord_is_self(const struct dht *d, const struct dht_node *node);

/* lookup.c */
/* Start a lookup; it may finish (and call back) before this returns. Return 0, or -1 on no
 * memory (no callback then). FINGER is the finger index for LK_FINGER. */
int lookup_start(struct dht *d, const struct dht_id *key, enum lookup_purpose purpose,
		 unsigned finger, dht_lookup_cb *cb, void *cb_arg);
void lookup_on_found(struct dht *d, struct lookup *lk, const struct pending *p,
		     const struct dht_msg *m);
void lookup_on_timeout(struct dht *d, struct lookup *lk, const struct pending *p);
/* The hop answered, but not with FOUND (it is not in a ring yet, or left): alive, so not dead;
 * the lookup moves on without it. */
void lookup_on_refused(struct dht *d, struct lookup *lk, const struct pending *p);
/* Answer a FIND from our own state (also used for the first step of our own lookups). */
void lookup_answer(struct dht *d, const struct dht_id *key, uint8_t flags,
		   const struct dht_id *dead, size_t ndead, struct dht_msg *out);
void lookup_fail_all(struct dht *d, enum dht_status status);
/* Start the attempts that are due; return the earliest one still waiting (UINT64_MAX: none).
 * With NOW == 0 only report. */
uint64_t lookup_retry_due(struct dht *d, uint64_t now);

/* kv.c */
int kv_init(struct dht *d);
void kv_free(struct dht *d);
/* Serve a store request (PUT, GET, ANNOUNCE, GET_PEERS, REPLICATE). Return true if it was one. */
bool kv_on_request(struct dht *d, const struct dht_msg *m, const struct dht_node *from);
void kv_on_reply(struct dht *d, const struct pending *p, const struct dht_msg *m);
void kv_on_timeout(struct dht *d, const struct pending *p);
/* Rebuild the request of a P_KV or P_QUERY pending entry into M. */
void kv_request_msg(const struct pending *p, struct dht_msg *m);
void kv_tick(struct dht *d, uint64_t now);
uint64_t kv_next_deadline(const struct dht *d);
/* Our predecessor changed from OLD (if HAD_OLD) to the node now in d->rt.pred: hand over keys. */
void kv_pred_changed(struct dht *d, bool had_old, const struct dht_node *old);
/* Leaving: hand the keys we own to our successor. */
void kv_handoff_all(struct dht *d);
/* Finish every operation still waiting (call after their requests are forgotten). */
void kv_fail_all(struct dht *d, enum dht_status status);

#endif
