/* swarmsim: run one simulated swarm (tools/swarmsim/swarm.h) and print its figures, as text or
 * as one JSON object (jansson) for scripts. Parses and checks arguments; bad ones exit 2.
 * Standard output depends only on the arguments; the wall time goes to standard error. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tools/swarmsim/swarm.h"

static const char usage[] =
	"usage: swarmsim [options]\n"
	"Simulate one seed and N peers trading a file with the real session core, on a virtual\n"
	"clock; the same --seed gives the same output.\n"
	"  --peers N            peers besides the seed (100)\n"
	"  --file-mib X         file size in MiB (256); or --file-bytes N\n"
	"  --chunk-kib N        chunk size in KiB (256)\n"
	"  --seed-up RATE       the seed's upload per second (4MiB)\n"
	"  --peer-up RATES      peers' upload: one rate, a list cycled over the peers\n"
	"                       (0.5MiB,8MiB) or a range spread evenly (0.5MiB..8MiB) (1MiB)\n"
	"  --peer-down RATE     peers' download per second (unlimited)\n"
	"  --latency-ms X       one-way latency of every link (40)\n"
	"  --free-riders F      fraction of peers that upload nothing (0)\n"
	"  --liars F            fraction of peers that send corrupt blocks (0)\n"
	"  --join-spread-s X    peers join at random times in [0, X] (0)\n"
	"  --leave-when-done    peers leave as soon as they have the file\n"
	"  --have-manifest      peers start with the manifest (default: fetch it by content id)\n"
	"  --no-super-seed      the seed shows every chunk at once (default: a few at a time,\n"
	"                       none twice before all once)\n"
	"  --neighbours N       holders one DHT lookup names at most (50)\n"
	"  --max-conns N        connections per node (80)\n"
	"  --slots N            regular unchoke slots (4), more on uplinks over 1 MiB/s per slot\n"
	"  --fixed-slots        --slots N whatever the uplink\n"
	"  --interest-linger-ms X  stay interested this long after a peer runs dry (0)\n"
	"  --max-time-s X       give up after this much virtual time (100000)\n"
	"  --seed N             PRNG seed (1)\n"
	"  --json               print one JSON object\n"
	"  --csv                print one CSV line (--csv-header: the header line first)\n"
	"  --help               this text\n"
	"RATE is bytes, or a number with B, KiB, MiB, GiB, KB, MB or GB.\n";

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "swarmsim: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

static double parse_num(const char *s, const char *what)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < 0)
		die(what, s);
	return v;
}

static uint64_t parse_rate_n(const char *s, size_t n)
{
	static const struct {
		const char *suffix;
		double mult;
	} units[] = { { "", 1 },	    { "B", 1 },	    { "KiB", 1024 },  { "MiB", 1048576 },
		      { "GiB", 1073741824 }, { "KB", 1e3 }, { "MB", 1e6 },    { "GB", 1e9 } };
	char buf[64];
	if (n == 0 || n >= sizeof buf)
		return 0;
	memcpy(buf, s, n);
	buf[n] = 0;
	char *end;
	errno = 0;
	double v = strtod(buf, &end);
	if (end == buf || errno || !isfinite(v) || v <= 0)
		return 0;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strcmp(end, units[i].suffix) == 0 && v * units[i].mult < 1e15)
			return (uint64_t)llround(v * units[i].mult);
	return 0;
}

static uint64_t parse_rate(const char *s)
{
	uint64_t v = parse_rate_n(s, strlen(s));
	if (v == 0)
		die("bad rate '%s'", s);
	return v;
}

static void parse_rates(struct swarm_config *c, const char *s)
{
	const char *dots = strstr(s, "..");
	if (dots) {
		c->up_range = true;
		c->npeer_up = 2;
		c->peer_up[0] = parse_rate_n(s, (size_t)(dots - s));
		c->peer_up[1] = parse_rate_n(dots + 2, strlen(dots + 2));
		if (c->peer_up[0] == 0 || c->peer_up[1] < c->peer_up[0])
			die("bad rate range '%s' (use LOW..HIGH)", s);
		return;
	}
	c->up_range = false;
	c->npeer_up = 0;
	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (c->npeer_up == SWARM_MAX_RATES)
			die("too many rates in '%s'", s);
		c->peer_up[c->npeer_up] = parse_rate_n(p, n);
		if (c->peer_up[c->npeer_up++] == 0)
			die("bad rate list '%s'", s);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
}

static uint64_t parse_count(const char *s, uint64_t max)
{
	double v = parse_num(s, "bad number '%s'");
	if (v != floor(v) || v > (double)max)
		die("bad count '%s'", s);
	return (uint64_t)v;
}

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV, OUT_CSV_HEADER };

static enum out_format parse_args(int argc, char **argv, struct swarm_config *c)
{
	enum out_format fmt = OUT_TEXT;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			fputs(usage, stdout);
			exit(0);
		}
		if (strcmp(o, "--json") == 0 || strcmp(o, "--csv") == 0 ||
		    strcmp(o, "--csv-header") == 0) {
			fmt = o[2] == 'j' ? OUT_JSON : o[5] ? OUT_CSV_HEADER : OUT_CSV;
			continue;
		}
		if (strcmp(o, "--leave-when-done") == 0) {
			c->leave_when_done = true;
			continue;
		}
		if (strcmp(o, "--have-manifest") == 0) {
			c->fetch_manifest = false;
			continue;
		}
		if (strcmp(o, "--no-super-seed") == 0) {
			c->super_seed = false;
			continue;
		}
		if (strcmp(o, "--fixed-slots") == 0) {
			c->rate_slots = false;
			continue;
		}
		if (strncmp(o, "--", 2) != 0)
			die("unexpected argument '%s'", o);
		if (i + 1 >= argc)
			die("option %s needs a value", o);
		const char *v = argv[++i];
		if (strcmp(o, "--peers") == 0)
			c->peers = (uint32_t)parse_count(v, 100000);
		else if (strcmp(o, "--file-mib") == 0)
			c->file_bytes = (uint64_t)llround(parse_num(v, "bad size '%s'") * 1048576);
		else if (strcmp(o, "--file-bytes") == 0)
			c->file_bytes = parse_count(v, 1ull << 50);
		else if (strcmp(o, "--chunk-kib") == 0)
			c->chunk_size = (uint32_t)parse_count(v, 1u << 20) * 1024;
		else if (strcmp(o, "--seed-up") == 0)
			c->seed_up = parse_rate(v);
		else if (strcmp(o, "--peer-up") == 0)
			parse_rates(c, v);
		else if (strcmp(o, "--peer-down") == 0)
			c->peer_down = parse_rate(v);
		else if (strcmp(o, "--latency-ms") == 0)
			c->latency_us = (uint64_t)llround(parse_num(v, "bad latency '%s'") * 1000);
		else if (strcmp(o, "--free-riders") == 0)
			c->free_riders = parse_num(v, "bad fraction '%s'");
		else if (strcmp(o, "--liars") == 0)
			c->liars = parse_num(v, "bad fraction '%s'");
		else if (strcmp(o, "--join-spread-s") == 0)
			c->join_spread_s = parse_num(v, "bad time '%s'");
		else if (strcmp(o, "--neighbours") == 0)
			c->neighbours = (unsigned)parse_count(v, 100000);
		else if (strcmp(o, "--max-conns") == 0)
			c->max_conns = (unsigned)parse_count(v, 100000);
		else if (strcmp(o, "--slots") == 0)
			c->upload_slots = (unsigned)parse_count(v, 1000);
		else if (strcmp(o, "--interest-linger-ms") == 0)
			c->interest_linger_us = (uint64_t)llround(parse_num(v, "bad time '%s'") * 1000);
		else if (strcmp(o, "--max-time-s") == 0)
			c->max_time_s = parse_num(v, "bad time '%s'");
		else if (strcmp(o, "--seed") == 0)
			c->seed = parse_count(v, 1ull << 53);
		else
			die("unknown option '%s'", o);
	}
	return fmt;
}

static double mib(uint64_t b)
{
	return (double)b / 1048576.0;
}

/* Mean download rate (MiB/s) of peers that finished, among those matching WANT_FREE. */
static double mean_rate(const struct swarm_result *r, bool want_free)
{
	double sum = 0;
	unsigned n = 0;
	for (uint32_t i = 0; i < r->peers; i++)
		if (!r->liar[i] && r->free_rider[i] == want_free && r->done[i] > r->join[i]) {
			sum += mib(r->file_bytes) / (r->done[i] - r->join[i]);
			n++;
		}
	return n ? sum / n : 0;
}

