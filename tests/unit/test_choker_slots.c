/* The choker's regular slots changed while it runs (choker_set_slots, which a session calls
 * when its node learns its uplink): more or fewer peers hold regular slots from the next
 * recompute on, and nothing changes before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dht/rng.h"
#include "transfer/choker.h"

#define S 1000000ull
#define NP 12

static uint64_t rnd64(void *arg)
{
	return rng_next(arg);
}

/* Regular (not optimistic) slot holders after a tick at NOW. */
static unsigned regular_after_tick(struct choker *c, struct choker_peer **p, uint64_t now)
{
	const struct choker_change *ch;
	unsigned n = 0;
	choker_tick(c, now, &ch);
	for (int i = 0; i < NP; i++)
		n += choker_peer_unchoked(p[i]) && !choker_peer_optimistic(p[i]);
	return n;
}

static void test_slots_follow_from_next_recompute(void **state)
{
	(void)state;
	struct rng r;
	struct choker_config cfg;
	struct choker_peer *p[NP];
	rng_seed(&r, 7);
	choker_config_default(&cfg);
	cfg.rand64 = rnd64;
	cfg.rand_arg = &r;
	struct choker *c = choker_new(&cfg, 0);
	assert_non_null(c);
	for (int i = 0; i < NP; i++) {
		p[i] = choker_peer_add(c, NULL, 0);
		assert_non_null(p[i]);
		choker_peer_interested(c, p[i], true, 0);
	}
	assert_int_equal(regular_after_tick(c, p, 0), 4);
	/* An uplink found to carry 8 slots' worth: nothing moves before the 10 s recompute. */
	choker_set_slots(c, 8);
	assert_int_equal(regular_after_tick(c, p, 5 * S), 4);
	assert_int_equal(regular_after_tick(c, p, 10 * S), 8);
	/* Fewer again, and 0 is taken as 1 rather than a choker that uploads to nobody. */
	choker_set_slots(c, 0);
	assert_int_equal(regular_after_tick(c, p, 20 * S), 1);
	choker_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slots_follow_from_next_recompute),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
