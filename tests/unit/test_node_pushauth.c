/* Who may push (node/push/pushauth.h): a request signed by a listed key for this node, within
 * the time window, is new once and a repeat after; every other request is refused with the
 * right reason, and the replay memory neither forgets a request inside the window nor grows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "node/push/pushauth.h"

#define NOW 1700000000u

struct admin {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
};

static struct admin admin_key(unsigned char seed_byte)
{
	struct admin a;
	uint8_t seed[crypto_sign_SEEDBYTES];
	memset(seed, seed_byte, sizeof seed);
	crypto_sign_seed_keypair(a.pk, a.sk, seed);
	return a;
}

/* A request from A for the node TARGET, at time T with nonce byte N. */
static struct dht_msg request(const struct admin *a, const struct dht_id *target, uint64_t t,
			      uint8_t n)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_PUSH;
	memset(m.u.push.cid, 0x11, sizeof m.u.push.cid);
	m.u.push.pusher.family = 4;
	m.u.push.pusher.ip[0] = 127;
	m.u.push.pusher.port = 4000;
	m.u.push.time_s = t;
	memset(m.u.push.nonce, n, sizeof m.u.push.nonce);
	memcpy(m.u.push.pk, a->pk, sizeof a->pk);
	push_sign(&m, target, a->sk);
	return m;
}

static struct push_keys keys_of(const struct admin *a)
{
	struct push_keys k = { 0 };
	char hex[2 * crypto_sign_PUBLICKEYBYTES + 1], err[256];
	sodium_bin2hex(hex, sizeof hex, a->pk, sizeof a->pk);
	assert_int_equal(push_keys_add(&k, hex, err, sizeof err), 0);
	return k;
}

static enum push_check check(const struct push_keys *k, const struct push_replay *r,
			     const struct dht_msg *m, const struct dht_id *self, uint64_t now,
			     enum push_why *why)
{
	const struct push_seen *seen = NULL;
	return push_check(k, r, m, self, now, why, &seen);
}

static void test_refusals(void **state)
{
	(void)state;
	struct admin a = admin_key(1), b = admin_key(2);
	struct push_keys k = keys_of(&a);
	static struct push_replay r;
	struct dht_id self, other;
	enum push_why why;
	id_from_u64(&self, 7, 160);
	id_from_u64(&other, 8, 160);

	struct dht_msg m = request(&a, &self, NOW, 1);
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_NEW);
	/* Signed by a key the node does not list. */
	m = request(&b, &self, NOW, 1);
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_REFUSE);
	assert_int_equal(why, PUSH_WHY_UNKNOWN_KEY);
	/* Signed for another node: not valid here. */
	m = request(&a, &other, NOW, 1);
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_REFUSE);
	assert_int_equal(why, PUSH_WHY_BAD_SIGNATURE);
	/* Any field changed after signing. */
	m = request(&a, &self, NOW, 1);
	m.u.push.cid[5] ^= 1;
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_REFUSE);
	assert_int_equal(why, PUSH_WHY_BAD_SIGNATURE);
	m = request(&a, &self, NOW, 1);
	m.u.push.pusher.port++;
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_REFUSE);
	/* Out of the window either way; at its edge still in. */
	m = request(&a, &self, NOW - PUSH_WINDOW_S - 1, 1);
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_REFUSE);
	assert_int_equal(why, PUSH_WHY_STALE);
	m = request(&a, &self, NOW + PUSH_WINDOW_S + 1, 1);
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_REFUSE);
	m = request(&a, &self, NOW + PUSH_WINDOW_S, 1);
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_NEW);
	/* No keys at all: nothing is taken. */
	struct push_keys none = { 0 };
	m = request(&a, &self, NOW, 1);
	assert_int_equal(check(&none, &r, &m, &self, NOW, &why), PUSH_CHECK_REFUSE);
	assert_int_equal(why, PUSH_WHY_UNKNOWN_KEY);
}

static void test_replay(void **state)
{
	(void)state;
	struct admin a = admin_key(1);
	struct push_keys k = keys_of(&a);
	static struct push_replay r;
	struct dht_id self;
	enum push_why why;
	const struct push_seen *seen;
	id_from_u64(&self, 7, 160);

	struct dht_msg m = request(&a, &self, NOW, 1);
	assert_int_equal(check(&k, &r, &m, &self, NOW, &why), PUSH_CHECK_NEW);
	struct push_seen *e = push_replay_add(&r, &m, NOW);
	assert_non_null(e);
	e->status = PUSH_ACCEPTED;
	/* The same request again: its first answer, no second action. */
	assert_int_equal(push_check(&k, &r, &m, &self, NOW + 10, &why, &seen), PUSH_CHECK_REPEAT);
	assert_int_equal(seen->status, PUSH_ACCEPTED);
	/* Fill the memory with requests inside the window: the next one is not forgotten into. */
	for (unsigned i = 1; i < PUSH_REPLAY_MAX; i++) {
		m = request(&a, &self, NOW, 1);
		m.u.push.nonce[0] = (uint8_t)i;
		m.u.push.nonce[1] = (uint8_t)(i >> 8);
		assert_non_null(push_replay_add(&r, &m, NOW));
	}
	assert_int_equal(r.n, PUSH_REPLAY_MAX);
	m = request(&a, &self, NOW, 2);
	assert_null(push_replay_add(&r, &m, NOW));
	/* Once the old ones leave the window, their room is taken again; the memory stays bounded. */
	assert_non_null(push_replay_add(&r, &m, NOW + 2 * PUSH_WINDOW_S + 1));
	assert_int_equal(r.n, PUSH_REPLAY_MAX);
}

static void test_keys(void **state)
{
	(void)state;
	struct push_keys k = { 0 };
	char err[256], path[] = "/tmp/pushkeysXXXXXX";
	struct admin a = admin_key(1), b = admin_key(2);
	char ha[65], hb[65];
	sodium_bin2hex(ha, sizeof ha, a.pk, sizeof a.pk);
	sodium_bin2hex(hb, sizeof hb, b.pk, sizeof b.pk);
	/* Neither a key nor a file. */
	assert_int_equal(push_keys_add(&k, "abc", err, sizeof err), -1);
	assert_non_null(strstr(err, "abc"));
	/* A file: comments, blank lines, the same key twice. */
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "# lab admins\n%s  # alice\n\n  %s\n%s\n", ha, hb, ha);
	fclose(f);
	assert_int_equal(push_keys_add(&k, path, err, sizeof err), 0);
	assert_int_equal(k.n, 2);
	assert_true(push_keys_has(&k, a.pk) && push_keys_has(&k, b.pk));
	/* A bad line names the file and the line. */
	f = fopen(path, "w");
	fprintf(f, "%s\nnot-a-key\n", ha);
	fclose(f);
	assert_int_equal(push_keys_add(&k, path, err, sizeof err), -1);
	assert_non_null(strstr(err, "line 2"));
	unlink(path);
	assert_string_equal(push_why_name(PUSH_WHY_NOT_ACCEPTING), "not_accepting");
	assert_string_equal(push_why_name(200), "unknown");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_replay),
		cmocka_unit_test(test_keys),
	};
	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
