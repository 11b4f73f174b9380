/* Partition schedules: a ring is split into two sides for a while, each side repairs into a
 * ring of its own, then the network heals and the core must unify the rings (dht/merge.c).
 * Everything is drawn from the seed; Zave's invariants are checked after every event once the
 * ring is one again (two rings are the expected state before that). */
#include "tools/dhtsim/scen.h"

#include <stdlib.h>
#include <string.h>

#include "dht/rng.h"

/* Periods the unified ring is watched, invariants checked, before lookups must be right. */
#define AFTER_PERIODS 20
/* Periods a heal may take before the schedule counts as not converged. */
#define HEAL_CAP_PERIODS 120

/* Put each member on side 0 or 1, both sides non-empty. */
static int split_members(struct sim *s, struct rng *r)
{
	size_t n = sim_nindex(s), members = sim_members(s);
	uint8_t *group = calloc(n ? n : 1, 1);
	if (group == NULL)
		return -1;
	const struct truth *t = sim_truth(s);
	size_t side1 = 1 + rng_below(r, members - 1), placed = 0;
	while (placed < side1) {
		uint32_t i = truth_index(t, rng_below(r, members));
		if (!group[i]) {
			group[i] = 1;
			placed++;
		}
	}
	int rc = sim_split(s, group, n);
	free(group);
	return rc;
}

/* Keep the merged ring running, checked, then look keys up: all must find their owners. */
static void watch_after(struct sim *s, uint64_t period, struct scen_sched *out)
{
	sim_run_until(s, sim_now(s) + AFTER_PERIODS * period);
	struct sim_lookup_stats st;
	memset(&st, 0, sizeof st);
	scen_lookups(s, 32, 3600ULL * 1000000, &st);
	out->lookups = st.done;
	out->lookups_bad = st.failed + st.wrong;
}

int scen_partition(uint64_t seed, unsigned max_nodes, FILE *log, struct scen_sched *out)
{
	struct rng r;
	struct sim_config cfg;
	scen_split_config(seed, max_nodes, "partition", log, &r, &cfg, out);
	struct sim *s = sim_new(&cfg);
	if (s == NULL)
		return -1;
	uint64_t period = sim_period(s), grow_us;
	/* From a split healed before anyone gave up on the other side to one long enough for
	 * both sides to settle and their fingers to be refreshed. */
	uint64_t split_us = period * (1 + rng_below(&r, 60));
	sim_logf(s, "partition schedule %llu: %u bits, r=%u, %u nodes, split for %.1f s",
		 (unsigned long long)seed, out->bits, out->r, out->start_nodes,
		 (double)split_us / 1e6);
	if (scen_grow(s, out->start_nodes, &grow_us) && split_members(s, &r) == 0) {
		sim_run_until(s, sim_now(s) + split_us);
		sim_heal(s);
		uint64_t healed = sim_now(s);
		out->converged = scen_converge(s, HEAL_CAP_PERIODS * period);
		out->rounds = (unsigned)((sim_now(s) - healed + period - 1) / period);
		sim_logf(s, "healed at %.3f s; the ring is %s", (double)healed / 1e6,
			 out->converged ? "one again" : "NOT one");
		sim_dump(s);
		if (out->converged)
			watch_after(s, period, out);
	}
	struct sim_totals tot;
	sim_totals(s, &tot);
	out->violations = tot.violations;
	out->end_nodes = (unsigned)sim_members(s);
	out->merges = tot.merges;
	if (sim_failed(s))
		out->converged = false;
	sim_free(s);
	return 0;
}