/* Who uploads to whom: for each class, the share of its peer-to-peer uploads that went to
 * each class, and what that share would be if partners were picked regardless of rate. */
static void print_classes(const struct swarm_result *r)
{
	printf("  uploads of each class by receiving class (at random: the class's share of "
	       "the others)\n  %12s", "");
	for (unsigned b = 0; b < r->classes; b++)
		printf(" %7.2f", mib(r->class_up[b]));
	printf("  MiB/s\n");
	for (unsigned a = 0; a < r->classes; a++) {
		uint64_t sent = 0;
		for (unsigned b = 0; b < r->classes; b++)
			sent += r->class_bytes[a][b];
		printf("  %6.2f MiB/s", mib(r->class_up[a]));
		for (unsigned b = 0; b < r->classes; b++)
			printf(" %7.3f", sent ? (double)r->class_bytes[a][b] / (double)sent : 0);
		printf("  (at random %.3f to its own)\n",
		       (r->class_peers[a] - 1.0) / (r->peers - 1.0));
	}
}

static void print_text(const struct swarm_result *r)
{
	printf("peers %u, file %.1f MiB, seed up %.2f MiB/s\n", r->peers, mib(r->file_bytes),
	       mib(r->seed_up));
	printf("D_p2p %.2f s, D_cs %.2f s, last done %.2f s, ratio %.3f\n", r->d_p2p, r->d_cs,
	       r->last_done, r->ratio);
	printf("upload utilization %.2f%% (%.2f s .. %.2f s)\n", 100 * r->upload_utilization,
	       r->util_from, r->util_to);
	double dup = 100.0 * (double)r->duplicate_bytes / (double)r->file_bytes;
	printf("duplicate %.3f MiB (%.3f%% of the file in all, %.4f%% per peer), seed uploaded "
	       "%.1f MiB\n", mib(r->duplicate_bytes), dup, dup / r->peers,
	       mib(r->seed_uploaded_bytes));
	printf("same-rate-class share of peer-to-peer bytes %.3f (at random %.3f, %u classes)\n",
	       r->same_class_share, r->same_class_expected, r->classes);
	if (r->classes > 1)
		print_classes(r);
	double fr = mean_rate(r, true), co = mean_rate(r, false);
	if (fr > 0)
		printf("download rate: contributors %.3f MiB/s, free riders %.3f MiB/s (x%.2f)\n", co,
		       fr, co / fr);
	printf("banned: liars %u, honest %u; honest peers unfinished %u\n", r->liars_banned,
	       r->honest_banned, r->honest_incomplete);
	printf("discovery: %llu lookups, %llu holders learned after a first lookup, %llu dials "
	       "(%llu failed, %llu redials)\n", (unsigned long long)r->lookups,
	       (unsigned long long)r->learned_late, (unsigned long long)r->dials,
	       (unsigned long long)r->dial_failures, (unsigned long long)r->redials);
	printf("simulated %.1f s\n", r->sim_time);
}

