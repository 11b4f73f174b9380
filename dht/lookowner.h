/* dht/lookowner.h: the rules by which a lookup believes a node that says it owns a key, right
 * after a crash too, and which dead nodes its questions name (FIND's dead hints). Pure: it
 * judges what the lookup passes in and keeps nothing; results go into the caller's arrays. */
#ifndef DHT_LOOKOWNER_H
#define DHT_LOOKOWNER_H

#include "dht/msg.h"

#define LOOKOWNER_MAX_NEED 8

enum owner_verdict {
	OWNER_NO,
	OWNER_YES,
	OWNER_STALE, /* yes, were the list that named it fresh */
	OWNER_WAIT,  /* yes, once it has found its predecessor dead too: ask it again later */
};

/* What a lookup knows when a node asked as the owner answers. */
struct lookowner_view {
	const struct dht_node *own;  /* the owner candidates of the last OWNER answer */
	size_t nown;
	const struct dht_id *lower;  /* its anchor A: the key lies in (A, own[0]] */
	bool fresh;                  /* that answer came from A itself */
	const struct dht_id *dead;   /* nodes that timed out */
	size_t ndead;
	const struct dht_id *slow;   /* nodes whose questions are slow and still out */
	size_t nslow;
};

/* Is X, asked as the owner, the owner by its answer M (a FOUND)? A yes may hang on nodes whose
 * questions are slow: NEED gets them (*NNEED of them), and the yes holds if they all time out. */
enum owner_verdict lookowner_judge(const struct lookowner_view *v, const struct dht_id *x,
				   const struct dht_msg *m, struct dht_id need[LOOKOWNER_MAX_NEED],
				   size_t *nneed);

/* For a read: does X, asked as the owner, follow the key's owner closely enough to hold its
 * replicas by its answer M, the list (fresh or not) and what did not answer (dead or slow)?
 * Yes if it answered SELF, or if its own predecessor and every entry before it in the list are
 * dead or slow. Never for writes: a slow node may well be alive and the owner. */
bool lookowner_replica(const struct lookowner_view *v, const struct dht_id *x,
		       const struct dht_msg *m);

/* Write into OUT the nodes of DEAD (NDEAD of them) a question for KEY names dead: the
 * DHT_MAX_DEAD nearest the key, either way round a ring of BITS-bit ids. Return how many. */
size_t lookowner_hints(const struct dht_id *key, unsigned bits, const struct dht_id *dead,
		       size_t ndead, struct dht_id out[DHT_MAX_DEAD]);

#endif
