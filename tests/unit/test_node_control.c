/* The control protocol's JSON (docs/control.md): each command's fields, the defaults, every
 * refusal with its code, and the response pieces (node objects, error lines, values that are
 * not UTF-8, lookup paths). Access (issue 10): the auth lines, the challenge-response, the
 * secret file's rules, and the owner check on a real loopback connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "node/control/access.h"
#include "node/control/control.h"
#include "node/control/ctlauth.h"

static int parse(const char *line, unsigned bits, struct ctl_request *req, struct ctl_error *err)
{
	return ctl_parse_request(line, strlen(line), bits, req, err);
}

static void assert_refused(const char *line, unsigned bits, enum ctl_code code)
{
	struct ctl_request req;
	struct ctl_error err;
	assert_int_equal(parse(line, bits, &req, &err), -1);
	assert_int_equal(err.code, code);
	assert_true(strlen(err.msg) > 10);
}

static void test_commands(void **state)
{
	(void)state;
	struct ctl_request r;
	struct ctl_error e;
	struct dht_id k;
	assert_int_equal(parse("{\"cmd\":\"put\",\"key\":\"hello\",\"value\":\"world\",\"ttl\":60}",
			       160, &r, &e), 0);
	assert_int_equal(r.cmd, CTL_PUT);
	id_from_key(&k, "hello", 5, 160);
	assert_true(id_eq(&r.key, &k));
	assert_int_equal(r.value_len, 5);
	assert_memory_equal(r.value, "world", 5);
	assert_int_equal(r.ttl_s, 60);

	assert_int_equal(parse("{\"cmd\":\"get\",\"id\":\"ab\"}", 8, &r, &e), 0);
	assert_int_equal(r.cmd, CTL_GET);
	assert_int_equal(id_low64(&r.key), 0xab);
	assert_int_equal(parse(" {\"id\":\"1\",\"cmd\":\"lookup\",\"extra\":[1]} ", 8, &r, &e), 0);
	assert_int_equal(r.cmd, CTL_LOOKUP);
	assert_int_equal(parse("{\"cmd\":\"status\"}", 160, &r, &e), 0);
	assert_int_equal(r.cmd, CTL_STATUS);

	assert_int_equal(parse("{\"cmd\":\"ring\"}", 160, &r, &e), 0);
	assert_int_equal(r.max, CTL_RING_DEFAULT_MAX);
	assert_int_equal(parse("{\"cmd\":\"ring\",\"max\":16}", 160, &r, &e), 0);
	assert_int_equal(r.max, 16);

	assert_int_equal(parse("{\"cmd\":\"announce\",\"id\":\"ff\",\"peer\":\"[::1]:6881\","
			       "\"ttl\":1800}", 8, &r, &e), 0);
	assert_int_equal(r.cmd, CTL_ANNOUNCE);
	assert_int_equal(r.peer.family, 6);
	assert_int_equal(r.peer.port, 6881);
	assert_int_equal(r.ttl_s, 1800);
	assert_int_equal(parse("{\"cmd\":\"get_peers\",\"key\":\"f\"}", 160, &r, &e), 0);
	assert_int_equal(r.max, KV_MAX_PEERS_REPLY);
	assert_int_equal(parse("{\"cmd\":\"get_peers\",\"key\":\"f\",\"max\":5}", 160, &r, &e), 0);
	assert_int_equal(r.max, 5);
}

static void test_value_limits(void **state)
{
	(void)state;
	char line[2200];
	struct ctl_request r;
	struct ctl_error e;
	char value[KV_MAX_VALUE + 2];
	memset(value, 'v', sizeof value);
	value[KV_MAX_VALUE] = '\0';
	snprintf(line, sizeof line, "{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"%s\"}", value);
	assert_int_equal(parse(line, 160, &r, &e), 0);
	assert_int_equal(r.value_len, KV_MAX_VALUE);
	value[KV_MAX_VALUE] = 'v';
	value[KV_MAX_VALUE + 1] = '\0';
	snprintf(line, sizeof line, "{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"%s\"}", value);
	assert_refused(line, 160, CTL_TOO_LARGE);
	/* Bytes, not characters: 500 two-byte characters fit exactly. */
	char *p = line + sprintf(line, "{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"");
	for (int i = 0; i < 500; i++)
		p += sprintf(p, "\xc3\xa9");
	strcpy(p, "\"}");
	assert_int_equal(parse(line, 160, &r, &e), 0);
	assert_int_equal(r.value_len, 1000);
	assert_int_equal(parse("{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"\"}", 160, &r, &e), 0);
	assert_int_equal(r.value_len, 0);
}

