/* tools/dhtsim/check.h: the simulator's ground truth (the sorted set of live, joined ids) and the
 * checks of the nodes' successor lists against it: ring correctness and Zave's invariants.
 * A truth and a checker own their arrays; the checks borrow node state only through callbacks. */
#ifndef DHTSIM_CHECK_H
#define DHTSIM_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/id.h"
#include "dht/msg.h"

/* The set of live joined nodes, ordered by id: each an id and the simulator's node index. */
struct truth;

struct truth *truth_new(void);
void truth_free(struct truth *t); /* accepts NULL */
/* Insert ID (of node INDEX); return 0, or -1 if the id is already present or memory runs out. */
int truth_add(struct truth *t, const struct dht_id *id, uint32_t index);
/* Remove ID if present. */
void truth_del(struct truth *t, const struct dht_id *id);
size_t truth_size(const struct truth *t);
const struct dht_id *truth_id(const struct truth *t, size_t pos);
uint32_t truth_index(const struct truth *t, size_t pos);
/* Return the position of ID, or -1. */
long truth_find(const struct truth *t, const struct dht_id *id);
/* Return the position of KEY's owner: the first id at or after KEY clockwise. The truth must
 * not be empty. */
size_t truth_successor(const struct truth *t, const struct dht_id *key);

/* How the checks see the nodes. */
struct check_ops {
	/* Copy up to MAX entries of node INDEX's successor list into OUT; return how many. */
	size_t (*succ)(void *ctx, uint32_t index, struct dht_node *out, size_t max);
	/* Return the index of the live node that N designates (its id at its address), or -1. */
	long (*index_of)(void *ctx, const struct dht_node *n);
	/* Told of each node failing an invariant, once per check; may be NULL. */
	void (*report)(void *ctx, uint32_t index, const char *what);
};

struct check_result {
	bool ring_correct; /* every member's first successor is the next member */
	size_t cycles;     /* distinct cycles reached by following best successors */
	size_t cycle_len;  /* members on the largest one */
	size_t violations; /* members failing at least one invariant */
};

/* Scratch space reused from check to check, so that a check allocates only when the ring grows. */
struct checker;

struct checker *checker_new(void);
void checker_free(struct checker *c); /* accepts NULL */

/* Check the members of T, whose node indices are below NINDEX and whose successor lists are at
 * most R long, against the truth. Return 0, or -1 if memory runs out. */
int checker_run(struct checker *c, const struct truth *t, size_t nindex, unsigned r,
		const struct check_ops *ops, void *ctx, struct check_result *res);

#endif
