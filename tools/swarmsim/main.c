/* swarmsim: run one simulated swarm (tools/swarmsim/swarm.h) and print its figures, as text or
 * as one JSON object (jansson) for scripts. Parses and checks arguments (getopt_long; sizes and
 * rates with dht/units.h, as dhtnode and dhtlab read them); bad ones exit 2. Standard output
 * depends only on the arguments; the wall time goes to standard error. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dht/units.h"
#include "tools/swarmsim/swarm.h"

static const char usage[] =
	"usage: swarmsim [options]\n"
	"Simulate one seed and N peers trading a file with the real session core, on a virtual\n"
	"clock; the same --seed gives the same output.\n"
	"  --peers N            peers besides the seed (100)\n"
	"  --file-mib X         file size in MiB (256); or --file-bytes SIZE\n"
	"  --chunk-kib N        chunk size in KiB (the node's: 16 for files up to 32 MiB,\n"
	"                       doubling with the size up to 256 from 512 MiB)\n"
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
	"  --trace-ms X         print a timeline line every X ms of virtual time before the\n"
	"                       figures: upload use, the seed's repeats, how far the file has\n"
	"                       spread, and the share of the peers' uplink time idle by cause\n"
	"                       (judging causes slows the run about tenfold)\n"
	"  --json               print one JSON object\n"
	"  --csv                print one CSV line (--csv-header: the header line first)\n"
	"  --help, --version\n"
	"RATE: bytes per second, as a number with B, K or KiB, M or MiB, G or GiB (powers of\n"
	"1024), kB, MB or GB (powers of 1000); uploads must be finite, --peer-down may be\n"
	"\"unlimited\" or 0. SIZE (--file-bytes) likewise.\n";

static void die(const char *fmt, const char *arg) __attribute__((noreturn));
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

/* An upload rate: the simulated uplinks are finite, so "unlimited" and 0 are refused. */
static uint64_t parse_up(const char *s, size_t n, const char *all)
{
	uint64_t v;

	if (units_parse_n(s, n, &v) != 0 || v == 0)
		die("bad upload rate '%s' (give a positive rate like 1MiB or 512KiB)", all);
	return v;
}

static void parse_rates(struct swarm_config *c, const char *s)
{
	const char *dots = strstr(s, "..");

	c->up_range = dots != NULL;
	if (dots) {
		c->npeer_up = 2;
		c->peer_up[0] = parse_up(s, (size_t)(dots - s), s);
		c->peer_up[1] = parse_up(dots + 2, strlen(dots + 2), s);
		if (c->peer_up[1] < c->peer_up[0])
			die("bad rate range '%s' (use LOW..HIGH)", s);
		return;
	}
	if (units_parse_list(s, c->peer_up, SWARM_MAX_RATES, &c->npeer_up) != 0)
		die(c->npeer_up == SWARM_MAX_RATES ? "too many rates in '%s'" : "bad rate list '%s'", s);
	for (unsigned i = 0; i < c->npeer_up; i++)
		if (c->peer_up[i] == 0)
			die("bad rate list '%s' (uploads must be positive)", s);
}

static uint64_t parse_count(const char *s, uint64_t max)
{
	double v = parse_num(s, "bad number '%s'");
	if (v != floor(v) || v > (double)max)
		die("bad count '%s'", s);
	return (uint64_t)v;
}

enum out_format { OUT_TEXT, OUT_JSON, OUT_CSV, OUT_CSV_HEADER };

enum opt_id {
	O_PEERS = 256, O_FILE_MIB, O_FILE_BYTES, O_CHUNK, O_SEED_UP, O_PEER_UP, O_PEER_DOWN,
	O_LATENCY, O_FREE, O_LIARS, O_SPREAD, O_NEIGHBOURS, O_CONNS, O_SLOTS, O_LINGER, O_MAX_TIME,
	O_SEED, O_TRACE, O_LEAVE, O_HAVE_MANIFEST, O_NO_SUPER, O_FIXED_SLOTS, O_JSON, O_CSV, O_CSV_HEADER,
	O_VERSION,
};

