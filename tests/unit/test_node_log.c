/* The logger's sink escapes what a message carries: a peer's newline or escape sequence,
 * passed through any format argument, never starts a line of its own or reaches the reader
 * as a control character, and good UTF-8 stays as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>
#include <unistd.h>

#include "node/log.h"

/* Log MSG (as a %s argument) with stderr into a pipe; return what was written. */
static const char *logged(const char *msg)
{
	static char out[2048];
	int fds[2], saved = dup(STDERR_FILENO);
	assert_int_equal(pipe(fds), 0);
	dup2(fds[1], STDERR_FILENO);
	log_info("peer said: %s", msg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	close(fds[1]);
	ssize_t n = read(fds[0], out, sizeof out - 1);
	close(fds[0]);
	assert_true(n > 0);
	out[n] = '\0';
	return out;
}

static void test_escapes_peer_text(void **state)
{
	(void)state;
	const char *line = logged("name\n2026-01-01 00:00:00.000 info  FAKE LOG LINE\x1b[2J");
	assert_non_null(strstr(line, "peer said: name\\x0a2026-01-01"));
	assert_non_null(strstr(line, "FAKE LOG LINE\\x1b[2J"));
	assert_ptr_equal(strchr(line, '\n'), line + strlen(line) - 1); /* one line */
	assert_null(strchr(line, '\x1b'));
	line = logged("caf\xc3\xa9");
	assert_non_null(strstr(line, "peer said: caf\xc3\xa9\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escapes_peer_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
