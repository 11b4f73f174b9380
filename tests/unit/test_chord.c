/* The Chord core, step by step, on a tiny in-test network: a handful of cores wired through the
 * simulator's event queue with a fixed 10 ms latency and 8-bit ids chosen by hand, so that each
 * protocol step (create, join, stabilize, rectify, lookups, leave, crash, id taken) can be checked
 * exactly. Larger and random rings are the simulator's job (tests/sim). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dht/chord.h"
#include "dht/rng.h"
#include "tools/sim/evq.h"

#define MAXN 16
#define LAT 10000 /* 10 ms */
#define SEC 1000000ULL

struct net;

struct tnode {
	struct net *net;
	int idx;
	bool alive;
	uint64_t wake;
	struct dht *d;
};

struct net {
	struct evq *q;
	struct rng rng;
	struct tnode n[MAXN];
	int count;
	enum dht_status join_status[MAXN];
	bool join_done[MAXN];
};

struct packet {
	int to;
	struct dht_addr from;
	size_t len;
	uint8_t buf[DHT_MSG_MAX];
};

static void addr_of(int idx, struct dht_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->ip[0] = 127;
	a->ip[3] = (uint8_t)(idx + 1);
	a->port = 1;
}

static void deliver(void *ctx, void *arg, uint64_t u)
{
	struct net *net = ctx;
	struct packet *p = arg;
	(void)u;
	if (net->n[p->to].alive)
		dht_input(net->n[p->to].d, p->buf, p->len, &p->from);
	free(p);
}

static void env_send(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len)
{
	struct tnode *t = arg;
	struct packet *p = malloc(sizeof *p);
	assert_non_null(p);
	p->to = to->ip[3] - 1;
	addr_of(t->idx, &p->from);
	p->len = len;
	memcpy(p->buf, buf, len);
	evq_at(t->net->q, evq_now(t->net->q) + LAT, deliver, p, 0);
}

static void fire(void *ctx, void *arg, uint64_t at)
{
	struct tnode *t = arg;
	(void)ctx;
	if (t->alive && t->wake == at)
		dht_tick(t->d);
}

static void env_set_timer(void *arg, uint64_t at)
{
	struct tnode *t = arg;
	t->wake = at;
	evq_at(t->net->q, at, fire, t, at);
}

static uint64_t env_now(void *arg)
{
	struct tnode *t = arg;
	return evq_now(t->net->q);
}

static void env_random(void *arg, void *buf, size_t len)
{
	struct tnode *t = arg;
	rng_bytes(&t->net->rng, buf, len);
}

static const struct dht_env env = { env_send, env_set_timer, env_now, env_random, NULL };

static struct net *net_new(void)
{
	struct net *net = calloc(1, sizeof *net);
	net->q = evq_new(net);
	rng_seed(&net->rng, 42);
	return net;
}

static void net_free(struct net *net)
{
	for (int i = 0; i < net->count; i++)
		dht_free(net->n[i].d);
	/* Pending packets are freed by running the queue dry with every node dead. */
	for (int i = 0; i < net->count; i++)
		net->n[i].alive = false;
	while (evq_step(net->q, UINT64_MAX))
		;
	evq_free(net->q);
	free(net);
}

static struct tnode *add_node(struct net *net, unsigned id, unsigned r)
{
	struct tnode *t = &net->n[net->count];
	struct dht_config cfg;
	dht_config_default(&cfg);
	cfg.bits = 8;
	cfg.succ_len = r;
	id_from_u64(&cfg.self.id, id, 8);
	t->net = net;
	t->idx = net->count++;
	t->alive = true;
	addr_of(t->idx, &cfg.self.addr);
	t->d = dht_new(&cfg, &env, t);
	assert_non_null(t->d);
	return t;
}

static void joined(void *arg, enum dht_status status)
{
	struct tnode *t = arg;
	t->net->join_status[t->idx] = status;
	t->net->join_done[t->idx] = true;
}

