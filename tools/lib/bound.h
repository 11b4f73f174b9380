/* tools/lib/bound.h: the textbook's lower bounds on the time to give a file of F bytes to N
 * peers, and how a measured time is judged against them, for dhtlab (real nodes) and swarmsim
 * (simulated ones), so that both print the same D_p2p for the same swarm. Also the rate and the
 * head start that dhtnode's token-bucket cap really allows, which dhtlab's bound must use. Pure
 * arithmetic; the caller keeps every array it passes. */
#ifndef TOOLS_LIB_BOUND_H
#define TOOLS_LIB_BOUND_H

#include <stdbool.h>
#include <stdint.h>

/* One swarm as the bound sees it. Rates are bytes per second; 0 means no cap. */
struct bound_swarm {
	uint64_t file_bytes;  /* F */
	unsigned n;           /* N: the peers that download; the seed comes on top */
	uint64_t seed_up;     /* u_s */
	const uint64_t *up;   /* u_1 .. u_N */
	uint64_t d_min;       /* the slowest peer's download rate */
};

/* Return D_p2p = max{F/u_s, F/d_min, N F/(u_s + sum u_i)}. A term with an uncapped rate in its
 * denominator bounds nothing and counts 0: an uncapped seed or peer could in principle go as
 * fast as it likes. So the result is 0 when nothing is capped. */
double bound_p2p(const struct bound_swarm *s);

/* Return the swarm's upload capacity u_s + sum u_i, or 0 if any of them is uncapped. */
double bound_capacity(const struct bound_swarm *s);

/* Return D_cs = max{N F/u_s, F/d_min}, the client-server time, likewise. */
double bound_cs(const struct bound_swarm *s);

/* dhtnode's cap (node/net/peerconn.c) refills a token bucket every 50 ms with RATE/20 + 1
 * bytes and holds at most two refills: so a node capped at RATE sends at most
 * bound_node_rate(RATE) bytes a second, and an idle node has a head start of two refills at
 * once, plus one more when the first refill on libevent's clock grid comes early. */
#define BOUND_NODE_TICK_S 0.05
#define BOUND_NODE_HEAD_START_S (3 * BOUND_NODE_TICK_S)

/* The rate dhtnode's cap lets through for a configured RATE (0: none, returned as 0). */
uint64_t bound_node_rate(uint64_t rate);

/* The lower bound real dhtnode processes can be held to: D_p2p with every rate as the cap lets
 * it through (S's rates are the configured ones), less the head start, since every capped
 * node sends at most rate x (t + head start) in t seconds. Return 0 when nothing is capped. */
double bound_p2p_node(const struct bound_swarm *s);

/* Judge a measured time T (seconds, T < 0: it never finished) against a lower bound D. Set
 * *RATIO to T / D (0 when there is no bound or no time) and return whether it is a valid
 * measurement: a time below a lower bound is not (the clock or the bound is wrong), so it
 * fills WHY (CAP bytes) with a sentence saying so and returns false. */
bool bound_judge(double t, double d, double *ratio, char *why, unsigned cap);

#endif
