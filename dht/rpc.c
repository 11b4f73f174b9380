/* The request/response layer: the one place where the core's datagrams leave and arrive.
 *
 * Out: emit() is the only call to env->send(); a request's bytes are encoded once and kept, so a
 * retry resends exactly what was sent. In: rpc_input() decodes, then matches a reply to its
 * pending request by transaction id, source address and (when known) node id, so that a stray or
 * forged reply to a request we never sent to that node is counted and dropped. Sealing, signing
 * and rate limiting of datagrams belong in emit() and rpc_input(), and nowhere else.
 *
 * Timeouts: a Jacobson/Karels estimator per destination address (a bounded map), because peers
 * differ: a loopback neighbour answers in 0.2 ms, a simulated one in 40 ms, and one timeout for
 * all either waits long on a dead loopback hop or times live far peers out falsely. Once a
 * destination was measured RPC_TRUSTED_SAMPLES times, its own estimate sets its timeout, floor
 * rto_min_us; before, its own or the node-wide estimate (fed by every sample) does, but not below
 * RPC_RTO_NEW_MIN_US: a few samples, or other peers' round trips, say little of its jitter. Karn's
 * rule: a request that was resent gives no sample (the answer may be to either copy). A request
 * unanswered after its timeout is resent, each resend waiting twice that timeout, until its tries
 * are used up; then its timeout callback runs, but never sooner than RPC_GIVE_UP_MIN_US after
 * the first try: a false timeout of a live peer (taken for dead) costs far more than a late one
 * of a dead peer. Clients in a hurry read rpc_rto_hint() to ask someone else meanwhile.
 *
 * Pending requests sit in an array, removed by moving the last entry into the gap: timeouts
 * fire in array order, so this order is part of the core's deterministic behaviour. */
#include "dht/rpc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht/addrmap.h"
#include "dht/guard.h"

/* Destinations whose round trips are remembered; the least recently used is forgotten. */
#define RPC_MAX_PEERS 4096
/* Samples after which a destination's own estimate sets its timeout, floor rto_min_us included;
 * before, the more careful RPC_RTO_NEW_MIN_US floor holds. */
#define RPC_TRUSTED_SAMPLES 3
/* A request with more than one try times out no sooner than this after its first: what the old
 * fixed 100 ms minimum gave (100 + 200 + 200 ms). Declaring a live peer dead costs far more than
 * waiting on a dead one, which lookups no longer do (they ask another once a hop is overdue),
 * and short measured round trips say little of a rare long one (the simulator's exponential
 * latencies showed false deaths with windows of 5 timeouts). */
#define RPC_GIVE_UP_MIN_US 500000

struct pending {
	uint32_t txid;
	struct rpc_req q;
	unsigned tries_left;
	uint64_t deadline;
	uint64_t rto;    /* its first try's timeout; each resend waits twice that */
	bool resent;     /* Karn: its answer gives no round-trip sample */
	const struct rpc_handler *h;
	void *arg;
	bool challenged; /* resent once with a token already */
	bool notice;     /* a notice kept only to answer its challenge: no reply, no timeout */
	size_t len, body_len; /* the extensions follow the body */
	uint8_t *buf; /* the encoded request, resent as it is; room for DHT_EXT_MAX more */
};

/* A round-trip estimate, in microseconds (32 bits hold 71 minutes, far past rto_max: the
 * simulator keeps one per destination in each of thousands of nodes); srtt 0 until the first
 * sample. */
struct rtt {
	uint32_t srtt, rttvar;
	uint32_t samples;
};

struct rpc {
	struct rpc_config cfg;
	struct dht_env env;
	void *env_arg;
	struct dht_stats *stats;
	size_t npend, cappend;
	struct pending *pend;
	uint32_t next_txid;
	struct rtt all;         /* every sample: the estimate for a destination never measured */
	struct addrmap *peers;  /* struct rtt per destination address */
	struct guard *guard;
};

static void take(struct rpc *r, size_t i, struct pending *out);

