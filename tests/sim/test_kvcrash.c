/* Gets right after a quarter of the ring crashed (issue 14), in the simulator with fixed seeds:
 * every value is read back right, deleted values stay deleted, keys never written are not
 * found, and a get whose owner died is answered by the dead owner's successor (a replica) at
 * once: well inside the half second after which a node is first taken for dead (rpc.c), which
 * is what a get waited for when it needed the owner confirmed. The same through dhtsim's
 * --values after a random quarter of 256 nodes crashed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "dht/item.h"
#include "dht/kv.h"
#include "tools/dhtsim/scen.h"
#include "tools/dhtsim/sim.h"

#define NODES 64
#define KEYS 200
#define DELETED 20   /* the first keys are deleted after their put */
#define UNWRITTEN 20 /* keys never written */
#define GIVE_UP_US 500000

struct op {
	struct sim *s;
	bool done;
	enum dht_status status;
	size_t nvalues;
	uint8_t value[16];
	size_t vlen;
	uint64_t started, elapsed;
};

static void op_done(void *arg, const struct dht_value_result *res)
{
	struct op *op = arg;
	op->done = true;
	op->status = res->status;
	op->nvalues = res->nvalues;
	op->elapsed = sim_now(op->s) - op->started;
	if (res->nvalues > 0 && res->values[0].item.vlen <= sizeof op->value) {
		op->vlen = res->values[0].item.vlen;
		memcpy(op->value, res->values[0].item.value, op->vlen);
	}
}

static void run_until_done(struct sim *s, struct op *ops, size_t n)
{
	uint64_t cap = sim_now(s) + 60000000;
	for (size_t i = 0; i < n; i++)
		while (!ops[i].done && sim_now(s) < cap)
			sim_step(s, cap);
	for (size_t i = 0; i < n; i++)
		assert_true(ops[i].done);
}

/* Key I's value, signed by the test's writer with SEQ (a tombstone if DELETE). */
static struct dht_item value_of(const struct dht_id *key, size_t i, uint64_t seq, bool delete,
				char *buf)
{
	static const uint8_t wseed[crypto_sign_SEEDBYTES] = { 14 };
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_seed_keypair(pk, sk, wseed);
	snprintf(buf, 16, "value %zu", i);
	struct dht_item it = { .flags = delete ? DHT_ITEM_TOMBSTONE : 0,
			       .value = (const uint8_t *)buf, .vlen = delete ? 0 : (uint16_t)strlen(buf),
			       .seq = seq };
	item_sign(&it, key, sk);
	return it;
}

/* Write key I (and delete it if it is among the first DELETED), from a random member. */
static void write_keys(struct sim *s, const struct dht_id *keys, size_t n)
{
	static struct op ops[KEYS];
	char buf[16];
	for (int round = 0; round < 2; round++) {
		size_t m = round == 0 ? n : DELETED;
		memset(ops, 0, sizeof ops);
		for (size_t i = 0; i < m; i++) {
			struct dht_item it = value_of(&keys[i], i, 1 + (uint64_t)round, round == 1, buf);
			ops[i].s = s;
			assert_int_equal(dht_put(sim_core(s, sim_random_member(s)), &keys[i], &it, 0,
						 NULL, op_done, &ops[i]),
					 0);
		}
		run_until_done(s, ops, m);
		for (size_t i = 0; i < m; i++)
			assert_int_equal(ops[i].status, DHT_OK);
	}
}

/* Crash every fourth member in ring order: no two neighbours, so every key keeps its owner or
 * the owner's first successor. */
static void crash_quarter(struct sim *s)
{
	size_t n = truth_size(sim_truth(s));
	uint32_t victims[NODES];
	size_t nv = 0;
	for (size_t pos = 1; pos < n; pos += 4)
		victims[nv++] = truth_index(sim_truth(s), pos);
	for (size_t i = 0; i < nv; i++)
		assert_int_equal(sim_crash(s, victims[i]), 0);
}

static void test_gets_after_crash_read_replicas(void **state)
{
	(void)state;
	struct sim_config cfg;
	sim_config_default(&cfg);
	cfg.seed = 14;
	cfg.latency_ms = 1;
	struct sim *s = sim_new(&cfg);
	assert_non_null(s);
	uint64_t us;
	assert_true(scen_grow(s, NODES, &us));
	static struct dht_id keys[KEYS + UNWRITTEN];
	for (size_t i = 0; i < KEYS + UNWRITTEN; i++)
		sim_random_key(s, &keys[i]);
	write_keys(s, keys, KEYS);
	sim_run_until(s, sim_now(s) + 2 * sim_period(s));

	crash_quarter(s);
	static struct op gets[KEYS + UNWRITTEN];
	memset(gets, 0, sizeof gets);
	for (size_t i = 0; i < KEYS + UNWRITTEN; i++) {
		gets[i].s = s;
		gets[i].started = sim_now(s);
		assert_int_equal(dht_get(sim_core(s, sim_random_member(s)), &keys[i], NULL, op_done,
					 &gets[i]),
				 0);
	}
	run_until_done(s, gets, KEYS + UNWRITTEN);
	uint64_t max_found = 0;
	char buf[16];
	for (size_t i = 0; i < KEYS + UNWRITTEN; i++) {
		if (i < DELETED || i >= KEYS) {
			assert_int_equal(gets[i].status, DHT_ERR_NOT_FOUND);
			continue;
		}
		assert_int_equal(gets[i].status, DHT_OK);
		assert_int_equal(gets[i].nvalues, 1);
		snprintf(buf, sizeof buf, "value %zu", i);
		assert_memory_equal(gets[i].value, buf, strlen(buf));
		if (gets[i].elapsed > max_found)
			max_found = gets[i].elapsed;
	}
	/* Deleted values come from a replica's tombstone just as fast. */
	for (size_t i = 0; i < DELETED; i++)
		if (gets[i].elapsed > max_found)
			max_found = gets[i].elapsed;
	printf("gets after the crash: slowest value or tombstone read in %llu us\n",
	       (unsigned long long)max_found);
	assert_true(max_found < GIVE_UP_US / 2);
	sim_free(s);
}

/* dhtsim --values: a quarter of 256 nodes crashes at random (1 ms links); every value put before
 * is read back right after it, none past the half second a get used to wait (before: p99 1.4 s,
 * max 1.7 s of virtual time). */
static void test_dhtsim_values_after_quarter_crash(void **state)
{
	(void)state;
	struct scen_opts o;
	struct scen_report rep;
	scen_opts_default(&o);
	o.nodes = 256;
	o.lookups = 2000;
	o.fail_fraction = 0.25;
	o.values = 1000;
	o.sim.latency_ms = 1;
	o.sim.seed = 1;
	assert_int_equal(scen_run(&o, &rep), 0);
	assert_true(scen_passed(&rep));
	assert_int_equal(rep.lost_all_succ, 0);
	assert_int_equal(rep.puts_failed, 0);
	assert_int_equal(rep.gets.issued, 1000);
	assert_int_equal(rep.gets.correct, 1000);
	assert_true(rep.gets.latency_us_max < GIVE_UP_US / 2);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gets_after_crash_read_replicas),
		cmocka_unit_test(test_dhtsim_values_after_quarter_crash),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
