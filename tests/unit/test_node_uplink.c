/* The node's measured uplink (node/xfer/uplink.h), on an injected clock: unknown until a busy
 * slot closes; the rate of a link that always had data waiting; slots in which the node ran out
 * of data do not count, and an idle spell keeps the last estimate; a change of link rate shows
 * within the window; a counter that goes back or a clock that jumps back breaks nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "node/xfer/uplink.h"

#define T0 1000000000ull
#define TICK 250000ull /* the manager samples every 250 ms */

/* Feed RATE bytes/s for DURATION_US from *NOW, samples every TICK, BUSY or not. */
static void feed(struct uplink *u, uint64_t *sent, uint64_t *now, uint64_t rate,
		 uint64_t duration_us, bool busy)
{
	for (uint64_t t = 0; t < duration_us; t += TICK) {
		*now += TICK;
		*sent += rate * TICK / 1000000;
		uplink_sample(u, *sent, busy, *now);
	}
}

static void test_unknown_then_measured(void **state)
{
	(void)state;
	struct uplink u;
	uint64_t sent = 0, now = T0;
	uplink_init(&u);
	assert_int_equal(uplink_rate(&u), 0);
	uplink_sample(&u, sent, true, now);
	/* One sample short of a full slot: still unknown. */
	now += TICK;
	sent += 262144;
	uplink_sample(&u, sent, true, now);
	assert_int_equal(uplink_rate(&u), 0);
	/* 1 MiB/s through a link that always had data waiting. */
	feed(&u, &sent, &now, 1u << 20, 250000, true);
	assert_int_equal(uplink_rate(&u), 1u << 20);
	feed(&u, &sent, &now, 1u << 20, 10000000, true);
	assert_int_equal(uplink_rate(&u), 1u << 20);
}

static void test_idle_slots_do_not_count(void **state)
{
	(void)state;
	struct uplink u;
	uint64_t sent = 0, now = T0;
	uplink_init(&u);
	uplink_sample(&u, sent, true, now);
	feed(&u, &sent, &now, 2u << 20, 4000000, true);
	assert_int_equal(uplink_rate(&u), 2u << 20);
	/* The node runs short of requests: 100 KiB/s with nothing waiting. That is the demand,
	 * not the link, and for the whole window and long after the estimate stays. */
	feed(&u, &sent, &now, 100u << 10, 20000000, false);
	assert_int_equal(uplink_rate(&u), 2u << 20);
	/* A slot busy at one sample and idle at the other does not count either. */
	for (int i = 0; i < 16; i++) {
		now += TICK;
		sent += 25600;
		uplink_sample(&u, sent, i % 2 == 0, now);
	}
	assert_int_equal(uplink_rate(&u), 2u << 20);
}

static void test_follows_a_new_rate(void **state)
{
	(void)state;
	struct uplink u;
	uint64_t sent = 0, now = T0;
	uplink_init(&u);
	uplink_sample(&u, sent, true, now);
	feed(&u, &sent, &now, 2u << 20, 4000000, true);
	/* The link slows to 512 KiB/s: after half the window the estimate is halfway, after the
	 * whole window it is the new rate. */
	feed(&u, &sent, &now, 512u << 10, 2000000, true);
	assert_int_equal(uplink_rate(&u), (2u << 20) / 2 + (512u << 10) / 2);
	feed(&u, &sent, &now, 512u << 10, 2000000, true);
	assert_int_equal(uplink_rate(&u), 512u << 10);
}

static void test_counter_and_clock_going_back(void **state)
{
	(void)state;
	struct uplink u;
	uint64_t sent = 1000000, now = T0;
	uplink_init(&u);
	uplink_sample(&u, sent, true, now);
	feed(&u, &sent, &now, 1u << 20, 4000000, true);
	uint64_t before = uplink_rate(&u);
	/* A counter that went back makes its slot count as idle, not as 2^64 bytes. */
	now += 2 * TICK;
	uplink_sample(&u, 5, true, now);
	assert_int_equal(uplink_rate(&u), before);
	/* A clock that went back starts a new slot; nothing divides by zero or wraps. */
	now -= 10 * TICK;
	uplink_sample(&u, 5, true, now);
	assert_int_equal(uplink_rate(&u), before);
	sent = 5;
	feed(&u, &sent, &now, 1u << 20, 8000000, true);
	assert_int_equal(uplink_rate(&u), 1u << 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown_then_measured),
		cmocka_unit_test(test_idle_slots_do_not_count),
		cmocka_unit_test(test_follows_a_new_rate),
		cmocka_unit_test(test_counter_and_clock_going_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