static void join_via(struct tnode *t, int via)
{
	struct dht_addr a;
	addr_of(via, &a);
	assert_int_equal(dht_join(t->d, &a, joined, t), 0);
}

static void run_for(struct net *net, uint64_t us)
{
	evq_run_until(net->q, evq_now(net->q) + us);
}

static unsigned succ_of(struct tnode *t)
{
	struct dht_node s[32];
	assert_true(dht_successors(t->d, s, 32) >= 1);
	return (unsigned)id_low64(&s[0].id);
}

static unsigned self_id(struct tnode *t)
{
	return (unsigned)id_low64(&dht_self(t->d)->id);
}

struct lres {
	bool done;
	enum dht_status status;
	unsigned owner, hops;
};

static void lookup_cb(void *arg, const struct dht_lookup_result *res)
{
	struct lres *l = arg;
	l->done = true;
	l->status = res->status;
	l->owner = (unsigned)id_low64(&res->owner.id);
	l->hops = res->hops;
}

static struct lres lookup(struct net *net, struct tnode *t, unsigned key)
{
	struct lres l = { 0 };
	struct dht_id k;
	id_from_u64(&k, key, 8);
	assert_int_equal(dht_lookup(t->d, &k, lookup_cb, &l), 0);
	for (int i = 0; i < 1000 && !l.done; i++)
		run_for(net, 10000);
	assert_true(l.done);
	return l;
}

/* The true owner of KEY among the live nodes: the first id at or after it. */
static unsigned true_owner(struct net *net, unsigned key)
{
	unsigned best = 0, bestd = 1000;
	for (int i = 0; i < net->count; i++) {
		if (!net->n[i].alive || dht_get_state(net->n[i].d) != DHT_JOINED)
			continue;
		unsigned id = self_id(&net->n[i]);
		unsigned dist = (id - key + 256) % 256;
		if (dist < bestd) {
			bestd = dist;
			best = id;
		}
	}
	return best;
}

static void assert_ring_correct(struct net *net)
{
	for (int i = 0; i < net->count; i++) {
		struct tnode *t = &net->n[i];
		if (!t->alive || dht_get_state(t->d) != DHT_JOINED)
			continue;
		assert_int_equal(succ_of(t), true_owner(net, (self_id(t) + 1) % 256));
	}
}

static void test_one_node_ring(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 100, 8);
	dht_create(a->d);
	run_for(net, 5 * SEC);
	assert_int_equal(succ_of(a), 100);
	for (unsigned k = 0; k < 256; k += 17) {
		struct lres l = lookup(net, a, k);
		assert_int_equal(l.status, DHT_OK);
		assert_int_equal(l.owner, 100);
		assert_int_equal(l.hops, 0);
	}
	net_free(net);
}

static void test_two_nodes_rectify_and_stabilize(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 10, 8), *b = add_node(net, 200, 8);
	dht_create(a->d);
	join_via(b, 0);
	run_for(net, 5 * SEC);
	assert_true(net->join_done[1]);
	assert_int_equal(net->join_status[1], DHT_OK);
	assert_int_equal(succ_of(a), 200);
	assert_int_equal(succ_of(b), 10);
	struct dht_node p;
	assert_int_equal(dht_predecessor(a->d, &p), 0);
	assert_int_equal(id_low64(&p.id), 200);
	assert_int_equal(dht_predecessor(b->d, &p), 0);
	assert_int_equal(id_low64(&p.id), 10);
	/* Keys in (10, 200] belong to 200, the rest to 10, asked from either side. */
	unsigned keys[] = { 0, 9, 10, 11, 199, 200, 201, 255 };
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		for (int from = 0; from < 2; from++) {
			struct lres l = lookup(net, &net->n[from], keys[i]);
			assert_int_equal(l.status, DHT_OK);
			assert_int_equal(l.owner, true_owner(net, keys[i]));
		}
	}
	net_free(net);
}