static void print_csv(const struct swarm_result *r, bool header)
{
	if (header)
		puts("peers,file_bytes,d_cs,d_p2p,last_done,ratio,upload_utilization,duplicate_bytes,"
		     "seed_uploaded_bytes");
	printf("%u,%llu,%.3f,%.3f,%.3f,%.4f,%.4f,%llu,%llu\n", r->peers,
	       (unsigned long long)r->file_bytes, r->d_cs, r->d_p2p, r->last_done, r->ratio,
	       r->upload_utilization, (unsigned long long)r->duplicate_bytes,
	       (unsigned long long)r->seed_uploaded_bytes);
}

static json_t *done_array(const struct swarm_result *r)
{
	json_t *a = json_array();
	for (uint32_t i = 0; i < r->peers; i++)
		json_array_append_new(a, r->done[i] >= 0 ? json_real(r->done[i]) : json_null());
	return a;
}

static json_t *rates_array(const uint64_t *v, uint32_t n)
{
	json_t *a = json_array();
	for (uint32_t i = 0; i < n; i++)
		json_array_append_new(a, json_integer((json_int_t)v[i]));
	return a;
}

static void print_json(const struct swarm_result *r)
{
	uint32_t liars = 0, free_riders = 0;
	for (uint32_t i = 0; i < r->peers; i++) {
		liars += r->liar[i];
		free_riders += r->free_rider[i];
	}
	json_t *o = json_object();
	json_object_set_new(o, "peers", json_integer(r->peers));
	json_object_set_new(o, "file_bytes", json_integer((json_int_t)r->file_bytes));
	json_object_set_new(o, "seed_up", json_integer((json_int_t)r->seed_up));
	json_object_set_new(o, "peer_up", rates_array(r->up, r->peers));
	json_object_set_new(o, "peer_down", rates_array(r->down, r->peers));
	json_object_set_new(o, "d_p2p", json_real(r->d_p2p));
	json_object_set_new(o, "d_cs", json_real(r->d_cs));
	json_object_set_new(o, "last_done", r->last_done >= 0 ? json_real(r->last_done) : json_null());
	json_object_set_new(o, "ratio", json_real(r->ratio));
	json_object_set_new(o, "upload_utilization", json_real(r->upload_utilization));
	json_object_set_new(o, "utilization_window", json_pack("[f,f]", r->util_from, r->util_to));
	json_object_set_new(o, "duplicate_bytes", json_integer((json_int_t)r->duplicate_bytes));
	json_object_set_new(o, "seed_uploaded_bytes",
			    json_integer((json_int_t)r->seed_uploaded_bytes));
	json_object_set_new(o, "same_class_share", json_real(r->same_class_share));
	json_object_set_new(o, "same_class_expected", json_real(r->same_class_expected));
	json_object_set_new(o, "class_up", rates_array(r->class_up, r->classes));
	json_t *cb = json_array();
	for (unsigned a = 0; a < r->classes; a++)
		json_array_append_new(cb, rates_array(r->class_bytes[a], r->classes));
	json_object_set_new(o, "class_bytes", cb);
	json_object_set_new(o, "free_riders", json_integer(free_riders));
	json_object_set_new(o, "free_rider_rate_mib", json_real(mean_rate(r, true)));
	json_object_set_new(o, "contributor_rate_mib", json_real(mean_rate(r, false)));
	json_object_set_new(o, "liars", json_integer(liars));
	json_object_set_new(o, "liars_banned", json_integer(r->liars_banned));
	json_object_set_new(o, "honest_banned", json_integer(r->honest_banned));
	json_object_set_new(o, "honest_incomplete", json_integer(r->honest_incomplete));
	json_object_set_new(o, "discovery", json_pack("{s:I,s:I,s:I,s:I,s:I}", "lookups",
			    (json_int_t)r->lookups, "learned_late", (json_int_t)r->learned_late,
			    "dials", (json_int_t)r->dials, "dial_failures",
			    (json_int_t)r->dial_failures, "redials", (json_int_t)r->redials));
	json_object_set_new(o, "sim_time", json_real(r->sim_time));
	json_object_set_new(o, "done", done_array(r));
	json_dumpf(o, stdout, JSON_COMPACT | JSON_REAL_PRECISION(10));
	putchar('\n');
	json_decref(o);
}

int main(int argc, char **argv)
{
	struct swarm_config cfg;
	swarm_config_default(&cfg);
	enum out_format fmt = parse_args(argc, argv, &cfg);
	struct swarm_result r;
	char err[128];
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (swarm_run(&cfg, &r, err, sizeof err) < 0) {
		fprintf(stderr, "swarmsim: %s\n", err);
		return strcmp(err, "out of memory") == 0 ? 1 : 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	if (fmt == OUT_JSON)
		print_json(&r);
	else if (fmt == OUT_TEXT)
		print_text(&r);
	else
		print_csv(&r, fmt == OUT_CSV_HEADER);
	/* Wall time goes to stderr: stdout stays the same for the same seed, bit for bit. */
	fprintf(stderr, "swarmsim: %.1f s simulated in %.2f s wall\n", r.sim_time, wall);
	swarm_result_free(&r);
	return 0;
}
