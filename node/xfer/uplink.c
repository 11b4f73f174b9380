/* The node's uplink as measured (node/xfer/uplink.h). A slot closes at the first sample at least
 * UPLINK_SLOT_US after it opened; it counts only if data was waiting at each of its samples,
 * since a slot in which the node ran out of things to send measures the demand, not the link.
 * It does not look at the network or the clock itself, and it does not say what to do with the
 * estimate: node/xfer/xfer.c sizes the choker's slots and the per-peer queue from it. */
#include "node/xfer/uplink.h"

#include <string.h>

void uplink_init(struct uplink *u)
{
	memset(u, 0, sizeof *u);
}

static void estimate(struct uplink *u)
{
	uint64_t bytes = 0, us = 0;
	for (unsigned i = 0; i < UPLINK_SLOTS; i++) {
		bytes += u->bytes[i];
		us += u->us[i];
	}
	if (us > 0)
		u->rate = bytes * 1000000 / us;
}

static void close_slot(struct uplink *u, uint64_t sent, bool busy, uint64_t now_us)
{
	uint64_t us = now_us - u->slot_start;
	busy = busy && u->slot_busy && sent >= u->slot_sent;
	u->bytes[u->next] = busy ? sent - u->slot_sent : 0;
	u->us[u->next] = busy ? us : 0;
	u->next = (u->next + 1) % UPLINK_SLOTS;
	estimate(u);
	u->slot_start = now_us;
	u->slot_sent = sent;
	u->slot_busy = true;
}

void uplink_sample(struct uplink *u, uint64_t sent, bool backlogged, uint64_t now_us)
{
	if (u->slot_start == 0 || now_us < u->slot_start) {
		/* The first sample (or a clock that went back): a slot starts here. */
		u->slot_start = now_us ? now_us : 1;
		u->slot_sent = sent;
		u->slot_busy = true;
	} else if (now_us - u->slot_start >= UPLINK_SLOT_US) {
		close_slot(u, sent, backlogged, now_us);
	} else {
		u->slot_busy = u->slot_busy && backlogged;
	}
}

uint64_t uplink_rate(const struct uplink *u)
{
	return u->rate;
}
