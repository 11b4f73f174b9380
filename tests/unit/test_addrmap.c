/* The bounded address map (dht/addrmap.c): records are found by family, IP and port, start
 * zeroed, survive growth and removals, and a full map forgets its least recently used entry
 * (also across the wrap of its 32-bit use times), never holding more than its bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/addrmap.h"

static struct dht_addr addr(uint32_t i, uint16_t port)
{
	struct dht_addr x;
	memset(&x, 0, sizeof x);
	x.family = 4;
	x.ip[0] = 10;
	x.ip[1] = (uint8_t)(i >> 16);
	x.ip[2] = (uint8_t)(i >> 8);
	x.ip[3] = (uint8_t)i;
	x.port = port;
	return x;
}

static void test_put_get_grow(void **state)
{
	(void)state;
	struct addrmap *m = addrmap_new(sizeof(uint64_t), 5000, 7);
	assert_non_null(m);
	struct dht_addr a = addr(1, 1), b = addr(1, 2);
	assert_null(addrmap_get(m, &a, 0));
	for (uint32_t i = 0; i < 3000; i++) {
		struct dht_addr x = addr(i, 1);
		bool added;
		uint64_t *r = addrmap_put(m, &x, i, &added);
		assert_non_null(r);
		assert_true(added);
		assert_int_equal(*r, 0);
		*r = i + 1;
	}
	for (uint32_t i = 0; i < 3000; i++) {
		struct dht_addr x = addr(i, 1);
		uint64_t *r = addrmap_get(m, &x, 5000);
		assert_non_null(r);
		assert_int_equal(*r, i + 1);
	}
	assert_null(addrmap_get(m, &b, 5000)); /* another port is another address */
	bool added;
	uint64_t *r = addrmap_put(m, &a, 6000, &added);
	assert_false(added);
	assert_int_equal(*r, 2);
	addrmap_free(m);
	addrmap_free(NULL);
}

/* A full map evicts the entry used longest ago; uses count as well as puts. BASE shifts every
 * time, so that use times in 1024 us units wrap around 2^32 in the middle when BASE is near. */
static void evicts_lru(uint64_t base)
{
	const uint64_t tick = 1024; /* the map's unit of time */
	struct addrmap *m = addrmap_new(sizeof(uint64_t), 64, 11);
	assert_non_null(m);
	bool added;
	for (uint32_t i = 0; i < 64; i++) {
		struct dht_addr x = addr(i, 9);
		assert_non_null(addrmap_put(m, &x, base + i * tick, &added));
	}
	struct dht_addr first = addr(0, 9), second = addr(1, 9);
	assert_non_null(addrmap_get(m, &first, base + 100 * tick)); /* 0 is now the newest */
	struct dht_addr x = addr(1000, 9);
	assert_non_null(addrmap_put(m, &x, base + 101 * tick, &added));
	assert_true(added);
	assert_null(addrmap_get(m, &second, base + 102 * tick)); /* 1 was the oldest */
	assert_non_null(addrmap_get(m, &first, base + 102 * tick));
	/* Many more addresses: the map keeps its bound and the newest ones. */
	for (uint32_t i = 2000; i < 3000; i++) {
		struct dht_addr y = addr(i, 9);
		assert_non_null(addrmap_put(m, &y, base + (200 + i) * tick, &added));
	}
	unsigned held = 0;
	for (uint32_t i = 0; i < 3000; i++) {
		struct dht_addr y = addr(i, 9);
		held += addrmap_get(m, &y, base + 4000 * tick) != NULL;
	}
	assert_int_equal(held, 64);
	for (uint32_t i = 2936; i < 3000; i++) {
		struct dht_addr y = addr(i, 9);
		assert_non_null(addrmap_get(m, &y, base + 4000 * tick));
	}
	addrmap_free(m);
}

static void test_evicts_lru(void **state)
{
	(void)state;
	evicts_lru(0);
	evicts_lru(((uint64_t)1 << 42) - 1500 * 1024); /* the use times wrap past 2^32 */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_get_grow),
		cmocka_unit_test(test_evicts_lru),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
