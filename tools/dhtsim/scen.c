/* The scenarios dhtsim runs, built from the world's moves (sim.c): growth in waves, settling,
 * lookup batches, mass failure, continuous churn and small random churn schedules. Every choice
 * is drawn from the world's seeded streams, so a run is replayed exactly from its seed.
 * Printing the reports is report.c's job. */
#include "tools/dhtsim/scen.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dht/rng.h"
#include "tools/dhtsim/values.h"

/* The virtual time a batch of lookups or a recovery may take before the run gives up on it. */
#define LOOKUP_CAP_US (3600ULL * 1000000)
#define RECOVERY_CAP_US (600ULL * 1000000)
/* Members whose fingers are sampled to estimate finger accuracy. */
#define FINGER_SAMPLE 256

bool scen_converge(struct sim *s, uint64_t cap_us)
{
	uint64_t end = sim_now(s) + cap_us;
	for (;;) {
		if (sim_converged(s) && sim_last_check(s)->ring_correct && sim_joining(s) == 0)
			return true;
		if (sim_failed(s) || !sim_step(s, end))
			return false;
	}
}

static bool wave(struct sim *s, size_t k)
{
	uint64_t now = sim_now(s), period = sim_period(s);
	for (size_t j = 0; j < k; j++) {
		long i = sim_spawn(s, NULL);
		if (i < 0 || sim_join_at(s, (uint32_t)i, now + sim_rand_below(s, period)))
			return false;
	}
	bool ok = scen_converge(s, SCEN_WAVE_PERIODS * period);
	sim_reap(s);
	return ok;
}

bool scen_grow(struct sim *s, size_t n, uint64_t *grow_us)
{
	uint64_t t0 = sim_now(s);
	unsigned stuck = 0;
	if (sim_members(s) == 0 && n > 0) {
		long i = sim_spawn(s, NULL);
		if (i < 0)
			return false;
		sim_create(s, (uint32_t)i);
	}
	/* A wave may lose joins (a full id space, lost datagrams): the next one makes up for them,
	 * but three waves in a row without a new member mean it will not get there. */
	while (sim_members(s) < n && stuck < 3) {
		size_t have = sim_members(s);
		size_t k = have < n - have ? have : n - have;
		sim_logf(s, "wave: %zu members, %zu joining", have, k);
		if (!wave(s, k))
			break;
		stuck = sim_members(s) > have ? 0 : stuck + 1;
	}
	*grow_us = sim_now(s) - t0;
	return sim_members(s) >= n && scen_converge(s, SCEN_WAVE_PERIODS * sim_period(s));
}

double scen_settle_fingers(struct sim *s, double target, uint64_t cap_us)
{
	uint64_t end = sim_now(s) + cap_us;
	double acc = sim_finger_accuracy(s, FINGER_SAMPLE);
	while (acc < target && sim_now(s) < end && !sim_failed(s)) {
		uint64_t t = sim_now(s) + sim_period(s);
		sim_run_until(s, t < end ? t : end);
		acc = sim_finger_accuracy(s, FINGER_SAMPLE);
	}
	return acc;
}

/* Fill the window with lookups of random keys from random members, at most *LEFT of them. */
static void top_up(struct sim *s, uint64_t *left, struct sim_lookup_stats *st)
{
	while (*left > 0 && sim_inflight(s) < sim_window(s) && sim_members(s) > 0) {
		struct dht_id key;
		sim_random_key(s, &key);
		if (sim_lookup(s, sim_random_member(s), &key, st))
			break;
		(*left)--;
	}
}

/* Let the lookups in flight finish (within CAP_US), then cut loose any left. */
static void drain(struct sim *s, uint64_t cap_us)
{
	uint64_t end = sim_now(s) + cap_us;
	while (sim_inflight(s) > 0 && !sim_failed(s) && sim_step(s, end))
		;
	sim_abandon_lookups(s);
}

