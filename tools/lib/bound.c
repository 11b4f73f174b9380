/* The bounds of Kurose and Ross, "Computer Networking", section 2.5 (file distribution):
 *   D_cs  >= max{ N F / u_s, F / d_min }
 *   D_p2p >= max{ F / u_s, F / d_min, N F / (u_s + sum u_i) }
 * The seed must send every bit at least once, the slowest peer must receive all of it, and all
 * N copies must leave some uplink. Time is the only thing they bound: nothing here knows how a
 * swarm reaches it. */
#include "tools/lib/bound.h"

#include <math.h>
#include <stdio.h>

/* X / RATE, or 0 when the rate is uncapped: that side sets no bound. */
static double over(double x, uint64_t rate)
{
	return rate ? x / (double)rate : 0;
}

/* u_s + sum u_i with each rate passed through FN, or 0 if any of them is uncapped. */
static double capacity(const struct bound_swarm *s, uint64_t (*fn)(uint64_t))
{
	double sum = (double)fn(s->seed_up);

	for (unsigned i = 0; i < s->n && sum > 0; i++)
		sum = s->up[i] ? sum + (double)fn(s->up[i]) : 0;
	return sum;
}

static uint64_t as_configured(uint64_t rate)
{
	return rate;
}

static double p2p(const struct bound_swarm *s, uint64_t (*fn)(uint64_t))
{
	double f = (double)s->file_bytes, cap = capacity(s, fn);

	return fmax(fmax(over(f, fn(s->seed_up)), over(f, fn(s->d_min))),
		    cap > 0 ? s->n * f / cap : 0);
}

double bound_capacity(const struct bound_swarm *s)
{
	return capacity(s, as_configured);
}

double bound_p2p(const struct bound_swarm *s)
{
	return p2p(s, as_configured);
}

double bound_cs(const struct bound_swarm *s)
{
	double f = (double)s->file_bytes;

	return fmax(over(s->n * f, s->seed_up), over(f, s->d_min));
}

uint64_t bound_node_rate(uint64_t rate)
{
	uint64_t ticks = (uint64_t)(1 / BOUND_NODE_TICK_S + 0.5);

	return rate ? (rate / ticks + 1) * ticks : 0;
}

double bound_p2p_node(const struct bound_swarm *s)
{
	double d = p2p(s, bound_node_rate);

	return d > BOUND_NODE_HEAD_START_S ? d - BOUND_NODE_HEAD_START_S : 0;
}

bool bound_judge(double t, double d, double *ratio, char *why, unsigned cap)
{
	*ratio = t > 0 && d > 0 ? t / d : 0;
	if (*ratio == 0 || *ratio >= 1)
		return true;
	snprintf(why, cap, "%.3f s is below the lower bound of %.3f s (ratio %.3f): the clock or "
		 "the bound is wrong, so this run measures nothing", t, d, *ratio);
	return false;
}
