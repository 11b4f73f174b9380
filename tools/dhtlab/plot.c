/* The sweep's figure, written out as SVG by hand: a frame, ticks and grid lines, axis labels,
 * a legend and three series (measured P2P, the P2P bound D_p2p, client-server D_cs). By
 * default both axes are logarithmic: N base 2, since a sweep doubles it, and time base 10,
 * because D_cs grows with N while the P2P curves flatten, and on a linear axis the gap between
 * measured and bound would be a pixel. Linear means both linear: a linear time axis over a
 * base-2 N axis would draw D_cs, a straight line in N, as an exponential. No library: the
 * format is simple and the figure small. Also the CSV the sweep writes and plot reads back,
 * with the swarm's rates in every line so that a redrawn figure keeps its title. */
#include "tools/dhtlab/plot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define W 760
#define H 480
#define LEFT 78
#define RIGHT 24
#define TOP 48
#define BOTTOM 62

struct axes {
	double x0, x1; /* N, or log2 N */
	double y0, y1; /* time, or log10 time */
	bool log;
};

static double px(const struct axes *a, double n)
{
	double v = a->log ? log2(n) : n;

	return LEFT + (v - a->x0) / (a->x1 - a->x0) * (W - LEFT - RIGHT);
}

static double py(const struct axes *a, double t)
{
	double v = a->log ? log10(t) : t;

	return H - BOTTOM - (v - a->y0) / (a->y1 - a->y0) * (H - TOP - BOTTOM);
}

static void range(const struct plot_point *p, size_t n, struct axes *a)
{
	double lo = INFINITY, hi = 0, nmin = INFINITY, nmax = 0;

	for (size_t i = 0; i < n; i++) {
		const double v[3] = { p[i].d_p2p, p[i].d_cs, p[i].measured };
		for (int k = 0; k < 3; k++)
			if (v[k] > 0) {
				lo = fmin(lo, v[k]);
				hi = fmax(hi, v[k]);
			}
		nmin = fmin(nmin, p[i].nodes);
		nmax = fmax(nmax, p[i].nodes);
	}
	if (a->log) {
		a->x0 = log2(nmin) - 0.25;
		a->x1 = log2(nmax) + 0.25;
		a->y0 = floor(log10(lo * 0.9) * 4) / 4;
		a->y1 = ceil(log10(hi * 1.1) * 4) / 4;
	} else {
		a->x0 = 0;
		a->x1 = nmax * 1.04;
		a->y0 = 0;
		a->y1 = hi * 1.08;
	}
}

/* The step between linear ticks: 1, 2 or 5 times a power of ten, about six ticks. */
static double nice_step(double span)
{
	double raw = span / 6, p = pow(10, floor(log10(raw)));

	return raw <= p ? p : raw <= 2 * p ? 2 * p : raw <= 5 * p ? 5 * p : 10 * p;
}

static void xtick(FILE *f, const struct axes *a, double n)
{
	double x = px(a, n);

	fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='grid'/>\n", x, TOP, x,
		H - BOTTOM);
	fprintf(f, "<line x1='%.1f' y1='%d' x2='%.1f' y2='%d' class='axis'/>\n", x, H - BOTTOM, x,
		H - BOTTOM + 5);
	fprintf(f, "<text x='%.1f' y='%d' text-anchor='middle'>%g</text>\n", x, H - BOTTOM + 20, n);
}

static void ytick(FILE *f, const struct axes *a, double t)
{
	double y = py(a, t);

	fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='grid'/>\n", LEFT, y,
		W - RIGHT, y);
	fprintf(f, "<line x1='%d' y1='%.1f' x2='%d' y2='%.1f' class='axis'/>\n", LEFT - 5, y, LEFT,
		y);
	fprintf(f, "<text x='%d' y='%.1f' text-anchor='end'>%g</text>\n", LEFT - 8, y + 4, t);
}

static void yticks(FILE *f, const struct axes *a)
{
	if (!a->log) {
		double step = nice_step(a->y1 - a->y0);
		for (double t = 0; t <= a->y1; t += step)
			ytick(f, a, t);
		return;
	}
	/* 1, 2, 5 per decade while that stays readable, else only the powers of ten. */
	bool dense = a->y1 - a->y0 <= 3.5;
	for (double d = floor(a->y0); d <= a->y1; d++)
		for (int m = 1; m <= 5; m += m == 1 ? 1 : 3) {
			double t = m * pow(10, d), l = log10(t);
			if (l >= a->y0 - 1e-9 && l <= a->y1 + 1e-9 && (dense || m == 1))
				ytick(f, a, t);
		}
}

/* Log: a tick at every N that was run (P sorted by N), so a sweep that ends off a power of
 * two still labels its last point. Linear: evenly spaced ticks, since 1, 2 and 4 would
 * overlap near the origin. */
