/* dhtnode's config file: the reader on its own (layout, comments, hostile bytes, keys given
 * twice) and through args_parse (--config FILE: every key is a long option, the command line
 * overrides the file, and each error names FILE:LINE). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/args.h"
#include "node/config.h"

#define ARGV(...) ((char *[]){ "dhtnode", __VA_ARGS__, NULL })
#define ARGC(...) ((int)(sizeof((char *[]){ "dhtnode", __VA_ARGS__ }) / sizeof(char *)))
#define PARSE(a, err, ...) args_parse(ARGC(__VA_ARGS__), ARGV(__VA_ARGS__), (a), (err), sizeof(err))

static char path[64];

/* Write TEXT to this test's config file (its path is in PATH). */
static void write_file(const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}
#define WRITE(s) write_file((s), sizeof(s) - 1)

static int setup(void **state)
{
	(void)state;
	snprintf(path, sizeof path, "/tmp/test_node_config.%ld.conf", (long)getpid());
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(path);
	return 0;
}

static void test_layout(void **state)
{
	(void)state;
	static const char text[] = "# a node\n\n  listen = 127.0.0.1:4000  \r\n"
				   "\t# indented comment\njoin=10.0.0.1:4000\n"
				   "data-dir = /var/lib/a=b # not a comment\nx-y2 =\nlast = 1";
	char err[256];
	size_t n;
	struct node_config *c = config_parse(text, sizeof text - 1, "t.conf", err, sizeof err);
	assert_non_null(c);
	const struct config_entry *e = config_entries(c, &n);
	assert_int_equal(n, 5);
	assert_string_equal(e[0].key, "listen");
	assert_string_equal(e[0].value, "127.0.0.1:4000");
	assert_int_equal(e[0].line, 3);
	assert_string_equal(e[1].key, "join");
	assert_string_equal(e[1].value, "10.0.0.1:4000");
	assert_int_equal(e[1].line, 5);
	assert_string_equal(e[2].value, "/var/lib/a=b # not a comment");
	assert_string_equal(e[3].key, "x-y2");
	assert_string_equal(e[3].value, "");
	assert_string_equal(e[4].value, "1");
	assert_int_equal(e[4].line, 8);
	assert_string_equal(config_name(c), "t.conf");
	config_free(c);
	config_free(NULL);
	c = config_parse("", 0, "empty", err, sizeof err);
	assert_non_null(c);
	config_entries(c, &n);
	assert_int_equal(n, 0);
	config_free(c);
}

/* The message ERR must contain WANT. */
static void says(const char *err, const char *want)
{
	if (strstr(err, want) == NULL)
		print_error("'%s' does not say '%s'\n", err, want), fail();
}

/* TEXT must be refused with a message containing WANT. */
static void refused(const char *text, size_t len, const char *want)
{
	char err[256] = "";
	assert_null(config_parse(text, len, "t.conf", err, sizeof err));
	says(err, want);
}
#define REFUSED(s, want) refused((s), sizeof(s) - 1, (want))

static void test_malformed(void **state)
{
	(void)state;
	REFUSED("listen 127.0.0.1:4000\n", "t.conf:1: expected 'key = value'");
	REFUSED("# x\n[node]\n", "t.conf:2: expected");
	REFUSED("--listen = 1.2.3.4:5\n", "t.conf:1: '--listen' is not a key");
	REFUSED("Listen = 1.2.3.4:5\n", "is not a key");
	REFUSED(" = 4\n", "t.conf:1: '' is not a key");
	REFUSED("a = 1\nb\n", "t.conf:2: expected");
	REFUSED("listen = a\n\nlisten = b\n", "t.conf:3: listen is already set on line 1");
	REFUSED("listen = a\nlog\0-level = debug\n", "t.conf:2: a NUL byte");
	REFUSED("listen = a\0", "t.conf:1: a NUL byte");
	REFUSED("\xff\xfe = 1\n", "is not a key");
}

static void test_hostile_sizes(void **state)
{
	(void)state;
	/* A long line, many lines and many keys: all parsed, nothing overflows. */
	size_t len = CONFIG_MAX_BYTES;
	char *big = malloc(len);
	assert_non_null(big);
	memset(big, 'a', len);
	big[len - 2] = '=';
	char err[256];
	struct node_config *c = config_parse(big, len, "big", err, sizeof err);
	assert_non_null(c);
	config_free(c);
	size_t at = 0;
	for (unsigned i = 0; at + 16 < len; i++)
		at += (size_t)snprintf(big + at, len - at, "k%u = %u\n", i, i);
	c = config_parse(big, at, "many", err, sizeof err);
	assert_non_null(c);
	size_t n;
	config_entries(c, &n);
	assert_true(n > 4000);
	config_free(c);
	/* The loader refuses a file over the limit rather than reading it all. */
	memset(big, '\n', len);
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(big, 1, len, f), len);
	assert_int_equal(fwrite("\n", 1, 1, f), 1);
	assert_int_equal(fclose(f), 0);
	free(big);
	assert_null(config_load(path, err, sizeof err));
	assert_non_null(strstr(err, "larger than 64 KiB"));
	assert_null(config_load("/nonexistent/dhtnode.conf", err, sizeof err));
	assert_non_null(strstr(err, "--config /nonexistent/dhtnode.conf: No such file"));
	assert_null(config_load("/tmp", err, sizeof err));
	assert_non_null(strstr(err, "--config /tmp: Is a directory"));
}

