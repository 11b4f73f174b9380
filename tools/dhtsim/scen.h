/* tools/dhtsim/scen.h: what dhtsim runs on the simulated world (sim.h): a ring grown from one
 * node in waves, finger settling, lookup batches, mass crashes or leaves, continuous churn, and
 * small random churn schedules replayable from a seed. Reports are plain values the caller owns;
 * the world is created and freed inside each run. */
#ifndef DHTSIM_SCEN_H
#define DHTSIM_SCEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "tools/dhtsim/sim.h"

/* The time one step may take at most, in stabilization periods, before a run gives up on it. */
#define SCEN_WAVE_PERIODS 300
#define SCEN_FINGER_PERIODS 300

/* Grow the ring to N members: from one node (dht_create) if it is empty, then in waves, each
 * joining min(members, missing) new nodes through random members at random times within one
 * stabilization period and waiting for a correct ring. Return true if the ring reached N
 * members and was correct; *GROW_US is the virtual time it took. */
bool scen_grow(struct sim *s, size_t n, uint64_t *grow_us);
/* Run until a check finds the ring correct with no join under way; false if CAP_US passes. */
bool scen_converge(struct sim *s, uint64_t cap_us);
/* Run until finger accuracy reaches TARGET or CAP_US passes; return the last accuracy. */
double scen_settle_fingers(struct sim *s, double target, uint64_t cap_us);
/* Issue K lookups of random keys from random members, at most the window in flight; stop
 * issuing at CAP_US (lookups still in flight are then abandoned). */
void scen_lookups(struct sim *s, uint64_t k, uint64_t cap_us, struct sim_lookup_stats *st);

struct scen_opts {
	struct sim_config sim;
	size_t nodes;
	uint64_t lookups;
	double fail_fraction;  /* crash this fraction of the members at once */
	double leave_fraction; /* have this fraction leave gracefully at once */
	double churn_rate;     /* joins + crashes per virtual second, half each, Poisson */
	double churn_seconds;
	bool safe_crashes;     /* never crash a node whose loss would break the core's assumption */
	uint64_t values;       /* with a crash or leave: put this many values before it, get them
				* all right after it (values.h) */
};

void scen_opts_default(struct scen_opts *o);

struct scen_report {
	size_t nodes_wanted, nodes;
	unsigned bits, r;
	uint64_t seed;
	bool grown;
	double grow_s, converge_s;
	double finger_accuracy, fingers_s;
	struct sim_lookup_stats lookups;
	/* --fail-fraction / --leave-fraction */
	bool disrupted, recovered;
	size_t crashed, left, lost_all_succ;
	double recovery_s;
	struct sim_lookup_stats during, after;
	uint64_t puts_failed;
	struct sim_lookup_stats gets; /* --values: the gets right after it */
	/* --churn-rate */
	bool churned, churn_recovered;
	uint64_t churn_joins, churn_crashes, crashes_skipped;
	double churn_converge_s;
	struct sim_lookup_stats churn;
	/* the end */
	bool ring_correct, out_of_memory;
	double virtual_s;
	struct sim_totals tot;
};

/* Run the scenario O describes. Return 0, or -1 if the world could not be built. */
int scen_run(const struct scen_opts *o, struct scen_report *rep);
/* Did the run show what it must: a correct ring at the end, every lookup correct once the ring
 * had converged, no invariant violated? */
bool scen_passed(const struct scen_report *rep);

/* REP (and the network settings of O, if not NULL) as a new JSON object the caller owns
 * (json_decref), or NULL if memory runs out. Every field depends on the options alone. */
json_t *scen_report_json(const struct scen_report *rep, const struct scen_opts *o);
/* Print REP as a summary for people; WALL_S < 0 leaves out wall time and memory. */
void scen_print_text(FILE *f, const struct scen_report *rep, const struct scen_opts *o,
		     double wall_s, long rss_kb);

/* One small random churn schedule, everything drawn from SEED: id width, r, latency, a ring
 * grown to 1..MAX_NODES members, then joins, crashes (respecting the core's assumption) and
 * graceful leaves, some inside one stabilization period, with the ring checked after every
 * event; then the time to a correct ring, and lookups that must all be correct. */
struct scen_sched {
	uint64_t seed;
	unsigned bits, r, start_nodes, end_nodes;
	const char *kind;
	unsigned joins, crashes, leaves, skipped, joins_failed;
	uint64_t violations;
	bool converged;
	unsigned rounds; /* stabilization periods from the last event to a correct ring */
	uint64_t lookups, lookups_bad;
	uint64_t merges; /* links the cores made to a node of another ring */
};

struct rng;
/* A schedule's world drawn from R: id width, r, latency; OUT's bits, r and start_nodes (in
 * 1..MAX_NODES) are set. Shared by the churn and the partition schedules. */
void scen_sched_config(struct rng *r, unsigned max_nodes, FILE *log, struct sim_config *cfg,
		       struct scen_sched *out);
/* The world of a split schedule (partition, apart) of KIND drawn from SEED into R and CFG:
 * OUT is cleared and named, and starts with 2..MAX_NODES members. */
void scen_split_config(uint64_t seed, unsigned max_nodes, const char *kind, FILE *log,
		       struct rng *r, struct sim_config *cfg, struct scen_sched *out);
/* Return 0, or -1 if the world could not be built. LOG (may be NULL) gets the timeline. */
int scen_schedule(uint64_t seed, unsigned max_nodes, FILE *log, struct scen_sched *out);
bool scen_sched_passed(const struct scen_sched *r);

/* One partition schedule (part.c), drawn from SEED: a ring of 2..MAX_NODES members is split
 * into two random sides for 1..60 stabilization periods, then healed; it must become one
 * correct ring (rounds: periods from the heal), keep Zave's invariants for a while after, and
 * answer lookups right.
 * Return 0, or -1 if the world could not be built. */
int scen_partition(uint64_t seed, unsigned max_nodes, FILE *log, struct scen_sched *out);

/* One schedule of rings founded apart (apart.c), drawn from SEED: 2..MAX_NODES nodes on two
 * random sides of a split grow a ring per side, never in contact; then the split goes. With
 * BEACONS, every member's discovery beacons reach the others (dht_merge_hint), and the two
 * rings must become one correct ring, keep Zave's invariants and answer lookups right; without,
 * nothing tells them of each other (a control: they stay two).
 * Return 0, or -1 if the world could not be built. */
int scen_apart(uint64_t seed, unsigned max_nodes, bool beacons, FILE *log, struct scen_sched *out);

#endif