struct rpc *rpc_new(const struct rpc_config *cfg, const struct dht_env *env, void *env_arg,
		    struct dht_stats *stats)
{
	struct rpc *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->cfg = *cfg;
	r->env = *env;
	r->env_arg = env_arg;
	r->stats = stats;
	r->env.random(r->env_arg, &r->next_txid, sizeof r->next_txid);
	uint8_t secret[GUARD_SECRET_LEN];
	r->env.random(r->env_arg, secret, sizeof secret);
	uint64_t seed;
	r->env.random(r->env_arg, &seed, sizeof seed);
	r->guard = guard_new(cfg->rate_per_s, cfg->rate_burst, secret);
	r->peers = addrmap_new(sizeof(struct rtt), RPC_MAX_PEERS, seed);
	if (r->guard == NULL || r->peers == NULL) {
		rpc_free(r);
		return NULL;
	}
	guard_rotate(r->guard, rpc_now(r), secret);
	return r;
}

void rpc_drop_all(struct rpc *r)
{
	for (size_t i = 0; i < r->npend; i++)
		free(r->pend[i].buf);
	r->npend = 0;
}

void rpc_cancel(struct rpc *r, const void *arg)
{
	for (size_t i = 0; i < r->npend;) {
		if (r->pend[i].arg != arg || r->pend[i].notice) {
			i++;
			continue;
		}
		struct pending done;
		take(r, i, &done);
		free(done.buf);
	}
}

void rpc_free(struct rpc *r)
{
	if (r == NULL)
		return;
	rpc_drop_all(r);
	guard_free(r->guard);
	addrmap_free(r->peers);
	free(r->pend);
	free(r);
}

uint64_t rpc_now(const struct rpc *r)
{
	return r->env.now(r->env_arg);
}

void rpc_random(const struct rpc *r, void *buf, size_t len)
{
	r->env.random(r->env_arg, buf, len);
}

void rpc_set_timer(const struct rpc *r, uint64_t at)
{
	r->env.set_timer(r->env_arg, at);
}

void rpc_log(const struct rpc *r, enum dht_log_level level, const char *fmt, ...)
{
	if (r->env.log == NULL)
		return;
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	r->env.log(r->env_arg, level, buf);
}

/* E's timeout: the Jacobson/Karels bound, but not below twice the mean (a few alike samples
 * make the variation small, and jitter they did not show would time a live peer out), within
 * [FLOOR, rto_max]. */
static uint64_t rtt_bound(const struct rpc *r, const struct rtt *e, uint64_t floor)
{
	uint64_t t = r->cfg.rto_init_us;
	if (e->srtt) {
		uint64_t jk = (uint64_t)e->srtt + 4 * (uint64_t)e->rttvar, twice = 2 * (uint64_t)e->srtt;
		t = jk > twice ? jk : twice;
	}
	if (t < floor)
		t = floor;
	return t > r->cfg.rto_max_us ? r->cfg.rto_max_us : t;
}

uint64_t rpc_rto(struct rpc *r, const struct dht_addr *to)
{
	const struct rtt *e = addrmap_get(r->peers, to, rpc_now(r));
	if (e != NULL && e->samples >= RPC_TRUSTED_SAMPLES)
		return rtt_bound(r, e, r->cfg.rto_min_us);
	/* Too little known of TO: other peers' round trips say little of its own. */
	uint64_t floor = r->cfg.rto_min_us > RPC_RTO_NEW_MIN_US ? r->cfg.rto_min_us : RPC_RTO_NEW_MIN_US;
	return rtt_bound(r, e != NULL && e->srtt ? e : &r->all, floor);
}

uint64_t rpc_rto_hint(struct rpc *r, const struct dht_addr *to)
{
	const struct rtt *e = addrmap_get(r->peers, to, rpc_now(r));
	uint64_t floor = r->cfg.rto_min_us < RPC_HINT_MIN_US ? r->cfg.rto_min_us : RPC_HINT_MIN_US;
	uint64_t t = rtt_bound(r, e != NULL && e->srtt ? e : &r->all, floor);
	/* Without its token, the request draws a challenge first: two round trips. */
	uint8_t token[DHT_TOKEN_LEN];
	return guard_echo(r->guard, to, token, rpc_now(r)) ? t : 2 * t;
}

