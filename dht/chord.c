/* The Chord core's entry points (dht/chord.h, and the store operations of dht/kv.h): the one
 * module that composes the others. A datagram comes in through dht_input() to the request layer
 * (rpc.c), which hands replies to the module that asked and requests back here, to be served by
 * the ring (ring.c), the answers to FIND (findserve.c) or the store (kv.c). Time comes in
 * through dht_tick(). Every entry point ends by announcing the core's earliest deadline to the
 * environment.
 *
 * Calls run one way: chord.c -> kv.c -> lookup.c -> findserve.c -> rpc.c, and chord.c -> ring.c
 * -> lookup.c.
 * The few things a lower module must tell a higher one go through hooks set in dht_new().
 * This file does no I/O. */
#include "dht/chord.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "dht/core.h"
#include "dht/kv_impl.h"
#include "dht/kvserve.h"
#include "dht/kvtrust.h"
#include "dht/findserve.h"
#include "dht/idproof.h"
#include "dht/lookup.h"
#include "dht/merge.h"
#include "dht/proof.h"
#include "dht/ring.h"

/* Announce the earliest deadline to the environment when it changed; return it. Every entry
 * point that may have sent a request or moved a timer ends with this. */
static uint64_t rearm(struct dht *d)
{
	uint64_t next = UINT64_MAX;
	if (d->state == DHT_JOINED) {
		next = ring_next_deadline(d);
		if (kv_next_deadline(d) < next)
			next = kv_next_deadline(d);
	}
	uint64_t retry = lookup_next_deadline(d);
	if (retry < next)
		next = retry;
	uint64_t pend = rpc_next_deadline(d->rpc);
	if (pend < next)
		next = pend;
	if (next != d->last_deadline && next != UINT64_MAX)
		rpc_set_timer(d->rpc, next);
	d->last_deadline = next;
	return next;
}

static bool config_valid(const struct dht_config *cfg)
{
	return id_bits_valid(cfg->bits) && cfg->succ_len >= 2 && cfg->succ_len <= ROUTING_MAX_SUCC &&
	       cfg->stabilize_us != 0 && cfg->check_pred_us != 0 && cfg->fix_fingers_us != 0 &&
	       cfg->fix_fingers_fast_us != 0 && id_log2(&cfg->self.id) < (int)cfg->bits &&
	       idproof_pair_ok(cfg->sign_pk, cfg->sign_sk) &&
	       (cfg->trust_chosen_ids || idproof_id_ok(&cfg->self.id, cfg->sign_pk, cfg->bits));
}

struct dht *dht_new(const struct dht_config *cfg, const struct dht_env *env, void *env_arg)
{
	if (!config_valid(cfg))
		return NULL;
	struct dht *d = calloc(1, sizeof *d);
	if (d == NULL)
		return NULL;
	d->cfg = *cfg;
	if (d->cfg.max_hops == 0 || d->cfg.max_hops > DHT_MAX_PATH)
		d->cfg.max_hops = DHT_MAX_PATH;
	if (d->cfg.lookup_tries == 0)
		d->cfg.lookup_tries = 1;
	d->state = DHT_IDLE;
	d->last_deadline = UINT64_MAX;
	d->suspect = ring_suspect;
	d->joined = kv_joined;
	d->pred_changed = kv_pred_changed;
	d->app_request = env->app_request;
	d->app_arg = env_arg;
	routing_init(&d->rt, &cfg->self, cfg->bits, cfg->succ_len);
	struct rpc_config rc = { cfg->bits, cfg->self.id, cfg->rto_init_us, cfg->rto_min_us,
				 cfg->rto_max_us, cfg->rate_per_s, cfg->rate_burst };
	d->rpc = rpc_new(&rc, env, env_arg, &d->stats);
	if (d->rpc == NULL || kv_init(d) != 0 || proof_init(d) != 0) {
		dht_free(d);
		return NULL;
	}
	return d;
}

static void app_end_all(struct dht *d, bool leaving);

void dht_free(struct dht *d)
{
	if (d == NULL)
		return;
	rpc_free(d->rpc);
	app_end_all(d, false);
	lookup_drop_all(d);
	kvtrust_free(d);
	kv_free(d);
	proof_free(d);
	sodium_memzero(d->cfg.sign_sk, sizeof d->cfg.sign_sk);
	free(d);
}

