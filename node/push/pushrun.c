/* One push, from the pushing node. Three phases, each bounded:
 *  1. the walk: GET_NEIGH along first successors from this node (as the ring command walks),
 *     stepping around a member that does not answer through the rest of the last successor
 *     list, until it comes back here, PUSH_MAX_MEMBERS or PUSH_WALK_TIMEOUT_S;
 *  2. the requests: one signed PUSH to each member, retried by the core's request layer;
 *  3. the polls: PUSH_STATUS to each member that accepted, every poll period, until its copy
 *     is verified, it fails, it stops answering (PUSH_POLL_MISSES in a row), its copy stops
 *     growing (PUSH_STALL_S) or the push's own time runs out.
 * The run ends from its timer, never from inside a core callback, so that the owner may cancel
 * it from the done callback without pulling the run from under a callback that still runs.
 * Requests out in the core keep the run alive (pending) after a cancel. */
#include "node/push/pushrun.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dht/kv.h"
#include "node/clock.h"

#define TICK_US 100000u
#define PUSH_TRIES 5
#define STATUS_TRIES 2

struct push_run {
	struct event_base *base;
	struct push_node *p;
	struct dht *d;
	uint8_t cid[DHT_PUSH_CID_LEN];
	uint8_t nonce[DHT_PUSH_NONCE_LEN];
	uint64_t time_s;
	struct push_run_cb cb;
	void *arg;
	struct event *timer;
	struct push_member *m;
	size_t n, cap;
	/* the walk */
	bool walking;
	struct dht_node cand[DHT_MAX_NODES]; /* the last member's successors */
	size_t ncand, icand;
	uint64_t walk_deadline;
	/* the requests and polls */
	uint64_t started_us, deadline_us, next_poll_us, next_progress_us;
	unsigned pending;    /* core requests out: the core holds a pointer into the run */
	bool cancelled, ended;
};

static const char *const mstate_names[] = {
	[PM_SOURCE] = "source",   [PM_ASKING] = "asking",       [PM_FETCHING] = "fetching",
	[PM_VERIFIED] = "verified", [PM_HAD] = "had_it",        [PM_REFUSED] = "refused",
	[PM_NO_ANSWER] = "no_answer", [PM_FAILED] = "failed",   [PM_TIMEOUT] = "timeout",
};

const char *push_mstate_name(enum push_mstate s)
{
	return (unsigned)s < sizeof mstate_names / sizeof mstate_names[0] ? mstate_names[s] : "?";
}

static bool final(enum push_mstate s)
{
	return s != PM_ASKING && s != PM_FETCHING;
}

void push_run_free(struct push_run *r)
{
	if (r == NULL)
		return;
	if (r->timer)
		event_free(r->timer);
	free(r->m);
	free(r);
}

/* A cancelled run with nothing out in the core goes, and says so. */
static void release(struct push_run *r)
{
	void (*gone)(void *) = r->cb.gone;
	void *arg = r->arg;
	push_run_free(r);
	gone(arg);
}

void push_run_cancel(struct push_run *r)
{
	r->cancelled = true;
	evtimer_del(r->timer);
	if (r->pending == 0)
		release(r);
}

/* A core callback came back: return true if the run is cancelled (and freed when it was the
 * last one out), so that the callback must not touch it. */
static bool came_back(struct push_run *r)
{
	r->pending--;
	if (!r->cancelled)
		return false;
	if (r->pending == 0)
		release(r);
	return true;
}

static void set_final(struct push_member *mb, enum push_mstate s, uint8_t why)
{
	struct push_run *r = mb->run;
	mb->state = s;
	mb->why = why;
	mb->seconds = (double)(mono_now_us() - r->started_us) / 1e6;
}

/* ---- the walk ---- */

static bool node_eq(const struct dht_node *a, const struct dht_node *b)
{
	return id_eq(&a->id, &b->id) && dht_addr_eq(&a->addr, &b->addr);
}

static bool visited(const struct push_run *r, const struct dht_node *n)
{
	for (size_t i = 0; i < r->n; i++) /* O(n) a step; n is at most PUSH_MAX_MEMBERS */
		if (node_eq(&r->m[i].node, n))
			return true;
	return false;
}

static struct push_member *add_member(struct push_run *r, const struct dht_node *n)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct push_member *m = realloc(r->m, cap * sizeof *m);
		if (m == NULL)
			return NULL;
		r->m = m;
		r->cap = cap;
	}
	struct push_member *mb = &r->m[r->n++];
	memset(mb, 0, sizeof *mb);
	mb->node = *n;
	mb->state = PM_ASKING;
	return mb;
}