static void xticks(FILE *f, const struct axes *a, const struct plot_point *p, size_t n)
{
	if (!a->log) {
		double step = fmax(1, nice_step(a->x1 - a->x0));
		for (double v = 0; v <= a->x1; v += step)
			xtick(f, a, v);
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (i == 0 || p[i].nodes != p[i - 1].nodes)
			xtick(f, a, p[i].nodes);
}

enum series { S_MEASURED, S_BOUND, S_CS, NSERIES };

static const struct {
	const char *name, *color, *dash;
} style[NSERIES] = {
	[S_MEASURED] = { "measured (P2P swarm)", "#d62728", "" },
	[S_BOUND] = { "P2P bound D_p2p", "#1f77b4", "6,4" },
	[S_CS] = { "client-server D_cs", "#555555", "2,3" },
};

static double value(const struct plot_point *p, enum series s)
{
	return s == S_MEASURED ? p->measured : s == S_BOUND ? p->d_p2p : p->d_cs;
}

static void marker(FILE *f, enum series s, double x, double y)
{
	if (s == S_MEASURED)
		fprintf(f, "<circle cx='%.1f' cy='%.1f' r='4' fill='%s'/>\n", x, y, style[s].color);
	else if (s == S_BOUND)
		fprintf(f, "<rect x='%.1f' y='%.1f' width='7' height='7' fill='white' stroke='%s' "
			"stroke-width='1.5'/>\n", x - 3.5, y - 3.5, style[s].color);
	else
		fprintf(f, "<path d='M%.1f %.1fl4 7h-8z' fill='%s'/>\n", x, y - 4.5, style[s].color);
}

/* One series: a polyline through the points that exist (a failed run leaves a gap), and a
 * marker on each. P must be sorted by N. */
static void series(FILE *f, const struct axes *a, const struct plot_point *p, size_t n,
		   enum series s)
{
	bool open = false;

	for (size_t i = 0; i < n; i++) {
		double v = value(&p[i], s);
		if (!(v > 0)) {
			fputs(open ? "'/>\n" : "", f);
			open = false;
			continue;
		}
		if (!open)
			fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' "
				"stroke-dasharray='%s' points='", style[s].color, style[s].dash);
		fprintf(f, "%.1f,%.1f ", px(a, p[i].nodes), py(a, v));
		open = true;
	}
	fputs(open ? "'/>\n" : "", f);
	for (size_t i = 0; i < n; i++)
		if (value(&p[i], s) > 0)
			marker(f, s, px(a, p[i].nodes), py(a, value(&p[i], s)));
}

static void legend(FILE *f)
{
	int x = LEFT + 16, y = TOP + 14;

	fprintf(f, "<rect x='%d' y='%d' width='200' height='70' fill='white' stroke='#999'/>\n",
		x - 8, y - 8);
	for (int s = 0; s < NSERIES; s++, y += 20) {
		fprintf(f, "<line x1='%d' y1='%d' x2='%d' y2='%d' stroke='%s' stroke-width='2' "
			"stroke-dasharray='%s'/>\n", x, y + 6, x + 30, y + 6, style[s].color,
			style[s].dash);
		marker(f, (enum series)s, x + 15, y + 6);
		fprintf(f, "<text x='%d' y='%d'>%s</text>\n", x + 40, y + 10, style[s].name);
	}
}

static int by_nodes(const void *a, const void *b)
{
	const struct plot_point *x = a, *y = b;

	return (x->nodes > y->nodes) - (x->nodes < y->nodes);
}

static void frame(FILE *f, const char *title, bool log)
{
	fprintf(f, "<?xml version='1.0' encoding='UTF-8'?>\n"
		"<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' viewBox='0 0 %d %d' "
		"font-family='DejaVu Sans, Helvetica, Arial, sans-serif' font-size='13'>\n"
		"<style>.grid{stroke:#e4e4e4;stroke-width:1} .axis{stroke:#000;stroke-width:1}"
		"</style>\n<rect width='100%%' height='100%%' fill='white'/>\n", W, H, W, H);
	fprintf(f, "<text x='%d' y='26' text-anchor='middle' font-size='15'>", W / 2);
	for (const char *c = title; *c; c++)
		if (*c == '<' || *c == '>' || *c == '&')
			fputs(*c == '<' ? "&lt;" : *c == '>' ? "&gt;" : "&amp;", f);
		else
			fputc(*c, f);
	fprintf(f, "</text>\n<text x='%d' y='%d' text-anchor='middle'>N, leechers%s</text>\n",
		(LEFT + W - RIGHT) / 2, H - 16, log ? " (base-2 scale)" : "");
	fprintf(f, "<text transform='translate(20 %d) rotate(-90)' text-anchor='middle'>"
		"distribution time, s%s</text>\n", (TOP + H - BOTTOM) / 2, log ? " (log scale)" : "");
}

