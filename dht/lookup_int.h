/* dht/lookup_int.h: the inside of a lookup, shared by lookup.c (the state machine that asks),
 * lookend.c (whether an owner's answer ends it, and ending it) and looksilent.c (its dead and
 * slow nodes and what it names to others), and by no one else; the functions they share are
 * named lk_*. The core owns every lookup (d->lookups): lookup.c allocates it, and frees all when
 * the core is freed; lookend.c frees one that has ended. */
#ifndef DHT_LOOKUP_INT_H
#define DHT_LOOKUP_INT_H

#include "dht/core.h"
#include "dht/lookowner.h"

#define LOOKUP_MAX_CAND 48
#define LOOKUP_MAX_DEAD 16
#define LOOKUP_MAX_ASKED 16
#define LOOKUP_MAX_SLOW 8

struct lookup {
	struct lookup *next;
	struct dht *d;
	struct dht_id key;
	dht_lookup_cb *cb;
	void *cb_arg;
	uint64_t started;
	unsigned attempts, hops, timeouts;
	unsigned inflight;       /* questions out, unanswered */
	unsigned seq;            /* questions asked, numbering them in their rpc tags */
	unsigned driver;         /* the question out and not yet slow, which drives; 0: none */
	uint64_t slow_at;        /* when it turns slow: then ask another too; 0: never */
	bool boot_heard;         /* a join's contact answered in this attempt */
	uint64_t retry_at;       /* when the next attempt starts; 0 if one is running */
	bool deferred;           /* the first attempt waits for the next dht_tick() */
	bool ended;              /* called back; waits only for its slow questions to end */
	bool has_boot;           /* a join: the first hop is an address whose id we do not know */
	bool read;               /* a read: an owner not yet confirmed ends it (lk_judge_owner) */
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
	size_t nasked;           /* nodes asked as owner in this attempt, and hints_seen then */
	struct dht_id asked[LOOKUP_MAX_ASKED];
	unsigned asked_hints[LOOKUP_MAX_ASKED];
	size_t ndead;
	struct dht_id dead[LOOKUP_MAX_DEAD];
	/* Nodes whose questions turned slow and are still out: maybe dead, maybe not. Nothing is
	 * decided on them, and no question names them (a live node named dead would be dropped
	 * from lists and checked by every node told so). */
	size_t nslow;
	struct dht_id slow[LOOKUP_MAX_SLOW];
	struct dht_node driver_node; /* the node the driving question went to */
	bool has_near;           /* near: the node preceding the key that answered nearest it */
	struct dht_id near;
	unsigned hints_seen;     /* nodes ever added to dead[] or slow[] */
	bool ask_anchor;         /* the owners want a fresh list: ask lower next */
	unsigned anchor_hints;   /* hints_seen when lower was last asked so, plus one; 0: never */
	bool has_src;            /* src gave the route being tried, when hints_seen was src_hints */
	bool src_routed;         /* src answered NEXT: its nodes precede the key, none owns it */
	bool slow_named;         /* slow nodes were named dead to slow_named_to in this attempt */
	struct dht_id slow_named_to;
	struct dht_node src;
	unsigned src_hints;
	/* Held, asked as the owner, is the owner if the nodes of need[] (slow) all time out: then
	 * it is asked again (alive still?). Meanwhile the lookup asks nobody else. */
	bool has_held;
	struct dht_node held;
	uint64_t recheck_at;     /* when held is asked again (OWNER_WAIT); 0: not waiting */
	uint64_t recheck_gap;
	size_t nneed;
	struct dht_id need[LOOKOWNER_MAX_NEED];
	size_t npath;
	struct dht_hop path[DHT_MAX_PATH];
};

/* lookend.c. End LK with STATUS and OWNER (may be NULL), calling back; the result and path are
 * lent for the call. LK is freed, or stays (ended) while slow questions are out. */
void lk_finish(struct dht *d, struct lookup *lk, enum dht_status status,
	       const struct dht_node *owner);
/* Unlink LK from the core's list, cancel its questions and free it, without calling back. */
void lk_unlink_free(struct dht *d, struct lookup *lk);
/* Act on the answer M of X, asked as the owner. Return true if the lookup finished (LK is then
 * freed or ended). */
bool lk_judge_owner(struct dht *d, struct lookup *lk, const struct dht_node *x,
		    const struct dht_msg *m);

/* looksilent.c. Record ID as dead (timed out), as slow (its question is past its expected
 * answer time), or no longer slow. */
void lk_add_dead(struct lookup *lk, const struct dht_id *id);
void lk_slow_add(struct lookup *lk, const struct dht_id *id);
void lk_slow_remove(struct lookup *lk, const struct dht_id *id);
/* Is owner candidate ID not to be asked now: dead, or for a read, slow? */
bool lk_passed_over(const struct lookup *lk, const struct dht_id *id);
/* Was ID asked as owner in this attempt with nothing more known of the dead and slow since? */
bool lk_asked_has(const struct lookup *lk, const struct dht_id *id);
/* The questions out that count against parallelism (not slow ones the route has passed). */
unsigned lk_questions_ahead(const struct lookup *lk);
/* Fill OUT with the dead hints of a question to TO (RE_ROUTE: to the route's source again);
 * return how many. */
size_t lk_question_hints(struct lookup *lk, unsigned bits, const struct dht_id *to,
			 bool re_route, struct dht_id out[DHT_MAX_DEAD]);
/* The node request P went to answered. */
void lk_heard(struct lookup *lk, const struct rpc_req *p);

#endif
