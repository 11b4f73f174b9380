/* The sweep behind the figure: the same swarm with 1, 2, 4, ... leechers, one fresh ring per
 * run, each point appended to the CSV as soon as it is measured (an interrupted sweep keeps
 * what it has), the SVG drawn at the end from every point, failed runs shown as gaps. It does
 * not retry a failed run: the figure should show what happened. */
#include "tools/dhtlab/lab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dht/units.h"
#include "tools/dhtlab/plot.h"

void lab_title(const struct lab_config *c, char *buf, size_t cap)
{
	char f[32], us[32], ui[32], d[32];

	snprintf(buf, cap, "Distribution time, F = %s, u_s = %s, u_i = %s%s%s%s",
		 units_format_size(c->file_bytes, f, sizeof f),
		 units_format_rate(c->seed_up, us, sizeof us),
		 units_format_rate(c->peer_up[0], ui, sizeof ui), c->npeer_up > 1 ? ", ..." : "",
		 c->peer_down ? ", d_i = " : "",
		 c->peer_down ? units_format_rate(c->peer_down, d, sizeof d) : "");
}

void lab_config_of_point(const struct plot_point *p, struct lab_config *c)
{
	lab_config_default(c);
	c->nodes = p->nodes;
	c->file_bytes = p->file_bytes;
	c->seed_up = p->seed_up;
	c->peer_down = p->peer_down;
	c->npeer_up = p->npeer_up < LAB_MAX_RATES ? p->npeer_up : LAB_MAX_RATES;
	memcpy(c->peer_up, p->peer_up, c->npeer_up * sizeof *c->peer_up);
}

static FILE *open_out(const char *path)
{
	FILE *f = path ? fopen(path, "w") : NULL;

	if (path && !f)
		fprintf(stderr, "dhtlab: cannot write %s: %s\n", path, strerror(errno));
	return f;
}

static int draw(const struct lab_config *c, const struct plot_point *p, size_t n,
		const char *svg, bool log)
{
	char title[160];
	FILE *f;

	if (!svg || n == 0)
		return 0;
	if (!(f = open_out(svg)))
		return -1;
	lab_title(c, title, sizeof title);
	plot_svg(f, p, n, title, log);
	if (fclose(f) != 0) {
		fprintf(stderr, "dhtlab: cannot write %s: %s\n", svg, strerror(errno));
		return -1;
	}
	printf("figure: %s\n", svg);
	return 0;
}

/* Run one point. Return the run's exit code. */
static int point(struct lab_config *c, struct plot_point *p, FILE *csv)
{
	struct lab_result r;
	int rc = lab_swarm(c, &r);

	*p = (struct plot_point){ .nodes = c->nodes, .file_bytes = c->file_bytes, .d_p2p = r.d_p2p,
				  .d_cs = r.d_cs, .measured = r.verified ? r.last_done : -1,
				  .d_node = r.d_node, .ratio = r.ratio, .verified = r.verified,
				  .seed_up = c->seed_up, .peer_down = c->peer_down,
				  .npeer_up = c->npeer_up };
	memcpy(p->peer_up, c->peer_up, c->npeer_up * sizeof *c->peer_up);
	printf("N = %3u: D_p2p %8.2f s (caps: %.2f s)   D_cs %9.2f s   ", c->nodes, r.d_p2p,
	       r.d_node, r.d_cs);
	if (r.verified && r.ratio_valid)
		printf("measured %8.2f s   ratio %.3f\n", r.last_done, r.ratio);
	else if (r.verified)
		printf("measured %8.2f s   INVALID: %s\n", r.last_done, r.error);
	else
		printf("FAILED: %s\n", r.error);
	fflush(stdout);
	if (csv && rc != LAB_EXIT_INTERRUPTED) {
		plot_csv_line(csv, p);
		fflush(csv);
	}
	lab_result_free(&r);
	return rc;
}

int lab_sweep(struct lab_config *c, unsigned max_nodes, const char *svg, const char *csv_path,
	      bool log)
{
	struct plot_point p[40];
	size_t n = 0;
	int rc = LAB_EXIT_OK;
	FILE *csv = open_out(csv_path);

	if (csv_path && !csv)
		return LAB_EXIT_FAILED;
	if (csv)
		plot_csv_header(csv);
	/* 1, 2, 4, ... and MAX_NODES itself when it is not a power of two. */
	for (unsigned k = 1; n < sizeof p / sizeof p[0]; k = k * 2 < max_nodes ? k * 2 : max_nodes) {
		c->nodes = k;
		int one = point(c, &p[n], csv);
		if (one == LAB_EXIT_INTERRUPTED) {
			rc = one;
			break;
		}
		n++;
		if (one != LAB_EXIT_OK)
			rc = LAB_EXIT_FAILED;
		if (k >= max_nodes)
			break;
	}
	if (csv && fclose(csv) != 0)
		rc = LAB_EXIT_FAILED;
	if (csv_path)
		printf("table: %s\n", csv_path);
	if (draw(c, p, n, svg, log) != 0 && rc == LAB_EXIT_OK)
		rc = LAB_EXIT_FAILED;
	return rc;
}
