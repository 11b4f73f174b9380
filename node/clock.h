/* node/clock.h: the runtime's clock. Every part of the node that measures time (the Chord
 * core's environment, transfers, control timings) reads this one monotonic clock, so their
 * numbers can be compared. Nothing to own or free. */
#ifndef NODE_CLOCK_H
#define NODE_CLOCK_H

#include <stdint.h>

/* Monotonic microseconds (CLOCK_MONOTONIC): never jumps with the wall clock. */
uint64_t mono_now_us(void);

#endif
