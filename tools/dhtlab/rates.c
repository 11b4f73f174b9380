/* The numbers of an experiment before it runs: defaults, rates as people write them, each
 * leecher's cap, the textbook's lower bounds on the distribution time and the time limit that
 * follows from them. Pure arithmetic: nothing here starts, opens or measures anything. */
#include "tools/dhtlab/lab.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void lab_config_default(struct lab_config *c)
{
	memset(c, 0, sizeof *c);
	c->nodes = 16;
	c->file_bytes = 32u << 20;
	c->seed_up = 2u << 20;
	c->peer_up[0] = 1u << 20;
	c->npeer_up = 1;
	c->base_port = 31000;
	c->batch = 8;
	c->seed = 1;
}

uint64_t lab_peer_up(const struct lab_config *c, unsigned i)
{
	return c->npeer_up ? c->peer_up[i % c->npeer_up] : 0;
}

static int parse_rate_n(const char *s, size_t n, uint64_t *out)
{
	static const struct {
		const char *unit;
		double mult;
	} units[] = {
		{ "", 1 },	     { "B", 1 },	  { "K", 1024 },  { "KiB", 1024 },
		{ "M", 1048576 },    { "MiB", 1048576 },  { "G", 1 << 30 }, { "GiB", 1 << 30 },
		{ "kB", 1e3 },	     { "KB", 1e3 },	  { "MB", 1e6 },  { "GB", 1e9 },
	};
	char buf[64], *end;

	if (n == 0 || n >= sizeof buf)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (strcmp(buf, "unlimited") == 0) {
		*out = 0;
		return 0;
	}
	errno = 0;
	double v = strtod(buf, &end);
	if (end == buf || errno || !isfinite(v) || v < 0)
		return -1;
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		double b = v * units[i].mult;
		if (strcmp(end, units[i].unit) != 0 || b >= 1e15)
			continue;
		/* A cap below one byte per second is a typo, not an experiment. */
		if (v > 0 && b < 1)
			return -1;
		*out = (uint64_t)llround(b);
		return 0;
	}
	return -1;
}

int lab_parse_rate(const char *s, uint64_t *out)
{
	return parse_rate_n(s, strlen(s), out);
}

int lab_parse_rates(struct lab_config *c, const char *s, char *err, size_t errcap)
{
	unsigned n = 0;

	for (const char *p = s;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		if (n == LAB_MAX_RATES) {
			snprintf(err, errcap, "--peer-up %s: at most %d rates in a list", s, LAB_MAX_RATES);
			return -1;
		}
		if (parse_rate_n(p, len, &c->peer_up[n++]) != 0) {
			snprintf(err, errcap, "--peer-up %s: '%.*s' is not a rate (like 1MiB, 0.5MiB, "
				 "512KiB or unlimited)", s, (int)len, p);
			return -1;
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	c->npeer_up = n;
	return 0;
}

/* X / RATE, or 0 when the rate is uncapped: that side sets no bound. */
static double over(double x, uint64_t rate)
{
	return rate ? x / (double)rate : 0;
}

void lab_bounds(const struct lab_config *c, double *d_p2p, double *d_cs)
{
	double f = (double)c->file_bytes, n = c->nodes;
	double fd = over(f, c->peer_down);
	uint64_t sum = c->seed_up;
	bool capped = c->seed_up != 0;

	for (unsigned i = 0; i < c->nodes; i++) {
		uint64_t u = lab_peer_up(c, i);
		capped = capped && u != 0;
		sum += u;
	}
	*d_p2p = fmax(fmax(over(f, c->seed_up), fd), capped ? over(n * f, sum) : 0);
	*d_cs = fmax(over(n * f, c->seed_up), fd);
}

double lab_timeout(const struct lab_config *c)
{
	double d_p2p, d_cs;

	if (c->timeout_s > 0)
		return c->timeout_s;
	lab_bounds(c, &d_p2p, &d_cs);
	/* Uncapped: assume a slow 20 MiB/s, still finite. */
	if (d_p2p == 0)
		d_p2p = (double)c->file_bytes / (20.0 * 1048576);
	return 5 * d_p2p + 60 + (c->nodes + 1);
}

double lab_mib(uint64_t bytes)
{
	return (double)bytes / 1048576.0;
}

const char *lab_rate_str(uint64_t rate, char *buf, size_t cap)
{
	if (rate == 0)
		snprintf(buf, cap, "unlimited");
	else if (rate < 1048576)
		snprintf(buf, cap, "%.1f KiB/s", (double)rate / 1024);
	else
		snprintf(buf, cap, "%.2f MiB/s", lab_mib(rate));
	return buf;
}
