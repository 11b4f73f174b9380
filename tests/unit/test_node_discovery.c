/* Ring discovery's pure core (node/net/discocore.c): the datagram codec (round trip, and every
 * kind of malformed datagram refused), and the decision over a fake clock: seekers that start
 * together end with exactly one founder, the lowest address, and the others join it; a late
 * seeker joins at the first answer; a member's answers are rate-limited; other widths and our
 * own looped-back probes are ignored; a member beacons at a jittered, bounded pace, a beacon
 * heard by a member is a candidate for ring unification and one heard by a seeker a ring to
 * join. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "node/net/discocore.h"

static struct dht_addr v4(uint8_t last, uint16_t port)
{
	struct dht_addr a = { .family = 4, .ip = { 10, 77, 0, last }, .port = port };
	return a;
}

static size_t msg(uint8_t type, uint8_t bits, struct dht_addr a, uint8_t *buf)
{
	struct disco_msg m = { .type = type, .bits = bits, .addr = a };
	return disco_encode(&m, buf);
}

static void test_codec(void **state)
{
	uint8_t buf[DISCO_MSG_LEN + 1];
	struct disco_msg out;
	struct dht_addr six = { .family = 6, .ip = { 0xfd, [15] = 7 }, .port = 4000 };
	(void)state;

	assert_int_equal(msg(DISCO_ANSWER, 160, v4(9, 4001), buf), DISCO_MSG_LEN);
	assert_int_equal(disco_decode(buf, DISCO_MSG_LEN, &out), 0);
	assert_int_equal(out.type, DISCO_ANSWER);
	assert_int_equal(out.bits, 160);
	assert_int_equal(disco_addr_cmp(&out.addr, &(struct dht_addr){ 4, { 10, 77, 0, 9 }, 4001 }),
			 0);
	msg(DISCO_PROBE, 32, six, buf);
	assert_int_equal(disco_decode(buf, DISCO_MSG_LEN, &out), 0);
	assert_int_equal(out.addr.family, 6);
	assert_int_equal(out.addr.ip[15], 7);

	/* Each corruption alone is refused. */
	const struct { size_t at; uint8_t v; } bad[] = {
		{ 0, 'x' }, { 4, 2 }, { 5, 0 }, { 5, 3 }, { 6, 7 }, { 6, 161 }, { 7, 5 },
		{ 9, 0 }, { 20, 1 },
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		msg(DISCO_PROBE, 32, v4(3, bad[i].at == 9 ? 5 : 4000), buf);
		buf[bad[i].at] = bad[i].v;
		assert_int_equal(disco_decode(buf, DISCO_MSG_LEN, &out), -1);
	}
	msg(DISCO_PROBE, 32, v4(3, 4000), buf);
	assert_int_equal(disco_decode(buf, DISCO_MSG_LEN - 1, &out), -1);
	assert_int_equal(disco_decode(buf, DISCO_MSG_LEN + 1, &out), -1);
	assert_int_equal(disco_decode(buf, 0, &out), -1);
}

#define N 5

/* Deliver what seeker FROM sends (TYPE) to every other core; record joins in VIA. */
static void broadcast(struct disco_core *c, int from, uint8_t type, uint64_t now,
		      struct dht_addr *via, int *joined)
{
	uint8_t buf[DISCO_MSG_LEN];

	msg(type, 160, c[from].self, buf);
	for (int j = 0; j < N; j++) {
		if (j == from)
			continue;
		enum disco_action a = disco_core_input(&c[j], buf, sizeof buf, now, &via[j]);
		if (a == DISCO_JOIN)
			joined[j] = 1;
		if (a == DISCO_SEND_ANSWER)
			broadcast(c, j, DISCO_ANSWER, now, via, joined);
	}
}

/* Five seekers start within 200 ms of each other, in an order unrelated to their addresses. */
static void test_simultaneous_start_one_founder(void **state)
{
	struct disco_core c[N];
	struct dht_addr via[N];
	const uint8_t last[N] = { 9, 4, 7, 2, 5 }; /* the lowest is core 3 */
	int joined[N] = { 0 }, founders = 0, founder = -1;
	(void)state;

	for (int i = 0; i < N; i++) {
		struct dht_addr a = v4(last[i], 4000);
		disco_core_init(&c[i], &a, 160, DISCO_SEEKING, 1000 + 50 * (uint64_t)i);
	}
	for (uint64_t t = 1000; t < 6000; t += 50)
		for (int i = 0; i < N; i++) {
			if ((t - 1000 - 50 * (uint64_t)i) % DISCO_PROBE_MS != 0 || t < 1000 + 50 * (uint64_t)i)
				continue;
			enum disco_action a = disco_core_tick(&c[i], t);
			if (a == DISCO_SEND_PROBE)
				broadcast(c, i, DISCO_PROBE, t, via, joined);
			if (a == DISCO_FOUND) {
				founders++;
				founder = i;
			}
		}
	assert_int_equal(founders, 1);
	assert_int_equal(founder, 3);
	for (int i = 0; i < N; i++) {
		if (i == founder)
			continue;
		assert_true(joined[i]);
		assert_int_equal(disco_addr_cmp(&via[i], &c[founder].self), 0);
		assert_int_equal(c[i].state, DISCO_JOINING);
	}
}

