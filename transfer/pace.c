/* A peer's pace: rate and round trip from the blocks it delivers. The round trip is sampled from
 * the first block after an idle pipeline (min-biased: queueing only ever adds to it); the rate is
 * bytes over windows of at least one round trip while the pipeline is busy, smoothed 1/4.
 * It knows nothing of chunks, requests or time-outs being acted on: the picker does that. */
#include "transfer/pace.h"

/* A rate above this (10 GB/s) or a round trip above a minute is noise; clamping keeps
 * rate * rtt inside 64 bits. */
#define RATE_MAX 10000000000ull
#define RTT_MAX 60000000ull
#define RATE_WINDOW_MIN_US 100000u

static uint64_t clamp64(uint64_t v, uint64_t lo, uint64_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static bool measured(const struct pace *pc)
{
	return pc->rate != 0 && pc->rtt_us != 0;
}

void pace_set(struct pace *pc, uint64_t rate, uint64_t rtt_us)
{
	pc->rate = clamp64(rate, 1, RATE_MAX);
	pc->rtt_us = clamp64(rtt_us, 1, RTT_MAX);
}

void pace_busy(struct pace *pc, uint64_t now_us)
{
	pc->probing = true;
	pc->probe_us = now_us;
	pc->win_start = now_us;
	pc->win_bytes = 0;
	pc->last_progress = now_us;
}

void pace_delivered(struct pace *pc, uint32_t len, uint64_t now_us)
{
	pc->last_progress = now_us;
	if (pc->probing) {
		uint64_t s = clamp64(now_us - pc->probe_us, 1, RTT_MAX);
		pc->rtt_us = pc->rtt_us == 0 || s < pc->rtt_us ? s : (7 * pc->rtt_us + s) / 8;
		pc->probing = false;
	}
	pc->win_bytes += len;
	uint64_t elapsed = now_us - pc->win_start;
	uint64_t floor = pc->rtt_us > RATE_WINDOW_MIN_US ? pc->rtt_us : RATE_WINDOW_MIN_US;
	if (elapsed < floor)
		return;
	uint64_t sample = clamp64(pc->win_bytes * 1000000 / elapsed, 1, RATE_MAX);
	pc->rate = pc->rate == 0 ? sample : (3 * pc->rate + sample) / 4;
	pc->win_start = now_us;
	pc->win_bytes = 0;
}

unsigned pace_depth(const struct pace *pc, uint32_t block, unsigned initial, unsigned min,
		    unsigned max)
{
	if (!measured(pc))
		return initial;
	/* Twice the bandwidth-delay product: the peer's queue never runs dry while our next
	 * requests are on their way, and a rate measured with a shallow pipeline (which caps it at
	 * depth * block / rtt) lets the next depth double, like slow start. */
	uint64_t bdp = 2 * pc->rate * pc->rtt_us / 1000000;
	uint64_t d = (bdp + block - 1) / block + 1;
	return (unsigned)clamp64(d, min, max);
}

uint64_t pace_queue_us(const struct pace *pc, uint64_t n, uint32_t block, uint64_t unknown)
{
	return pc->rate == 0 ? unknown : n * block * 1000000 / pc->rate;
}

uint64_t pace_timeout(const struct pace *pc, uint64_t n, uint32_t block, uint64_t min_us,
		      uint64_t max_us)
{
	if (!measured(pc))
		return max_us;
	return clamp64(3 * (pc->rtt_us + pace_queue_us(pc, n, block, 0)), min_us, max_us);
}
