/* dhtsim: the command line of the Chord simulator. It parses options, runs one scenario, the
 * path-length table or a batch of small churn schedules (scen.h), and prints the figures. Wall
 * time and memory are measured here, since they belong to the process, not to the simulation.
 * Exit status: 0 the run showed what it must, 1 it did not, 2 bad arguments, 3 out of memory. */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "tools/dhtsim/scen.h"

static const char usage[] =
	"usage: dhtsim [options]\n"
	"Simulate a Chord ring of real dht cores on a virtual clock: grow it from one node,\n"
	"check it against the truth, run lookups, crash or churn nodes. Same seed, same output.\n"
	"\n"
	"  --nodes N            ring size, grown from one node (default 64)\n"
	"  --bits B             id width, 8..160 (default 160)\n"
	"  --succ-len R         successor list length r, 2..32 (default 8)\n"
	"  --seed S             PRNG seed (default 1)\n"
	"  --lookups K          lookups of random keys once the ring is correct (default 10000)\n"
	"  --window W           lookups in flight at most (default N/16, within 64..1024)\n"
	"  --latency-ms MEAN    mean one-way latency (default 20)\n"
	"  --latency-dist D     uniform ([0.5,1.5] x mean), exp or const (default uniform)\n"
	"  --loss L             datagram loss probability, 0..0.5 (default 0)\n"
	"  --fail-fraction P    then crash this fraction of the nodes at once\n"
	"  --leave-fraction P   then have this fraction leave gracefully at once\n"
	"  --churn-rate R       then joins + crashes per virtual second, half each\n"
	"  --churn-seconds S    how long the churn lasts (default 300)\n"
	"  --safe-crashes       skip crashes that would leave a node with no live successor\n"
	"  --values K           with a crash or leave: put K signed values before it and get\n"
	"                       them all right after it (right, wrong, lost; latency)\n"
	"  --check-every-event  check the ring after every event, not once per second (small rings)\n"
	"  --path-table         run N = 2^k for k in [--min-log2, --max-log2] (default 4..14)\n"
	"                       and print path lengths against the Chord paper's bounds\n"
	"  --schedules K        run K small random churn schedules (seeds S..S+K-1)\n"
	"  --max-nodes M        largest ring in a schedule (default 12)\n"
	"  --partition          with --schedules: split the ring into two sides for 1..60 s,\n"
	"                       heal, and require one correct ring again (ring unification)\n"
	"  --apart              with --schedules: grow two rings apart (never in contact), then\n"
	"                       connect them: discovery beacons must unify them into one ring\n"
	"  --json               print JSON instead of a summary\n"
	"  --no-timing          leave out wall time and memory (output then depends on the seed only)\n"
	"  --verbose            print the timeline, core logs, violations and bad lookups to stderr\n"
	"  --help               print this\n"
	"  --version            print the version\n";

struct cli {
	struct scen_opts o;
	bool json, timing, path_table, window_set, partition, apart;
	unsigned min_log2, max_log2, max_nodes;
	uint64_t schedules;
};

static void die_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die_usage(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "dhtsim: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, " (try --help)\n");
	va_end(ap);
	exit(2);
}

static uint64_t num_u(const char *opt, const char *v, uint64_t lo, uint64_t hi)
{
	char *end;
	unsigned long long x = strtoull(v, &end, 10);
	if (*v == '\0' || *v == '-' || *end != '\0' || x < lo || x > hi)
		die_usage("%s wants an integer in %llu..%llu, not '%s'", opt, (unsigned long long)lo,
			  (unsigned long long)hi, v);
	return x;
}

static double num_d(const char *opt, const char *v, double lo, double hi)
{
	char *end;
	double x = strtod(v, &end);
	if (*v == '\0' || *end != '\0' || !(x >= lo && x <= hi))
		die_usage("%s wants a number in [%g, %g], not '%s'", opt, lo, hi, v);
	return x;
}

static enum sim_latency parse_dist(const char *v)
{
	if (strcmp(v, "uniform") == 0)
		return SIM_LAT_UNIFORM;
	if (strcmp(v, "exp") == 0)
		return SIM_LAT_EXP;
	if (strcmp(v, "const") == 0)
		return SIM_LAT_CONST;
	die_usage("--latency-dist wants uniform, exp or const, not '%s'", v);
}