static void test_late_seeker_and_rate_limit(void **state)
{
	struct disco_core m, s;
	struct dht_addr ma = v4(9, 4000), sa = v4(2, 4000), via;
	uint8_t probe[DISCO_MSG_LEN], answer[DISCO_MSG_LEN];
	int answers = 0;
	(void)state;

	disco_core_init(&m, &ma, 160, DISCO_IDLE, 0);
	msg(DISCO_PROBE, 160, sa, probe);
	assert_int_equal(disco_core_input(&m, probe, sizeof probe, 10, &via), DISCO_NONE);
	disco_core_member(&m, &(struct dht_id){ { 0 } });
	/* A flood of probes within one instant: only the burst is answered. */
	for (int i = 0; i < 100; i++)
		answers += disco_core_input(&m, probe, sizeof probe, 20, &via) == DISCO_SEND_ANSWER;
	assert_int_equal(answers, DISCO_ANSWER_BURST);
	/* A second later the bucket has refilled. */
	assert_int_equal(disco_core_input(&m, probe, sizeof probe, 1020, &via), DISCO_SEND_ANSWER);

	/* A seeker with a lower address still joins the ring that answers, at once. */
	disco_core_init(&s, &sa, 160, DISCO_SEEKING, 5000);
	assert_int_equal(disco_core_tick(&s, 5000), DISCO_SEND_PROBE);
	msg(DISCO_ANSWER, 160, ma, answer);
	assert_int_equal(disco_core_input(&s, answer, sizeof answer, 5001, &via), DISCO_JOIN);
	assert_int_equal(disco_addr_cmp(&via, &ma), 0);
	/* Joining: neither probing nor founding; after a failed join it seeks again. */
	assert_int_equal(disco_core_tick(&s, 9000), DISCO_NONE);
	disco_core_retry(&s, 9000);
	assert_int_equal(disco_core_tick(&s, 9000), DISCO_SEND_PROBE);
	assert_int_equal(disco_core_tick(&s, 9000 + DISCO_WAIT_MS), DISCO_FOUND);
}

static void test_ignored(void **state)
{
	struct disco_core s;
	struct dht_addr sa = v4(5, 4000), via;
	uint8_t buf[DISCO_MSG_LEN];
	(void)state;

	disco_core_init(&s, &sa, 160, DISCO_SEEKING, 0);
	/* Another width's ring, our own probe looped back, garbage: no join, no deferring. */
	msg(DISCO_ANSWER, 32, v4(9, 4000), buf);
	assert_int_equal(disco_core_input(&s, buf, sizeof buf, 1, &via), DISCO_NONE);
	msg(DISCO_PROBE, 160, sa, buf);
	assert_int_equal(disco_core_input(&s, buf, sizeof buf, 1, &via), DISCO_NONE);
	assert_int_equal(disco_core_input(&s, (const uint8_t *)"hello", 5, 1, &via), DISCO_NONE);
	assert_int_equal(s.dropped, 2);
	/* A lower seeker defers us until it has not been heard for DISCO_LOWER_TTL_MS. */
	msg(DISCO_PROBE, 160, v4(1, 4000), buf);
	assert_int_equal(disco_core_input(&s, buf, sizeof buf, DISCO_WAIT_MS - 10, &via), DISCO_NONE);
	assert_int_equal(disco_core_tick(&s, DISCO_WAIT_MS), DISCO_SEND_PROBE);
	assert_int_equal(disco_core_tick(&s, DISCO_WAIT_MS - 10 + DISCO_LOWER_TTL_MS), DISCO_FOUND);
}

static size_t beacon(uint8_t bits, struct dht_addr a, uint64_t idv, uint8_t *buf)
{
	struct disco_msg m = { .type = DISCO_BEACON, .bits = bits, .addr = a };
	id_from_u64(&m.id, idv, bits);
	return disco_encode(&m, buf);
}

