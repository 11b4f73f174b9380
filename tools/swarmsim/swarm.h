/* tools/swarmsim/swarm.h: a whole swarm in one process: one seed and N peers, each running the
 * real session core (transfer/session.h) over the simulated network (net.h), on a virtual clock
 * with a seeded PRNG, so the same config gives the same result bit for bit. Payload bytes are
 * never made or hashed: the env tracks which stored blocks came from liars and answers verify()
 * from that. swarm_run() fills a result whose arrays the caller frees with swarm_result_free(). */
#ifndef SWARMSIM_SWARM_H
#define SWARMSIM_SWARM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SWARM_MAX_RATES 16

struct swarm_config {
	uint32_t peers;           /* N, not counting the seed */
	uint64_t file_bytes;      /* F */
	uint32_t chunk_size;      /* 0: the node's default for F; at most 32 blocks of 16 KiB */
	uint64_t seed_up;         /* u_s, bytes/s */
	uint64_t peer_up[SWARM_MAX_RATES]; /* u_i: peer i gets peer_up[i % npeer_up] ... */
	unsigned npeer_up;
	bool up_range;            /* ... or, if set, peer_up[0]..peer_up[1] spread evenly */
	uint64_t peer_down;       /* d_i, bytes/s; 0: unlimited */
	uint64_t latency_us;      /* one way, every link */
	double free_riders;       /* fraction of peers that upload nothing */
	double liars;             /* fraction of peers that send corrupt blocks */
	double join_spread_s;     /* peers join at uniform random times in [0, this] */
	bool leave_when_done;
	bool fetch_manifest;      /* peers start from the content id alone */
	bool super_seed;          /* the seed super-seeds (session_config.super_seed): true */
	uint64_t seed;            /* PRNG seed */
	unsigned neighbours;      /* one DHT lookup names at most this many holders: 50 */
	unsigned max_conns;       /* connections per node: 80 */
	unsigned upload_slots;    /* the choker's regular slots: 4 */
	bool rate_slots;          /* more slots for fast uplinks (session_config.upload_rate) */
	uint64_t interest_linger_us; /* session_config's: 0 */
	double max_time_s;        /* give up after this much virtual time */
	uint64_t trace_us;        /* print a timeline line to TRACE this often; 0: none */
	FILE *trace;
};

struct swarm_result {
	uint32_t peers;
	uint64_t file_bytes;
	uint32_t chunk_size;      /* the one used */
	uint64_t seed_up;
	uint64_t *up, *down;      /* per peer (index 0 is peer 1), bytes/s; down 0: unlimited */
	double *join;             /* per peer: when it joined, s */
	double *done;             /* per peer: when it had the whole file, s; < 0: never */
	bool *free_rider, *liar;
	uint32_t *banned_by;      /* per peer: how many others banned it */
	double d_p2p, d_cs;       /* the bounds, s */
	double last_done;         /* the last honest peer's completion, s (< 0: not all finished) */
	double ratio;             /* last_done / d_p2p */
	double util_from, util_to; /* the utilization window: first chunk to 95% distributed */
	double upload_utilization; /* 0..1 */
	/* When the last peer that uploads (neither free rider nor liar) verified its first chunk,
	 * that is when every uplink had something to offer, s (< 0: some never did). */
	double all_started;
	uint64_t duplicate_bytes;
	uint64_t seed_uploaded_bytes;
	uint64_t payload_bytes;   /* all payload bytes stored by peers */
	/* Payload between peers (not the seed) by rate class: same-class bytes and their share,
	 * and the share expected if partners were picked regardless of rate. */
	unsigned classes;
	double same_class_share, same_class_expected;
	/* The same by class: class_bytes[a][b] went from class a to class b; class a has
	 * class_peers[a] peers, the slowest uploading class_up[a] bytes/s. */
	uint64_t class_bytes[SWARM_MAX_RATES][SWARM_MAX_RATES];
	uint64_t class_up[SWARM_MAX_RATES];
	uint32_t class_peers[SWARM_MAX_RATES];
	uint32_t honest_banned;   /* honest peers banned by anyone: should be 0 */
	uint32_t liars_banned;    /* liars banned by at least one peer */
	uint32_t honest_incomplete; /* honest contributors or free riders that never finished */
	/* Discovery (transfer/peerbook.h), summed over the peers' books: addresses known at the
	 * end (or when the peer left), lookups answered, addresses first learned after a book's
	 * first lookup, dials, dials that failed, redials of an address whose last dial failed, and
	 * the shortest wait before such a redial, s (< 0: none); and dials turned away: the node
	 * had no room (dials_full), or we already traded with it (dials_dup). */
	uint64_t known, lookups, learned_late, dials, dial_failures, redials, dials_full, dials_dup;
	double min_redial_wait_s;
	uint64_t events;
	double sim_time;          /* virtual seconds simulated */
};

void swarm_config_default(struct swarm_config *cfg);
/* Run the swarm described by CFG. Return 0 and fill OUT, or -1 if CFG is invalid or memory
 * runs out (with a reason in ERR, ERRLEN bytes). */
int swarm_run(const struct swarm_config *cfg, struct swarm_result *out, char *err, size_t errlen);
void swarm_result_free(struct swarm_result *r); /* frees the arrays; accepts a zeroed result */

#endif