static void test_id_taken(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 50, 8), *b = add_node(net, 150, 8), *c;
	dht_create(a->d);
	join_via(b, 0);
	run_for(net, 3 * SEC);
	c = add_node(net, 150, 8);
	join_via(c, 0);
	run_for(net, 3 * SEC);
	assert_true(net->join_done[2]);
	assert_int_equal(net->join_status[2], DHT_ERR_ID_TAKEN);
	assert_int_equal(dht_get_state(c->d), DHT_IDLE);
	net_free(net);
}

static void test_join_unreachable(void **state)
{
	(void)state;
	struct net *net = net_new();
	struct tnode *a = add_node(net, 50, 8), *b = add_node(net, 150, 8);
	a->alive = false; /* never started: nobody answers */
	join_via(b, 0);
	run_for(net, 30 * SEC);
	assert_true(net->join_done[1]);
	assert_int_equal(net->join_status[1], DHT_ERR_TIMEOUT);
	net_free(net);
}

static const unsigned ids12[] = { 5, 17, 40, 41, 90, 128, 130, 170, 201, 222, 240, 255 };

static struct net *ring12(unsigned r)
{
	struct net *net = net_new();
	for (int i = 0; i < 12; i++)
		add_node(net, ids12[i], r);
	dht_create(net->n[0].d);
	/* Join one at a time through random members, as a lab would. */
	for (int i = 1; i < 12; i++) {
		join_via(&net->n[i], (int)rng_below(&net->rng, (uint64_t)i));
		run_for(net, 2 * SEC);
	}
	run_for(net, 30 * SEC);
	return net;
}

static void all_lookups_correct(struct net *net)
{
	for (int i = 0; i < net->count; i++) {
		if (!net->n[i].alive)
			continue;
		for (unsigned k = 0; k < 256; k += 7) {
			struct lres l = lookup(net, &net->n[i], k);
			assert_int_equal(l.status, DHT_OK);
			assert_int_equal(l.owner, true_owner(net, k));
		}
	}
}

static void test_ring_of_twelve(void **state)
{
	(void)state;
	unsigned rs[] = { 2, 3, 8, 16 };
	for (size_t i = 0; i < sizeof rs / sizeof rs[0]; i++) {
		struct net *net = ring12(rs[i]);
		assert_ring_correct(net);
		all_lookups_correct(net);
		net_free(net);
	}
}

static void test_graceful_leave(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	for (int i = 3; i < 12; i += 3) {
		dht_leave(net->n[i].d);
		net->n[i].alive = false;
	}
	run_for(net, 10 * SEC);
	assert_ring_correct(net);
	all_lookups_correct(net);
	net_free(net);
}

static void test_crash_and_repair(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	/* Three neighbours at once: r = 4 still leaves a live successor to everyone. */
	net->n[4].alive = net->n[5].alive = net->n[6].alive = false;
	run_for(net, 20 * SEC);
	assert_ring_correct(net);
	all_lookups_correct(net);
	net_free(net);
}

static void test_lookup_during_repair_routes_around(void **state)
{
	(void)state;
	struct net *net = ring12(4);
	net->n[6].alive = false; /* owner of (128, 130]; nobody has noticed yet */
	struct lres l = lookup(net, &net->n[0], 129);
	assert_int_equal(l.status, DHT_OK);
	assert_int_equal(l.owner, 170);
	net_free(net);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_node_ring),
		cmocka_unit_test(test_two_nodes_rectify_and_stabilize),
		cmocka_unit_test(test_id_taken),
		cmocka_unit_test(test_join_unreachable),
		cmocka_unit_test(test_ring_of_twelve),
		cmocka_unit_test(test_graceful_leave),
		cmocka_unit_test(test_crash_and_repair),
		cmocka_unit_test(test_lookup_during_repair_routes_around),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
