/* node/xfer/uplink.h: what the node's uplink carries, measured rather than configured: the
 * bytes that leave through its peer connections per second, counted only over the slots in
 * which data was waiting all along (then the link set the pace, not the demand). A node
 * started without --up-rate learns its uplink this way. Pure: the caller passes the time and
 * the counters. A plain struct, no allocation. */
#ifndef NODE_XFER_UPLINK_H
#define NODE_XFER_UPLINK_H

#include <stdbool.h>
#include <stdint.h>

#define UPLINK_SLOTS 8        /* slots in the window */
#define UPLINK_SLOT_US 500000 /* so the window is the last 4 s */

struct uplink {
	uint64_t slot_start;         /* when the slot under way began; 0: no sample yet */
	uint64_t slot_sent;          /* the sent counter at that moment */
	bool slot_busy;              /* data was waiting at every sample of this slot */
	uint64_t bytes[UPLINK_SLOTS], us[UPLINK_SLOTS]; /* busy slots that closed; 0 us: none */
	unsigned next;               /* where the next closed slot goes */
	uint64_t rate;               /* bytes/s; 0 until a busy slot closed */
};

/* Start with nothing known. */
void uplink_init(struct uplink *u);
/* At NOW_US the node has sent SENT bytes in all (a counter that grows: a slot over which it
 * fell counts as idle), and data was (BACKLOGGED) or was not waiting to be sent. Call it every
 * few hundred ms. */
void uplink_sample(struct uplink *u, uint64_t sent, bool backlogged, uint64_t now_us);
/* The estimate in bytes/s: bytes over time of the busy slots in the window; while no slot in
 * the window was busy, the last estimate stays (an idle link is no slower). 0: unknown. */
uint64_t uplink_rate(const struct uplink *u);

#endif
