/* tools/dhtlab/plot.h: the sweep's figure and table: distribution time against the number of
 * leechers for the measured swarm, the P2P bound and client-server, drawn as a hand-written
 * SVG, and the same points as CSV (written by a sweep, read back to redraw). Callers own the
 * points; plot_csv_read returns an array the caller frees. */
#ifndef DHTLAB_PLOT_H
#define DHTLAB_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PLOT_MAX_RATES 64

struct plot_point {
	unsigned nodes;      /* leechers */
	uint64_t file_bytes;
	double d_p2p, d_cs;
	double measured;     /* the last leecher's completion; negative: the run failed */
	double d_node;       /* D_p2p as dhtnode's caps allow (lab.h) */
	double ratio;        /* measured / d_node; 0: none */
	bool verified;
	/* The swarm's rates (bytes per second, 0: no cap), so that a redrawn figure can say
	 * what it shows. */
	uint64_t seed_up, peer_down;
	uint64_t peer_up[PLOT_MAX_RATES];
	unsigned npeer_up;
};

/* Draw P[0..N) (in any order) as an SVG document on F, with TITLE above the plot and both
 * axes logarithmic (LOG: N base 2, time base 10) or both linear. Return 0, or -1 if there is
 * nothing to draw. */
int plot_svg(FILE *f, const struct plot_point *p, size_t n, const char *title, bool log);

/* The CSV header line, and one point as a line. */
void plot_csv_header(FILE *f);
void plot_csv_line(FILE *f, const struct plot_point *p);

/* Read a CSV written by the two above. Return the number of points with *OUT allocated, or
 * -1 with a sentence in ERR. */
long plot_csv_read(FILE *f, struct plot_point **out, char *err, size_t cap);

#endif