int plot_svg(FILE *f, const struct plot_point *pts, size_t n, const char *title, bool log)
{
	struct axes a = { .log = log };
	struct plot_point *p = n ? malloc(n * sizeof *p) : NULL;

	if (!p)
		return -1;
	memcpy(p, pts, n * sizeof *p);
	qsort(p, n, sizeof *p, by_nodes);
	range(p, n, &a);
	frame(f, title, log);
	yticks(f, &a);
	xticks(f, &a, p, n);
	fprintf(f, "<rect x='%d' y='%d' width='%d' height='%d' fill='none' class='axis'/>\n", LEFT,
		TOP, W - LEFT - RIGHT, H - TOP - BOTTOM);
	for (int s = NSERIES - 1; s >= 0; s--)
		series(f, &a, p, n, (enum series)s);
	legend(f);
	fputs("</svg>\n", f);
	free(p);
	return 0;
}

#define CSV_COLUMNS \
	"nodes,file_bytes,d_p2p,d_cs,last_done,ratio,verified,seed_up,peer_up,peer_down,d_p2p_node"
#define NFIELDS 11

void plot_csv_header(FILE *f)
{
	fputs(CSV_COLUMNS "\n", f);
}

/* The leechers' upload caps, one field: several are separated by spaces. */
void plot_csv_line(FILE *f, const struct plot_point *p)
{
	fprintf(f, "%u,%llu,%.3f,%.3f,", p->nodes, (unsigned long long)p->file_bytes, p->d_p2p,
		p->d_cs);
	if (p->measured > 0)
		fprintf(f, "%.3f,%.4f,", p->measured, p->ratio);
	else
		fputs(",,", f);
	fprintf(f, "%s,%llu,", p->verified ? "true" : "false", (unsigned long long)p->seed_up);
	for (unsigned i = 0; i < p->npeer_up; i++)
		fprintf(f, "%s%llu", i ? " " : "", (unsigned long long)p->peer_up[i]);
	fprintf(f, ",%llu,%.3f\n", (unsigned long long)p->peer_down, p->d_node);
}

/* Split LINE (modified) at commas into exactly NFIELDS fields. */
static int split(char *line, char *field[NFIELDS])
{
	line[strcspn(line, "\r\n")] = '\0';
	field[0] = line;
	for (int i = 1; i < NFIELDS; i++) {
		char *comma = strchr(field[i - 1], ',');
		if (!comma)
			return -1;
		*comma = '\0';
		field[i] = comma + 1;
	}
	return strchr(field[NFIELDS - 1], ',') ? -1 : 0;
}

static int number(const char *s, uint64_t *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	*v = strtoull(s, &end, 10);
	return *end ? -1 : 0;
}

static int seconds(const char *s, double *v, double none)
{
	char *end;

	*v = none;
	if (!*s)
		return 0;
	*v = strtod(s, &end);
	return *end || !(*v >= 0) ? -1 : 0;
}

static int parse_line(char *line, struct plot_point *p)
{
	char *fl[NFIELDS], *end;
	uint64_t nodes;

	memset(p, 0, sizeof *p);
	if (split(line, fl) != 0 || number(fl[0], &nodes) != 0 || nodes == 0 || nodes > 1000000 ||
	    number(fl[1], &p->file_bytes) != 0 || seconds(fl[2], &p->d_p2p, 0) != 0 ||
	    seconds(fl[3], &p->d_cs, 0) != 0 || seconds(fl[4], &p->measured, -1) != 0 ||
	    seconds(fl[5], &p->ratio, 0) != 0 ||
	    (strcmp(fl[6], "true") != 0 && strcmp(fl[6], "false") != 0) ||
	    number(fl[7], &p->seed_up) != 0 || number(fl[9], &p->peer_down) != 0 ||
	    seconds(fl[10], &p->d_node, 0) != 0)
		return -1;
	p->nodes = (unsigned)nodes;
	p->verified = strcmp(fl[6], "true") == 0;
	for (char *s = fl[8]; *s; s = end) {
		if (p->npeer_up == PLOT_MAX_RATES || *s < '0' || *s > '9')
			return -1;
		p->peer_up[p->npeer_up++] = strtoull(s, &end, 10);
		if (*end == ' ')
			end++;
		else if (*end)
			return -1;
	}
	return p->npeer_up ? 0 : -1;
}

long plot_csv_read(FILE *f, struct plot_point **out, char *err, size_t cap)
{
	char line[1536];
	long n = 0, lineno = 0;
	struct plot_point *p = NULL;

	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (lineno == 1 && strncmp(line, "nodes,", 6) == 0)
			continue;
		struct plot_point *q = realloc(p, (size_t)(n + 1) * sizeof *p);
		if (!q) {
			snprintf(err, cap, "out of memory");
			free(p);
			return -1;
		}
		p = q;
		if (parse_line(line, &p[n]) != 0) {
			snprintf(err, cap, "line %ld is not a sweep point (%s)", lineno, CSV_COLUMNS);
			free(p);
			return -1;
		}
		n++;
	}
	*out = p;
	return n;
}
