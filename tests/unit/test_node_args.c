/* dhtnode's command line and its small parsers: defaults, every option in both spellings, the
 * checks between options, and the errors a person sees for each kind of mistake. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "node/args.h"
#include "node/log.h"

#define ARGV(...) ((char *[]){ "dhtnode", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "dhtnode", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, err, ...) args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err), sizeof(err))

static void test_defaults(void **state)
{
	(void)state;
	struct node_args a;
	char err[256];
	struct dht_config cfg;
	dht_config_default(&cfg);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000"), ARGS_RUN);
	assert_int_equal(a.listen.family, 4);
	assert_int_equal(a.listen.port, 4000);
	assert_memory_equal(a.listen.ip, "\x7f\0\0\x01", 4);
	assert_false(a.join);
	assert_false(a.has_id);
	assert_false(a.control_any);
	assert_null(a.data_dir);
	assert_int_equal(a.bits, cfg.bits);
	assert_int_equal(a.succ_len, cfg.succ_len);
	assert_int_equal(a.replicas, cfg.kv_replicas);
	assert_int_equal(a.store_max, cfg.kv_max_bytes);
	assert_int_equal(a.log_level, DHT_LOG_INFO);
}

static void test_all_options(void **state)
{
	(void)state;
	struct node_args a;
	char err[256];
	assert_int_equal(PARSE(&a, err, "--id=2a", "--listen=[::1]:4001", "--join", "node1.lab:4000",
			       "--id-bits", "12", "--data-dir", "/tmp/x", "--log-level=debug",
			       "--succ-len", "4", "--replicas", "2", "--store-max", "1MiB",
			       "--control-any", "--control-secret", "/tmp/s", "--network-key", "/tmp/k"),
			 ARGS_RUN);
	assert_int_equal(a.listen.family, 6);
	assert_int_equal(a.listen.ip[15], 1);
	assert_int_equal(a.listen.port, 4001);
	assert_true(a.join);
	assert_string_equal(a.join_host, "node1.lab");
	assert_int_equal(a.join_port, 4000);
	assert_int_equal(a.bits, 12);
	/* --id came before --id-bits and is still checked against 12 bits. */
	assert_true(a.has_id);
	assert_int_equal(id_low64(&a.id), 0x2a);
	assert_string_equal(a.data_dir, "/tmp/x");
	assert_int_equal(a.log_level, DHT_LOG_DEBUG);
	assert_int_equal(a.succ_len, 4);
	assert_int_equal(a.replicas, 2);
	assert_int_equal(a.store_max, 1 << 20);
	assert_true(a.control_any);
	assert_string_equal(a.control_secret, "/tmp/s");
}

