/* How long a transfer has run: the time it spent hashing (a share) or downloading (a fetch),
 * summed over stops and restarts of the transfer and of the node, and when it completed. This
 * is the duration a user is shown; time spent stopped, failed, seeding or with the node down
 * is not in it. The count is kept in the state file with the rest (xfer_state_text). */
#include <time.h>

#include "node/net/udp.h"
#include "node/xfer/xfer_impl.h"

void xtime_start(struct xfer *x)
{
	if (x->active_since_us == 0)
		x->active_since_us = mono_now_us();
}

void xtime_stop(struct xfer *x, bool completed)
{
	if (x->active_since_us != 0)
		x->active_us += mono_now_us() - x->active_since_us;
	x->active_since_us = 0;
	if (completed)
		x->finished = (int64_t)time(NULL);
}

uint64_t xtime_active_ms(const struct xfer *x)
{
	uint64_t us = x->active_us;
	if (x->active_since_us != 0)
		us += mono_now_us() - x->active_since_us;
	return us / 1000;
}
