/* dht/routing.h: a node's routing state on the circle: predecessor, successor list (length r) and
 * finger table (entry i = successor(self + 2^i)), and the routing questions asked of them.
 * Pure data and arithmetic: no messages, and time only as values the caller passes. The struct is
 * public so that the Chord core can embed it; callers outside dht/ read it through the core's
 * accessors. Nothing allocates. */
#ifndef DHT_ROUTING_H
#define DHT_ROUTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/id.h"
#include "dht/msg.h"

#define ROUTING_MAX_SUCC 32
/* Nodes we lost contact with, kept to probe later: a partition that heals is found this way. */
#define ROUTING_MAX_LOST 8

struct routing {
	struct dht_node self;
	unsigned bits;
	unsigned r; /* successor list length wanted */
	bool has_pred;
	struct dht_node pred;
	unsigned nsucc; /* 1..r once initialised; succ[0] is the successor (self when alone) */
	struct dht_node succ[ROUTING_MAX_SUCC];
	bool finger_ok[ID_MAX_BITS];
	struct dht_node finger[ID_MAX_BITS];
	/* The passive list (Shafaat et al., P2P 2007): lost[0..nlost), lost_at[i] when lost[i] was
	 * first lost; bounded in size (the longest lost gives way) and in age (routing_age_lost). */
	unsigned nlost;
	struct dht_node lost[ROUTING_MAX_LOST];
	uint64_t lost_at[ROUTING_MAX_LOST];
};

/* Start as a ring of one: successor is self, no predecessor, no fingers. */
void routing_init(struct routing *rt, const struct dht_node *self, unsigned bits, unsigned r);

/* Is NODE this very node (same id at the same address)? A node with our id elsewhere is not. */
bool routing_is_self(const struct routing *rt, const struct dht_node *node);

/* Replace the successor list by HEAD followed by the first r-1 entries of LIST (the list HEAD
 * reported as its own). This is how join and stabilize adopt a successor's view. */
void routing_adopt(struct routing *rt, const struct dht_node *head, const struct dht_node *list,
		   size_t n);

/* Forget ID everywhere (successor list, fingers, predecessor): it is dead or gone. If the
 * successor list empties, the node falls back to being its own successor. Return true if ID was
 * the first successor. */
bool routing_forget(struct routing *rt, const struct dht_id *id);

/* Remember NODE (not self) as lost at NOW: it stopped answering while it was a neighbour or
 * finger. A node already listed is kept once, with the time it was first lost (its address is
 * updated); when the list is full the entry lost longest ago gives way. */
void routing_note_lost(struct routing *rt, const struct dht_node *node, uint64_t now);
/* Remove ID from the passive list (it answered, or left on purpose). */
void routing_drop_lost(struct routing *rt, const struct dht_id *id);
/* Remove the entries lost before NOW - MAX_AGE: a node silent that long has left for good, and
 * probing it forever would cost a request per period for nothing. Return how many went. */
unsigned routing_age_lost(struct routing *rt, uint64_t now, uint64_t max_age);

/* If KEY lies in (self, succ[j]] for some j, walking the list in order, return that j; else -1.
 * In a ring of one (succ[0] == self) every key is in (self, self] and 0 is returned. */
/* Does any entry (predecessor, successor, finger) with NODE's id have NODE's address? */
bool routing_at(const struct routing *rt, const struct dht_node *node);
int routing_owner_in_succ(const struct routing *rt, const struct dht_id *key);

/* Write up to MAX distinct nodes from fingers, successor list and predecessor that lie strictly
 * inside (self, KEY), closest to KEY first, skipping any id in SKIP[0..nskip). Return the count. */
size_t routing_closest_preceding(const struct routing *rt, const struct dht_id *key,
				 const struct dht_id *skip, size_t nskip, struct dht_node *out,
				 size_t max);

/* The start of finger I: self + 2^I. */
void routing_finger_start(const struct routing *rt, unsigned i, struct dht_id *out);

/* The lowest finger index whose start lies beyond the first successor: fingers below it all equal
 * the successor, so only [lo, bits) need looking up. */
unsigned routing_finger_lo(const struct routing *rt);

/* Record NODE as successor(start of finger I), and as every higher finger whose start it also
 * covers. */
void routing_set_finger(struct routing *rt, unsigned i, const struct dht_node *node);

/* Write up to MAX entries of LIST (N long, the successor list of node OWNER), in order, each
 * node once, stopping where the list wraps onto OWNER (in a ring smaller than r+1); OWNER itself
 * only when it is the first entry (alone). Return the count. */
size_t routing_distinct(const struct dht_id *owner, const struct dht_node *list, size_t n,
			struct dht_node *out, size_t max);
/* routing_distinct() of our own successor list. */
size_t routing_distinct_succ(const struct routing *rt, struct dht_node *out, size_t max);

/* Number of distinct live-looking fingers (for status output). */
size_t routing_distinct_fingers(const struct routing *rt, struct dht_node *out, unsigned *index,
				size_t max);

#endif