void dht_create(struct dht *d)
{
	ring_create(d);
	rearm(d);
}

int dht_join(struct dht *d, const struct dht_addr *via, dht_join_cb *cb, void *arg)
{
	if (d->state == DHT_JOINED || d->state == DHT_JOINING)
		return -1;
	if (ring_join(d, via, cb, arg) != 0)
		return -1;
	rearm(d);
	return 0;
}

void dht_merge_hint(struct dht *d, const struct dht_node *node)
{
	merge_hint(d, node);
}

void dht_leave(struct dht *d)
{
	kv_handoff_all(d);
	ring_leave(d);
	d->state = DHT_LEFT;
	rpc_drop_all(d->rpc);
	proof_drop_all(d);
	/* Lookups first: store operations still looking up finish through their callbacks. */
	lookup_fail_all(d, DHT_ERR_NOT_JOINED);
	kv_fail_all(d, DHT_ERR_NOT_JOINED);
	app_end_all(d, true);
	d->last_deadline = UINT64_MAX;
}

static void on_request(struct dht *d, const struct dht_msg *m, const struct dht_node *from)
{
	if (ring_on_request(d, m, from))
		return;
	if (m->type == DHT_FIND) {
		findserve_reply(d, m, &from->addr);
		return;
	}
	if (m->type == DHT_PROVE) {
		proof_answer(d, m, from);
		return;
	}
	if (DHT_MSG_IS_APP(m->type)) {
		if (d->state == DHT_JOINED && d->app_request != NULL)
			d->app_request(d->app_arg, m, &from->addr);
		return;
	}
	/* Handed-over keys may arrive before the answer to our JOIN: keep them. */
	if (d->state == DHT_JOINED || (d->state == DHT_JOINING && m->type == DHT_REPLICATE))
		kv_on_request(d, m, from);
}

void dht_input(struct dht *d, const uint8_t *buf, size_t len, const struct dht_addr *from)
{
	struct dht_msg m;
	bool listening = d->state != DHT_IDLE && d->state != DHT_LEFT;
	enum rpc_input_result r = rpc_input(d->rpc, buf, len, from, listening, &m);
	if (r == RPC_IN_REQUEST) {
		struct dht_node sender = { .id = m.from, .addr = *from };
		on_request(d, &m, &sender);
	}
	if (r != RPC_IN_DROPPED)
		rearm(d);
}

uint64_t dht_tick(struct dht *d)
{
	if (d->state == DHT_IDLE || d->state == DHT_LEFT)
		return UINT64_MAX;
	uint64_t now = rpc_now(d->rpc);
	rpc_expire(d->rpc, now);
	lookup_run_due(d, now);
	if (d->state == DHT_JOINED) {
		ring_tick(d, now);
		kv_tick(d, now);
	}
	return rearm(d);
}

int dht_lookup(struct dht *d, const struct dht_id *key, dht_lookup_cb *cb, void *arg)
{
	if (d->state != DHT_JOINED || cb == NULL)
		return -1;
	int rc = lookup_start(d, key, NULL, true, cb, arg);
	rearm(d);
	return rc;
}

/* --- the store's operations (dht/kv.h) ------------------------------------------------------- */

int dht_put(struct dht *d, const struct dht_id *key, const struct dht_item *item,
	    uint32_t ttl_s, const uint64_t *cas, dht_value_cb *cb, void *arg)
{
	int rc = kv_put(d, key, item, ttl_s, cas, cb, arg);
	if (rc == 0)
		rearm(d);
	return rc;
}

int dht_get(struct dht *d, const struct dht_id *key, const uint8_t *writer, dht_value_cb *cb,
	    void *arg)
{
	int rc = kv_get(d, key, writer, cb, arg);
	if (rc == 0)
		rearm(d);
	return rc;
}

int dht_announce(struct dht *d, const struct dht_id *key, const struct dht_addr *peer,
		 uint32_t ttl_s, dht_value_cb *cb, void *arg)
{
	int rc = kv_announce(d, key, peer, ttl_s, cb, arg);
	if (rc == 0)
		rearm(d);
	return rc;
}