static void rtt_update(struct rtt *e, uint64_t rtt)
{
	if (rtt > UINT32_MAX / 8)
		rtt = UINT32_MAX / 8; /* keeps 7 * srtt + rtt in 32 bits */
	if (e->samples < UINT32_MAX)
		e->samples++;
	if (e->srtt == 0) {
		e->srtt = rtt ? (uint32_t)rtt : 1;
		e->rttvar = (uint32_t)rtt / 2;
		return;
	}
	uint64_t err = rtt > e->srtt ? rtt - e->srtt : e->srtt - rtt;
	e->rttvar = (uint32_t)((3 * (uint64_t)e->rttvar + err) / 4);
	e->srtt = (uint32_t)((7 * (uint64_t)e->srtt + rtt) / 8);
	if (e->srtt == 0)
		e->srtt = 1;
}

static void rtt_sample(struct rpc *r, const struct dht_addr *from, uint64_t rtt)
{
	rtt_update(&r->all, rtt);
	bool added;
	struct rtt *e = addrmap_put(r->peers, from, rpc_now(r), &added);
	if (e != NULL)
		rtt_update(e, rtt);
}

/* Every datagram leaves through here. */
static void emit(struct rpc *r, const struct dht_addr *to, const uint8_t *buf, size_t len)
{
	r->stats->sent++;
	r->env.send(r->env_arg, to, buf, len);
}

static bool is_reply(uint8_t type)
{
	return type == DHT_PONG || type == DHT_NEIGH || type == DHT_FOUND || type == DHT_ERROR ||
	       type == DHT_STORED || type == DHT_VALUE || type == DHT_PEERS ||
	       type == DHT_PUSH_ACK || type == DHT_PUSH_STATE || type == DHT_PROOF;
}

/* Requests no answer is expected to: unproven, they are dropped, not challenged. */
static bool is_notice(uint8_t type)
{
	return type == DHT_NOTIFY || type == DHT_LEAVE || type == DHT_REPLICATE;
}

/* The tokens M carries to TO: ours for TO, and TO's for us if it gave us one. A request without
 * the latter is padded, so that the challenge it may draw is no larger than itself. */
static void set_ext(struct rpc *r, struct dht_msg *m, const struct dht_addr *to)
{
	memset(&m->ext, 0, sizeof m->ext);
	m->ext.has_give = 1;
	guard_token(r->guard, to, m->ext.give);
	if (is_reply(m->type))
		return;
	m->ext.has_echo = guard_echo(r->guard, to, m->ext.echo, rpc_now(r));
	if (!m->ext.has_echo)
		m->ext.pad = 1;
}

/* Encode M to TO into BUF (DHT_MSG_MAX bytes); return the length, or -1. */
static int encode(struct rpc *r, struct dht_msg *m, const struct dht_addr *to, uint8_t *buf)
{
	m->bits = (uint8_t)r->cfg.bits;
	m->from = r->cfg.self;
	set_ext(r, m, to);
	int len = dht_msg_encode(m, buf, DHT_MSG_MAX);
	if (len < 0)
		rpc_log(r, DHT_LOG_ERROR, "cannot encode a %s message", dht_msg_type_str(m->type));
	return len;
}

/* Never called: a kept notice expires silently (expire_one), and rpc_fail_node() passes it by
 * (its id is not known). */
static const struct rpc_handler notice_handler = { NULL, NULL };
static int request(struct rpc *r, const struct dht_node *to, bool id_known,
		   const struct dht_msg *m, unsigned tries, const struct rpc_handler *h, void *arg,
		   unsigned tag, bool notice);

int rpc_send(struct rpc *r, const struct dht_addr *to, struct dht_msg *m)
{
	uint8_t buf[DHT_MSG_MAX], token[DHT_TOKEN_LEN];
	/* A notice to a node that gave us no token yet would be dropped there: keep it like a
	 * request, to answer the challenge it draws with the token. */
	if (is_notice(m->type) && !guard_echo(r->guard, to, token, rpc_now(r))) {
		struct dht_node n = { .addr = *to };
		return request(r, &n, false, m, 1, &notice_handler, NULL, 0, true);
	}
	int len = encode(r, m, to, buf);
	if (len < 0)
		return -1;
	emit(r, to, buf, (size_t)len);
	return 0;
}

static struct pending *pending_add(struct rpc *r)
{
	if (r->npend == r->cappend) {
		size_t cap = r->cappend ? r->cappend * 2 : 16;
		struct pending *np = realloc(r->pend, cap * sizeof *np);
		if (np == NULL)
			return NULL;
		r->pend = np;
		r->cappend = cap;
	}
	struct pending *p = &r->pend[r->npend++];
	memset(p, 0, sizeof *p);
	return p;
}