static void test_refusals(void **state)
{
	(void)state;
	static const char *const usage[] = {
		"", "   ", "{", "nonsense", "[1,2]", "\"put\"", "{}", "{\"cmd\":1}",
		"{\"cmd\":\"frob\"}", "{\"cmd\":\"get\"}", "{\"cmd\":\"get\",\"key\":1}",
		"{\"cmd\":\"get\",\"key\":\"a\",\"id\":\"1\"}", "{\"cmd\":\"get\",\"id\":\"xyz\"}",
		"{\"cmd\":\"get\",\"id\":\"100\"}", "{\"cmd\":\"get\",\"id\":\"\"}",
		"{\"cmd\":\"put\",\"key\":\"a\"}", "{\"cmd\":\"put\",\"key\":\"a\",\"value\":5}",
		"{\"cmd\":\"put\",\"key\":\"a\",\"value\":\"v\",\"ttl\":-1}",
		"{\"cmd\":\"put\",\"key\":\"a\",\"value\":\"v\",\"ttl\":1.5}",
		"{\"cmd\":\"put\",\"key\":\"a\",\"value\":\"v\",\"ttl\":4294967296}",
		"{\"cmd\":\"put\",\"key\":\"a\",\"value\":\"v\",\"ttl\":\"60\"}",
		"{\"cmd\":\"ring\",\"max\":0}", "{\"cmd\":\"ring\",\"max\":100000}",
		"{\"cmd\":\"get_peers\",\"key\":\"a\",\"max\":51}",
		"{\"cmd\":\"announce\",\"key\":\"a\"}",
		"{\"cmd\":\"announce\",\"key\":\"a\",\"peer\":\"host:1\"}",
		"{\"cmd\":\"announce\",\"key\":\"a\",\"peer\":\"1.2.3.4:0\"}",
		"{\"cmd\":\"get\",\"key\":\"a\",\"key\":\"b\"}",
		"{\"cmd\":\"get\",\"key\":\"a\\u0000b\"}",
		"{\"cmd\":\"get\",\"key\":\"\xff\"}",
		"{\"cmd\":\"status\"} {\"cmd\":\"status\"}",
	};
	for (size_t i = 0; i < sizeof usage / sizeof usage[0]; i++)
		assert_refused(usage[i], 8, CTL_USAGE);
	/* The length limit holds whatever the content. */
	struct ctl_request r;
	struct ctl_error e;
	assert_int_equal(ctl_parse_request("{\"cmd\":\"status\"}", CTL_MAX_LINE + 1, 8, &r, &e), -1);
	assert_int_equal(e.code, CTL_USAGE);
}

#define PK64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* Issue 11: a put signed by its client (writer, seq, sig together), compare-and-swap, a delete,
 * an immutable value (its key is the hash of its bytes), and get --writer. */
