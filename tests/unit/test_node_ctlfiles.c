/* The file commands' requests (docs/control.md, "Files"): share, fetch, list, stop, watch and
 * forget with their fields and defaults, and every refusal (relative paths, bad content ids,
 * chunk sizes that are not powers of two in range, bad booleans and time-outs); content id
 * prefixes (node/xfer/prefix.h): which are accepted and what they match. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "node/control/control.h"
#include "node/xfer/prefix.h"

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
	assert_int_equal(parse("{\"cmd\":\"fetch\",\"content_id\":\"" CID "\",\"out\":\"/tmp\"}",
			       &r, &e), 0);
	assert_int_equal(r.cmd, CTL_FETCH);
	assert_string_equal(r.content_hex, CID);
	assert_string_equal(r.path, "/tmp");
	assert_false(r.leave_when_done);
	assert_int_equal(r.timeout_s, 0);
	assert_int_equal(parse("{\"cmd\":\"fetch\",\"content_id\":\"" CID "\",\"out\":\"/tmp\","
			       "\"leave_when_done\":true,\"follow\":true,\"timeout_s\":3}", &r, &e), 0);
	assert_true(r.leave_when_done && r.follow);
	assert_int_equal(r.timeout_s, 3);
	refused("{\"cmd\":\"fetch\",\"out\":\"/tmp\"}", "content_id");
	refused("{\"cmd\":\"fetch\",\"content_id\":\"abc\",\"out\":\"/tmp\"}", "first 4");
	refused("{\"cmd\":\"fetch\",\"content_id\":\"abcg\",\"out\":\"/tmp\"}", "64 hex digits");
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
	assert_int_equal(parse("{\"cmd\":\"forget\",\"content_id\":\"0011\"}", &r, &e), 0);
	assert_int_equal(r.cmd, CTL_FORGET);
	assert_string_equal(r.content_hex, "0011");
	refused("{\"cmd\":\"stop\"}", "content_id");
	refused("{\"cmd\":\"forget\"}", "content_id");
	refused("{\"cmd\":\"watch\",\"content_id\":\"" CID "0\"}", "content_id");
	refused("{\"cmd\":\"watch\",\"content_id\":\" 0011\"}", "content_id");
	assert_string_equal(ctl_code_str(CTL_IO), "io");
	assert_string_equal(ctl_code_str(CTL_BAD_MANIFEST), "bad_manifest");
}

/* A prefix names an id if only that id starts with it; digits compare in either case. */
static void test_prefix(void **state)
{
	(void)state;
	uint8_t ids[3][MANIFEST_ID_LEN] = { { 0x41, 0xad, 0x87, 0x2e }, { 0x41, 0xad, 0x99 },
					    { 0x07 } };
	size_t which[2];
	assert_true(cid_prefix_valid("41ad"));
	assert_true(cid_prefix_valid(CID));
	assert_false(cid_prefix_valid("41a"));
	assert_false(cid_prefix_valid(CID "0"));
	assert_false(cid_prefix_valid("41ax"));
	assert_false(cid_prefix_valid(""));
	assert_int_equal(cid_prefix_find("41ad872e", ids, 3, which, 2), 1);
	assert_int_equal(which[0], 0);
	assert_int_equal(cid_prefix_find("41AD99", ids, 3, which, 2), 1);
	assert_int_equal(which[0], 1);
	assert_int_equal(cid_prefix_find("41ad", ids, 3, which, 2), 2); /* ambiguous */
	assert_true(which[0] == 0 && which[1] == 1);
	assert_int_equal(cid_prefix_find("41ad", ids, 3, which, 1), 2); /* counts past MAX */
	assert_int_equal(cid_prefix_find("0700", ids, 3, which, 2), 1);
	assert_int_equal(which[0], 2);
	assert_int_equal(cid_prefix_find("0701", ids, 3, which, 2), 0);
	assert_int_equal(cid_prefix_find("41ad872e", ids, 0, which, 2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_share), cmocka_unit_test(test_fetch),
		cmocka_unit_test(test_others), cmocka_unit_test(test_prefix),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