/* Options that take a value. Return true if OPT was one of them. */
static bool value_opt(struct cli *c, const char *opt, const char *v)
{
	struct scen_opts *o = &c->o;
	if (strcmp(opt, "--nodes") == 0)
		o->nodes = num_u(opt, v, 1, 1 << 22);
	else if (strcmp(opt, "--bits") == 0)
		o->sim.bits = (unsigned)num_u(opt, v, ID_MIN_BITS, ID_MAX_BITS);
	else if (strcmp(opt, "--succ-len") == 0)
		o->sim.succ_len = (unsigned)num_u(opt, v, 2, 32);
	else if (strcmp(opt, "--seed") == 0)
		o->sim.seed = num_u(opt, v, 0, INT64_MAX); /* JSON integers are signed */
	else if (strcmp(opt, "--lookups") == 0)
		o->lookups = num_u(opt, v, 0, 1000000000);
	else if (strcmp(opt, "--window") == 0) {
		o->sim.window = (unsigned)num_u(opt, v, 1, 65536);
		c->window_set = true;
	}
	else if (strcmp(opt, "--latency-ms") == 0)
		o->sim.latency_ms = num_d(opt, v, 0, 10000);
	else if (strcmp(opt, "--latency-dist") == 0)
		o->sim.latency = parse_dist(v);
	else if (strcmp(opt, "--loss") == 0)
		o->sim.loss = num_d(opt, v, 0, 0.5);
	else if (strcmp(opt, "--fail-fraction") == 0)
		o->fail_fraction = num_d(opt, v, 0, 1);
	else if (strcmp(opt, "--values") == 0)
		o->values = num_u(opt, v, 0, 10000000);
	else if (strcmp(opt, "--leave-fraction") == 0)
		o->leave_fraction = num_d(opt, v, 0, 1);
	else if (strcmp(opt, "--churn-rate") == 0)
		o->churn_rate = num_d(opt, v, 0, 1e6);
	else if (strcmp(opt, "--churn-seconds") == 0)
		o->churn_seconds = num_d(opt, v, 0, 1e6);
	else if (strcmp(opt, "--min-log2") == 0)
		c->min_log2 = (unsigned)num_u(opt, v, 0, 22);
	else if (strcmp(opt, "--max-log2") == 0)
		c->max_log2 = (unsigned)num_u(opt, v, 0, 22);
	else if (strcmp(opt, "--schedules") == 0)
		c->schedules = num_u(opt, v, 1, 100000000);
	else if (strcmp(opt, "--max-nodes") == 0)
		c->max_nodes = (unsigned)num_u(opt, v, 1, 256);
	else
		return false;
	return true;
}

static bool flag_opt(struct cli *c, const char *opt)
{
	if (strcmp(opt, "--json") == 0)
		c->json = true;
	else if (strcmp(opt, "--no-timing") == 0)
		c->timing = false;
	else if (strcmp(opt, "--path-table") == 0)
		c->path_table = true;
	else if (strcmp(opt, "--partition") == 0)
		c->partition = true;
	else if (strcmp(opt, "--apart") == 0)
		c->apart = true;
	else if (strcmp(opt, "--safe-crashes") == 0)
		c->o.safe_crashes = true;
	else if (strcmp(opt, "--check-every-event") == 0)
		c->o.sim.check_every_event = true;
	else if (strcmp(opt, "--verbose") == 0)
		c->o.sim.log = stderr;
	else
		return false;
	return true;
}

/* Options as getopt_long sees them: V_VALUE ones go to value_opt(), V_FLAG ones to flag_opt(),
 * both under their full name. */
