/* tools/dhtlab/lab.h: what dhtlab's files share: the swarm experiment's settings and results,
 * its distribution-time bounds, and the entry points of the run, the report and the sweep. Internal to dhtlab. A struct lab_result owns its arrays (lab_result_free). */
#ifndef DHTLAB_LAB_H
#define DHTLAB_LAB_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define LAB_MAX_RATES 64
#define LAB_MAX_NODES 2000
#define LAB_PATH_MAX 1024  /* the scratch directory's path; files inside add a little */

/* Exit codes: the run's outcome, for scripts. */
enum {
	LAB_EXIT_OK = 0,
	LAB_EXIT_FAILED = 1,      /* a node died, a fetch failed or timed out, a copy differs */
	LAB_EXIT_USAGE = 2,
	LAB_EXIT_INTERRUPTED = 130,
};

/* One swarm experiment. Rates are bytes per second; 0 means no cap. */
struct lab_config {
	unsigned nodes;                  /* leechers: the N of the bounds (one seed besides) */
	uint64_t file_bytes;
	unsigned chunk_kib;              /* the shared file's chunk size; 0: the node's default */
	uint64_t seed_up;
	uint64_t peer_up[LAB_MAX_RATES]; /* assigned to the leechers round-robin */
	unsigned npeer_up;
	uint64_t peer_down;
	double timeout_s;                /* the whole run; 0: derived from D_p2p */
	unsigned base_port;
	unsigned batch;                  /* nodes joining the ring at once */
	unsigned succ_len;               /* every node's --succ-len; 0: the node's default */
	uint64_t seed;                   /* PRNG seed: file contents and join points */
	const char *dhtnode;             /* the node binary */
	const char *log_level;           /* passed to every node; NULL: the node's default */
	const char *trace_path;          /* CSV of every progress line; NULL: none */
	bool keep;                       /* keep the scratch directory */
	bool quiet;                      /* no notes on stderr while it runs */
	bool http;                       /* every node serves its web view (dhtnode --http) */
	bool netns;                      /* one network namespace per node, kernel-shaped */
	double loss;                     /* --netns: drop probability per packet received */
	unsigned delay_ms;               /* --netns: one-way delay per host (needs netem) */
	bool discover;                   /* nodes started without --join find the ring alone */
	const char *network_key;         /* every node's --network-key (absolute); NULL: open */
};

/* What a run measured. Times are seconds from the moment the fetches were started; a node
 * that did not get there has a negative time. Arrays have `nodes` entries, leecher order. */
struct lab_result {
	unsigned nodes;
	uint64_t file_bytes;
	double d_p2p, d_cs;              /* the textbook's bounds for the configured rates */
	double d_node;                   /* D_p2p as dhtnode's caps allow it: the ratio's bound */
	double *done, *first_byte, *download_start, *node_seconds;
	uint64_t *up;                    /* each leecher's upload cap */
	bool *hash_ok;
	char (*addr)[64];
	uint64_t *received;              /* bytes all leechers held at 0, 1, 2, ... s (their last
					  * progress lines), then the final total */
	unsigned nreceived;
	double *cpu;                     /* CPU seconds each node used from the fetches' start to
					  * the last copy: [0] the seed, then the leechers */
	uint64_t *uplink;                /* each node's uplink as it measured it once the copies
					  * were done (status "uplink"), bytes/s: [0] the seed, then
					  * the leechers; 0: unknown */
	double last_done, ratio;         /* last_done / d_node; 0: no bound (uncapped) or unfinished */
	bool verified;                   /* every copy present and its SHA-256 matched */
	bool ratio_valid;                /* false: below the lower bound (ERROR says so) */
	double ring_s, share_s, announce_s;
	char content_id[80];
	char error[512];                 /* why the run failed; empty on success */
	char dir[LAB_PATH_MAX];          /* the scratch directory (gone unless kept) */
};

void lab_config_default(struct lab_config *c);

/* The upload cap of leecher I (0-based). */
uint64_t lab_peer_up(const struct lab_config *c, unsigned i);

/* The bounds for C's rates and file (tools/lib/bound.h): the textbook's D_p2p and D_cs, and
 * D_NODE, D_p2p as dhtnode's rate caps let it be reached. Uncapped rates bound nothing. */
void lab_bounds(const struct lab_config *c, double *d_p2p, double *d_cs, double *d_node);

/* The whole-run time limit: C->timeout_s, or 5 D_p2p + 60 s + 1 s per process. */
double lab_timeout(const struct lab_config *c);

/* Run one swarm. Return LAB_EXIT_OK when every copy arrived and verified, LAB_EXIT_FAILED
 * (R->error says why; the partial figures are still filled) or LAB_EXIT_INTERRUPTED. Every
 * process started is gone when this returns. */
int lab_swarm(const struct lab_config *c, struct lab_result *r);

void lab_result_free(struct lab_result *r);

/* Remove DIR and everything under it. */
void lab_remove_tree(const char *dir);

/* The sweep: run the swarm for N = 1, 2, 4, ... up to MAX_NODES (and MAX_NODES itself),
 * printing a line per run, appending each point to CSV as it comes, then draw SVG (both axes
 * logarithmic, or both linear). C->nodes is overwritten. Return LAB_EXIT_OK if every run verified. */
int lab_sweep(struct lab_config *c, unsigned max_nodes, const char *svg, const char *csv,
	      bool log);

/* dhtlab ring: start C->nodes nodes (and SPARE idle hosts) on the lab network, then run the
 * commands read from IN (help: lab_ring_help), one answer line each on OUT, until EOF or
 * "quit". Return a LAB_EXIT_ code. */
int lab_ring_run(const struct lab_config *c, unsigned spare, FILE *in, FILE *out);

/* The figure's title for C's rates and file. */
void lab_title(const struct lab_config *c, char *buf, size_t cap);

/* The settings a sweep point (plot.h) was measured with, as far as the point tells them: N,
 * F and the rates; the rest default. For redrawing a figure with its title. */
struct plot_point;
void lab_config_of_point(const struct plot_point *p, struct lab_config *c);

/* Print R as text (with each leecher's line) or as one JSON object. */
void lab_report_text(FILE *f, const struct lab_config *c, const struct lab_result *r);
void lab_report_json(FILE *f, const struct lab_config *c, const struct lab_result *r);

#endif
