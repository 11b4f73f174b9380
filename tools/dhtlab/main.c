/* dhtlab's main(): the commands (swarm, sweep, plot, bounds), their options (getopt_long,
 * with a table of which command takes which) and help, where the dhtnode binary is, and the
 * exit code. Arguments are checked before anything starts; a bad one exits 2 with a sentence
 * saying what to write instead. The work is in swarm.c, sweep.c and plot.c; this file only
 * parses and dispatches. */
#define _XOPEN_SOURCE 700 /* realpath */
#include "tools/dhtlab/lab.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dht/units.h"
#include "tools/dhtlab/netns.h"
#include "tools/dhtlab/plot.h"

enum { C_SWARM = 1, C_SWEEP = 2, C_BOUNDS = 4, C_PLOT = 8, C_RING = 16 };
#define C_RUNS (C_SWARM | C_SWEEP)
#define C_MODEL (C_SWARM | C_SWEEP | C_BOUNDS)

enum opt_id {
	O_NODES, O_FILE_MIB, O_FILE_BYTES, O_SEED_UP, O_PEER_UP, O_PEER_DOWN, O_JSON, O_KEEP,
	O_TIMEOUT, O_BASE_PORT, O_BATCH, O_SEED, O_DHTNODE, O_LOG_LEVEL, O_TRACE, O_QUIET,
	O_MAX_NODES, O_SVG, O_CSV, O_LINEAR, O_TITLE, O_CHUNK, O_SUCC_LEN, O_HTTP, O_HELP, O_VERSION,
	O_NETNS, O_LOSS, O_DELAY, O_DISCOVER, O_SPARE, O_NETKEY,
	NOPTS
};
#define C_ALL (C_RUNS | C_BOUNDS | C_PLOT | C_RING)

static const struct {
	const char *name;
	int cmds;
	bool value;
} opts[NOPTS] = {
	[O_NODES] = { "--nodes", C_SWARM | C_BOUNDS | C_RING, true },
	[O_FILE_MIB] = { "--file-mib", C_MODEL, true },
	[O_FILE_BYTES] = { "--file-bytes", C_MODEL, true },
	[O_SEED_UP] = { "--seed-up", C_MODEL, true },
	[O_PEER_UP] = { "--peer-up", C_MODEL, true },
	[O_PEER_DOWN] = { "--peer-down", C_MODEL, true },
	[O_JSON] = { "--json", C_SWARM | C_BOUNDS, false },
	[O_KEEP] = { "--keep", C_RUNS | C_RING, false },
	[O_TIMEOUT] = { "--timeout", C_RUNS | C_RING, true },
	[O_BASE_PORT] = { "--base-port", C_RUNS, true },
	[O_BATCH] = { "--batch", C_RUNS | C_RING, true },
	[O_SEED] = { "--seed", C_RUNS | C_RING, true },
	[O_DHTNODE] = { "--dhtnode", C_RUNS | C_RING, true },
	[O_LOG_LEVEL] = { "--log-level", C_RUNS | C_RING, true },
	[O_TRACE] = { "--trace", C_SWARM, true },
	[O_QUIET] = { "--quiet", C_RUNS | C_RING, false },
	[O_MAX_NODES] = { "--max-nodes", C_SWEEP, true },
	[O_SVG] = { "--svg", C_SWEEP | C_PLOT, true },
	[O_CSV] = { "--csv", C_SWEEP | C_PLOT, true },
	[O_LINEAR] = { "--linear", C_SWEEP | C_PLOT, false },
	[O_TITLE] = { "--title", C_PLOT, true },
	[O_CHUNK] = { "--chunk-kib", C_RUNS, true },
	[O_SUCC_LEN] = { "--succ-len", C_RUNS | C_RING, true },
	[O_HTTP] = { "--http", C_RUNS, false },
	[O_HELP] = { "--help", C_ALL, false },
	[O_VERSION] = { "--version", C_ALL, false },
	[O_NETNS] = { "--netns", C_RUNS | C_RING, false },
	[O_LOSS] = { "--loss", C_RUNS, true },
	[O_DELAY] = { "--delay-ms", C_RUNS | C_RING, true },
	[O_DISCOVER] = { "--discover", C_RING, false },
	[O_SPARE] = { "--spare", C_RING, true },
	[O_NETKEY] = { "--network-key", C_RUNS | C_RING, true },
};

