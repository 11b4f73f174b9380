/* tools/dhtsim/sim.h: the simulated world of dhtsim: Chord cores (dht/chord.h) in one process on
 * a virtual clock (tools/sim/evq.h), joined by a network with latency and loss, with joins,
 * crashes and graceful leaves, a ground truth the ring is checked against, and lookups measured
 * against it. The same config, seed included, gives the same run bit for bit.
 * struct sim owns its nodes, the datagrams in flight and its statistics; sim_free() releases all.
 * Nodes are named by an index that is never reused: a node that crashes stays gone. */
#ifndef DHTSIM_SIM_H
#define DHTSIM_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dht/chord.h"
#include "tools/dhtsim/check.h"

enum sim_latency { SIM_LAT_UNIFORM, SIM_LAT_EXP, SIM_LAT_CONST };

struct sim_config {
	unsigned bits;          /* id width (default 160) */
	unsigned succ_len;      /* r (default 8) */
	uint64_t seed;
	double latency_ms;      /* mean one-way latency (default 20) */
	enum sim_latency latency; /* uniform: [0.5, 1.5] x mean; exp; const */
	double loss;            /* probability that a datagram is lost */
	unsigned window;        /* lookups in flight at most (default 64) */
	bool check_every_event; /* check the ring after every event, not once per period */
	FILE *log;              /* core logs, timeline, violations, bad lookups; NULL: silent */
};

/* Fill CFG with the defaults above (seed 1). */
void sim_config_default(struct sim_config *cfg);

#define SIM_HOPS_MAX 255
/* Latency buckets: exact below 16 us, then 16 per power of two (at most 1/16 too high). */
#define SIM_LAT_SUB 16
#define SIM_LAT_BUCKETS (SIM_LAT_SUB * 41)

/* What a batch of lookups gave. Hops are counted over the lookups that returned an owner. */
struct sim_lookup_stats {
	uint64_t issued, done;
	uint64_t correct;   /* returned the true live successor of the key */
	uint64_t wrong;     /* returned another node */
	uint64_t failed;    /* returned an error */
	uint64_t abandoned; /* the asking node crashed or left first */
	uint64_t hops_sum, timeouts, latency_us_sum;
	uint64_t hops[SIM_HOPS_MAX + 1];
	uint64_t lat[SIM_LAT_BUCKETS]; /* latency of the lookups that returned an owner */
	uint64_t latency_us_max;
};

double sim_stats_mean_hops(const struct sim_lookup_stats *st);
/* The smallest hop count that at least a fraction Q of the answered lookups did not exceed. */
unsigned sim_stats_hops_pct(const struct sim_lookup_stats *st, double q);
/* The latency in microseconds that at least a fraction Q of the answered lookups did not exceed,
 * rounded up to its bucket's top (never above the largest seen). */
uint64_t sim_stats_lat_pct(const struct sim_lookup_stats *st, double q);
void sim_stats_add(struct sim_lookup_stats *to, const struct sim_lookup_stats *from);
/* Count one answer (not its verdict: correct or wrong is the caller's) of HOPS hops. */
void sim_stats_sample(struct sim_lookup_stats *st, unsigned hops, unsigned timeouts,
		      uint64_t latency_us);

struct sim_totals {
	uint64_t sent, lost, delivered, to_dead;       /* the network */
	uint64_t cut;                                  /* dropped between split groups */
	uint64_t merges;                               /* the cores' links to another ring */
	uint64_t proofs, ids_refused;                  /* ids proven to a core, and refused */
	uint64_t received, timeouts, unsolicited;      /* the cores' counters, summed */
	uint64_t decode_dropped[DHT_DECODE_NRESULTS];
	uint64_t joins_ok, joins_refused, joins_failed, crashes, leaves;
	uint64_t checks, violations;
	double node_seconds;                           /* live nodes integrated over time */
};

struct sim;

/* Return a new empty world, or NULL if CFG is invalid or memory runs out. */
struct sim *sim_new(const struct sim_config *cfg);
void sim_free(struct sim *s); /* accepts NULL */

uint64_t sim_now(const struct sim *s);
uint64_t sim_period(const struct sim *s); /* the cores' stabilization period */
bool sim_failed(const struct sim *s);     /* memory ran out somewhere: the run is void */
const struct sim_config *sim_config(const struct sim *s);