void scen_lookups(struct sim *s, uint64_t k, uint64_t cap_us, struct sim_lookup_stats *st)
{
	uint64_t end = sim_now(s) + cap_us;
	while (k > 0 && !sim_failed(s)) {
		top_up(s, &k, st);
		if (!sim_step(s, end))
			break;
	}
	drain(s, end > sim_now(s) ? end - sim_now(s) : 0);
}

void scen_opts_default(struct scen_opts *o)
{
	memset(o, 0, sizeof *o);
	sim_config_default(&o->sim);
	o->nodes = 64;
	o->lookups = 10000;
	o->churn_seconds = 300;
}

/* Up to N distinct random members (a partial shuffle); return how many were written. */
static size_t pick_members(struct sim *s, uint32_t *out, size_t n)
{
	size_t m = sim_members(s);
	for (size_t p = 0; p < m; p++)
		out[p] = truth_index(sim_truth(s), p);
	if (n > m)
		n = m;
	for (size_t j = 0; j < n; j++) {
		size_t k = j + (size_t)sim_rand_below(s, m - j);
		uint32_t t = out[j];
		out[j] = out[k];
		out[k] = t;
	}
	return n;
}

static bool crash_one(struct sim *s, uint32_t v, bool safe, uint64_t *skipped)
{
	if (safe && !sim_crash_is_safe(s, v)) {
		(*skipped)++;
		return false;
	}
	return sim_crash(s, v) == 0;
}

/* Crash and/or remove fractions of the members at one instant, measure lookups while the ring
 * repairs itself (and the gets of VALS, if not NULL, issued at once), then lookups on the
 * repaired ring. */
static int disrupt(struct sim *s, const struct scen_opts *o, struct scen_report *rep,
		   struct scen_values *vals)
{
	size_t m = sim_members(s);
	size_t nc = (size_t)llround(o->fail_fraction * (double)m);
	size_t nl = (size_t)llround(o->leave_fraction * (double)m);
	/* Someone must survive to repair the ring. */
	if (nc >= m)
		nc = m ? m - 1 : 0;
	if (nc + nl >= m)
		nl = m ? m - 1 - nc : 0;
	uint32_t *v = malloc((m ? m : 1) * sizeof *v);
	if (v == NULL)
		return -1;
	pick_members(s, v, nc + nl);
	rep->disrupted = true;
	for (size_t j = 0; j < nc; j++)
		rep->crashed += crash_one(s, v[j], o->safe_crashes, &rep->crashes_skipped);
	for (size_t j = nc; j < nc + nl; j++)
		rep->left += sim_leave(s, v[j]) == 0;
	free(v);
	rep->lost_all_succ = sim_lost_all(s);
	sim_logf(s, "disruption: %zu crashed, %zu left, %zu lost every successor", rep->crashed,
		 rep->left, rep->lost_all_succ);

	if (vals)
		values_get(s, vals, &rep->gets);
	uint64_t end = sim_now(s) + RECOVERY_CAP_US, unlimited = UINT64_MAX;
	while (!(sim_converged(s) && sim_last_check(s)->ring_correct) && !sim_failed(s)) {
		top_up(s, &unlimited, &rep->during);
		if (!sim_step(s, end))
			break;
	}
	drain(s, RECOVERY_CAP_US);
	while (vals && values_pending(vals) > 0 && !sim_failed(s) && sim_step(s, end))
		;
	rep->recovered = scen_converge(s, RECOVERY_CAP_US);
	rep->recovery_s = (double)sim_converge_us(s) / 1e6;
	scen_lookups(s, o->lookups, LOOKUP_CAP_US, &rep->after);
	return 0;
}

static void churn_event(struct sim *s, const struct scen_opts *o, struct scen_report *rep)
{
	if (sim_rand_unit(s) < 0.5) {
		long i = sim_spawn(s, NULL);
		if (i >= 0 && sim_members(s) > 0 && sim_join(s, (uint32_t)i, sim_random_member(s)) == 0)
			rep->churn_joins++;
		return;
	}
	if (sim_members(s) > 1)
		rep->churn_crashes +=
			crash_one(s, sim_random_member(s), o->safe_crashes, &rep->crashes_skipped);
}