static void test_signed_values(void **state)
{
	(void)state;
	struct ctl_request r;
	struct ctl_error e;
	struct dht_id k;
	assert_int_equal(parse("{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"v\",\"writer\":\"" PK64
			       "\",\"seq\":7,\"sig\":\"" PK64 PK64 "\",\"cas\":0}", 160, &r, &e), 0);
	assert_true(r.has_writer && r.has_cas);
	assert_int_equal(r.seq, 7);
	assert_int_equal(r.cas, 0);
	assert_int_equal(r.writer[1], 0x23);
	assert_int_equal(r.sig[63], 0xef);
	assert_int_equal(parse("{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"\",\"delete\":true}",
			       160, &r, &e), 0);
	assert_true(r.del && !r.has_writer && !r.has_cas);
	assert_int_equal(parse("{\"cmd\":\"put\",\"immutable\":true,\"value\":\"fixed\"}", 24,
			       &r, &e), 0);
	id_from_key(&k, "fixed", 5, 24);
	assert_true(r.immutable && id_eq(&r.key, &k));
	assert_int_equal(parse("{\"cmd\":\"get\",\"key\":\"k\",\"writer\":\"" PK64 "\"}", 160, &r,
			       &e), 0);
	assert_true(r.has_writer);
	assert_int_equal(r.writer[31], 0xef);
	/* Half a signed put, a bad key or signature, or an immutable value with a key. */
	assert_refused("{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"v\",\"writer\":\"" PK64 "\"}",
		       160, CTL_USAGE);
	assert_refused("{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"v\",\"writer\":\"12\","
		       "\"seq\":1,\"sig\":\"" PK64 PK64 "\"}", 160, CTL_USAGE);
	assert_refused("{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"v\",\"writer\":\"" PK64
		       "\",\"seq\":1,\"sig\":\"" PK64 "zz" PK64 "\"}", 160, CTL_USAGE);
	assert_refused("{\"cmd\":\"put\",\"key\":\"k\",\"immutable\":true,\"value\":\"v\"}", 160,
		       CTL_USAGE);
	assert_refused("{\"cmd\":\"put\",\"immutable\":true,\"value\":\"v\",\"cas\":1}", 160,
		       CTL_USAGE);
	assert_refused("{\"cmd\":\"put\",\"key\":\"k\",\"value\":\"v\",\"delete\":true}", 160,
		       CTL_USAGE);
	assert_refused("{\"cmd\":\"get\",\"key\":\"k\",\"writer\":7}", 160, CTL_USAGE);
}

static void test_codes(void **state)
{
	(void)state;
	assert_int_equal(ctl_code_of(DHT_ERR_TIMEOUT), CTL_TIMEOUT);
	assert_int_equal(ctl_code_of(DHT_ERR_NOT_JOINED), CTL_NOT_JOINED);
	assert_int_equal(ctl_code_of(DHT_ERR_NOT_FOUND), CTL_NOT_FOUND);
	assert_int_equal(ctl_code_of(DHT_ERR_TOO_LARGE), CTL_TOO_LARGE);
	assert_int_equal(ctl_code_of(DHT_ERR_FULL), CTL_FULL);
	assert_int_equal(ctl_code_of(DHT_ERR_NO_MEMORY), CTL_INTERNAL);
	static const char *const names[] = {
		"usage", "not_found", "timeout", "too_large", "full", "not_joined", "internal",
	};
	assert_string_equal(ctl_code_str(CTL_DENIED), "denied");
	assert_int_equal(ctl_code_of(DHT_ERR_FORGED), CTL_FORGED);
	assert_int_equal(ctl_code_of(DHT_ERR_STALE), CTL_STALE);
	assert_int_equal(ctl_code_of(DHT_ERR_CAS), CTL_CAS);
	assert_string_equal(ctl_code_str(CTL_FORGED), "forged");
	assert_string_equal(ctl_code_str(CTL_STALE), "stale");
	assert_string_equal(ctl_code_str(CTL_CAS), "cas_mismatch");
	for (int c = CTL_USAGE; c <= CTL_INTERNAL; c++)
		assert_string_equal(ctl_code_str((enum ctl_code)c), names[c]);
	char *line = ctl_error_line(CTL_NOT_FOUND, "no \"value\" here");
	assert_string_equal(line, "{\"ok\":false,\"code\":\"not_found\",\"error\":"
				  "\"no \\\"value\\\" here\"}");
	free(line);
}

