/* dht/units: every size and rate spelling the programs accept, the ones they refuse, lists,
 * and the text printed back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dht/units.h"

static void test_parse_accepts(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		uint64_t v;
	} ok[] = {
		{ "0", 0 },		{ "unlimited", 0 },	 { "4096", 4096 },
		{ "12B", 12 },		{ "1K", 1024 },		 { "1KiB", 1024 },
		{ "64MiB", 64u << 20 }, { "3M", 3u << 20 },	 { "2GiB", 2ull << 30 },
		{ "2G", 2ull << 30 },	{ "5kB", 5000 },	 { "5KB", 5000 },
		{ "7MB", 7000000 },	{ "1GB", 1000000000 },	 { "0.5MiB", 512u << 10 },
		{ "1.5MiB", 3u << 19 }, { ".5K", 512 },		 { "1.MiB", 1u << 20 },
		{ "0.0", 0 },		{ "1.5B", 2 },		 { "0.001kB", 1 },
		{ "0.123456789GiB", 132560718 },
		{ "4611686018427387904", UINT64_C(1) << 62 },
		{ "4294967296GiB", UINT64_C(1) << 62 },
	};
	uint64_t v;

	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		v = 99;
		assert_int_equal(units_parse(ok[i].s, &v), 0);
		assert_true(v == ok[i].v);
	}
}

static void test_parse_refuses(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",	    "MiB",    "1 MiB",	 " 1",	 "1mib", "-1",	 "+1",	  "1TiB", "1e6",
		"0x10",	    "inf",    "nan",	 ".",	 "1..2", "1.2.3", "1,5",  "Unlimited",
		"unlimitedx", "0.1B", "1.0000000001MiB", "4611686018427387905",
		"4294967297GiB", "12345678901234567890123", "1KiBs", "1MiB ",
	};
	uint64_t v = 7;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(units_parse(bad[i], &v), -1);
		assert_true(v == 7);
	}
}

static void test_parse_n(void **state)
{
	(void)state;
	uint64_t v;

	assert_int_equal(units_parse_n("2MiB..8MiB", 4, &v), 0);
	assert_true(v == 2u << 20);
	assert_int_equal(units_parse_n("2MiB", 0, &v), -1);
}

static void test_list(void **state)
{
	(void)state;
	uint64_t v[3];
	unsigned n;

	assert_int_equal(units_parse_list("0.5MiB,2MiB", v, 3, &n), 0);
	assert_int_equal(n, 2);
	assert_true(v[0] == 512u << 10 && v[1] == 2u << 20);
	assert_int_equal(units_parse_list("1K", v, 3, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(units_parse_list("1K,fast,2K", v, 3, &n), -1);
	assert_int_equal(n, 1);
	assert_int_equal(units_parse_list("1K,,2K", v, 3, &n), -1);
	assert_int_equal(n, 1);
	assert_int_equal(units_parse_list("1,2,3,4", v, 3, &n), -1);
	assert_int_equal(n, 3);
	assert_int_equal(units_parse_list("", v, 3, &n), -1);
	assert_int_equal(n, 0);
}

static void test_format(void **state)
{
	(void)state;
	char buf[32];

	assert_string_equal(units_format_size(0, buf, sizeof buf), "0 B");
	assert_string_equal(units_format_size(1023, buf, sizeof buf), "1023 B");
	assert_string_equal(units_format_size(1536, buf, sizeof buf), "1.5 KiB");
	assert_string_equal(units_format_size(3u << 19, buf, sizeof buf), "1.50 MiB");
	assert_string_equal(units_format_size(2ull << 30, buf, sizeof buf), "2.00 GiB");
	assert_string_equal(units_format_rate(0, buf, sizeof buf), "unlimited");
	assert_string_equal(units_format_rate(1u << 20, buf, sizeof buf), "1.00 MiB/s");
	assert_string_equal(units_format_rate(512u << 10, buf, sizeof buf), "512.0 KiB/s");
	/* A short buffer gets a truncated, terminated string. */
	assert_string_equal(units_format_rate(1u << 20, buf, 6), "1.00 ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_accepts), cmocka_unit_test(test_parse_refuses),
		cmocka_unit_test(test_parse_n),	      cmocka_unit_test(test_list),
		cmocka_unit_test(test_format),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