struct cli {
	struct lab_config cfg;
	int cmd;
	bool json, linear;
	int stop;                        /* O_HELP or O_VERSION: print that instead of working */
	unsigned max_nodes, spare;
	const char *svg, *csv, *title;
	char dhtnode[PATH_MAX];
	char network_key[PATH_MAX];
};

static const char usage[] =
	"usage: dhtlab swarm [options]     one swarm of real dhtnode processes on loopback\n"
	"       dhtlab sweep [options]     swarms of 1, 2, 4, ... leechers, drawn as a figure\n"
	"       dhtlab ring --netns [options]   a ring of hosts for DHT experiments, driven by\n"
	"                                  commands on stdin (put, get, lookup, crash, partition)\n"
	"       dhtlab plot --csv IN --svg OUT [--title T] [--linear]   redraw a sweep's CSV\n"
	"       dhtlab bounds [options]    print D_p2p and D_cs without running anything\n"
	"       dhtlab --help | --version\n"
	"\n"
	"swarm starts N + 1 dhtnode processes, each on its own loopback address (127.0.0.2, .3,\n"
	"...), joins them into one ring, shares a random file from the seed (node 0, upload cap\n"
	"u_s) and fetches it on the N leechers at once (upload caps u_i), checks every copy's\n"
	"SHA-256 and prints each leecher's completion time, counted from the moment the fetches\n"
	"were started, next to D_p2p = max{F/u_s, F/d_min, N F/(u_s + sum u_i)} and\n"
	"D_cs = max{N F/u_s, F/d_min}. The ratio is the last completion over D_p2p as dhtnode's\n"
	"caps allow it: each rate as the node's token bucket lets it through, less the bucket's\n"
	"head start of 0.15 s. A ratio below 1 beats a lower bound: the run is reported invalid\n"
	"and fails.\n"
	"\n"
	"  --nodes N          leechers, the N of the bounds (16); the seed comes on top\n"
	"  --file-mib X       file size in MiB (32; sweep: 16), or --file-bytes SIZE\n"
	"  --seed-up RATE     the seed's upload cap (2MiB)\n"
	"  --peer-up RATES    the leechers' upload caps: one rate, or a comma list given out\n"
	"                     round-robin (0.5MiB,2MiB) (1MiB)\n"
	"  --peer-down RATE   every leecher's download cap (unlimited)\n"
	"  --chunk-kib N      the shared file's chunk size in KiB, a power of two from 16 to\n"
	"                     16384 (default: the node's choice, the smallest of 16, 32, ... 256\n"
	"                     KiB that cuts the file into at most 2,048 chunks: 16 KiB up to\n"
	"                     32 MiB, 256 KiB from 512 MiB; a peer passes a chunk on only once\n"
	"                     it has all of it, so few large chunks starve a small swarm)\n"
	"  --succ-len R       every node's successor list length, 2..32 (the node's default, 8).\n"
	"                     A list that holds the whole ring makes every lookup one hop: in a\n"
	"                     lab of 5-8 nodes give 2 to see lookups take several hops (below 3,\n"
	"                     the nodes keep R replicas of each value instead of 3)\n"
	"  --json             print one JSON object (nodes, file_bytes, d_p2p, d_cs, d_p2p_node,\n"
	"                     last_done, ratio, ratio_valid, verified, done, ...)\n"
	"  --timeout S        limit for the whole run (5 D_p2p + 60 s + 1 s per node)\n"
	"  --base-port P      first port to try; each node takes the next free one (31000)\n"
	"  --batch N          nodes joining the ring at once (8)\n"
	"  --seed N           PRNG seed for the file's bytes and the join points (1)\n"
	"  --dhtnode PATH     the node binary ($DHTNODE_BIN, else the build tree's, else PATH)\n"
	"  --log-level L      the nodes' log level (their default)\n"
	"  --trace FILE       write every progress line as CSV (t,node,phase,bytes_done,...)\n"
	"  --keep             keep the scratch directory (nodes' logs, data, copies)\n"
	"  --quiet            no notes on stderr while running\n"
	"  --http             every node serves its web view and /metrics (dhtnode --http) on\n"
	"                     its own address and the next free port; the addresses are\n"
	"                     printed on stderr once the ring is formed (with --netns:\n"
	"                     127.0.0.1:4001 inside each host's namespace)\n"
	"  --netns            run every node in its own network namespace (needs root): a\n"
	"                     veth to a private bridge, an address on 10.77.0.0/16 that exists\n"
	"                     only there; the kernel shapes the rates (tc tbf, 20 ms of queue;\n"
	"                     ingress through an ifb) in bytes of the TCP stream, as the\n"
	"                     node's caps count, and the nodes run uncapped, as on a real LAN\n"
	"  --loss P           with --netns: drop each packet a host receives with probability P\n"
	"                     (0.01 or 1%%; nftables)\n"
	"  --delay-ms D       with --netns: D ms more on each host's way out (needs netem)\n"
	"  --network-key FILE every node in a private ring with this key (dhtnode\n"
	"                     --network-key: every datagram sealed; make one with dhtctl\n"
	"                     keygen FILE)\n"
	"sweep also takes:\n"
	"  --max-nodes N      largest N (64)\n"
	"  --svg FILE         draw the figure (measured, P2P bound, client-server against N)\n"
	"  --csv FILE         write the points (nodes,file_bytes,d_p2p,d_cs,last_done,ratio,\n"
	"                     verified,seed_up,peer_up,peer_down,d_p2p_node); plot reads the\n"
	"                     rates back for the figure's title\n"
	"  --linear           linear axes, N and time (default: both logarithmic)\n"
	"ring takes --nodes, --netns (required), --delay-ms, --succ-len, --seed, --timeout,\n"
	"--batch, --dhtnode, --log-level, --keep, --quiet, --network-key, and:\n"
	"  --discover         start every node at once without --join: they find each other\n"
	"                     on the lab network (dhtnode's discovery) and form one ring\n"
	"  --spare K          K more hosts, idle until 'start I' (a node that comes later)\n"
	"It prints one JSON line when the ring is whole, then one per command; 'help' lists them.\n"
	"\n"
	"RATE: bytes per second, as a number with B, K or KiB, M or MiB, G or GiB (powers of\n"
	"1024), kB, MB or GB (powers of 1000); \"unlimited\" or 0 for no cap. SIZE likewise.\n"
	"Every node is killed by PID when dhtlab ends, fails or gets SIGINT/SIGTERM; the scratch\n"
	"directory goes unless --keep (after a failure, the nodes' logs stay). With --netns the\n"
	"namespaces (named dl<PID>-...) go too; a run that was killed leaves them, and the next\n"
	"--netns run removes them. Exit status: 0 every copy verified, 1 the run failed, 2 bad\n"
	"arguments or no root for --netns, 130 interrupted.\n";