enum { V_VALUE = 256, V_FLAG, V_HELP, V_VERSION };
static const struct option longopts[] = {
	{ "nodes", required_argument, NULL, V_VALUE },
	{ "bits", required_argument, NULL, V_VALUE },
	{ "succ-len", required_argument, NULL, V_VALUE },
	{ "seed", required_argument, NULL, V_VALUE },
	{ "lookups", required_argument, NULL, V_VALUE },
	{ "window", required_argument, NULL, V_VALUE },
	{ "latency-ms", required_argument, NULL, V_VALUE },
	{ "latency-dist", required_argument, NULL, V_VALUE },
	{ "loss", required_argument, NULL, V_VALUE },
	{ "fail-fraction", required_argument, NULL, V_VALUE },
	{ "leave-fraction", required_argument, NULL, V_VALUE },
	{ "values", required_argument, NULL, V_VALUE },
	{ "churn-rate", required_argument, NULL, V_VALUE },
	{ "churn-seconds", required_argument, NULL, V_VALUE },
	{ "min-log2", required_argument, NULL, V_VALUE },
	{ "max-log2", required_argument, NULL, V_VALUE },
	{ "schedules", required_argument, NULL, V_VALUE },
	{ "max-nodes", required_argument, NULL, V_VALUE },
	{ "json", no_argument, NULL, V_FLAG },
	{ "no-timing", no_argument, NULL, V_FLAG },
	{ "path-table", no_argument, NULL, V_FLAG },
	{ "partition", no_argument, NULL, V_FLAG },
	{ "apart", no_argument, NULL, V_FLAG },
	{ "safe-crashes", no_argument, NULL, V_FLAG },
	{ "check-every-event", no_argument, NULL, V_FLAG },
	{ "verbose", no_argument, NULL, V_FLAG },
	{ "help", no_argument, NULL, V_HELP },
	{ "version", no_argument, NULL, V_VERSION },
	{ NULL, 0, NULL, 0 },
};

