/* tools/swarmsim/swarm_int.h: the swarm simulator's inside, shared by swarm.c (each node's
 * session env, events, set-up, results), find.c (how peers find each other: each node's peer
 * book, the simulated DHT, dialling) and trace.c (the timeline). Calls run one way: from swarm.c
 * to the other two. */
#ifndef SWARMSIM_SWARM_INT_H
#define SWARMSIM_SWARM_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "dht/rng.h"
#include "tools/sim/evq.h"
#include "tools/swarmsim/net.h"
#include "tools/swarmsim/swarm.h"
#include "transfer/peerbook.h"
#include "transfer/session.h"

#define BLOCK 16384u
#define MAX_BLOCKS 32u
#define SWARM_GAP_WHYS 6u /* causes of an idle uplink the timeline tells apart */

struct snode;

/* One side of a connection, as the swarm keeps track of it. The session's handle for the peer
 * is the net's side itself (struct net_side), whose owner data point back here and, in the
 * word, say what the other node is (FROM_*), so that sending and storing touch only the net. */
struct end {
	struct net_conn *c;
	int side;
	int slot;
	bool open;
	struct snode *node;
	struct end *other;
};

#define FROM_LIAR 1u
#define FROM_SEED 2u
#define FROM_CLS_SHIFT 8

struct snode {
	struct swarm *sw;
	uint32_t idx;
	int net_id;
	struct session *s;
	bool done, free_rider, liar;
	unsigned cls;
	uint64_t up, down;
	double join_s, leave_s, done_s;
	double first_s;           /* when it verified its first chunk; < 0: not yet */
	uint32_t *taint;
	struct end **ends;
	size_t nends, cap;
	unsigned nopen;
	uint64_t up_from, up_to;
	uint64_t up_traced;       /* uploaded at the last timeline line */
	uint32_t banned_by;
	struct peerbook *book;    /* whom to dial, when to ask the DHT; NULL once it left */
	uint64_t dht_gen;         /* the DHT timer's generation: older timer events are void */
	uint64_t tick_gen;        /* the session tick's generation, likewise */
	uint64_t tick_due;        /* when the live tick event runs */
	uint64_t listed_until;    /* its announcement lives in the DHT until then; 0: none */
	double gap_from;          /* its uplink idles since then (the timeline's); < 0: busy */
	uint8_t gap_why;          /* and why (trace.c) */
};

struct swarm {
	const struct swarm_config *cfg;
	struct evq *q;
	struct net *net;
	struct rng rng;
	struct manifest *m;
	struct snode *nodes;
	uint32_t n;
	uint32_t *scratch;
	struct dht_addr *answer;  /* a lookup's answer, built here */
	uint64_t dht_us;          /* how long a DHT call takes */
	struct peerbook_stats book_left; /* summed over the books of nodes that left */
	uint64_t dials_full, dials_dup; /* dials turned away: no room there, or already linked */
	uint64_t verified, target95;
	bool window_open, window_closed;
	double from_s, to_s;
	uint32_t waiting;         /* honest peers not done yet */
	uint64_t cls_bytes[SWARM_MAX_RATES][SWARM_MAX_RATES];
	uint64_t payload;
	uint64_t dup_left;        /* duplicates counted by sessions that have left */
	bool failed;
	uint32_t *seed_blocks;    /* blocks of each chunk the seed sent (the timeline's) */
	uint64_t seed_waste;      /* seed blocks beyond a chunk's first copy */
	uint32_t ndone;           /* honest peers done (the timeline's) */
	double gap_s[SWARM_GAP_WHYS]; /* the timeline's line: peers' idle seconds, by cause */
	uint8_t *trace_state;     /* scratch for a session's chunk view (the timeline's) */
	uint32_t *trace_holders;
};

static inline double now_s(const struct swarm *sw)
{
	return (double)evq_now(sw->q) / 1e6;
}

static inline void at(struct swarm *sw, uint64_t t, evq_fn *fn, void *arg, uint64_t u)
{
	if (evq_at(sw->q, t, fn, arg, u) < 0)
		sw->failed = true;
}

/* find.c */
/* ND has joined (its session is up): make its peer book and start looking. */
void find_join(struct swarm *sw, struct snode *nd);
/* ND is leaving: its book's figures are kept, the book freed. */
void find_leave(struct swarm *sw, struct snode *nd);
/* ND got the manifest or verified a chunk: announce it if it has not yet. */
void find_kick(struct swarm *sw, struct snode *nd);
/* E's own session closed it for WHY. */
void find_closed(struct swarm *sw, struct end *e, enum session_close why);
/* E's connection ended from the other side. */
void find_gone(struct swarm *sw, struct end *e);
/* Sum every book's figures, those of nodes that left included, into R. */
void find_totals(const struct swarm *sw, struct swarm_result *r);

/* trace.c: the --trace-ms timeline; swarm.c calls it. */
/* Start the timeline if the configuration asks for one. Return -1 on no memory. */
int trace_start(struct swarm *sw);
/* Node I (its index in the swarm, which is its index in the net too) has an idle uplink (IDLE)
 * or carries again. */
void trace_uplink(struct swarm *sw, uint32_t i, bool idle);
void trace_free(struct swarm *sw);

#endif
