/* transfer/pace.h: how fast one peer delivers what we ask of it: its rate and round trip,
 * measured from the blocks it sends (or told from outside), and what follows from them: how
 * many requests to keep in flight, how long a queued block waits, when silence means a stall.
 * The piece picker keeps one per peer (transfer/picker.h). A plain struct, no allocation. */
#ifndef TRANSFER_PACE_H
#define TRANSFER_PACE_H

#include <stdbool.h>
#include <stdint.h>

struct pace {
	uint64_t rate;          /* bytes/s; 0 until measured */
	uint64_t rtt_us;        /* 0 until measured */
	uint64_t win_start, win_bytes; /* the rate window under way */
	uint64_t probe_us;      /* when an idle pipeline got its first request */
	uint64_t last_progress; /* when it last delivered (or got busy) */
	bool probing;
};

/* Take RATE (bytes/s) and RTT_US measured elsewhere. */
void pace_set(struct pace *pc, uint64_t rate, uint64_t rtt_us);
/* Requests went out to an idle pipeline at NOW: time the round trip from here. */
void pace_busy(struct pace *pc, uint64_t now_us);
/* A block of LEN bytes arrived at NOW. */
void pace_delivered(struct pace *pc, uint32_t len, uint64_t now_us);
/* Requests to keep in flight for blocks of BLOCK bytes: ceil(2 * rate * rtt / block) + 1
 * clamped to [MIN, MAX]; INITIAL before any measurement. */
unsigned pace_depth(const struct pace *pc, uint32_t block, unsigned initial, unsigned min,
		    unsigned max);
/* How long N blocks of BLOCK bytes take to leave the peer at its rate; UNKNOWN unmeasured. */
uint64_t pace_queue_us(const struct pace *pc, uint64_t n, uint32_t block, uint64_t unknown);
/* How long the peer may stay silent with N blocks of BLOCK bytes asked: three times what they
 * should take with a round trip, clamped to [MIN_US, MAX_US]; MAX_US unmeasured. */
uint64_t pace_timeout(const struct pace *pc, uint64_t n, uint32_t block, uint64_t min_us,
		      uint64_t max_us);

#endif
