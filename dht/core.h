/* dht/core.h: the inside of struct dht, the Chord core's state, shared by the modules that make
 * up the core: chord.c (the entry points), ring.c (membership and maintenance), lookup.c with
 * lookend.c and looksilent.c (iterative lookups) and kv.c, kvserve.c, kvtrust.c (the replicated
 * store). Each module keeps to its own fields and calls only downward (chord -> ring, kv ->
 * lookup -> rpc); where a lower module must tell a higher one something, it calls one of the
 * hooks below, which chord.c sets. Private to dht/. */
#ifndef DHT_CORE_H
#define DHT_CORE_H

#include "dht/lookstats.h"
#include "dht/rng.h"
#include "dht/routing.h"
#include "dht/rpc.h"
#include "dht/types.h"

struct lookup;
struct kvop;
struct app_call;
struct store;
struct addrmap;

/* kvtrust.c: a node that showed us we are among its first k successors, or is being asked
 * (its pushes held meanwhile). */
#define KVTRUST_MAX 16
#define KVTRUST_HOLD 4
struct kvtrust {
	bool used, checking;
	struct dht_node node;
	uint64_t until; /* its pushes are taken until then */
	size_t nheld;
	size_t held_len[KVTRUST_HOLD];
	uint8_t (*held)[DHT_MSG_MAX]; /* KVTRUST_HOLD encoded REPLICATEs, allocated while checking */
};

/* proof.c: ids proven to us, and the proofs under way (a request each, through rpc.c). */
#define PROOF_MAX_WAIT 16
struct proof_handler;
struct proof_wait {
	bool used;
	unsigned gen;           /* tells its request's answer from an earlier holder's */
	uint64_t started;
	struct dht_node node;
	uint8_t nonce[DHT_PROOF_NONCE_LEN];
	const struct proof_handler *h;
	unsigned tag;
	uint32_t txid;
};
struct proofs {
	struct dht *d;          /* the core, for the request layer's callbacks */
	struct addrmap *known;  /* address -> struct proof_known (proof.c), bounded */
	unsigned next_gen;
	struct proof_wait wait[PROOF_MAX_WAIT];
};

struct dht {
	struct dht_config cfg;
	enum dht_state state;
	struct routing rt;
	struct dht_stats stats;
	struct dht_lookup_hist lhist; /* lookstats.c, counted by lookend.c */
	struct rpc *rpc;       /* every datagram in and out */
	uint64_t last_deadline; /* the last one announced through env->set_timer */
	void (*app_request)(void *arg, const struct dht_msg *m, const struct dht_addr *from);
	void *app_arg;          /* env->app_request and its argument (chord.c) */
	struct app_call *app_calls; /* application requests waiting for a reply (chord.c) */

	/* Hooks: calls upward, without naming the module called. */
	/* lookup.c and findserve.c -> ring.c */
	void (*suspect)(struct dht *d, const struct dht_id *id);
	void (*joined)(struct dht *d);                            /* ring.c -> kv.c */
	/* Our predecessor changed from OLD (if HAD_OLD) to the node now in rt.pred. */
	void (*pred_changed)(struct dht *d, bool had_old, const struct dht_node *old);

	/* ring.c */
	uint64_t stabilize_at, check_pred_at, fix_at;
	bool stabilizing, checking_pred, fixing;
	unsigned lone_failures; /* rounds our only successor has not answered */
	unsigned stab_steps;    /* closer successors adopted in this stabilization round */
	unsigned next_finger;
	unsigned fixing_finger; /* the finger a lookup is fixing, while fixing */
	bool fingers_fast;      /* until one pass over every finger is done */
	dht_join_cb *join_cb;
	void *join_arg;

	/* merge.c */
	uint64_t merge_at;
	bool merge_busy;        /* a probe, its lookup or its trymerge is under way */
	unsigned merge_next;    /* the passive list entry probed next */
	bool merge_has_cand;    /* merge_cand, from a beacon, is to be probed next */
	struct dht_node merge_cand;

	/* lookup.c, lookend.c (lookup_int.h) */
	struct lookup *lookups;

	/* kv.c */
	struct store *store;
	struct rng rng;         /* for random subsets of peers; seeded from env->random */
	struct kvop *kvops;
	uint64_t repl_at;

	/* kvtrust.c */
	struct kvtrust trust[KVTRUST_MAX];

	/* proof.c */
	struct proofs proof;
};

#endif