/* Add a node, not yet in any ring, with a key pair from the seeded PRNG and the id that key
 * gives (no live node has it), or with the chosen ID, which it cannot prove to the others (an
 * impostor: dht/proof.h). Return its index, or -1 if no fresh id is left or memory runs out. */
long sim_spawn(struct sim *s, const struct dht_id *id);
/* Make node I a ring of one. */
void sim_create(struct sim *s, uint32_t i);
/* Have node I join through node VIA now; through a random member at time AT. Return 0 or -1. */
int sim_join(struct sim *s, uint32_t i, uint32_t via);
int sim_join_at(struct sim *s, uint32_t i, uint64_t at);
/* -2: never asked to join; -1: joining; else the enum dht_status the join ended with. */
int sim_join_status(const struct sim *s, uint32_t i);
/* Crash node I at once, or have it leave gracefully. Return 0, or -1 if it is not alive. */
int sim_crash(struct sim *s, uint32_t i);
int sim_leave(struct sim *s, uint32_t i);
/* Partition the network: GROUP[i] (0 or 1) is node i's side, for i < N (later nodes: side 0).
 * Until sim_heal(), a datagram between sides is dropped when it arrives, and the invariant
 * checks are suspended (each side is a ring of its own). Return 0, or -1 if memory runs out. */
int sim_split(struct sim *s, const uint8_t *group, size_t n);
/* Reconnect the sides. Invariants count again once a check finds one correct ring. */
void sim_heal(struct sim *s);
/* Remove the live nodes whose join failed. */
void sim_reap(struct sim *s);
/* Is crashing node I safe for the core's stated assumption: would every live node keep a live
 * entry in its successor list, even after copying I's list from a reply already in flight? */
bool sim_crash_is_safe(const struct sim *s, uint32_t i);
/* Live members whose successor lists hold no live node. */
size_t sim_lost_all(const struct sim *s);

bool sim_alive(const struct sim *s, uint32_t i);
struct dht *sim_core(struct sim *s, uint32_t i); /* NULL if not alive; owned by the sim */
const struct truth *sim_truth(const struct sim *s);
size_t sim_members(const struct sim *s);   /* live joined nodes */
size_t sim_joining(const struct sim *s);   /* joins asked for and not yet ended */
size_t sim_nindex(const struct sim *s);    /* indices handed out so far */
uint32_t sim_random_member(struct sim *s); /* needs a member */
void sim_random_key(struct sim *s, struct dht_id *out);
/* Draws from the driver's stream, for scenarios: uniform in [0, n) (n > 0), in [0, 1), and
 * exponential with the given mean. */
uint64_t sim_rand_below(struct sim *s, uint64_t n);
double sim_rand_unit(struct sim *s);
double sim_rand_exp(struct sim *s, double mean);

/* Run one event due at or before LIMIT, or the periodic check if it comes first; if neither is
 * due, advance the clock to LIMIT. Return false only in that last case. */
bool sim_step(struct sim *s, uint64_t limit);
void sim_run_until(struct sim *s, uint64_t t);

/* The last check's verdict; whether a check since the last membership change (join, crash,
 * leave) found the ring correct, and how long after the change that first was. */
const struct check_result *sim_last_check(const struct sim *s);
bool sim_converged(const struct sim *s);
uint64_t sim_converge_us(const struct sim *s);
uint64_t sim_last_change(const struct sim *s);
uint64_t sim_checks(const struct sim *s);

/* Look KEY up from node ORIGIN; the result is recorded into ST, which must outlive the lookup
 * or be cut loose by sim_abandon_lookups(). Return 0, or -1 if ORIGIN is not alive, the
 * window of lookups in flight is full, or this virtual instant has issued its share of lookups
 * (a few windows): the clock must move on. */
int sim_lookup(struct sim *s, uint32_t origin, const struct dht_id *key,
	       struct sim_lookup_stats *st);
size_t sim_inflight(const struct sim *s);
size_t sim_window(const struct sim *s);
/* Stop recording the lookups in flight (they still finish inside the cores). */
void sim_abandon_lookups(struct sim *s);

/* The fraction of distinct finger entries, over up to SAMPLE members spread over the ring, that
 * equal the true successor of their start (1 if there are none). */
double sim_finger_accuracy(const struct sim *s, size_t sample);

void sim_totals(struct sim *s, struct sim_totals *out);

/* Write every member's id, predecessor and successor list to the log, in id order. */
void sim_dump(const struct sim *s);

/* Write one timeline line, prefixed with the virtual time, to the config's log if any. */
void sim_logf(const struct sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