static void set_cands(struct push_run *r, const struct dht_node *succ, size_t n)
{
	r->ncand = n < DHT_MAX_NODES ? n : DHT_MAX_NODES;
	memcpy(r->cand, succ, r->ncand * sizeof *succ);
	r->icand = 0;
}

static void walk_step(struct push_run *r);

static void on_neighbors(void *arg, const struct dht_neighbors *res)
{
	struct push_run *r = arg;
	if (came_back(r) || !r->walking)
		return;
	if (res->status != DHT_OK) {
		r->icand++;
	} else if (add_member(r, &r->cand[r->icand]) == NULL) {
		r->walking = false;
		return;
	} else {
		set_cands(r, res->succ, res->nsucc);
	}
	walk_step(r);
}

/* Ask the next candidate, or end the walk (back at the start, nobody left to ask, full). */
static void walk_step(struct push_run *r)
{
	while (r->icand < r->ncand && !node_eq(&r->cand[r->icand], &r->m[0].node) &&
	       visited(r, &r->cand[r->icand]))
		r->icand++; /* a member already met: its list goes on past it */
	if (r->icand >= r->ncand || node_eq(&r->cand[r->icand], &r->m[0].node) ||
	    r->n >= PUSH_MAX_MEMBERS) {
		r->walking = false;
		return;
	}
	if (dht_query_neighbors(r->d, &r->cand[r->icand].addr, on_neighbors, r) != 0) {
		r->walking = false;
		return;
	}
	r->pending++;
}

/* ---- the requests and polls ---- */

static void on_ack(void *arg, const struct dht_msg *reply)
{
	struct push_member *mb = arg;
	struct push_run *r = mb->run;
	if (came_back(r))
		return;
	mb->asking = false;
	if (r->ended)
		return;
	if (reply == NULL || reply->type != DHT_PUSH_ACK) {
		set_final(mb, PM_NO_ANSWER, PUSH_WHY_NONE);
	} else if (reply->u.push_ack.status == PUSH_ACCEPTED) {
		mb->state = PM_FETCHING;
		mb->progress_us = mono_now_us();
	} else if (reply->u.push_ack.status == PUSH_HAVE) {
		set_final(mb, PM_HAD, PUSH_WHY_NONE);
	} else {
		set_final(mb, PM_REFUSED, reply->u.push_ack.reason);
	}
}

static void send_push(struct push_run *r, struct push_member *mb)
{
	const struct identity *id = push_node_identity(r->p);
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_PUSH;
	memcpy(m.u.push.cid, r->cid, DHT_PUSH_CID_LEN);
	m.u.push.pusher = dht_self(r->d)->addr;
	m.u.push.time_s = r->time_s;
	memcpy(m.u.push.nonce, r->nonce, DHT_PUSH_NONCE_LEN);
	memcpy(m.u.push.pk, id->pk, DHT_PUSH_PK_LEN);
	push_sign(&m, &mb->node.id, id->sk);
	if (dht_app_request(r->d, &mb->node.addr, &m, PUSH_TRIES, on_ack, mb) != 0) {
		set_final(mb, PM_NO_ANSWER, PUSH_WHY_NONE);
		return;
	}
	mb->asking = true;
	r->pending++;
}

static void on_state(void *arg, const struct dht_msg *reply)
{
	struct push_member *mb = arg;
	struct push_run *r = mb->run;
	if (came_back(r))
		return;
	mb->asking = false;
	if (r->ended || mb->state != PM_FETCHING)
		return;
	if (reply == NULL || reply->type != DHT_PUSH_STATE) {
		if (++mb->misses >= PUSH_POLL_MISSES)
			set_final(mb, PM_NO_ANSWER, PUSH_WHY_NONE);
		return;
	}
	mb->misses = 0;
	if (reply->u.push_state.done != mb->done)
		mb->progress_us = mono_now_us();
	mb->done = reply->u.push_state.done;
	mb->total = reply->u.push_state.total;
	if (reply->u.push_state.state == PUSH_ST_VERIFIED)
		set_final(mb, PM_VERIFIED, PUSH_WHY_NONE);
	else if (reply->u.push_state.state != PUSH_ST_FETCHING)
		set_final(mb, PM_FAILED, reply->u.push_state.reason);
}