static int bad(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("dhtlab: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputs(" (see dhtlab --help)\n", stderr);
	va_end(ap);
	return -1;
}

static int count(const char *o, const char *v, unsigned long min, unsigned long max,
		 unsigned *out)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (end == v || *end || errno || *v == '-' || n < min || n > max)
		return bad("%s %s: give a whole number from %lu to %lu", o, v, min, max);
	*out = (unsigned)n;
	return 0;
}

static int seconds(const char *o, const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (end == v || *end || errno || !isfinite(*out) || *out <= 0)
		return bad("%s %s: give a positive number of seconds", o, v);
	return 0;
}

/* A file size: SIZE, or with MIB a number of MiB ("0.5"); above zero, at most 4 TiB. */
static int file_size(const char *o, const char *v, bool mib, uint64_t *out)
{
	char buf[64];

	snprintf(buf, sizeof buf, "%s%s", v, mib ? "MiB" : "");
	if (strlen(v) + 4 >= sizeof buf || units_parse(buf, out) != 0 || *out == 0 ||
	    *out > (UINT64_C(1) << 42))
		return bad("%s %s: give a positive size of at most 4 TiB%s", o, v,
			   mib ? ", in MiB (0.5, 32)" : " (4194304, 4MiB)");
	return 0;
}

/* A loss probability: "1%" or "0.01", below one half. */
static int probability(const char *o, const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (end != v && *end == '%' && end[1] == '\0') {
		*out /= 100;
		end++;
	}
	if (end == v || *end || errno || !isfinite(*out) || *out < 0 || *out >= 0.5)
		return bad("%s %s: give a probability below one half, like 0.01 or 1%%", o, v);
	return 0;
}

