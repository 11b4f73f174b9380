/* kvload: the key-value benchmark's load driver and the integration tests' checker. It reads a
 * list of running nodes, puts or gets a set of keys through them over the control protocol,
 * checks every value read, and prints the success rate, latency percentiles and mean hops.
 * It exists so that latency is measured without a process spawn per request: each request is
 * one loopback TCP connection (the protocol closes it after the answer), nothing more.
 * Requests go one at a time: it measures a quiet network, it does not load-test one.
 * Keys are "PREFIX-I" and values are derived from the seed and I, so a later run with the
 * same seed knows what every key must hold. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dht/rng.h"
#include "tools/lib/ctlclient.h"

#define MAX_NODES 4096
#define MAX_VALUE 1000

struct load {
	struct ctl_target nodes[MAX_NODES];
	char names[MAX_NODES][CTL_HOST_MAX + CTL_PORT_MAX + 2];
	size_t nnodes;
	unsigned keys, size;
	uint64_t seed;
	int timeout_ms;
	const char *prefix;
	double max_seconds;
	int64_t since_ms; /* recover: report times from this wall-clock instant */
	struct rng rng;
	bool verbose;
};

/* The outcome of one series of requests. */
struct tally {
	const char *what;
	unsigned ok, not_found, wrong, unreachable, other;
	double *ms;
	double hops;
	unsigned nms;
};

static int64_t mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void key_name(const struct load *l, unsigned i, char *out, size_t n)
{
	snprintf(out, n, "%s-%u", l->prefix, i);
}

/* SIZE characters of [a-z0-9], the same for the same seed and key. */
static void key_value(const struct load *l, unsigned i, char *out)
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
	struct rng r;

	rng_seed(&r, l->seed * 1000003u + i);
	for (unsigned k = 0; k < l->size; k++)
		out[k] = alphabet[rng_below(&r, sizeof(alphabet) - 1)];
	out[l->size] = '\0';
}

static int read_nodes(struct load *l, const char *path)
{
	char line[256], err[CTL_ERR_MAX];
	FILE *f = fopen(path, "r");

	if (!f) {
		fprintf(stderr, "kvload: cannot open the node list '%s'\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) && l->nnodes < MAX_NODES) {
		line[strcspn(line, " \t\r\n")] = '\0';
		if (!line[0] || line[0] == '#')
			continue;
		if (ctl_parse_target(line, &l->nodes[l->nnodes], err) < 0) {
			fprintf(stderr, "kvload: %s: %s\n", path, err);
			fclose(f);
			return -1;
		}
		snprintf(l->names[l->nnodes++], sizeof(l->names[0]), "%s", line);
	}
	fclose(f);
	if (l->nnodes == 0)
		fprintf(stderr, "kvload: the node list '%s' is empty\n", path);
	return l->nnodes ? 0 : -1;
}

static const char *field_or(const json_t *o, const char *field, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, field));
	return s ? s : dflt;
}

/* Send one request to node N and classify the answer into T; return true on success. */
static bool request(struct load *l, size_t n, json_t *req, const char *want, struct tally *t)
{
	char err[CTL_ERR_MAX];
	json_t *resp = NULL;
	int64_t t0 = mono_us();
	enum ctl_result r = ctl_call(&l->nodes[n], req, l->timeout_ms, &resp, err);
	double ms = (double)(mono_us() - t0) / 1000.0;
	const char *code = json_string_value(json_object_get(resp, "code"));
	bool ok = r == CTL_OK && json_is_true(json_object_get(resp, "ok"));

	if (ok && want && strcmp(want, field_or(resp, "value", ""))) {
		ok = false;
		t->wrong++;
	} else if (ok) {
		t->ok++;
		t->ms[t->nms++] = ms;
		t->hops += json_number_value(json_object_get(resp, "hops"));
	} else if (r == CTL_REFUSED || r == CTL_NO_ANSWER || (code && !strcmp(code, "timeout"))) {
		t->unreachable++;
	} else if (code && !strcmp(code, "not_found")) {
		t->not_found++;
	} else {
		t->other++;
	}
	if (!ok && l->verbose)
		fprintf(stderr, "kvload: %s %s via %s failed: %s\n", t->what,
			field_or(req, "key", "?"), l->names[n],
			r == CTL_OK ? field_or(resp, "error", "wrong value") : err);
	json_decref(resp);
	json_decref(req);
	return ok;
}

static bool put_key(struct load *l, unsigned i, size_t n, struct tally *t)
{
	char key[128], value[MAX_VALUE + 1];

	key_name(l, i, key, sizeof(key));
	key_value(l, i, value);
	return request(l, n, json_pack("{s:s, s:s, s:s}", "cmd", "put", "key", key, "value", value),
		       NULL, t);
}