int dht_get_peers(struct dht *d, const struct dht_id *key, unsigned max, dht_value_cb *cb,
		  void *arg)
{
	int rc = kv_get_peers(d, key, max, cb, arg);
	if (rc == 0)
		rearm(d);
	return rc;
}

int dht_query_neighbors(struct dht *d, const struct dht_addr *addr, dht_neighbors_cb *cb,
			void *arg)
{
	int rc = kv_query_neighbors(d, addr, cb, arg);
	if (rc == 0)
		rearm(d);
	return rc;
}

/* --- application messages ------------------------------------------------------------------ */

/* Kept in a list so that a leave can end them and dht_free can free them: the request layer
 * drops its table without calling back. */
struct app_call {
	struct app_call *prev, *next;
	struct dht *d;
	dht_app_cb *cb;
	void *arg;
};

static void app_unlink(struct app_call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->d->app_calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

/* The request's end: forget the call, then tell the node (M NULL: no answer). */
static void app_end(struct app_call *c, const struct dht_msg *m)
{
	dht_app_cb *cb = c->cb;
	void *arg = c->arg;
	app_unlink(c);
	free(c);
	cb(arg, m);
}

static void app_on_reply(void *arg, const struct rpc_req *q, const struct dht_msg *m)
{
	(void)q;
	app_end(arg, m);
}

static void app_on_timeout(void *arg, const struct rpc_req *q)
{
	(void)q;
	app_end(arg, NULL);
}

static const struct rpc_handler app_handler = { app_on_reply, app_on_timeout };

/* Every pending call ends: unanswered when leaving, silently when the core is freed. */
static void app_end_all(struct dht *d, bool leaving)
{
	while (d->app_calls) {
		struct app_call *c = d->app_calls;
		if (leaving) {
			app_end(c, NULL);
		} else {
			app_unlink(c);
			free(c);
		}
	}
}

int dht_app_request(struct dht *d, const struct dht_addr *to, const struct dht_msg *m,
		    unsigned tries, dht_app_cb *cb, void *arg)
{
	if (d->state != DHT_JOINED || cb == NULL || !DHT_MSG_IS_APP(m->type))
		return -1;
	struct app_call *c = calloc(1, sizeof *c);
	if (c == NULL)
		return -1;
	struct dht_node node = { .addr = *to };
	if (rpc_request(d->rpc, &node, false, m, tries, &app_handler, c, 0) != 0) {
		free(c);
		return -1;
	}
	*c = (struct app_call){ .next = d->app_calls, .d = d, .cb = cb, .arg = arg };
	if (c->next)
		c->next->prev = c;
	d->app_calls = c;
	rearm(d);
	return 0;
}

int dht_app_reply(struct dht *d, const struct dht_addr *to, uint32_t txid, struct dht_msg *m)
{
	m->txid = txid;
	return rpc_send(d->rpc, to, m);
}

/* --- introspection --------------------------------------------------------------------------- */

enum dht_state dht_get_state(const struct dht *d)
{
	return d->state;
}

const struct dht_node *dht_self(const struct dht *d)
{
	return &d->rt.self;
}

unsigned dht_bits(const struct dht *d)
{
	return d->cfg.bits;
}

int dht_node_key(struct dht *d, const struct dht_node *node, uint8_t pk[DHT_SIGN_PK_LEN])
{
	return proof_key(d, node, pk) ? 0 : -1;
}

int dht_predecessor(const struct dht *d, struct dht_node *out)
{
	if (!d->rt.has_pred)
		return -1;
	*out = d->rt.pred;
	return 0;
}

size_t dht_successors(const struct dht *d, struct dht_node *out, size_t max)
{
	return routing_distinct_succ(&d->rt, out, max);
}

size_t dht_successor_list(const struct dht *d, struct dht_node *out, size_t max)
{
	size_t n = d->rt.nsucc < max ? d->rt.nsucc : max;
	memcpy(out, d->rt.succ, n * sizeof *out);
	return n;
}

size_t dht_fingers(const struct dht *d, struct dht_node *out, unsigned *index, size_t max)
{
	return routing_distinct_fingers(&d->rt, out, index, max);
}

const struct dht_stats *dht_get_stats(const struct dht *d)
{
	return &d->stats;
}