static int rate(const char *o, const char *v, uint64_t *out)
{
	if (units_parse(v, out) != 0)
		return bad("%s %s: give a rate like 2MiB, 0.5MiB, 512KiB, 1000000 or unlimited", o, v);
	return 0;
}

static int rates(struct lab_config *g, const char *o, const char *v)
{
	if (units_parse_list(v, g->peer_up, LAB_MAX_RATES, &g->npeer_up) == 0)
		return 0;
	if (g->npeer_up == LAB_MAX_RATES)
		return bad("%s %s: at most %d rates in a list", o, v, LAB_MAX_RATES);
	return bad("%s %s: rate %u is not a rate (like 1MiB, 0.5MiB, 512KiB or unlimited)", o, v,
		   g->npeer_up + 1);
}

static int apply_model(struct cli *c, enum opt_id id, const char *o, const char *v)
{
	struct lab_config *g = &c->cfg;

	switch (id) {
	case O_NODES:
		return count(o, v, 1, LAB_MAX_NODES, &g->nodes);
	case O_FILE_MIB:
		return file_size(o, v, true, &g->file_bytes);
	case O_FILE_BYTES:
		return file_size(o, v, false, &g->file_bytes);
	case O_SEED_UP:
		return rate(o, v, &g->seed_up);
	case O_PEER_UP:
		return rates(g, o, v);
	case O_PEER_DOWN:
		return rate(o, v, &g->peer_down);
	default:
		return 1;
	}
}

/* --network-key FILE: the nodes start elsewhere, so they get its absolute path; each node
 * checks the file itself (private, no link, a key) and says what is wrong. */
static int key_file(struct cli *c, const char *o, const char *v)
{
	if (realpath(v, c->network_key) == NULL)
		return bad("%s %s: %s; make a key with dhtctl keygen FILE", o, v, strerror(errno));
	c->cfg.network_key = c->network_key;
	return 0;
}

static int apply_run(struct cli *c, enum opt_id id, const char *o, const char *v)
{
	struct lab_config *g = &c->cfg;
	unsigned seed = 0;

	switch (id) {
	case O_TIMEOUT:
		return seconds(o, v, &g->timeout_s);
	case O_BASE_PORT:
		return count(o, v, 1024, 65000, &g->base_port);
	case O_BATCH:
		return count(o, v, 1, 1000, &g->batch);
	case O_SEED:
		if (count(o, v, 0, UINT_MAX, &seed) != 0)
			return -1;
		g->seed = seed;
		return 0;
	case O_DHTNODE:
		snprintf(c->dhtnode, sizeof c->dhtnode, "%s", v);
		return 0;
	case O_LOG_LEVEL:
		g->log_level = v;
		return 0;
	case O_TRACE:
		g->trace_path = v;
		return 0;
	case O_MAX_NODES:
		return count(o, v, 1, LAB_MAX_NODES, &c->max_nodes);
	case O_CHUNK:
		/* The node checks the power of two and the range (16 KiB..16 MiB) and says so. */
		return count(o, v, 1, 16384, &g->chunk_kib);
	case O_SUCC_LEN:
		return count(o, v, 2, 32, &g->succ_len);
	case O_LOSS:
		return probability(o, v, &g->loss);
	case O_DELAY:
		return count(o, v, 1, 10000, &g->delay_ms);
	case O_SPARE:
		return count(o, v, 0, LAB_MAX_NODES, &c->spare);
	case O_NETKEY:
		return key_file(c, o, v);
	default:
		return 1;
	}
}

static int apply(struct cli *c, enum opt_id id, const char *o, const char *v)
{
	int rc = apply_model(c, id, o, v);

	if (rc <= 0)
		return rc;
	if ((rc = apply_run(c, id, o, v)) <= 0)
		return rc;
	if (id == O_SVG)
		c->svg = v;
	else if (id == O_CSV)
		c->csv = v;
	else if (id == O_TITLE)
		c->title = v;
	c->json |= id == O_JSON;
	c->cfg.keep |= id == O_KEEP;
	c->cfg.quiet |= id == O_QUIET;
	c->cfg.http |= id == O_HTTP;
	c->linear |= id == O_LINEAR;
	c->cfg.netns |= id == O_NETNS;
	c->cfg.discover |= id == O_DISCOVER;
	return 0;
}

/* Parse ARGV[2..] (the options after the command) with getopt_long. Every option must apply
 * to the command; --help and --version end the parse. */