static bool get_key(struct load *l, unsigned i, size_t n, struct tally *t)
{
	char key[128], value[MAX_VALUE + 1];

	key_name(l, i, key, sizeof(key));
	key_value(l, i, value);
	return request(l, n, json_pack("{s:s, s:s}", "cmd", "get", "key", key), value, t);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The nearest-rank percentile Q (0..1) of the sorted V. */
static double pct(const double *v, unsigned n, double q)
{
	unsigned k = (unsigned)ceil(q * n);
	return n ? v[k ? k - 1 : 0] : 0.0;
}

static unsigned tally_total(const struct tally *t)
{
	return t->ok + t->not_found + t->wrong + t->unreachable + t->other;
}

static void report(struct tally *t)
{
	unsigned total = tally_total(t);

	qsort(t->ms, t->nms, sizeof(double), cmp_double);
	printf("%-6s %u/%u ok (%.2f%%)", t->what, t->ok, total, total ? 100.0 * t->ok / total : 0);
	if (t->nms)
		printf("  latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f  mean hops %.2f",
		       pct(t->ms, t->nms, 0.5), pct(t->ms, t->nms, 0.9), pct(t->ms, t->nms, 0.99),
		       t->ms[t->nms - 1], t->hops / t->nms);
	printf("\n");
	if (t->ok < total)
		printf("%-6s failures: %u not found, %u wrong value, %u unreachable or timed out, "
		       "%u other\n", "", t->not_found, t->wrong, t->unreachable, t->other);
	fflush(stdout);
}

static size_t pick(struct load *l)
{
	return (size_t)rng_below(&l->rng, l->nnodes);
}

/* Put every key through a random node, then (GET_TOO) get it through a random other one. */
static int run_put(struct load *l, bool get_too)
{
	size_t n = l->nnodes;
	size_t *via = calloc(l->keys, sizeof(*via));
	struct tally put = { "put", .ms = calloc(l->keys, sizeof(double)) };
	struct tally get = { "get", .ms = calloc(l->keys, sizeof(double)) };
	int rc = 1;

	if (!via || !put.ms || !get.ms)
		goto out;
	for (unsigned i = 0; i < l->keys; i++)
		put_key(l, i, via[i] = pick(l), &put);
	report(&put);
	for (unsigned i = 0; get_too && i < l->keys; i++)
		get_key(l, i, n > 1 ? (via[i] + 1 + (size_t)rng_below(&l->rng, n - 1)) % n : 0, &get);
	if (get_too)
		report(&get);
	rc = put.ok == l->keys && (!get_too || get.ok == l->keys) ? 0 : 1;
out:
	free(via);
	free(put.ms);
	free(get.ms);
	return rc;
}

/* One sweep: every key through a random node (or, ALL, through every node). */
static unsigned sweep(struct load *l, bool all, bool print, const char *what)
{
	size_t per = all ? l->nnodes : 1;
	struct tally t = { what, .ms = calloc((size_t)l->keys * per, sizeof(double)) };
	unsigned ok;

	if (!t.ms)
		return 0;
	for (unsigned i = 0; i < l->keys; i++)
		for (size_t k = 0; k < per; k++)
			get_key(l, i, all ? k : pick(l), &t);
	if (print)
		report(&t);
	ok = t.ok == tally_total(&t);
	free(t.ms);
	return ok;
}

/* Sweep until one sweep reads every key, or MAX_SECONDS pass. The first sweep's figures are
 * printed: they are the success rate right after whatever happened at the start. */
static int run_recover(struct load *l)
{
	int64_t start = l->since_ms ? l->since_ms : wall_ms();
	struct timespec pause = { 0, 200 * 1000000L };
	unsigned rounds = 0;

	for (;;) {
		double from = (double)(wall_ms() - start) / 1000.0;
		bool ok = sweep(l, false, rounds == 0 || l->verbose, "get");
		rounds++;
		if (ok) {
			printf("recover: every key read in sweep %u, which ran from %.2f to %.2f s after "
			       "the start\n", rounds, from, (double)(wall_ms() - start) / 1000.0);
			return 0;
		}
		if ((double)(wall_ms() - start) / 1000.0 > l->max_seconds)
			break;
		nanosleep(&pause, NULL);
	}
	printf("recover: some keys still unreadable after %.2f s (%u sweeps); last sweep:\n",
	       (double)(wall_ms() - start) / 1000.0, rounds);
	fflush(stdout);
	l->verbose = true; /* name the keys that stayed lost */
	sweep(l, false, true, "get");
	return 1;
}

static void usage(void)
{
	printf("usage: kvload --nodes FILE [--keys N] [--size BYTES] [--seed S] [--prefix P]\n"
	       "              [--timeout SECONDS] [--max-seconds S] [--since-ms EPOCH_MS] [-v] MODE\n\n"
	       "FILE lists the nodes' control addresses (IP:PORT), one a line. Keys are P-0 .. P-N-1\n"
	       "(default bench-0 .. bench-499) with SIZE-byte values (default 100) derived from S.\n"
	       "MODE is one of:\n"
	       "  put      put every key through a random node\n"
	       "  putget   put every key through a random node, get it through a random other one\n"
	       "  get      get every key through a random node and check its value\n"
	       "  getall   get every key through every node\n"
	       "  recover  get sweeps until one reads every key (at most --max-seconds, default 60),\n"
	       "           printing the first sweep's figures;\n"
	       "           times count from --since-ms (wall clock) if given; if it gives up, the\n"
	       "           keys still unreadable are named on stderr\n"
	       "Exit status: 0 if every request succeeded, 1 if some failed, 2 on bad usage.\n");
}

static int bad_value(const char *o, const char *v, const char *want)
{
	fprintf(stderr, "kvload: --%s %s: give %s (see kvload --help)\n", o, v, want);
	return -1;
}

/* A whole number in [MIN, MAX]. */
static int whole(const char *o, const char *v, uint64_t min, uint64_t max, uint64_t *out)
{
	char *end;

	errno = 0;
	*out = strtoull(v, &end, 10);
	if (*v < '0' || *v > '9' || *end || errno || *out < min || *out > max) {
		char want[80];
		snprintf(want, sizeof want, "a whole number from %llu to %llu",
			 (unsigned long long)min, (unsigned long long)max);
		return bad_value(o, v, want);
	}
	return 0;
}

static int seconds(const char *o, const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (end == v || *end || errno || !isfinite(*out) || *out <= 0 || *out > 86400)
		return bad_value(o, v, "a positive number of seconds, at most a day");
	return 0;
}

enum { O_NODES = 256, O_KEYS, O_SIZE, O_SEED, O_PREFIX, O_TIMEOUT, O_MAX_SECONDS, O_SINCE };

static const struct option longopts[] = {
	{ "nodes", required_argument, NULL, O_NODES },
	{ "keys", required_argument, NULL, O_KEYS },
	{ "size", required_argument, NULL, O_SIZE },
	{ "seed", required_argument, NULL, O_SEED },
	{ "prefix", required_argument, NULL, O_PREFIX },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "max-seconds", required_argument, NULL, O_MAX_SECONDS },
	{ "since-ms", required_argument, NULL, O_SINCE },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

/* Apply option ID with value V to L. Return 0 or -1 (said on stderr). */
static int apply(struct load *l, int id, const char *v, const char **nodes)
{
	const char *o = longopts[id - O_NODES].name;
	uint64_t n;
	double t;

	switch (id) {
	case O_NODES:
		*nodes = v;
		return 0;
	case O_PREFIX:
		l->prefix = v;
		return 0;
	case O_KEYS:
	case O_SIZE:
		if (whole(o, v, id == O_KEYS, id == O_KEYS ? 10000000 : MAX_VALUE, &n) != 0)
			return -1;
		*(id == O_KEYS ? &l->keys : &l->size) = (unsigned)n;
		return 0;
	case O_SEED:
	case O_SINCE:
		if (whole(o, v, 0, INT64_MAX, &n) != 0)
			return -1;
		if (id == O_SEED)
			l->seed = n;
		else
			l->since_ms = (int64_t)n;
		return 0;
	default:
		if (seconds(o, v, &t) != 0)
			return -1;
		if (id == O_TIMEOUT)
			l->timeout_ms = (int)(t * 1000);
		else
			l->max_seconds = t;
		return 0;
	}
}

/* Parse the options into L (getopt_long) and return the mode, or NULL on bad usage (said on
 * stderr). Exit at once for --help. */
static const char *parse_args(struct load *l, int argc, char **argv, const char **nodes)
{
	int id;

	opterr = 0;
	while ((id = getopt_long(argc, argv, ":vh", longopts, NULL)) != -1) {
		if (id == 'h') {
			usage();
			exit(0);
		}
		if (id == 'v')
			l->verbose = true;
		else if (id == ':' || id == '?')
			fprintf(stderr, "kvload: %s: %s (see kvload --help)\n", argv[optind - 1],
				id == ':' ? "needs a value" : "unknown option");
		if (id == ':' || id == '?' || (id >= O_NODES && apply(l, id, optarg, nodes) != 0))
			return NULL;
	}
	if (!*nodes || optind != argc - 1) {
		fprintf(stderr, "kvload: give --nodes FILE and one MODE (see kvload --help)\n");
		return NULL;
	}
	return argv[optind];
}

int main(int argc, char **argv)
{
	static struct load l = { .keys = 500, .size = 100, .seed = 1, .timeout_ms = 5000,
				 .prefix = "bench", .max_seconds = 60 };
	const char *nodes = NULL, *mode;

	mode = parse_args(&l, argc, argv, &nodes);
	if (!mode)
		return 2;
	if (read_nodes(&l, nodes) < 0)
		return 2;
	rng_seed(&l.rng, l.seed);
	if (!strcmp(mode, "put") || !strcmp(mode, "putget"))
		return run_put(&l, !strcmp(mode, "putget"));
	if (!strcmp(mode, "get") || !strcmp(mode, "getall"))
		return sweep(&l, !strcmp(mode, "getall"), true, "get") ? 0 : 1;
	if (!strcmp(mode, "recover"))
		return run_recover(&l);
	fprintf(stderr, "kvload: unknown mode '%s' (see kvload --help)\n", mode);
	return 2;
}