static const struct option longopts[] = {
	{ "peers", required_argument, NULL, O_PEERS },
	{ "file-mib", required_argument, NULL, O_FILE_MIB },
	{ "file-bytes", required_argument, NULL, O_FILE_BYTES },
	{ "chunk-kib", required_argument, NULL, O_CHUNK },
	{ "seed-up", required_argument, NULL, O_SEED_UP },
	{ "peer-up", required_argument, NULL, O_PEER_UP },
	{ "peer-down", required_argument, NULL, O_PEER_DOWN },
	{ "latency-ms", required_argument, NULL, O_LATENCY },
	{ "free-riders", required_argument, NULL, O_FREE },
	{ "liars", required_argument, NULL, O_LIARS },
	{ "join-spread-s", required_argument, NULL, O_SPREAD },
	{ "neighbours", required_argument, NULL, O_NEIGHBOURS },
	{ "max-conns", required_argument, NULL, O_CONNS },
	{ "slots", required_argument, NULL, O_SLOTS },
	{ "interest-linger-ms", required_argument, NULL, O_LINGER },
	{ "max-time-s", required_argument, NULL, O_MAX_TIME },
	{ "seed", required_argument, NULL, O_SEED },
	{ "trace-ms", required_argument, NULL, O_TRACE },
	{ "leave-when-done", no_argument, NULL, O_LEAVE },
	{ "have-manifest", no_argument, NULL, O_HAVE_MANIFEST },
	{ "no-super-seed", no_argument, NULL, O_NO_SUPER },
	{ "fixed-slots", no_argument, NULL, O_FIXED_SLOTS },
	{ "json", no_argument, NULL, O_JSON },
	{ "csv", no_argument, NULL, O_CSV },
	{ "csv-header", no_argument, NULL, O_CSV_HEADER },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, O_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The file size: SIZE, or with MIB a number of MiB ("0.5"). */
static uint64_t parse_file(const char *v, bool mib)
{
	char buf[64];
	uint64_t n;

	snprintf(buf, sizeof buf, "%s%s", v, mib ? "MiB" : "");
	if (strlen(v) + 4 >= sizeof buf || units_parse(buf, &n) != 0 || n == 0)
		die("bad size '%s'", v);
	return n;
}

/* The options that take a number; return 0, or -1 if ID is not one of them. */
static int set_number(struct swarm_config *c, int id, const char *v)
{
	switch (id) {
	case O_PEERS:
		c->peers = (uint32_t)parse_count(v, 100000);
		return 0;
	case O_CHUNK:
		c->chunk_size = (uint32_t)parse_count(v, 1u << 20) * 1024;
		return 0;
	case O_LATENCY:
		c->latency_us = (uint64_t)llround(parse_num(v, "bad latency '%s'") * 1000);
		return 0;
	case O_FREE:
		c->free_riders = parse_num(v, "bad fraction '%s'");
		return 0;
	case O_LIARS:
		c->liars = parse_num(v, "bad fraction '%s'");
		return 0;
	case O_SPREAD:
		c->join_spread_s = parse_num(v, "bad time '%s'");
		return 0;
	case O_NEIGHBOURS:
		c->neighbours = (unsigned)parse_count(v, 100000);
		return 0;
	case O_CONNS:
		c->max_conns = (unsigned)parse_count(v, 100000);
		return 0;
	case O_SLOTS:
		c->upload_slots = (unsigned)parse_count(v, 1000);
		return 0;
	case O_LINGER:
		c->interest_linger_us = (uint64_t)llround(parse_num(v, "bad time '%s'") * 1000);
		return 0;
	case O_MAX_TIME:
		c->max_time_s = parse_num(v, "bad time '%s'");
		return 0;
	case O_SEED:
		c->seed = parse_count(v, 1ull << 53);
		return 0;
	case O_TRACE:
		c->trace_us = (uint64_t)llround(parse_num(v, "bad time '%s'") * 1000);
		c->trace = stdout;
		return 0;
	default:
		return -1;
	}
}

/* The options that take a size or a rate, or none; return 0, or -1 if ID is not one. */
static int set_other(struct swarm_config *c, int id, const char *v, enum out_format *fmt)
{
	switch (id) {
	case O_FILE_MIB:
	case O_FILE_BYTES:
		c->file_bytes = parse_file(v, id == O_FILE_MIB);
		return 0;
	case O_SEED_UP:
		c->seed_up = parse_up(v, strlen(v), v);
		return 0;
	case O_PEER_UP:
		parse_rates(c, v);
		return 0;
	case O_PEER_DOWN:
		if (units_parse(v, &c->peer_down) != 0)
			die("bad rate '%s' (like 1MiB, 512KiB or unlimited)", v);
		return 0;
	case O_LEAVE:
		c->leave_when_done = true;
		return 0;
	case O_HAVE_MANIFEST:
		c->fetch_manifest = false;
		return 0;
	case O_NO_SUPER:
		c->super_seed = false;
		return 0;
	case O_FIXED_SLOTS:
		c->rate_slots = false;
		return 0;
	case O_JSON:
	case O_CSV:
	case O_CSV_HEADER:
		*fmt = id == O_JSON ? OUT_JSON : id == O_CSV ? OUT_CSV : OUT_CSV_HEADER;
		return 0;
	default:
		return -1;
	}
}

static enum out_format parse_args(int argc, char **argv, struct swarm_config *c)
{
	enum out_format fmt = OUT_TEXT;
	int id;

	opterr = 0;
	while ((id = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1) {
		if (id == 'h') {
			fputs(usage, stdout);
			exit(0);
		}
		if (id == O_VERSION) {
			puts("swarmsim " DHT_VERSION);
			exit(0);
		}
		if (id == ':')
			die("option %s needs a value", argv[optind - 1]);
		if (id == '?' || (set_number(c, id, optarg) != 0 && set_other(c, id, optarg, &fmt) != 0))
			die("unknown option '%s'", argv[optind - 1]);
	}
	if (optind < argc)
		die("unexpected argument '%s'", argv[optind]);
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
	printf("peers %u, file %.1f MiB in %u KiB chunks, seed up %.2f MiB/s\n", r->peers,
	       mib(r->file_bytes), r->chunk_size / 1024, mib(r->seed_up));
	printf("D_p2p %.2f s, D_cs %.2f s, last done %.2f s, ratio %.3f\n", r->d_p2p, r->d_cs,
	       r->last_done, r->ratio);
	printf("upload utilization %.2f%% (%.2f s .. %.2f s)\n", 100 * r->upload_utilization,
	       r->util_from, r->util_to);
	if (r->all_started >= 0)
		printf("every uploading peer had a chunk to offer by %.2f s\n", r->all_started);
	double dup = 100.0 * (double)r->duplicate_bytes / (double)r->file_bytes;
	printf("duplicate %.3f MiB (%.3f%% of the file in all, %.4f%% per peer), seed uploaded "
	       "%.1f MiB\n", mib(r->duplicate_bytes), dup, dup / r->peers,
	       mib(r->seed_uploaded_bytes));
	printf("same-rate-class share of peer-to-peer bytes %.3f (at random %.3f, %u class%s)\n",
	       r->same_class_share, r->same_class_expected, r->classes, r->classes == 1 ? "" : "es");
	if (r->classes > 1)
		print_classes(r);
	double fr = mean_rate(r, true), co = mean_rate(r, false);
	if (fr > 0)
		printf("download rate: contributors %.3f MiB/s, free riders %.3f MiB/s (x%.2f)\n", co,
		       fr, co / fr);
	printf("banned: liars %u, honest %u; honest peers unfinished %u\n", r->liars_banned,
	       r->honest_banned, r->honest_incomplete);
	printf("discovery: %llu lookups, %llu holders learned after a first lookup, %.1f known per "
	       "peer, %llu dials (%llu failed, %llu to a full node, %llu duplicate, %llu redials)\n",
	       (unsigned long long)r->lookups, (unsigned long long)r->learned_late,
	       (double)r->known / r->peers, (unsigned long long)r->dials,
	       (unsigned long long)r->dial_failures, (unsigned long long)r->dials_full,
	       (unsigned long long)r->dials_dup, (unsigned long long)r->redials);
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
	json_object_set_new(o, "chunk_bytes", json_integer(r->chunk_size));
	json_object_set_new(o, "seed_up", json_integer((json_int_t)r->seed_up));
	json_object_set_new(o, "peer_up", rates_array(r->up, r->peers));
	json_object_set_new(o, "peer_down", rates_array(r->down, r->peers));
	json_object_set_new(o, "d_p2p", json_real(r->d_p2p));
	json_object_set_new(o, "d_cs", json_real(r->d_cs));
	json_object_set_new(o, "last_done", r->last_done >= 0 ? json_real(r->last_done) : json_null());
	json_object_set_new(o, "ratio", json_real(r->ratio));
	json_object_set_new(o, "upload_utilization", json_real(r->upload_utilization));
	json_object_set_new(o, "utilization_window", json_pack("[f,f]", r->util_from, r->util_to));
	json_object_set_new(o, "all_started",
			    r->all_started >= 0 ? json_real(r->all_started) : json_null());
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
	json_object_set_new(o, "discovery",
			    json_pack("{s:I,s:I,s:I,s:I,s:I,s:I,s:I,s:I}", "known",
				      (json_int_t)r->known, "lookups", (json_int_t)r->lookups,
				      "learned_late", (json_int_t)r->learned_late, "dials",
				      (json_int_t)r->dials, "dial_failures",
				      (json_int_t)r->dial_failures, "dials_full",
				      (json_int_t)r->dials_full, "dials_dup",
				      (json_int_t)r->dials_dup, "redials", (json_int_t)r->redials));
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
