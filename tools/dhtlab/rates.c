/* The numbers of an experiment before it runs: defaults, each leecher's cap, the lower bounds
 * on the distribution time and the time limit that follows from them. Pure arithmetic: nothing
 * here starts, opens or measures anything. */
#include "tools/dhtlab/lab.h"

#include <string.h>

#include "tools/lib/bound.h"

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

void lab_bounds(const struct lab_config *c, double *d_p2p, double *d_cs, double *d_node)
{
	uint64_t up[LAB_MAX_NODES];
	struct bound_swarm s = { .file_bytes = c->file_bytes, .n = c->nodes, .seed_up = c->seed_up,
				 .up = up, .d_min = c->peer_down };

	for (unsigned i = 0; i < c->nodes && i < LAB_MAX_NODES; i++)
		up[i] = lab_peer_up(c, i);
	*d_p2p = bound_p2p(&s);
	*d_cs = bound_cs(&s);
	/* On the namespace lab the kernel shapes and the nodes run uncapped: no bucket's head
	 * start, so the textbook's bound is the one to meet. */
	*d_node = c->netns ? *d_p2p : bound_p2p_node(&s);
}

double lab_timeout(const struct lab_config *c)
{
	double d_p2p, d_cs, d_node;

	if (c->timeout_s > 0)
		return c->timeout_s;
	lab_bounds(c, &d_p2p, &d_cs, &d_node);
	/* Uncapped: assume a slow 20 MiB/s, still finite. */
	if (d_p2p == 0)
		d_p2p = (double)c->file_bytes / (20.0 * 1048576);
	return 5 * d_p2p + 60 + (c->nodes + 1);
}