static void poll_member(struct push_run *r, struct push_member *mb, uint64_t now)
{
	struct dht_msg m;
	if (now - mb->progress_us > (uint64_t)PUSH_STALL_S * 1000000u) {
		set_final(mb, PM_TIMEOUT, PUSH_WHY_NONE);
		return;
	}
	memset(&m, 0, sizeof m);
	m.type = DHT_PUSH_STATUS;
	memcpy(m.u.push_status.cid, r->cid, DHT_PUSH_CID_LEN);
	if (dht_app_request(r->d, &mb->node.addr, &m, STATUS_TRIES, on_state, mb) == 0) {
		mb->asking = true;
		r->pending++;
	} else if (++mb->misses >= PUSH_POLL_MISSES) {
		set_final(mb, PM_NO_ANSWER, PUSH_WHY_NONE);
	}
}

static void start_requests(struct push_run *r, uint64_t now)
{
	r->started_us = now;
	for (size_t i = 1; i < r->n; i++) {
		r->m[i].run = r;
		send_push(r, &r->m[i]);
	}
}

/* The poll period: a quarter second, longer for big rings so that a push sends at most
 * about 200 status requests a second. */
static uint64_t poll_us(const struct push_run *r)
{
	uint64_t us = (uint64_t)r->n * 5000u;
	return us > 250000u ? us : 250000u;
}

/* Whether every member is final, after ending those still going at a deadline. */
static bool all_final(struct push_run *r, uint64_t now)
{
	bool out_of_time = now >= r->deadline_us, all = true;
	for (size_t i = 1; i < r->n; i++) {
		struct push_member *mb = &r->m[i];
		if (!final(mb->state) && out_of_time)
			set_final(mb, PM_TIMEOUT, PUSH_WHY_NONE);
		else if (mb->state == PM_FETCHING && !mb->asking && now >= r->next_poll_us)
			poll_member(r, mb, now);
		all = all && final(mb->state);
	}
	if (now >= r->next_poll_us)
		r->next_poll_us = now + poll_us(r);
	return all;
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct push_run *r = arg;
	uint64_t now = mono_now_us();
	(void)fd;
	(void)what;
	if (r->started_us == 0 && (!r->walking || now >= r->walk_deadline)) {
		r->walking = false; /* a late neighbour answer is ignored */
		start_requests(r, now);
	}
	if (r->started_us == 0 || !all_final(r, now)) {
		if (now >= r->next_progress_us) {
			r->next_progress_us = now + 1000000u;
			r->cb.progress(r->arg, r);
		}
		return;
	}
	r->ended = true;
	evtimer_del(r->timer);
	r->cb.done(r->arg, r); /* may free R: nothing after this */
}

struct push_run *push_run_new(struct event_base *base, struct push_node *p,
			      const uint8_t cid[DHT_PUSH_CID_LEN], uint32_t timeout_s,
			      const struct push_run_cb *cb, void *arg)
{
	struct dht *d = push_node_core(p);
	struct dht_node succ[DHT_MAX_NODES];
	static const struct timeval tick = { .tv_usec = TICK_US };
	if (dht_get_state(d) != DHT_JOINED)
		return NULL;
	struct push_run *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	*r = (struct push_run){ .base = base, .p = p, .d = d, .cb = *cb, .arg = arg,
				.time_s = (uint64_t)time(NULL), .walking = true };
	memcpy(r->cid, cid, DHT_PUSH_CID_LEN);
	randombytes_buf(r->nonce, sizeof r->nonce);
	uint64_t now = mono_now_us();
	r->walk_deadline = now + (uint64_t)PUSH_WALK_TIMEOUT_S * 1000000u;
	r->deadline_us = now + (uint64_t)timeout_s * 1000000u;
	r->timer = event_new(base, -1, EV_PERSIST, on_tick, r);
	struct push_member *self = add_member(r, dht_self(d));
	if (r->timer == NULL || self == NULL || evtimer_add(r->timer, &tick) != 0) {
		push_run_free(r);
		return NULL;
	}
	self->state = PM_SOURCE;
	set_cands(r, succ, dht_successors(d, succ, DHT_MAX_NODES));
	walk_step(r);
	return r;
}

const struct push_member *push_run_members(const struct push_run *r, size_t *n)
{
	*n = r->n;
	return r->m;
}

bool push_run_walking(const struct push_run *r)
{
	return r->started_us == 0;
}

double push_run_seconds(const struct push_run *r)
{
	return r->started_us ? (double)(mono_now_us() - r->started_us) / 1e6 : 0.0;
}
