/* Address text and socket address conversions: the spellings people type, the ones refused,
 * formatting back, loopback and wildcard recognition, and sockaddr round trips. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <netinet/in.h>
#include <string.h>

#include "node/net/addr.h"

static void test_port(void **state)
{
	(void)state;
	uint16_t p;
	assert_int_equal(addr_parse_port("1", &p), 0);
	assert_int_equal(p, 1);
	assert_int_equal(addr_parse_port("65535", &p), 0);
	assert_int_equal(p, 65535);
	assert_int_equal(addr_parse_port("04000", &p), 0);
	assert_int_equal(p, 4000);
	static const char *const bad[] = { "", "0", "65536", "99999", "123456", "-1", "1a", " 1" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(addr_parse_port(bad[i], &p), -1);
}

static void test_split(void **state)
{
	(void)state;
	char host[ADDR_HOST_MAX];
	uint16_t p;
	assert_int_equal(addr_split("localhost:4000", host, sizeof host, &p), 0);
	assert_string_equal(host, "localhost");
	assert_int_equal(p, 4000);
	assert_int_equal(addr_split("10.0.0.1:1", host, sizeof host, &p), 0);
	assert_string_equal(host, "10.0.0.1");
	assert_int_equal(addr_split("[fe80::1]:80", host, sizeof host, &p), 0);
	assert_string_equal(host, "fe80::1");
	assert_int_equal(p, 80);
	static const char *const bad[] = {
		"localhost", ":4000", "host:", "::1:4000", "[::1]", "[::1]4000", "[]:1", "h:0", "[::1",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(addr_split(bad[i], host, sizeof host, &p), -1);
	/* The host must fit with its NUL. */
	assert_int_equal(addr_split("abcd:1", host, 5, &p), 0);
	assert_int_equal(addr_split("abcde:1", host, 5, &p), -1);
}

/* Each refusal explains itself, and a bare IPv6 address is answered with its bracketed form. */
static void test_explain(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		bool need_ip;
		const char *says;
	} cases[] = {
		{ "::1:4000", false, "[::1]:4000" },
		{ "fe80::1:80", true, "[fe80::1]:80" },
		{ "localhost", false, "no port" },
		{ "[::1", false, "close the brackets" },
		{ "host:0", false, "no valid port" },
		{ "host:", false, "no valid port" },
		{ ":4000", false, "no usable host" },
		{ "nohost:4000", true, "not an IP address" },
		{ "nohost:4000", false, "is a valid address" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char err[256];
		addr_explain(cases[i].s, cases[i].need_ip, err, sizeof err);
		if (strstr(err, cases[i].says) == NULL)
			fail_msg("addr_explain(%s) said '%s', not '%s'", cases[i].s, err, cases[i].says);
	}
}

static void test_parse_format(void **state)
{
	(void)state;
	static const char *const good[] = {
		"127.0.0.1:4000", "192.168.1.5:65535", "[::1]:4000", "[2001:db8::7]:1",
	};
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct dht_addr a;
		char s[ADDR_STR_MAX];
		assert_int_equal(addr_parse(good[i], &a), 0);
		addr_format(&a, s);
		assert_string_equal(s, good[i]);
	}
	static const char *const bad[] = {
		"localhost:4000", "1.2.3:4", "256.1.1.1:4", "[1.2.3.4]:5", "::1:4000", "[::g]:1",
		"1.2.3.4:0", "1.2.3.4",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct dht_addr a;
		assert_int_equal(addr_parse(bad[i], &a), -1);
	}
	struct dht_addr none = { 0 };
	char s[ADDR_STR_MAX];
	addr_format(&none, s);
	assert_string_equal(s, "-");
	/* The longest IPv6 text fits. */
	struct dht_addr big = { .family = 6, .port = 65535 };
	memcpy(big.ip, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16);
	addr_format(&big, s);
	assert_string_equal(s, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535");
}

static void test_kinds(void **state)
{
	(void)state;
	static const struct {
		const char *s;
		bool loopback, unspecified;
	} cases[] = {
		{ "127.0.0.1:1", true, false },   { "127.255.3.4:1", true, false },
		{ "128.0.0.1:1", false, false },  { "10.0.0.1:1", false, false },
		{ "0.0.0.0:1", false, true },     { "[::1]:1", true, false },
		{ "[::]:1", false, true },        { "[::ffff:127.0.0.9]:1", true, false },
		{ "[::ffff:10.0.0.1]:1", false, false }, { "[::2]:1", false, false },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct dht_addr a;
		assert_int_equal(addr_parse(cases[i].s, &a), 0);
		assert_int_equal(addr_is_loopback(&a), cases[i].loopback);
		assert_int_equal(addr_is_unspecified(&a), cases[i].unspecified);
	}
	struct dht_addr none = { 0 };
	assert_false(addr_is_loopback(&none));
	assert_false(addr_is_unspecified(&none));
}

static void test_same_ip(void **state)
{
	(void)state;
	struct dht_addr a, b, c, d, none = { 0 };
	assert_int_equal(addr_parse("192.0.2.2:4000", &a), 0);
	assert_int_equal(addr_parse("192.0.2.2:51234", &b), 0);
	assert_int_equal(addr_parse("192.0.2.3:4000", &c), 0);
	assert_int_equal(addr_parse("[::ffff:192.0.2.2]:4000", &d), 0);
	assert_true(addr_same_ip(&a, &b));
	assert_false(addr_same_ip(&a, &c));
	assert_false(addr_same_ip(&a, &d)); /* a mapped address is another family */
	assert_true(addr_same_ip(&d, &d));
	assert_false(addr_same_ip(&none, &none));
}

static void test_sockaddr(void **state)
{
	(void)state;
	static const char *const addrs[] = { "10.1.2.3:4000", "[2001:db8::7]:6881" };
	for (size_t i = 0; i < sizeof addrs / sizeof addrs[0]; i++) {
		struct dht_addr a, b;
		struct sockaddr_storage ss;
		assert_int_equal(addr_parse(addrs[i], &a), 0);
		socklen_t len = addr_to_sockaddr(&a, &ss);
		assert_int_equal(len, a.family == 4 ? sizeof(struct sockaddr_in)
						    : sizeof(struct sockaddr_in6));
		assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, len, &b), 0);
		assert_true(dht_addr_eq(&a, &b));
		assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, len - 1, &b), -1);
	}
	struct dht_addr none = { 0 };
	struct sockaddr_storage ss;
	assert_int_equal(addr_to_sockaddr(&none, &ss), 0);
	ss.ss_family = AF_UNIX;
	struct dht_addr b;
	assert_int_equal(addr_from_sockaddr((struct sockaddr *)&ss, sizeof ss, &b), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port),  cmocka_unit_test(test_split),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_parse_format), cmocka_unit_test(test_kinds),
		cmocka_unit_test(test_sockaddr), cmocka_unit_test(test_same_ip),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