static int request(struct rpc *r, const struct dht_node *to, bool id_known,
		   const struct dht_msg *m, unsigned tries, const struct rpc_handler *h, void *arg,
		   unsigned tag, bool notice)
{
	uint8_t buf[DHT_MSG_MAX];
	struct dht_msg out = *m;
	out.txid = r->next_txid;
	int len = encode(r, &out, &to->addr, buf);
	if (len < 0)
		return -1;
	uint8_t ext[DHT_EXT_MAX];
	int ext_len = dht_msg_ext_encode(&out.ext, ext, sizeof ext);
	uint8_t *copy = malloc((size_t)len + DHT_EXT_MAX);
	struct pending *p = copy ? pending_add(r) : NULL;
	if (p == NULL) {
		free(copy);
		return -1;
	}
	memcpy(copy, buf, (size_t)len);
	p->txid = r->next_txid++;
	p->q = (struct rpc_req){ .to = *to, .to_id_known = id_known, .tag = tag };
	p->tries_left = tries ? tries - 1 : 0;
	p->q.sent_at = rpc_now(r);
	p->rto = rpc_rto(r, &to->addr);
	p->deadline = p->q.sent_at + p->rto;
	p->h = h;
	p->arg = arg;
	p->buf = copy;
	p->len = (size_t)len;
	p->body_len = (size_t)(len - ext_len);
	p->notice = notice;
	emit(r, &to->addr, p->buf, p->len);
	return 0;
}

int rpc_request(struct rpc *r, const struct dht_node *to, bool id_known, const struct dht_msg *m,
		unsigned tries, const struct rpc_handler *h, void *arg, unsigned tag)
{
	return request(r, to, id_known, m, tries, h, arg, tag, false);
}

/* Take entry I out of the table into *OUT; the caller frees out->buf. */
static void take(struct rpc *r, size_t i, struct pending *out)
{
	*out = r->pend[i];
	r->pend[i] = r->pend[--r->npend];
}

static void time_out(struct rpc *r, struct pending *p)
{
	r->stats->timeouts++;
	p->h->timeout(p->arg, &p->q);
	free(p->buf);
}

/* A token challenge to a request of ours: resend it once at once, echoing the token, at no try's
 * cost. A later challenge (to a retry sent before the first challenge came) only updates the
 * token its next retry carries: it is no answer, and must not end the request as if refused. */
static bool answer_challenge(struct rpc *r, struct pending *p, const struct dht_msg *m)
{
	if (m->type != DHT_ERROR || m->u.error.code != DHT_ERR_TOKEN || !m->ext.has_give)
		return false;
	struct dht_msg_ext x;
	memset(&x, 0, sizeof x);
	x.has_give = 1;
	guard_token(r->guard, &p->q.to.addr, x.give);
	x.has_echo = 1;
	memcpy(x.echo, m->ext.give, DHT_TOKEN_LEN);
	int n = dht_msg_ext_encode(&x, p->buf + p->body_len, DHT_EXT_MAX);
	if (n < 0 || p->body_len + (size_t)n > DHT_MSG_MAX)
		return false;
	p->len = p->body_len + (size_t)n;
	if (p->challenged)
		return true;
	p->challenged = true;
	/* The round trip is timed from here: the challenge is not the peer being slow. */
	p->q.sent_at = rpc_now(r);
	p->deadline = p->q.sent_at + p->rto;
	emit(r, &p->q.to.addr, p->buf, p->len);
	return true;
}

/* Hand M to the request it answers. Replies must come from the address the request went to. */
static void on_reply(struct rpc *r, const struct dht_msg *m, const struct dht_addr *from)
{
	for (size_t i = 0; i < r->npend; i++) {
		struct pending *p = &r->pend[i];
		if (p->txid != m->txid || !dht_addr_eq(&p->q.to.addr, from))
			continue;
		if (p->q.to_id_known && !id_eq(&p->q.to.id, &m->from))
			continue;
		/* It echoed our transaction id from the address we asked: its token is its own. */
		if (m->ext.has_give)
			guard_learn(r->guard, from, m->ext.give, rpc_now(r));
		if (answer_challenge(r, p, m))
			return;
		if (p->notice)
			break; /* nothing answers a notice but a challenge */
		struct pending done;
		take(r, i, &done);
		if (!done.resent)
			rtt_sample(r, from, rpc_now(r) - done.q.sent_at);
		done.h->reply(done.arg, &done.q, m);
		free(done.buf);
		return;
	}
	r->stats->dropped_unsolicited++;
}