static int parse(struct cli *c, int argc, char **argv)
{
	struct option longopts[NOPTS + 1] = { { 0 } };
	int id;

	for (int i = 0; i < NOPTS; i++)
		longopts[i] = (struct option){ opts[i].name + 2,
					       opts[i].value ? required_argument : no_argument, NULL,
					       256 + i };
	opterr = 0;
	optind = 1;
	/* '+': stop at the first word that is not an option, so that it is reported, not moved;
	 * ':': a missing value comes back as ':', for our own message. */
	while ((id = getopt_long(argc - 1, argv + 1, "+:h", longopts, NULL)) != -1) {
		const char *arg = argv[optind]; /* the word just read: argv + 1 shifts by one */
		if (id == 'h')
			id = 256 + O_HELP;
		if (id == ':')
			return bad("%s needs a value", arg);
		if (id == '?')
			return bad("%s: unknown option for '%s' (or a value given to an option that "
				   "takes none)", arg, argv[1]);
		id -= 256;
		if (!(opts[id].cmds & c->cmd))
			return bad("%s does not apply to '%s'", opts[id].name, argv[1]);
		if (id == O_HELP || id == O_VERSION) {
			c->stop = id;
			return 0;
		}
		if (apply(c, (enum opt_id)id, opts[id].name, optarg) != 0)
			return -1;
	}
	if (optind < argc - 1)
		return bad("%s: unexpected argument for '%s'", argv[optind + 1], argv[1]);
	return 0;
}

/* The node binary: --dhtnode, $DHTNODE_BIN, the build tree's (dhtlab lives in
 * BUILD/tools/dhtlab/, dhtnode in BUILD/node/), else a dhtnode found in PATH. */
static int find_dhtnode(struct cli *c)
{
	const char *env = getenv("DHTNODE_BIN");
	char self[PATH_MAX - 32]; /* room for the relative path after it */
	ssize_t n;

	if (!c->dhtnode[0] && env && *env)
		snprintf(c->dhtnode, sizeof c->dhtnode, "%s", env);
	if (!c->dhtnode[0] && (n = readlink("/proc/self/exe", self, sizeof self - 1)) > 0) {
		self[n] = '\0';
		char *slash = strrchr(self, '/');
		*slash = '\0';
		snprintf(c->dhtnode, sizeof c->dhtnode, "%s/../../node/dhtnode", self);
		if (access(c->dhtnode, X_OK) != 0)
			c->dhtnode[0] = '\0';
	}
	if (!c->dhtnode[0])
		snprintf(c->dhtnode, sizeof c->dhtnode, "dhtnode");
	if (strchr(c->dhtnode, '/') && access(c->dhtnode, X_OK) != 0)
		return bad("cannot run the node binary %s: %s; build it, or name it with --dhtnode "
			   "or DHTNODE_BIN", c->dhtnode, strerror(errno));
	c->cfg.dhtnode = c->dhtnode;
	return 0;
}

/* --netns and its options: root and the tools are there; ring needs --netns. */
static int netns_ready(const struct cli *c)
{
	char err[256];

	if (!c->cfg.netns && (c->cmd == C_RING || c->cfg.loss > 0 || c->cfg.delay_ms))
		return bad("%s needs --netns (the kernel shapes the lab network's links)",
			   c->cmd == C_RING ? "ring" : c->cfg.loss > 0 ? "--loss" : "--delay-ms");
	if (c->cfg.netns &&
	    lab_net_check(c->cfg.loss > 0, c->cfg.delay_ms > 0, err, sizeof err) != 0) {
		fprintf(stderr, "dhtlab: %s\n", err);
		return -1;
	}
	return 0;
}

static int cmd_bounds(const struct cli *c)
{
	double d_p2p, d_cs, d_node;
	char size[32];

	lab_bounds(&c->cfg, &d_p2p, &d_cs, &d_node);
	if (c->json)
		printf("{\"nodes\":%u,\"file_bytes\":%llu,\"d_p2p\":%.6f,\"d_cs\":%.6f,"
		       "\"d_p2p_node\":%.6f}\n", c->cfg.nodes, (unsigned long long)c->cfg.file_bytes,
		       d_p2p, d_cs, d_node);
	else
		printf("N %u, F %s: D_p2p %.2f s (%.2f s as dhtnode's caps allow), D_cs %.2f s\n",
		       c->cfg.nodes, units_format_size(c->cfg.file_bytes, size, sizeof size), d_p2p,
		       d_node, d_cs);
	return LAB_EXIT_OK;
}

