/* Rings founded apart: two groups of nodes on one network that never heard of each other (their
 * discovery probes crossed, or one was started with --new-ring) each grow a ring of their own,
 * behind a split so that no datagram crosses; then the split goes and discovery beacons (what
 * node/net/discocore.c sends: every member now and then, heard by every member) reach the other
 * ring, and the cores must unify the two (dht/merge.c) with no lost node to start from. The
 * beacons are driven here, at the pace of discocore's, scaled to stabilization periods; Zave's
 * invariants are checked after every event once the ring is one. */
#include "tools/dhtsim/scen.h"

#include <stdlib.h>
#include <string.h>

#include "dht/chord.h"
#include "dht/rng.h"

/* The mean beacon gap, in stabilization periods (discovery: 10 s at 1 s periods), and the step
 * at which beacons due are sent. */
#define BEACON_PERIODS 10
#define STEPS_PER_PERIOD 4
/* Periods each side is given to settle into its ring, and a heal to unify them. */
#define SETTLE_PERIODS 30
#define UNIFY_CAP_PERIODS 240
#define AFTER_PERIODS 20

struct apart {
	struct sim *s;
	struct rng *r;
	uint8_t *side;       /* per index */
	uint64_t *beacon_at; /* per index; 0: not a member yet */
	size_t n;
	bool split, beacons;
	uint64_t heard;
};

/* Every member whose beacon is due sends it: each live member of its side (all, once healed)
 * hands it to its core, as discovery.c does with a beacon it hears. */
static void send_beacons(struct apart *a)
{
	uint64_t now = sim_now(a->s), mean = BEACON_PERIODS * sim_period(a->s);
	for (size_t i = 0; i < a->n; i++) {
		struct dht *d = sim_core(a->s, (uint32_t)i);
		if (d == NULL || dht_get_state(d) != DHT_JOINED)
			continue;
		if (a->beacon_at[i] == 0)
			a->beacon_at[i] = now + 1 + rng_below(a->r, mean);
		if (a->beacon_at[i] > now)
			continue;
		a->beacon_at[i] = now + mean / 2 + rng_below(a->r, mean);
		for (size_t j = 0; j < a->n && a->beacons; j++) {
			struct dht *o = sim_core(a->s, (uint32_t)j);
			if (j == i || o == NULL || (a->split && a->side[j] != a->side[i]))
				continue;
			dht_merge_hint(o, dht_self(d));
			a->heard++;
		}
	}
}

/* Run for US of virtual time, beacons every step. */
static void run_for(struct apart *a, uint64_t us)
{
	uint64_t end = sim_now(a->s) + us, step = sim_period(a->s) / STEPS_PER_PERIOD;
	while (sim_now(a->s) < end && !sim_failed(a->s)) {
		send_beacons(a);
		uint64_t t = sim_now(a->s) + step;
		sim_run_until(a->s, t < end ? t : end);
	}
}

/* Run with beacons until one correct ring with no join under way, or CAP_US. */
static bool unify(struct apart *a, uint64_t cap_us)
{
	uint64_t end = sim_now(a->s) + cap_us, step = sim_period(a->s) / STEPS_PER_PERIOD;
	while (sim_now(a->s) < end && !sim_failed(a->s)) {
		if (sim_last_check(a->s)->ring_correct && sim_joining(a->s) == 0)
			return true;
		run_for(a, step);
	}
	return false;
}

/* Found one ring on each side, then join every other node through a member of its own side, at
 * random times within a few periods. */
static bool grow_apart(struct apart *a)
{
	uint32_t founder[2] = { 0, 0 };
	if (a->n < 2)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (sim_spawn(a->s, NULL) != (long)i)
			return false;
	a->side[a->n - 1] = 1; /* both sides non-empty: 0 holds index 0, 1 the last */
	for (size_t i = 1; i + 1 < a->n; i++)
		a->side[i] = (uint8_t)rng_below(a->r, 2);
	if (sim_split(a->s, a->side, a->n) != 0)
		return false;
	a->split = true;
	founder[1] = (uint32_t)(a->n - 1);
	sim_create(a->s, founder[0]);
	sim_create(a->s, founder[1]);
	for (size_t i = 1; i + 1 < a->n; i++) {
		run_for(a, rng_below(a->r, sim_period(a->s) / 2));
		if (sim_join(a->s, (uint32_t)i, founder[a->side[i]]) != 0)
			return false;
	}
	run_for(a, SETTLE_PERIODS * sim_period(a->s));
	return !sim_failed(a->s);
}

/* Keep the unified ring running, checked, then look keys up: all must find their owners. */
static void watch_after(struct apart *a, struct scen_sched *out)
{
	run_for(a, AFTER_PERIODS * sim_period(a->s));
	struct sim_lookup_stats st;
	memset(&st, 0, sizeof st);
	scen_lookups(a->s, 32, 3600ULL * 1000000, &st);
	out->lookups = st.done;
	out->lookups_bad = st.failed + st.wrong;
}

int scen_apart(uint64_t seed, unsigned max_nodes, bool beacons, FILE *log, struct scen_sched *out)
{
	struct rng r;
	struct sim_config cfg;
	scen_split_config(seed, max_nodes, "apart", log, &r, &cfg, out);
	struct apart a = { .s = sim_new(&cfg), .r = &r, .n = out->start_nodes, .beacons = beacons };
	a.side = calloc(a.n, 1);
	a.beacon_at = calloc(a.n, sizeof *a.beacon_at);
	if (a.s == NULL || a.side == NULL || a.beacon_at == NULL) {
		sim_free(a.s);
		free(a.side);
		free(a.beacon_at);
		return -1;
	}
	uint64_t period = sim_period(a.s);
	sim_logf(a.s, "apart schedule %llu: %u bits, r=%u, %u nodes in two rings",
		 (unsigned long long)seed, out->bits, out->r, out->start_nodes);
	if (grow_apart(&a)) {
		sim_heal(a.s);
		a.split = false;
		uint64_t healed = sim_now(a.s);
		out->converged = unify(&a, UNIFY_CAP_PERIODS * period);
		out->rounds = (unsigned)((sim_now(a.s) - healed + period - 1) / period);
		sim_logf(a.s, "introduced at %.3f s; the ring is %s", (double)healed / 1e6,
			 out->converged ? "one" : "NOT one");
		sim_dump(a.s);
		if (out->converged)
			watch_after(&a, out);
	}
	struct sim_totals tot;
	sim_totals(a.s, &tot);
	out->violations = tot.violations;
	out->end_nodes = (unsigned)sim_members(a.s);
	out->merges = tot.merges;
	if (sim_failed(a.s) || out->end_nodes != out->start_nodes)
		out->converged = false;
	sim_free(a.s);
	free(a.side);
	free(a.beacon_at);
	return 0;
}