static void test_args_from_file(void **state)
{
	(void)state;
	struct node_args a;
	char err[256];
	WRITE("listen = 127.0.0.1:4000\njoin = node1.lab:4001\ndata-dir = /srv/node a\n"
	      "succ-len = 4\nreplicas = 2\ncontrol-any = true\ncontrol-secret = /srv/secret\n"
	      "up-rate = 1MiB\nid-bits = 12\n"
	      "network-key = /srv/net.key\nid = 2a\n"); /* --id only in a private ring */
	assert_int_equal(PARSE(&a, err, "--config", path), ARGS_RUN);
	assert_int_equal(a.listen.port, 4000);
	assert_true(a.join);
	assert_string_equal(a.join_host, "node1.lab");
	assert_string_equal(a.data_dir, "/srv/node a");
	assert_int_equal(a.succ_len, 4);
	assert_int_equal(a.replicas, 2);
	assert_true(a.control_any);
	assert_int_equal(a.up_rate, 1024 * 1024);
	assert_true(a.has_id);
	assert_int_equal(id_low64(&a.id), 0x2a);
	args_release(&a);
	args_release(&a);

	/* The command line overrides the file, before or after --config. */
	assert_int_equal(PARSE(&a, err, "--succ-len", "6", "--config", path, "--data-dir=/x",
			       "--listen", "127.0.0.2:5000"),
			 ARGS_RUN);
	assert_int_equal(a.succ_len, 6);
	assert_int_equal(a.replicas, 2);
	assert_string_equal(a.data_dir, "/x");
	assert_int_equal(a.listen.port, 5000);
	args_release(&a);

	/* false leaves a switch off; the last --config given is the one read. */
	WRITE("control-any = false\ndebug-corrupt-uploads = false\n");
	assert_int_equal(PARSE(&a, err, "--config", "/nonexistent", "--config", path, "--listen",
			       "127.0.0.1:4000"),
			 ARGS_RUN);
	assert_false(a.control_any);
	assert_false(a.debug_corrupt);
	args_release(&a);
}

/* The file TEXT given with --config must be refused with a message containing WANT. */
static void args_refused(const char *text, size_t len, const char *want)
{
	struct node_args a;
	char err[512] = "", wanted[256];
	write_file(text, len);
	assert_int_equal(PARSE(&a, err, "--config", path, "--listen", "127.0.0.1:4000"),
			 ARGS_ERROR);
	snprintf(wanted, sizeof wanted, want, path);
	says(err, wanted);
}
#define ARGS_REFUSED(s, want) args_refused((s), sizeof(s) - 1, (want))

static void test_args_errors(void **state)
{
	(void)state;
	ARGS_REFUSED("# c\nlisten-port = 4000\n", "%s:2: unknown key 'listen-port'");
	ARGS_REFUSED("config = /etc/other.conf\n", "%s:1: unknown key 'config'");
	ARGS_REFUSED("help = true\n", "%s:1: unknown key 'help'");
	ARGS_REFUSED("succ-len = 4\nstore-max = lots\n", "%s:2: --store-max lots: give a size");
	ARGS_REFUSED("join = 10.0.0.1:4000 # the first node\n", "%s:1: --join 10.0.0.1:4000 #");
	ARGS_REFUSED("control-any = yes\n", "%s:1: control-any = yes: give true or false");
	ARGS_REFUSED("control-any =\n", "%s:1: control-any = : give true or false");
	ARGS_REFUSED("data-dir =\n", "%s:1: data-dir needs a value");
	ARGS_REFUSED("id-bits = 8\nid-bits = 9\n", "%s:2: id-bits is already set on line 1");
	/* Checks between options see the file's values and the command line's together. */
	ARGS_REFUSED("replicas = 9\n", "--replicas 9 exceeds --succ-len 8");

	struct node_args a;
	char err[256];
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000", "--config"), ARGS_ERROR);
	assert_non_null(strstr(err, "--config needs a value"));
	assert_int_equal(PARSE(&a, err, "--listen", "127.0.0.1:4000", "--config="), ARGS_ERROR);
	says(err, "--config: give a file");
	assert_int_equal(PARSE(&a, err, "--config", "/nonexistent", "--help"), ARGS_ERROR);
	assert_non_null(strstr(err, "--config /nonexistent: No such file"));
	assert_int_equal(PARSE(&a, err, "--help", "--config", path), ARGS_HELP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layout),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test_setup_teardown(test_hostile_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args_from_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_args_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
