/* tests/unit/tinynet.h: a tiny deterministic network for protocol-step tests of the Chord core:
 * a handful of cores wired through the simulator's event queue with a fixed 10 ms latency and
 * 8-bit ids chosen by hand. Header-only (static inline) so each test program includes it. */
#ifndef TESTS_TINYNET_H
#define TESTS_TINYNET_H

#include <stdlib.h>
#include <string.h>

#include "dht/chord.h"
#include "dht/rng.h"
#include "tools/sim/evq.h"

/* Include <cmocka.h> (and what it needs) before this header. */

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
	/* The node's answer to application requests (dht_env.app_request); NULL: none. */
	void (*app)(struct tnode *t, const struct dht_msg *m, const struct dht_addr *from);
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

static inline void addr_of(int idx, struct dht_addr *a)
{
	memset(a, 0, sizeof *a);
	a->family = 4;
	a->ip[0] = 127;
	a->ip[3] = (uint8_t)(idx + 1);
	a->port = 1;
}

static inline void deliver(void *ctx, void *arg, uint64_t u)
{
	struct net *net = ctx;
	struct packet *p = arg;
	(void)u;
	if (net->n[p->to].alive)
		dht_input(net->n[p->to].d, p->buf, p->len, &p->from);
	free(p);
}

static inline void env_send(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len)
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

/* Send M, as changed by a test's filter, from the node ARG (for envs that tamper). */
static inline void env_send_msg(void *arg, const struct dht_addr *to, const struct dht_msg *m)
{
	uint8_t out[DHT_MSG_MAX];
	int n = dht_msg_encode(m, out, sizeof out);
	assert_true(n > 0);
	env_send(arg, to, out, (size_t)n);
}

static inline void fire(void *ctx, void *arg, uint64_t at)
{
	struct tnode *t = arg;
	(void)ctx;
	if (t->alive && t->wake == at)
		dht_tick(t->d);
}

static inline void env_set_timer(void *arg, uint64_t at)
{
	struct tnode *t = arg;
	t->wake = at;
	evq_at(t->net->q, at, fire, t, at);
}

static inline uint64_t env_now(void *arg)
{
	struct tnode *t = arg;
	return evq_now(t->net->q);
}

static inline void env_random(void *arg, void *buf, size_t len)
{
	struct tnode *t = arg;
	rng_bytes(&t->net->rng, buf, len);
}

static inline void env_app(void *arg, const struct dht_msg *m, const struct dht_addr *from)
{
	struct tnode *t = arg;
	if (t->app != NULL)
		t->app(t, m, from);
}

static const struct dht_env env = { env_send, env_set_timer, env_now, env_random, NULL, env_app };

static inline struct net *net_new(void)
{
	struct net *net = calloc(1, sizeof *net);
	net->q = evq_new(net);
	rng_seed(&net->rng, 42);
	return net;
}

static inline void net_free(struct net *net)
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

static inline void tiny_config(struct dht_config *cfg, unsigned r)
{
	dht_config_default(cfg);
	cfg->bits = 8;
	cfg->succ_len = r;
}

/* Add a node of config CFG (its address is set here) whose environment is E. */
static inline struct tnode *add_node_cfg(struct net *net, struct dht_config *cfg,
					 const struct dht_env *e)
{
	struct tnode *t = &net->n[net->count];
	t->net = net;
	t->idx = net->count++;
	t->alive = true;
	addr_of(t->idx, &cfg->self.addr);
	t->d = dht_new(cfg, e, t);
	assert_non_null(t->d);
	return t;
}

/* Add a node whose environment is E. */
static inline struct tnode *add_node_with(struct net *net, unsigned id, unsigned r,
					  const struct dht_env *e)
{
	struct dht_config cfg;
	tiny_config(&cfg, r);
	id_from_u64(&cfg.self.id, id, 8);
	/* Tests place nodes at chosen ids, as a private ring may (types.h): each still proves it
	 * holds its own key. */
	cfg.trust_chosen_ids = true;
	uint8_t seed[DHT_SIGN_SEED_LEN] = { (uint8_t)id, (uint8_t)net->count, 0x7e };
	dht_config_seed_key(&cfg, seed);
	return add_node_cfg(net, &cfg, e);
}

/* Add a node whose id is its key's (SEED picks the key). It takes as neighbours only nodes whose
 * ids are their keys' (an open ring's rule) unless TRUST (it then takes chosen ids too). */
static inline struct tnode *add_open_node(struct net *net, uint8_t seed, unsigned r, bool trust)
{
	struct dht_config cfg;
	tiny_config(&cfg, r);
	uint8_t s[DHT_SIGN_SEED_LEN] = { seed, 0x0e };
	dht_config_seed_key(&cfg, s);
	cfg.trust_chosen_ids = trust;
	return add_node_cfg(net, &cfg, &env);
}

static inline struct tnode *add_node(struct net *net, unsigned id, unsigned r)
{
	return add_node_with(net, id, r, &env);
}

static inline void joined(void *arg, enum dht_status status)
{
	struct tnode *t = arg;
	t->net->join_status[t->idx] = status;
	t->net->join_done[t->idx] = true;
}

static inline void join_via(struct tnode *t, int via)
{
	struct dht_addr a;
	addr_of(via, &a);
	assert_int_equal(dht_join(t->d, &a, joined, t), 0);
}

static inline void run_for(struct net *net, uint64_t us)
{
	evq_run_until(net->q, evq_now(net->q) + us);
}

static inline unsigned succ_of(struct tnode *t)
{
	struct dht_node s[32];
	assert_true(dht_successors(t->d, s, 32) >= 1);
	return (unsigned)id_low64(&s[0].id);
}

static inline unsigned self_id(struct tnode *t)
{
	return (unsigned)id_low64(&dht_self(t->d)->id);
}

struct lres {
	bool done;
	enum dht_status status;
	unsigned owner, hops;
	uint64_t elapsed_us; /* on the virtual clock */
};

static inline void lookup_cb(void *arg, const struct dht_lookup_result *res)
{
	struct lres *l = arg;
	l->done = true;
	l->status = res->status;
	l->owner = (unsigned)id_low64(&res->owner.id);
	l->hops = res->hops;
	l->elapsed_us = res->elapsed_us;
}

static inline struct lres lookup(struct net *net, struct tnode *t, unsigned key)
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
static inline unsigned true_owner(struct net *net, unsigned key)
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

static inline void assert_ring_correct(struct net *net)
{
	for (int i = 0; i < net->count; i++) {
		struct tnode *t = &net->n[i];
		if (!t->alive || dht_get_state(t->d) != DHT_JOINED)
			continue;
		assert_int_equal(succ_of(t), true_owner(net, (self_id(t) + 1) % 256));
	}
}


static const unsigned ids12[] = { 5, 17, 40, 41, 90, 128, 130, 170, 201, 222, 240, 255 };

static inline struct net *ring12(unsigned r)
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

static inline void all_lookups_correct(struct net *net)
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

#endif