/* A request or notice from an address that has not proven it receives there: challenge it with
 * a token if the challenge is no larger than what came (no amplification), else only count it. */
static void challenge(struct rpc *r, const struct dht_msg *req, size_t req_len,
		      const struct dht_addr *from)
{
	r->stats->dropped_unproven++;
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_ERROR;
	m.txid = req->txid;
	m.u.error.code = DHT_ERR_TOKEN;
	uint8_t buf[DHT_MSG_MAX];
	int len = encode(r, &m, from, buf);
	if (len < 0 || (size_t)len > req_len)
		return;
	r->stats->challenges++;
	emit(r, from, buf, (size_t)len);
}

static bool proven(struct rpc *r, const struct dht_msg *req, const struct dht_addr *from)
{
	return req->ext.has_echo && guard_token_ok(r->guard, from, req->ext.echo);
}

enum rpc_input_result rpc_input(struct rpc *r, const uint8_t *buf, size_t len,
				const struct dht_addr *from, bool listening, struct dht_msg *req)
{
	uint64_t now = rpc_now(r);
	if (!guard_allow(r->guard, from, now)) {
		r->stats->dropped_rate++;
		return RPC_IN_DROPPED;
	}
	enum dht_decode_result res = dht_msg_decode(req, buf, len, r->cfg.bits);
	if (res != DHT_DECODE_OK) {
		r->stats->dropped[res]++;
		return RPC_IN_DROPPED;
	}
	if (!listening)
		return RPC_IN_DROPPED;
	r->stats->received++;
	if (is_reply(req->type)) {
		on_reply(r, req, from);
		return RPC_IN_REPLY;
	}
	if (!proven(r, req, from)) {
		challenge(r, req, len, from);
		return RPC_IN_DROPPED;
	}
	if (req->ext.has_give)
		guard_learn(r->guard, from, req->ext.give, now);
	return RPC_IN_REQUEST;
}

/* Retry or expire one overdue request; return false if none is overdue. */
static bool expire_one(struct rpc *r, uint64_t now)
{
	for (size_t i = 0; i < r->npend; i++) {
		struct pending *p = &r->pend[i];
		if (p->deadline > now)
			continue;
		if (p->tries_left > 0) {
			/* Back off: the first timeout may only mean a lost datagram or a slow peer. */
			p->tries_left--;
			p->deadline = now + 2 * p->rto;
			/* The last try decides that the peer is dead: not before a window no jitter of
			 * a live peer fills, however short its measured round trips. */
			if (p->tries_left == 0 && p->deadline < p->q.sent_at + RPC_GIVE_UP_MIN_US)
				p->deadline = p->q.sent_at + RPC_GIVE_UP_MIN_US;
			p->resent = true;
			emit(r, &p->q.to.addr, p->buf, p->len);
			return true;
		}
		struct pending done;
		take(r, i, &done);
		if (done.notice)
			free(done.buf); /* delivered, or the node is gone: either way, nobody waits */
		else
			time_out(r, &done);
		return true;
	}
	return false;
}

void rpc_expire(struct rpc *r, uint64_t now)
{
	if (guard_rotate_due(r->guard, now)) {
		uint8_t secret[GUARD_SECRET_LEN];
		rpc_random(r, secret, sizeof secret);
		guard_rotate(r->guard, now, secret);
	}
	while (expire_one(r, now))
		;
}

uint64_t rpc_next_deadline(const struct rpc *r)
{
	uint64_t next = UINT64_MAX;
	for (size_t i = 0; i < r->npend; i++)
		if (r->pend[i].deadline < next)
			next = r->pend[i].deadline;
	return next;
}

void rpc_fail_node(struct rpc *r, const struct dht_node *node)
{
	for (size_t i = 0; i < r->npend;) {
		struct pending *p = &r->pend[i];
		if (!p->q.to_id_known || !id_eq(&p->q.to.id, &node->id) ||
		    !dht_addr_eq(&p->q.to.addr, &node->addr)) {
			i++;
			continue;
		}
		struct pending done;
		take(r, i, &done);
		time_out(r, &done);
		i = 0; /* the callback may have added or removed entries */
	}
}