static void test_builders(void **state)
{
	(void)state;
	struct dht_node n = { .addr = { .family = 4, .ip = { 10, 0, 0, 1 }, .port = 4000 } };
	id_from_u64(&n.id, 0x1ab, 12);
	char *line = ctl_line(ctl_node_json(&n, 12));
	assert_string_equal(line, "{\"id\":\"1ab\",\"addr\":\"10.0.0.1:4000\"}");
	free(line);
	line = ctl_line(ctl_ok(&n.id, 12));
	assert_string_equal(line, "{\"ok\":true,\"key_id\":\"1ab\"}");
	free(line);
	line = ctl_line(ctl_ok(NULL, 12));
	assert_string_equal(line, "{\"ok\":true}");
	free(line);

	json_t *o = json_object();
	assert_int_equal(ctl_set_value(o, (const uint8_t *)"h\xc3\xa9", 3), 0);
	assert_string_equal(json_string_value(json_object_get(o, "value")), "h\xc3\xa9");
	assert_int_equal(ctl_set_value(o, (const uint8_t *)"\xff\x00", 2), 0);
	assert_true(json_is_null(json_object_get(o, "value")));
	assert_string_equal(json_string_value(json_object_get(o, "value_hex")), "ff00");
	json_decref(o);

	struct dht_hop hops[2] = {
		{ .node = n, .rtt_us = 1500, .answered = true },
		{ .node = n, .rtt_us = 0, .answered = false },
	};
	struct dht_lookup_result res = { .npath = 2, .path = hops };
	line = ctl_line(ctl_path_json(&res, 12));
	assert_string_equal(line, "[{\"id\":\"1ab\",\"addr\":\"10.0.0.1:4000\",\"rtt_ms\":1.5,"
				  "\"answered\":true},{\"id\":\"1ab\",\"addr\":\"10.0.0.1:4000\","
				  "\"rtt_ms\":0.0,\"answered\":false}]");
	free(line);
}

/* Times such as a round trip of 0.043 ms print as written, not as the nearest double. */
static void test_line_precision(void **state)
{
	(void)state;
	char *line = ctl_line(json_pack("{s:f, s:f, s:f}", "ms", 0.043, "pct", 12.5, "big",
					123456.789));
	assert_non_null(line);
	assert_string_equal(line, "{\"ms\":0.043,\"pct\":12.5,\"big\":123456.789}");
	free(line);
}

static enum ctlauth_kind kind(const char *line)
{
	uint8_t mac[CTLAUTH_MAC_LEN];
	return ctlauth_parse(line, strlen(line), mac);
}