static void parse_args(struct cli *c, int argc, char **argv)
{
	int ch, idx;
	opterr = 0; /* our own message, with the hint to --help */
	while ((ch = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		char name[32];
		if (ch == 'h' || ch == V_HELP) {
			fputs(usage, stdout);
			exit(0);
		}
		if (ch == V_VERSION) {
			printf("dhtsim %s\n", DHT_VERSION);
			exit(0);
		}
		if (ch != V_VALUE && ch != V_FLAG)
			die_usage("unknown option or missing value: '%s'", argv[optind - 1]);
		snprintf(name, sizeof name, "--%s", longopts[idx].name);
		if (ch == V_VALUE)
			value_opt(c, name, optarg);
		else
			flag_opt(c, name);
	}
	if (optind < argc)
		die_usage("unexpected argument '%s'", argv[optind]);
}

static void parse(struct cli *c, int argc, char **argv)
{
	memset(c, 0, sizeof *c);
	scen_opts_default(&c->o);
	c->timing = true;
	c->min_log2 = 4;
	c->max_log2 = 14;
	c->max_nodes = 12;
	parse_args(c, argc, argv);
	if (c->min_log2 > c->max_log2)
		die_usage("--min-log2 %u is above --max-log2 %u", c->min_log2, c->max_log2);
	if (c->o.fail_fraction + c->o.leave_fraction >= 1)
		die_usage("--fail-fraction plus --leave-fraction must stay below 1");
	/* Fresh random ids get hard to draw in a nearly full id space. */
	if (c->o.sim.bits < 64 && (double)c->o.nodes > ldexp(1, (int)c->o.sim.bits) / 2)
		die_usage("--nodes %zu is more than half of the %u-bit id space", c->o.nodes,
			  c->o.sim.bits);
}

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss_kb(void)
{
	struct rusage ru;
	return getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss : 0;
}

/* Enough lookups in flight to keep a big ring busy, few enough to keep memory small. */
static void pick_window(struct cli *c)
{
	if (c->window_set)
		return;
	size_t w = c->o.nodes / 16;
	c->o.sim.window = (unsigned)(w < 64 ? 64 : w > 1024 ? 1024 : w);
}

/* Print J on one line and release it; return -1 if it is NULL (no memory to build it). */
static int print_json(json_t *j)
{
	if (j == NULL) {
		fprintf(stderr, "dhtsim: out of memory for the JSON output\n");
		return -1;
	}
	json_dumpf(j, stdout, JSON_REAL_PRECISION(6));
	putchar('\n');
	json_decref(j);
	return 0;
}

static int run_one(struct cli *c)
{
	struct scen_report rep;
	double t0 = wall_now();
	pick_window(c);
	if (scen_run(&c->o, &rep)) {
		fprintf(stderr, "dhtsim: cannot build the simulated world (out of memory?)\n");
		return 3;
	}
	double wall = c->timing ? wall_now() - t0 : -1;
	if (c->json) {
		json_t *j = scen_report_json(&rep, &c->o);
		if (j && wall >= 0)
			json_object_update_new(j, json_pack("{s:f,s:I}", "wall_s", wall, "rss_kb",
							    (json_int_t)rss_kb()));
		if (print_json(j))
			return 3;
	} else
		scen_print_text(stdout, &rep, &c->o, wall, rss_kb());
	if (rep.out_of_memory)
		return 3;
	return scen_passed(&rep) ? 0 : 1;
}

static bool table_row(struct cli *c, unsigned k)
{
	struct scen_report rep;
	double t0 = wall_now();
	c->o.nodes = (size_t)1 << k;
	c->window_set = false;
	pick_window(c);
	if (scen_run(&c->o, &rep))
		return false;
	const struct sim_lookup_stats *st = &rep.lookups;
	double mean = sim_stats_mean_hops(st), half = 0.5 * k, wall = wall_now() - t0;
	unsigned p50 = sim_stats_hops_pct(st, 0.5), p99 = sim_stats_hops_pct(st, 0.99);
	bool mean_ok = mean <= half, p99_ok = p99 <= k + 1;
	bool ok = mean_ok && p99_ok && scen_passed(&rep);
	if (c->json) {
		json_t *j = json_pack("{s:I,s:i,s:f,s:i,s:i,s:f,s:i,s:b,s:b,s:I,s:I,s:f,s:b}",
				      "nodes", (json_int_t)rep.nodes, "log2_n", (int)k, "mean_hops",
				      mean, "p50_hops", (int)p50, "p99_hops", (int)p99,
				      "half_log2_n", half, "log2_n_plus_1", (int)k + 1, "mean_ok",
				      mean_ok, "p99_ok", p99_ok, "lookups", (json_int_t)st->issued,
				      "lookups_correct", (json_int_t)st->correct, "finger_accuracy",
				      rep.finger_accuracy, "ring_correct", rep.ring_correct);
		if (j && c->timing)
			json_object_set_new(j, "wall_s", json_real(wall));
		if (print_json(j))
			return false;
	} else {
		char frac[48];
		snprintf(frac, sizeof frac, "%llu/%llu", (unsigned long long)st->correct,
			 (unsigned long long)st->issued);
		printf("%7zu %5u %6.2f %4u %4u %8.1f %7u   %-4s %-4s %19s %6.2f%%", rep.nodes, k, mean,
		       p50, p99, half, k + 1, mean_ok ? "pass" : "FAIL", p99_ok ? "pass" : "FAIL", frac,
		       100 * rep.finger_accuracy);
		if (c->timing)
			printf(" %7.1f", wall);
		printf("\n");
	}
	fflush(stdout);
	return ok;
}

static int run_table(struct cli *c)
{
	bool ok = true;
	if (!c->json)
		printf("%7s %5s %6s %4s %4s %8s %7s   %-4s %-4s %19s %7s%s\n", "N", "log2N", "mean",
		       "p50", "p99", "0.5log2N", "log2N+1", "mean", "p99", "correct/lookups",
		       "fingers", c->timing ? "  wall_s" : "");
	for (unsigned k = c->min_log2; k <= c->max_log2; k++)
		ok &= table_row(c, k);
	return ok ? 0 : 1;
}

struct sched_sum {
	uint64_t run, failed, violations, unconverged, lookups, bad, skipped, events, merges;
	unsigned max_rounds;
	uint64_t slowest; /* the seed that took max_rounds */
	uint64_t rounds_sum, first_failed[8];
	uint64_t violating, first_violating[8]; /* schedules with violations, and the first ones */
	uint64_t rounds_hist[6]; /* 0..4, 5 or more */
};

static void sched_add(struct sched_sum *t, const struct scen_sched *r)
{
	t->run++;
	t->violations += r->violations;
	t->unconverged += !r->converged;
	t->lookups += r->lookups;
	t->bad += r->lookups_bad;
	t->skipped += r->skipped;
	t->events += r->joins + r->crashes + r->leaves;
	t->merges += r->merges;
	if (r->converged) {
		if (r->rounds > t->max_rounds) {
			t->max_rounds = r->rounds;
			t->slowest = r->seed;
		}
		t->rounds_sum += r->rounds;
		t->rounds_hist[r->rounds < 5 ? r->rounds : 5]++;
	}
	if (r->violations && t->violating++ < 8)
		t->first_violating[t->violating - 1] = r->seed;
	if (!scen_sched_passed(r) && t->failed++ < 8)
		t->first_failed[t->failed - 1] = r->seed;
}

static void sched_print(const struct cli *c, const struct sched_sum *t, double wall)
{
	uint64_t conv = t->run - t->unconverged;
	double mean = conv ? (double)t->rounds_sum / (double)conv : 0;
	if (c->json) {
		json_t *j = json_pack("{s:I,s:i,s:I,s:I,s:I,s:I,s:I,s:i,s:I,s:f,s:I,s:I,s:I,s:I}",
				      "schedules", (json_int_t)t->run, "max_nodes", (int)c->max_nodes,
				      "seed", (json_int_t)c->o.sim.seed, "failed",
				      (json_int_t)t->failed, "invariant_violations",
				      (json_int_t)t->violations, "schedules_violating",
				      (json_int_t)t->violating, "not_converged",
				      (json_int_t)t->unconverged, "max_rounds", (int)t->max_rounds,
				      "slowest_seed", (json_int_t)t->slowest, "mean_rounds", mean,
				      "events", (json_int_t)t->events, "crashes_skipped",
				      (json_int_t)t->skipped, "lookups", (json_int_t)t->lookups,
				      "lookups_bad", (json_int_t)t->bad);
		if (j && wall >= 0)
			json_object_set_new(j, "wall_s", json_real(wall));
		print_json(j);
		return;
	}
	printf("schedules run          %llu (seeds %llu..%llu), rings of 1..%u nodes, %llu churn events\n",
	       (unsigned long long)t->run, (unsigned long long)c->o.sim.seed,
	       (unsigned long long)(c->o.sim.seed + t->run - 1), c->max_nodes,
	       (unsigned long long)t->events);
	printf("invariant violations   %llu, in %llu schedules", (unsigned long long)t->violations,
	       (unsigned long long)t->violating);
	for (uint64_t k = 0; k < t->violating && k < 8; k++)
		printf("%s%llu", k ? ", " : " (seeds ", (unsigned long long)t->first_violating[k]);
	printf("%s\n", t->violating ? ")" : "");
	printf("converged              %llu of %llu; rounds after %s: max %u (seed %llu), mean %.2f\n",
	       (unsigned long long)conv, (unsigned long long)t->run,
	       c->partition ? "the heal" : c->apart ? "they met" : "churn stops", t->max_rounds,
	       (unsigned long long)t->slowest, mean);
	if (c->partition || c->apart)
		printf("links to another ring  %llu (ring unification steps)\n",
		       (unsigned long long)t->merges);
	printf("rounds histogram       0:%llu 1:%llu 2:%llu 3:%llu 4:%llu 5+:%llu\n",
	       (unsigned long long)t->rounds_hist[0], (unsigned long long)t->rounds_hist[1],
	       (unsigned long long)t->rounds_hist[2], (unsigned long long)t->rounds_hist[3],
	       (unsigned long long)t->rounds_hist[4], (unsigned long long)t->rounds_hist[5]);
	printf("crashes skipped        %llu (would have broken the core's assumption)\n",
	       (unsigned long long)t->skipped);
	printf("lookups after churn    %llu, %llu failed or wrong\n", (unsigned long long)t->lookups,
	       (unsigned long long)t->bad);
	for (uint64_t k = 0; k < t->failed && k < 8; k++)
		printf("failed schedule        replay: dhtsim --schedules 1 --seed %llu --max-nodes %u%s --verbose\n",
		       (unsigned long long)t->first_failed[k], c->max_nodes,
		       c->partition ? " --partition" : c->apart ? " --apart" : "");
	if (wall >= 0)
		printf("wall time              %.2f s\n", wall);
}

static int run_schedules(struct cli *c)
{
	struct sched_sum t;
	double t0 = wall_now();
	memset(&t, 0, sizeof t);
	for (uint64_t k = 0; k < c->schedules; k++) {
		struct scen_sched r;
		uint64_t seed = c->o.sim.seed + k;
		int rc = c->apart ? scen_apart(seed, c->max_nodes, true, c->o.sim.log, &r)
			 : c->partition ? scen_partition(seed, c->max_nodes, c->o.sim.log, &r)
					: scen_schedule(seed, c->max_nodes, c->o.sim.log, &r);
		if (rc) {
			fprintf(stderr, "dhtsim: cannot build the simulated world (out of memory?)\n");
			return 3;
		}
		sched_add(&t, &r);
	}
	sched_print(c, &t, c->timing ? wall_now() - t0 : -1);
	return t.failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct cli c;
	parse(&c, argc, argv);
	if (c.schedules)
		return run_schedules(&c);
	if (c.path_table)
		return run_table(&c);
	return run_one(&c);
}