static void test_help_version(void **state)
{
	(void)state;
	struct node_args a;
	char err[256];
	assert_int_equal(PARSE(&a, err, "--help"), ARGS_HELP);
	assert_int_equal(PARSE(&a, err, "--listen", "bad", "--help"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--version"), ARGS_VERSION);
}

/* Each mistake is refused, and the message names the option. */
static void test_errors(void **state)
{
	(void)state;
	struct node_args a;
	char err[256];
	assert_int_equal(PARSE(&a, err, "--join", "127.0.0.1:4000"), ARGS_ERROR);
	assert_non_null(strstr(err, "--listen"));
	assert_int_equal(PARSE(&a, err, "--listen", "0.0.0.0:4000"), ARGS_ERROR);
	assert_non_null(strstr(err, "wildcard"));
	assert_int_equal(PARSE(&a, err, "--listen", "[::]:4000"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "local/host:4000"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:0"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:65536"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen"), ARGS_ERROR);
	assert_non_null(strstr(err, "needs a value"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--join", "h"), ARGS_ERROR);
	assert_non_null(strstr(err, "--join"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--id-bits", "7"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--id-bits", "161"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--id-bits", "8", "--id", "100",
			       "--network-key", "k"),
			 ARGS_ERROR);
	assert_non_null(strstr(err, "--id"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--id", "xyz", "--network-key",
			       "k"),
			 ARGS_ERROR);
	/* A chosen id only where every member is trusted by holding the network key. */
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--id", "2a"), ARGS_ERROR);
	assert_non_null(strstr(err, "--network-key"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--network-key", ""), ARGS_ERROR);
	assert_non_null(strstr(err, "keygen"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--succ-len", "1"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--succ-len", "2", "--replicas",
			       "3"),
			 ARGS_ERROR);
	assert_non_null(strstr(err, "--replicas"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--store-max", "1K"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--log-level", "loud"),
			 ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--control-any=yes"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--data-dir="), ARGS_ERROR);
	/* Issue 10: remote control only with a secret, and the refusal says how to give one. */
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--control-any"), ARGS_ERROR);
	assert_non_null(strstr(err, "--control-any needs --control-secret FILE"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--control-secret="),
			 ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "-v"), ARGS_ERROR);
	assert_non_null(strstr(err, "unknown argument '-v'"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "--lis"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:1", "extra"), ARGS_ERROR);
}

/* --http takes a loopback IP:PORT, or a wider one with the control secret (refused without it,
 * with the reason); a malformed one is refused with how to write it. */
static void test_http(void **state)
{
	(void)state;
	struct node_args a;
	char err[256];
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000"), ARGS_RUN);
	assert_int_equal(a.http.family, 0);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000", "--http", "127.0.0.2:8080"),
			 ARGS_RUN);
	assert_int_equal(a.http.family, 4);
	assert_int_equal(a.http.port, 8080);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000", "--http=[::1]:8080"), ARGS_RUN);
	assert_int_equal(a.http.family, 6);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000", "--http", "192.168.1.5:80"),
			 ARGS_ERROR);
	assert_non_null(strstr(err, "--http beyond loopback needs the control secret"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000", "--http", "192.168.1.5:80",
			       "--control-secret", "/etc/dhtnode/secret"), ARGS_RUN);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000", "--http", "0.0.0.0:80"),
			 ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000", "--http", "localhost"),
			 ARGS_ERROR);
	assert_non_null(strstr(err, "--http localhost"));
}

/* Discovery's options, and an interface name in --listen (resolved later, by main). */
static void test_discovery_options(void **state)
{
	(void)state;
	struct node_args a;
	char err[256];
	assert_int_equal(PARSE(&a, err, "--listen", "10.0.0.1:4000"), ARGS_RUN);
	assert_false(a.new_ring);
	assert_false(a.no_discovery);
	assert_string_equal(a.listen_iface, "");
	assert_int_equal(PARSE(&a, err, "--listen", "eth0:4001", "--new-ring"), ARGS_RUN);
	assert_string_equal(a.listen_iface, "eth0");
	assert_int_equal(a.listen.port, 4001);
	assert_true(a.new_ring);
	assert_int_equal(PARSE(&a, err, "--listen", "10.0.0.1:4000", "--no-discovery"), ARGS_RUN);
	assert_true(a.no_discovery);
	assert_int_equal(PARSE(&a, err, "--listen", "10.0.0.1:4000", "--new-ring", "--join",
			       "10.0.0.2:4000"), ARGS_ERROR);
	assert_non_null(strstr(err, "--new-ring"));
	assert_int_equal(PARSE(&a, err, "--listen", "a-very-long-interface-name:4000"), ARGS_ERROR);
	assert_int_equal(PARSE(&a, err, "--listen", "eth0"), ARGS_ERROR);
}

static void test_parse_uint(void **state)
{
	(void)state;
	uint64_t v;
	assert_int_equal(parse_uint("0", 0, 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(parse_uint("10", 0, 10, &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(parse_uint("11", 0, 10, &v), -1);
	assert_int_equal(parse_uint("4", 5, 10, &v), -1);
	assert_int_equal(parse_uint("", 0, 10, &v), -1);
	assert_int_equal(parse_uint("-1", 0, 10, &v), -1);
	assert_int_equal(parse_uint("+1", 0, 10, &v), -1);
	assert_int_equal(parse_uint("1 ", 0, 10, &v), -1);
	assert_int_equal(parse_uint("18446744073709551615", 0, UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(parse_uint("18446744073709551616", 0, UINT64_MAX, &v), -1);
	assert_int_equal(parse_uint("99999999999999999999999", 0, UINT64_MAX, &v), -1);
}

static void test_log_levels(void **state)
{
	(void)state;
	enum dht_log_level l;
	static const char *const names[] = { "error", "warn", "info", "debug" };
	for (int i = 0; i < 4; i++) {
		assert_int_equal(log_level_parse(names[i], &l), 0);
		assert_int_equal(l, i);
		assert_string_equal(log_level_str(l), names[i]);
	}
	assert_int_equal(log_level_parse("warning", &l), -1);
	assert_int_equal(log_level_parse("INFO", &l), -1);
	log_set_level(DHT_LOG_WARN);
	assert_true(log_enabled(DHT_LOG_ERROR));
	assert_true(log_enabled(DHT_LOG_WARN));
	assert_false(log_enabled(DHT_LOG_INFO));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),     cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_help_version), cmocka_unit_test(test_errors),
		cmocka_unit_test(test_parse_uint),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_discovery_options),
		cmocka_unit_test(test_log_levels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