/* Joins and crashes as a Poisson process while lookups keep the window full. */
static void churn(struct sim *s, const struct scen_opts *o, struct scen_report *rep)
{
	uint64_t end = sim_now(s) + (uint64_t)(o->churn_seconds * 1e6), left = UINT64_MAX;
	double gap = 1e6 / o->churn_rate;
	uint64_t next = sim_now(s) + (uint64_t)sim_rand_exp(s, gap);
	rep->churned = true;
	while (sim_now(s) < end && !sim_failed(s)) {
		top_up(s, &left, &rep->churn);
		if (sim_now(s) >= next) {
			churn_event(s, o, rep);
			next += 1 + (uint64_t)sim_rand_exp(s, gap);
			continue;
		}
		sim_step(s, next < end ? next : end);
	}
	drain(s, RECOVERY_CAP_US);
	sim_reap(s);
	rep->churn_recovered = scen_converge(s, RECOVERY_CAP_US);
	rep->churn_converge_s = (double)sim_converge_us(s) / 1e6;
}

int scen_run(const struct scen_opts *o, struct scen_report *rep)
{
	memset(rep, 0, sizeof *rep);
	rep->nodes_wanted = o->nodes;
	rep->bits = o->sim.bits;
	rep->r = o->sim.succ_len;
	rep->seed = o->sim.seed;
	struct sim *s = sim_new(&o->sim);
	if (s == NULL)
		return -1;
	uint64_t period = sim_period(s), grow_us = 0;
	rep->grown = scen_grow(s, o->nodes, &grow_us);
	rep->grow_s = (double)grow_us / 1e6;
	rep->converge_s = (double)sim_converge_us(s) / 1e6;
	uint64_t t = sim_now(s);
	rep->finger_accuracy = scen_settle_fingers(s, 0.99, SCEN_FINGER_PERIODS * period);
	rep->fingers_s = (double)(sim_now(s) - t) / 1e6;
	scen_lookups(s, o->lookups, LOOKUP_CAP_US, &rep->lookups);
	int rc = 0;
	struct scen_values *vals = NULL;
	bool disrupting = o->fail_fraction > 0 || o->leave_fraction > 0;
	if (disrupting && o->values > 0) {
		vals = values_put(s, o->values, LOOKUP_CAP_US, &rep->puts_failed);
		rc = vals ? 0 : -1;
	}
	if (rc == 0 && disrupting)
		rc = disrupt(s, o, rep, vals);
	if (rc == 0 && o->churn_rate > 0)
		churn(s, o, rep);
	rep->ring_correct = sim_last_check(s)->ring_correct;
	rep->nodes = sim_members(s);
	rep->out_of_memory = sim_failed(s) || rc != 0;
	rep->virtual_s = (double)sim_now(s) / 1e6;
	sim_totals(s, &rep->tot);
	sim_free(s);
	values_free(vals); /* after the world: gets still out might call back */
	return 0;
}

/* --- small random churn schedules -------------------------------------------------------- */

enum { EV_JOIN, EV_CRASH, EV_LEAVE, EV_MIXED };
static const char *const kind_names[] = { "joins", "crashes", "leaves", "mixed" };

static void sched_event(struct sim *s, unsigned what, unsigned max_nodes, struct scen_sched *out)
{
	size_t m = sim_members(s);
	if (what == EV_JOIN) {
		if (m == 0 || m + sim_joining(s) >= max_nodes)
			return;
		long i = sim_spawn(s, NULL);
		if (i >= 0 && sim_join(s, (uint32_t)i, sim_random_member(s)) == 0)
			out->joins++;
		return;
	}
	if (m <= 1)
		return;
	uint32_t v = sim_random_member(s);
	if (!sim_crash_is_safe(s, v)) {
		out->skipped++;
		return;
	}
	if (what == EV_CRASH)
		out->crashes += sim_crash(s, v) == 0;
	else
		out->leaves += sim_leave(s, v) == 0;
}