static void test_auth_lines(void **state)
{
	(void)state;
	uint8_t mac[CTLAUTH_MAC_LEN];
	char proof[128];
	assert_int_equal(kind("{\"auth\":\"begin\"}"), CTLAUTH_BEGIN);
	snprintf(proof, sizeof proof, "{\"auth\":\"%s\"}",
		 "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
	assert_int_equal(ctlauth_parse(proof, strlen(proof), mac), CTLAUTH_PROOF);
	assert_int_equal(mac[1], 0x11);
	assert_int_equal(kind("{\"cmd\":\"status\"}"), CTLAUTH_NONE);
	assert_int_equal(kind("not json"), CTLAUTH_NONE); /* the request parser refuses it */
	assert_int_equal(kind("{\"auth\":5}"), CTLAUTH_BAD);
	assert_int_equal(kind("{\"auth\":\"abcd\"}"), CTLAUTH_BAD);
	assert_int_equal(kind("{\"auth\":\"begin\",\"cmd\":\"status\"}"), CTLAUTH_BAD);
}

/* The hex of "challenge" in LINE, into HEX. */
static void challenge_of(const char *line, char hex[2 * CTLAUTH_CHALLENGE_LEN + 1])
{
	const char *p = strstr(line, "\"challenge\":\"");
	assert_non_null(p);
	memcpy(hex, p + 13, 2 * CTLAUTH_CHALLENGE_LEN);
	hex[2 * CTLAUTH_CHALLENGE_LEN] = '\0';
}

static void test_auth_proof(void **state)
{
	(void)state;
	uint8_t key[CTLAUTH_KEY_LEN], other[CTLAUTH_KEY_LEN], challenge[CTLAUTH_CHALLENGE_LEN];
	uint8_t mac[CTLAUTH_MAC_LEN];
	char hex[2 * CTLAUTH_CHALLENGE_LEN + 1];
	memset(key, 7, sizeof key);
	memset(other, 8, sizeof other);
	char *line = ctlauth_challenge_line(challenge);
	challenge_of(line, hex);
	free(line);
	line = ctlauth_proof_line(hex, key);
	assert_int_equal(ctlauth_parse(line, strlen(line), mac), CTLAUTH_PROOF);
	free(line);
	assert_true(ctlauth_verify(mac, challenge, key));
	assert_false(ctlauth_verify(mac, challenge, other));
	challenge[0] ^= 1;
	assert_false(ctlauth_verify(mac, challenge, key));
	assert_null(ctlauth_proof_line("abc", key));
}

static void write_text(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

static void test_secret_file(void **state)
{
	(void)state;
	char dir[] = "/tmp/test_ctlauth.XXXXXX", path[64], err[256];
	uint8_t key[CTLAUTH_KEY_LEN], again[CTLAUTH_KEY_LEN];
	struct stat st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/secret", dir);
	assert_int_equal(ctlauth_load(path, false, key, err, sizeof err), CTLAUTH_FAILED);
	assert_int_equal(ctlauth_load(path, true, key, err, sizeof err), CTLAUTH_CREATED);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(ctlauth_load(path, true, again, err, sizeof err), CTLAUTH_LOADED);
	assert_memory_equal(key, again, sizeof key);
	assert_int_equal(ctlauth_load(path, false, again, err, sizeof err), CTLAUTH_LOADED);
	assert_memory_equal(key, again, sizeof key);
	assert_int_equal(chmod(path, 0644), 0);
	assert_int_equal(ctlauth_load(path, true, again, err, sizeof err), CTLAUTH_FAILED);
	assert_non_null(strstr(err, "chmod 600"));
	write_text(path, "not hex\n", 0600);
	assert_int_equal(ctlauth_load(path, true, again, err, sizeof err), CTLAUTH_FAILED);
	assert_non_null(strstr(err, "64 hex digits"));
	unlink(path);
	rmdir(dir);
}

/* A loopback connection made by this process: its client end is this user's. */
static void test_access_owner(void **state)
{
	(void)state;
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(0x7f000001) };
	socklen_t len = sizeof a;
	int l = socket(AF_INET, SOCK_STREAM, 0), c = socket(AF_INET, SOCK_STREAM, 0), s;
	uid_t uid = 12345;
	char msg[256];
	assert_int_equal(bind(l, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(l, 1), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&a, &len), 0);
	assert_int_equal(connect(c, (struct sockaddr *)&a, sizeof a), 0);
	s = accept(l, NULL, NULL);
	assert_true(s >= 0);
	assert_int_equal(access_check(s, &uid), ACCESS_OK);
	assert_int_equal(uid, geteuid());
	assert_int_equal(access_check(l, &uid), ACCESS_ERROR); /* not connected */
	access_refusal(ACCESS_USER, 65534, "", msg, sizeof msg);
	assert_non_null(strstr(msg, "this node belongs to user "));
	access_refusal(ACCESS_REMOTE, 0, "; hint", msg, sizeof msg);
	assert_string_equal(msg, "control connections are accepted from this machine only; hint");
	close(s);
	close(c);
	close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_commands), cmocka_unit_test(test_value_limits),
		cmocka_unit_test(test_refusals), cmocka_unit_test(test_codes),
		cmocka_unit_test(test_signed_values),
		cmocka_unit_test(test_builders), cmocka_unit_test(test_line_precision),
		cmocka_unit_test(test_auth_lines), cmocka_unit_test(test_auth_proof),
		cmocka_unit_test(test_secret_file), cmocka_unit_test(test_access_owner),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
