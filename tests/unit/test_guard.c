/* Issue 10: the request layer's guard (dht/guard.c). Tokens hold for the IP they were given to
 * (any port), under the current and the previous secret, not after two rotations nor for another
 * IP; tokens others gave us are remembered per address, the table bounded; each IP's bucket
 * lets a burst through, then the rate, and one IP's flood does not empty another's bucket. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/guard.h"

static struct dht_addr ip4(uint8_t a, uint8_t b, uint16_t port)
{
	struct dht_addr x;
	memset(&x, 0, sizeof x);
	x.family = 4;
	x.ip[0] = 127;
	x.ip[2] = a;
	x.ip[3] = b;
	x.port = port;
	return x;
}

static const uint8_t s1[GUARD_SECRET_LEN] = { 1 }, s2[GUARD_SECRET_LEN] = { 2 },
		     s3[GUARD_SECRET_LEN] = { 3 };

static void test_tokens(void **state)
{
	(void)state;
	struct guard *g = guard_new(10, 10, s1);
	assert_non_null(g);
	struct dht_addr a = ip4(0, 1, 4000), a2 = ip4(0, 1, 5000), b = ip4(0, 2, 4000);
	uint8_t t[DHT_TOKEN_LEN], tb[DHT_TOKEN_LEN];
	guard_token(g, &a, t);
	guard_token(g, &b, tb);
	assert_true(guard_token_ok(g, &a, t));
	assert_true(guard_token_ok(g, &a2, t));
	assert_false(guard_token_ok(g, &b, t));
	assert_memory_not_equal(t, tb, DHT_TOKEN_LEN);
	assert_false(guard_rotate_due(g, 0));
	assert_true(guard_rotate_due(g, GUARD_ROTATE_US));
	guard_rotate(g, GUARD_ROTATE_US, s2);
	assert_true(guard_token_ok(g, &a, t));
	guard_rotate(g, 2 * GUARD_ROTATE_US, s3);
	assert_false(guard_token_ok(g, &a, t));
	guard_free(g);
}

static void test_learned_tokens(void **state)
{
	(void)state;
	struct guard *g = guard_new(10, 10, s1);
	uint8_t t[DHT_TOKEN_LEN] = { 7 }, out[DHT_TOKEN_LEN];
	struct dht_addr a = ip4(0, 1, 4000);
	assert_false(guard_echo(g, &a, out, 9));
	guard_learn(g, &a, t, 1);
	assert_true(guard_echo(g, &a, out, 9));
	assert_memory_equal(out, t, DHT_TOKEN_LEN);
	/* Many more addresses than the table holds: it stays bounded, the newest are kept. */
	for (unsigned i = 0; i < 5000; i++) {
		struct dht_addr x = ip4((uint8_t)(i >> 8), (uint8_t)i, 1);
		guard_learn(g, &x, t, 2 + i);
	}
	struct dht_addr last = ip4((uint8_t)(4999 >> 8), (uint8_t)4999, 1);
	assert_true(guard_echo(g, &last, out, 9));
	assert_false(guard_echo(g, &a, out, 9));
	guard_free(g);
}

static void test_rate(void **state)
{
	(void)state;
	struct guard *g = guard_new(100, 50, s1); /* 100 a second, bursts of 50 */
	struct dht_addr a = ip4(0, 1, 4000), b = ip4(0, 2, 4000);
	unsigned ok = 0;
	for (unsigned i = 0; i < 1000; i++)
		ok += guard_allow(g, &a, 0);
	assert_int_equal(ok, 50);
	assert_true(guard_allow(g, &b, 0));
	/* A second later: 100 more. */
	ok = 0;
	for (unsigned i = 0; i < 1000; i++)
		ok += guard_allow(g, &a, 1000000);
	assert_int_equal(ok, 50); /* the bucket holds at most the burst */
	ok = 0;
	for (unsigned i = 0; i < 100; i++)
		ok += guard_allow(g, &a, 1000000 + 10000 * (uint64_t)i); /* one per 10 ms */
	assert_int_equal(ok, 99);
	guard_free(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_learned_tokens),
		cmocka_unit_test(test_rate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
