/* tools/lib/bound: the textbook's D_p2p and D_cs for the set-ups, uncapped rates (a
 * term with no cap bounds nothing, never a division by zero), the rate and head start of
 * dhtnode's cap, and the judgement that refuses a time below the bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tools/lib/bound.h"

#define MIB (UINT64_C(1) << 20)

static void assert_near(double a, double b)
{
	assert_true(a - b < 1e-6 && b - a < 1e-6);
}

static void test_textbook(void **state)
{
	(void)state;
	uint64_t up[16];
	struct bound_swarm s = { .file_bytes = 32 * MIB, .n = 16, .seed_up = 2 * MIB, .up = up };

	for (int i = 0; i < 16; i++)
		up[i] = MIB;
	/* N F / (u_s + sum u_i) = 16 x 32 / 18 s. */
	assert_near(bound_capacity(&s), 18.0 * MIB);
	assert_near(bound_p2p(&s), 16.0 * 32 / 18);
	assert_near(bound_cs(&s), 256);
	for (int i = 0; i < 16; i++)
		up[i] = i % 2 ? 2 * MIB : MIB / 2;
	assert_near(bound_p2p(&s), 16.0 * 32 / 22);
	/* The slowest download sets the bound when uplinks are plentiful. */
	s = (struct bound_swarm){ .file_bytes = 8 * MIB, .n = 4, .seed_up = 8 * MIB, .up = up,
				  .d_min = MIB };
	for (int i = 0; i < 4; i++)
		up[i] = 8 * MIB;
	assert_near(bound_p2p(&s), 8);
	assert_near(bound_cs(&s), 8);
	/* One peer: the seed's upload. */
	s = (struct bound_swarm){ .file_bytes = 4 * MIB, .n = 1, .seed_up = 2 * MIB, .up = up };
	up[0] = MIB;
	assert_near(bound_p2p(&s), 2);
}

static void test_uncapped(void **state)
{
	(void)state;
	uint64_t up[2] = { MIB, 0 };
	struct bound_swarm s = { .file_bytes = 4 * MIB, .n = 2, .seed_up = 0, .up = up };

	/* Nothing bounds an uncapped seed and an uncapped peer: 0, not infinity or NaN. */
	assert_near(bound_capacity(&s), 0);
	assert_near(bound_p2p(&s), 0);
	assert_near(bound_cs(&s), 0);
	s.d_min = MIB;
	assert_near(bound_p2p(&s), 4);
	assert_near(bound_cs(&s), 4);
	/* A capped seed with one uncapped peer: only the seed's term is left. */
	s = (struct bound_swarm){ .file_bytes = 4 * MIB, .n = 2, .seed_up = MIB, .up = up };
	assert_near(bound_p2p(&s), 4);
	assert_near(bound_cs(&s), 8);
	assert_near(bound_p2p_node(&(struct bound_swarm){ .file_bytes = MIB, .n = 2, .up = up }), 0);
}

static void test_node_cap(void **state)
{
	(void)state;
	uint64_t up[1] = { MIB };
	struct bound_swarm s = { .file_bytes = 4 * MIB, .n = 1, .seed_up = 2 * MIB, .up = up };

	/* The bucket gets RATE/20 + 1 bytes 20 times a second. */
	assert_true(bound_node_rate(0) == 0);
	assert_true(bound_node_rate(1000) == 1020);
	assert_true(bound_node_rate(2 * MIB) == 2 * MIB + 8);
	/* The run: 4 MiB from a seed capped at 2 MiB/s can arrive 0.15 s before 2 s. */
	assert_near(bound_p2p_node(&s), 4.0 * MIB / (2 * MIB + 8) - BOUND_NODE_HEAD_START_S);
	assert_true(bound_p2p_node(&s) < 1.86 && bound_p2p_node(&s) > 1.84);
}

static void test_judge(void **state)
{
	(void)state;
	char why[200] = "";
	double ratio;

	/* The measurement against the textbook bound: not a valid figure. */
	assert_false(bound_judge(1.95, 2.0, &ratio, why, sizeof why));
	assert_near(ratio, 0.975);
	assert_non_null(strstr(why, "below the lower bound"));
	why[0] = '\0';
	assert_true(bound_judge(1.95, 1.85, &ratio, why, sizeof why));
	assert_near(ratio, 1.95 / 1.85);
	assert_true(bound_judge(2.0, 2.0, &ratio, why, sizeof why));
	assert_near(ratio, 1);
	/* No bound, or no time: no ratio, nothing to refuse. */
	assert_true(bound_judge(1.0, 0, &ratio, why, sizeof why));
	assert_near(ratio, 0);
	assert_true(bound_judge(-1, 2.0, &ratio, why, sizeof why));
	assert_near(ratio, 0);
	assert_string_equal(why, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_textbook),
		cmocka_unit_test(test_uncapped),
		cmocka_unit_test(test_node_cap),
		cmocka_unit_test(test_judge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