void scen_sched_config(struct rng *r, unsigned max_nodes, FILE *log, struct sim_config *cfg,
		       struct scen_sched *out)
{
	static const unsigned widths[] = { 8, 16, 160 };
	static const unsigned rs[] = { 2, 3, 4, 8 };
	sim_config_default(cfg);
	cfg->seed = rng_next(r);
	cfg->bits = widths[rng_below(r, 3)];
	cfg->succ_len = rs[rng_below(r, 4)];
	cfg->latency = (enum sim_latency)rng_below(r, 3);
	cfg->latency_ms = 5 + (double)rng_below(r, 46);
	cfg->window = 16;
	cfg->check_every_event = true;
	cfg->log = log;
	out->bits = cfg->bits;
	out->r = cfg->succ_len;
	out->start_nodes = 1 + (unsigned)rng_below(r, max_nodes);
}

void scen_split_config(uint64_t seed, unsigned max_nodes, const char *kind, FILE *log,
		       struct rng *r, struct sim_config *cfg, struct scen_sched *out)
{
	memset(out, 0, sizeof *out);
	out->seed = seed;
	out->kind = kind;
	rng_seed(r, seed);
	scen_sched_config(r, max_nodes, log, cfg, out);
	out->start_nodes = 2 + (unsigned)rng_below(r, max_nodes < 2 ? 1 : max_nodes - 1);
}

int scen_schedule(uint64_t seed, unsigned max_nodes, FILE *log, struct scen_sched *out)
{
	struct rng r;
	struct sim_config cfg;
	memset(out, 0, sizeof *out);
	out->seed = seed;
	rng_seed(&r, seed);
	scen_sched_config(&r, max_nodes ? max_nodes : 1, log, &cfg, out);
	unsigned kind = (unsigned)rng_below(&r, 4);
	unsigned nev = 1 + (unsigned)rng_below(&r, 2 * (uint64_t)out->start_nodes + 2);
	out->kind = kind_names[kind];
	struct sim *s = sim_new(&cfg);
	if (s == NULL)
		return -1;
	uint64_t period = sim_period(s), grow_us;
	/* Mean gap between events: from a twentieth of a stabilization period (events pile up
	 * inside one round, where Zave's anomalies live) to a whole one. */
	double gap = (double)period * (0.05 + rng_unit(&r));
	sim_logf(s, "schedule %llu: %s, %u bits, r=%u, %u nodes, %u events",
		 (unsigned long long)seed, out->kind, out->bits, out->r, out->start_nodes, nev);
	if (scen_grow(s, out->start_nodes, &grow_us)) {
		for (unsigned e = 0; e < nev && !sim_failed(s); e++) {
			sim_run_until(s, sim_now(s) + (uint64_t)rng_exp(&r, gap));
			unsigned what = kind == EV_MIXED ? (unsigned)rng_below(&r, 3) : kind;
			sched_event(s, what, max_nodes, out);
		}
		uint64_t stop = sim_now(s);
		out->converged = scen_converge(s, 100 * period);
		out->rounds = (unsigned)((sim_now(s) - stop + period - 1) / period);
		sim_logf(s, "churn stopped at %.3f s; the ring is %s", (double)stop / 1e6,
			 out->converged ? "correct" : "NOT correct");
		sim_dump(s);
		struct sim_lookup_stats st;
		memset(&st, 0, sizeof st);
		scen_lookups(s, 32, LOOKUP_CAP_US, &st);
		out->lookups = st.done;
		out->lookups_bad = st.failed + st.wrong;
	}
	struct sim_totals tot;
	sim_totals(s, &tot);
	out->violations = tot.violations;
	out->joins_failed = (unsigned)tot.joins_failed;
	out->end_nodes = (unsigned)sim_members(s);
	if (sim_failed(s))
		out->converged = false;
	sim_free(s);
	return 0;
}

bool scen_sched_passed(const struct scen_sched *r)
{
	return r->violations == 0 && r->converged && r->lookups_bad == 0;
}