static void test_beacon_codec(void **state)
{
	uint8_t buf[DISCO_MSG_MAX];
	struct disco_msg out;
	(void)state;

	assert_int_equal(beacon(16, v4(9, 4001), 0xbeef, buf), DISCO_BEACON_LEN);
	assert_int_equal(disco_decode(buf, DISCO_BEACON_LEN, &out), 0);
	assert_int_equal(out.type, DISCO_BEACON);
	assert_int_equal(id_low64(&out.id), 0xbeef);
	/* A beacon's length is its own; a probe's bytes with a beacon's type are refused. */
	assert_int_equal(disco_decode(buf, DISCO_MSG_LEN, &out), -1);
	assert_int_equal(disco_decode(buf, DISCO_BEACON_LEN - 1, &out), -1);
	msg(DISCO_PROBE, 16, v4(9, 4001), buf);
	assert_int_equal(disco_decode(buf, DISCO_BEACON_LEN, &out), -1);
	buf[5] = DISCO_BEACON;
	assert_int_equal(disco_decode(buf, DISCO_MSG_LEN, &out), -1);
	/* An id that does not fit the width. */
	beacon(16, v4(9, 4001), 1, buf);
	buf[DISCO_MSG_LEN + 2] = 0x80; /* bit 16 from the top of 20 bytes: above 2^16 */
	assert_int_equal(disco_decode(buf, DISCO_BEACON_LEN, &out), -1);
}

/* A member beacons within one period of joining, then every 1/2 to 3/2 of a period. */
static void test_beacon_pace(void **state)
{
	struct disco_core c;
	struct dht_addr a = v4(3, 4000);
	struct dht_id id;
	uint32_t rnd = 12345;
	unsigned sent = 0;
	(void)state;

	id_from_u64(&id, 77, 160);
	disco_core_init(&c, &a, 160, DISCO_SEEKING, 0);
	assert_int_equal(disco_core_beacon(&c, 0, rnd), DISCO_NONE); /* not a member */
	disco_core_member(&c, &id);
	assert_int_equal(disco_core_beacon(&c, 1000, rnd), DISCO_NONE);
	uint64_t first = disco_core_beacon_at(&c), last = 0;
	assert_true(first > 1000 && first <= 1000 + DISCO_BEACON_MS);
	for (uint64_t t = 1000; t < 1000 + 100 * (uint64_t)DISCO_BEACON_MS; t += 10) {
		rnd = rnd * 1103515245u + 12345u;
		if (disco_core_beacon(&c, t, rnd) != DISCO_SEND_BEACON)
			continue;
		if (sent++ > 0) {
			assert_true(t - last >= DISCO_BEACON_MS / 2);
			assert_true(t - last <= DISCO_BEACON_MS * 3 / 2 + 10);
		}
		last = t;
	}
	/* About one a period on average: bounded, and not stuck. */
	assert_true(sent >= 70 && sent <= 130);
}

/* A beacon: a candidate for a member (with the node it names), a ring to join for a seeker;
 * nothing for a node joining, and our own looped-back beacon is ignored. */
static void test_beacon_heard(void **state)
{
	struct disco_core m, s;
	struct dht_addr ma = v4(9, 4000), sa = v4(2, 4000), via;
	uint8_t buf[DISCO_MSG_MAX];
	struct dht_id id;
	(void)state;

	id_from_u64(&id, 5, 160);
	disco_core_init(&m, &ma, 160, DISCO_IDLE, 0);
	disco_core_member(&m, &id);
	size_t len = beacon(160, sa, 1234, buf);
	assert_int_equal(disco_core_input(&m, buf, len, 10, &via), DISCO_CANDIDATE);
	assert_int_equal(id_low64(&m.heard.id), 1234);
	assert_int_equal(disco_addr_cmp(&m.heard.addr, &sa), 0);
	len = beacon(160, ma, 5, buf);
	assert_int_equal(disco_core_input(&m, buf, len, 10, &via), DISCO_NONE);

	disco_core_init(&s, &sa, 160, DISCO_SEEKING, 0);
	len = beacon(160, ma, 5, buf);
	assert_int_equal(disco_core_input(&s, buf, len, 10, &via), DISCO_JOIN);
	assert_int_equal(disco_addr_cmp(&via, &ma), 0);
	assert_int_equal(disco_core_input(&s, buf, len, 20, &via), DISCO_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_codec),
		cmocka_unit_test(test_simultaneous_start_one_founder),
		cmocka_unit_test(test_late_seeker_and_rate_limit),
		cmocka_unit_test(test_ignored),
		cmocka_unit_test(test_beacon_codec),
		cmocka_unit_test(test_beacon_pace),
		cmocka_unit_test(test_beacon_heard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