static int cmd_swarm(const struct cli *c)
{
	struct lab_result r;
	int rc = lab_swarm(&c->cfg, &r);

	if (r.done) {
		if (c->json)
			lab_report_json(stdout, &c->cfg, &r);
		else
			lab_report_text(stdout, &c->cfg, &r);
	} else {
		fprintf(stderr, "dhtlab: %s\n", r.error);
	}
	lab_result_free(&r);
	return rc;
}

static int cmd_plot(const struct cli *c)
{
	struct plot_point *p = NULL;
	char err[256], title[200];
	struct lab_config of;
	FILE *in, *out;
	long n;

	if (!c->csv || !c->svg) {
		bad("plot needs --csv IN and --svg OUT");
		return LAB_EXIT_USAGE;
	}
	if (!(in = fopen(c->csv, "r"))) {
		fprintf(stderr, "dhtlab: cannot read %s: %s\n", c->csv, strerror(errno));
		return LAB_EXIT_FAILED;
	}
	n = plot_csv_read(in, &p, err, sizeof err);
	fclose(in);
	if (n <= 0) {
		fprintf(stderr, "dhtlab: %s: %s\n", c->csv, n < 0 ? err : "no points");
		return LAB_EXIT_FAILED;
	}
	lab_config_of_point(&p[0], &of);
	if (c->title)
		snprintf(title, sizeof title, "%s", c->title);
	else
		lab_title(&of, title, sizeof title);
	if (!(out = fopen(c->svg, "w")) || plot_svg(out, p, (size_t)n, title, !c->linear) != 0 ||
	    fclose(out) != 0) {
		fprintf(stderr, "dhtlab: cannot write %s: %s\n", c->svg, strerror(errno));
		free(p);
		return LAB_EXIT_FAILED;
	}
	free(p);
	return LAB_EXIT_OK;
}

static int command(const char *name)
{
	static const struct {
		const char *name;
		int cmd;
	} cmds[] = { { "swarm", C_SWARM }, { "sweep", C_SWEEP }, { "bounds", C_BOUNDS },
		     { "plot", C_PLOT }, { "ring", C_RING } };

	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
		if (strcmp(name, cmds[i].name) == 0)
			return cmds[i].cmd;
	return 0;
}

/* --help or --version, wherever they stand: print and return 1, else return 0. */
static int help_or_version(const char *arg)
{
	if (!strcmp(arg, "--help") || !strcmp(arg, "-h") || !strcmp(arg, "help"))
		fputs(usage, stdout);
	else if (!strcmp(arg, "--version"))
		puts("dhtlab " DHT_VERSION);
	else
		return 0;
	return 1;
}

int main(int argc, char **argv)
{
	static struct cli c;

	if (argc < 2) {
		fputs(usage, stderr);
		return LAB_EXIT_USAGE;
	}
	if (help_or_version(argv[1]))
		return LAB_EXIT_OK;
	lab_config_default(&c.cfg);
	c.max_nodes = 64;
	if (!(c.cmd = command(argv[1]))) {
		bad("unknown command '%s'; use swarm, sweep, ring, plot or bounds", argv[1]);
		return LAB_EXIT_USAGE;
	}
	if (c.cmd == C_SWEEP)
		c.cfg.file_bytes = 16u << 20;
	if (parse(&c, argc, argv) != 0)
		return LAB_EXIT_USAGE;
	if (c.stop)
		return help_or_version(opts[c.stop].name) ? LAB_EXIT_OK : LAB_EXIT_USAGE;
	if (c.cmd == C_BOUNDS)
		return cmd_bounds(&c);
	if (c.cmd == C_PLOT)
		return cmd_plot(&c);
	if (find_dhtnode(&c) != 0)
		return LAB_EXIT_USAGE;
	if (netns_ready(&c) != 0)
		return LAB_EXIT_USAGE;
	/* A node that closes a control connection early must not kill the lab with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (c.cmd == C_SWARM)
		return cmd_swarm(&c);
	if (c.cmd == C_RING)
		return lab_ring_run(&c.cfg, c.spare, stdin, stdout);
	return lab_sweep(&c.cfg, c.max_nodes, c.svg, c.csv, !c.linear);
}
