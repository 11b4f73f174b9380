/* UTF-8 checks and escaping (dht/utf8.h): what is valid text, which characters are controls,
 * and that an escape turns any bytes into one printable line that keeps good text as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dht/utf8.h"

static bool ok(const char *s)
{
	return utf8_text_ok((const uint8_t *)s, strlen(s));
}

static void test_text_ok(void **state)
{
	(void)state;
	assert_true(ok(""));
	assert_true(ok("plain name.txt"));
	assert_true(ok("\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xc2\xa0")); /* é € 😀 NBSP */
	const char *bad[] = { "a\nb", "\x1b[31m", "\t", "\x7f", "\xc2\x85", "\xc2\x9f", "\xff",
			      "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
			      "\xc3", "\xe2\x82", "\x80" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_false(ok(bad[i]));
	assert_false(utf8_text_ok((const uint8_t *)"a\0b", 3));
}

static const char *esc(const char *s, size_t cap)
{
	static char out[256];
	utf8_escape((const uint8_t *)s, strlen(s), out, cap);
	return out;
}

static void test_escape(void **state)
{
	(void)state;
	assert_string_equal(esc("name \xc3\xa9.txt", 256), "name \xc3\xa9.txt");
	assert_string_equal(esc("x\nFAKE LOG LINE", 256), "x\\x0aFAKE LOG LINE");
	assert_string_equal(esc("\x1b[31mred", 256), "\\x1b[31mred");
	assert_string_equal(esc("a\xc2\x85z", 256), "a\\xc2\\x85z");
	assert_string_equal(esc("a\xff\xc3", 256), "a\\xff\\xc3");
	/* Cut at a character or escape boundary, always terminated. */
	assert_string_equal(esc("ab\ncd", 6), "ab");
	assert_string_equal(esc("a\xc3\xa9", 3), "a");
	assert_string_equal(esc("abc", 1), "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_ok),
		cmocka_unit_test(test_escape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
