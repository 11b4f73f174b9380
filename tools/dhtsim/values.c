/* Values in the simulated ring: put, then read back and judged. Each key's value names the key
 * ("value N"), signed by one writer whose key comes from a fixed seed, so a run is replayed
 * exactly. A get's latency counts from its issue to its answer (lookup and reads). */
#include "tools/dhtsim/values.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht/item.h"
#include "dht/kv.h"

#define VALUE_MAX 24

struct get {
	struct scen_values *v;
	uint64_t index, started;
	bool out;
};

struct scen_values {
	struct sim *s;
	uint64_t n, pending, puts_failed;
	struct dht_id *keys;
	struct get *gets;
	struct sim_lookup_stats *st;
};

static size_t value_text(uint64_t i, char out[VALUE_MAX])
{
	return (size_t)snprintf(out, VALUE_MAX, "value %llu", (unsigned long long)i);
}

static void put_done(void *arg, const struct dht_value_result *res)
{
	struct get *g = arg;
	g->out = false;
	g->v->pending--;
	g->v->puts_failed += res->status != DHT_OK;
}

static struct scen_values *values_new(struct sim *s, uint64_t k)
{
	struct scen_values *v = calloc(1, sizeof *v);
	if (v == NULL)
		return NULL;
	v->s = s;
	v->n = k;
	v->keys = calloc(k ? k : 1, sizeof *v->keys);
	v->gets = calloc(k ? k : 1, sizeof *v->gets);
	if (v->keys == NULL || v->gets == NULL) {
		values_free(v);
		return NULL;
	}
	return v;
}

struct scen_values *values_put(struct sim *s, uint64_t k, uint64_t cap_us, uint64_t *failed)
{
	struct scen_values *v = values_new(s, k);
	if (v == NULL)
		return NULL;
	static const uint8_t wseed[crypto_sign_SEEDBYTES] = { 'd', 'h', 't', 's', 'i', 'm' };
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	crypto_sign_seed_keypair(pk, sk, wseed);
	char text[VALUE_MAX];
	for (uint64_t i = 0; i < k; i++) {
		sim_random_key(s, &v->keys[i]);
		struct dht_item it = { .value = (const uint8_t *)text, .seq = 1 };
		it.vlen = (uint16_t)value_text(i, text);
		item_sign(&it, &v->keys[i], sk);
		struct get *g = &v->gets[i];
		*g = (struct get){ .v = v, .index = i, .out = true };
		v->pending++;
		if (dht_put(sim_core(s, sim_random_member(s)), &v->keys[i], &it, 0, NULL, put_done,
			    g) != 0) {
			g->out = false;
			v->pending--;
			v->puts_failed++;
		}
	}
	sodium_memzero(sk, sizeof sk);
	uint64_t end = sim_now(s) + cap_us;
	while (v->pending > 0 && !sim_failed(s) && sim_step(s, end))
		;
	*failed = v->puts_failed + v->pending;
	return v;
}

static void get_done(void *arg, const struct dht_value_result *res)
{
	struct get *g = arg;
	struct scen_values *v = g->v;
	g->out = false;
	v->pending--;
	struct sim_lookup_stats *st = v->st;
	st->done++;
	if (res->status != DHT_OK) { /* not found too: the value was lost */
		st->failed++;
		return;
	}
	const struct dht_lookup_result *lk = res->lookup;
	sim_stats_sample(st, lk ? lk->hops : 0, lk ? lk->timeouts : 0, sim_now(v->s) - g->started);
	char text[VALUE_MAX];
	size_t len = value_text(g->index, text);
	bool right = res->nvalues == 1 && res->values[0].item.vlen == len &&
		     memcmp(res->values[0].item.value, text, len) == 0;
	if (right)
		st->correct++;
	else
		st->wrong++;
}

void values_get(struct sim *s, struct scen_values *v, struct sim_lookup_stats *st)
{
	v->st = st;
	for (uint64_t i = 0; i < v->n; i++) {
		struct get *g = &v->gets[i];
		if (g->out)
			continue; /* its put never ended */
		*g = (struct get){ .v = v, .index = i, .started = sim_now(s), .out = true };
		st->issued++;
		v->pending++;
		if (dht_get(sim_core(s, sim_random_member(s)), &v->keys[i], NULL, get_done, g) != 0) {
			g->out = false;
			v->pending--;
			st->done++;
			st->failed++;
		}
	}
}

uint64_t values_pending(const struct scen_values *v)
{
	return v->pending;
}

void values_free(struct scen_values *v)
{
	if (v == NULL)
		return;
	free(v->keys);
	free(v->gets);
	free(v);
}
