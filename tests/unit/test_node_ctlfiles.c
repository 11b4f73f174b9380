/* The file commands' requests (docs/control.md, "Files"): share, fetch, list, stop and watch
 * with their fields and defaults, and every refusal (relative paths, bad content ids, chunk
 * sizes that are not powers of two in range, bad booleans and time-outs). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "node/control/control.h"

#define CID "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static int parse(const char *line, struct ctl_request *req, struct ctl_error *err)
{
	return ctl_parse_request(line, strlen(line), 160, req, err);
}

static void refused(const char *line, const char *what)
{
	struct ctl_request r;
	struct ctl_error e;
	assert_int_equal(parse(line, &r, &e), -1);
	assert_int_equal(e.code, CTL_USAGE);
	assert_non_null(strstr(e.msg, what));
}

static void test_share(void **state)
{
	(void)state;
	struct ctl_request r;
	struct ctl_error e;
	assert_int_equal(parse("{\"cmd\":\"share\",\"path\":\"/srv/a b\"}", &r, &e), 0);
	assert_int_equal(r.cmd, CTL_SHARE);
	assert_string_equal(r.path, "/srv/a b");
	assert_int_equal(r.chunk_size, 0);
	assert_false(r.follow);
	assert_int_equal(parse("{\"cmd\":\"share\",\"path\":\"/x\",\"chunk_size\":1048576,"
			       "\"follow\":true}", &r, &e), 0);
	assert_int_equal(r.chunk_size, 1048576);
	assert_true(r.follow);
	refused("{\"cmd\":\"share\"}", "path");
	refused("{\"cmd\":\"share\",\"path\":\"rel/x\"}", "absolute");
	refused("{\"cmd\":\"share\",\"path\":\"/x\",\"chunk_size\":100000}", "power of two");
	refused("{\"cmd\":\"share\",\"path\":\"/x\",\"chunk_size\":8192}", "chunk_size");
	refused("{\"cmd\":\"share\",\"path\":\"/x\",\"follow\":1}", "true or false");
}

static void test_fetch(void **state)
{
	(void)state;
	struct ctl_request r;
	struct ctl_error e;
	uint8_t want[MANIFEST_ID_LEN] = { 0x00, 0x11, 0x22, 0x33 };
	assert_int_equal(parse("{\"cmd\":\"fetch\",\"content_id\":\"" CID "\",\"out\":\"/tmp\"}",
			       &r, &e), 0);
	assert_int_equal(r.cmd, CTL_FETCH);
	assert_memory_equal(r.content, want, 4);
	assert_int_equal(r.content[31], 0xff);
	assert_string_equal(r.path, "/tmp");
	assert_false(r.leave_when_done);
	assert_int_equal(r.timeout_s, 0);
	assert_int_equal(parse("{\"cmd\":\"fetch\",\"content_id\":\"" CID "\",\"out\":\"/tmp\","
			       "\"leave_when_done\":true,\"follow\":true,\"timeout_s\":3}", &r, &e), 0);
	assert_true(r.leave_when_done && r.follow);
	assert_int_equal(r.timeout_s, 3);
	refused("{\"cmd\":\"fetch\",\"out\":\"/tmp\"}", "content_id");
	refused("{\"cmd\":\"fetch\",\"content_id\":\"abc\",\"out\":\"/tmp\"}", "64 hex digits");
	refused("{\"cmd\":\"fetch\",\"content_id\":\"" CID "\"}", "out");
	refused("{\"cmd\":\"fetch\",\"content_id\":\"" CID "\",\"out\":\"/t\",\"timeout_s\":0}",
		"timeout_s");
	refused("{\"cmd\":\"fetch\",\"content_id\":\"" CID "\",\"out\":\"/t\","
		"\"timeout_s\":99999}", "timeout_s");
}

static void test_others(void **state)
{
	(void)state;
	struct ctl_request r;
	struct ctl_error e;
	assert_int_equal(parse("{\"cmd\":\"list\"}", &r, &e), 0);
	assert_int_equal(r.cmd, CTL_LIST);
	assert_int_equal(parse("{\"cmd\":\"stop\",\"content_id\":\"" CID "\"}", &r, &e), 0);
	assert_int_equal(r.cmd, CTL_STOP);
	assert_int_equal(parse("{\"cmd\":\"watch\",\"content_id\":\"" CID "\"}", &r, &e), 0);
	assert_int_equal(r.cmd, CTL_WATCH);
	refused("{\"cmd\":\"stop\"}", "content_id");
	refused("{\"cmd\":\"watch\",\"content_id\":\"" CID "0\"}", "content_id");
	assert_string_equal(ctl_code_str(CTL_IO), "io");
	assert_string_equal(ctl_code_str(CTL_BAD_MANIFEST), "bad_manifest");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share), cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_others),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
