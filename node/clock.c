/* The monotonic clock of the runtime. A module of its own because the UDP adapter, the
 * transfers and the control commands all read it and none of them should import another for
 * it. It does not read the wall clock: intervals only. */
#include "node/clock.h"

#include <time.h>

uint64_t mono_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}
