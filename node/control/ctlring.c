/* The ring command (docs/control.md): walk successor pointers from this node with GET_NEIGH
 * queries (dht_query_neighbors), one member at a time, until the walk returns to the start,
 * reaches the request's max, or runs out of time; then judge consistency. A member whose first
 * successor does not answer is walked around through the rest of its successor list, so the
 * report still lists the live ring, and the dead pointer shows up as a problem. This node's own
 * entry comes from its local state. Nothing here changes routing: it only asks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dht/kv.h"
#include "node/net/addr.h"
#include "node/control/ctlop.h"
#include "node/control/ctlring.h"

#define RING_TIMEOUT_S 10
#define RING_MAX_PROBLEMS 100

struct ring_member {
	struct dht_node node;
	bool has_pred;
	struct dht_node pred;
	size_t nsucc;
	struct dht_node succ[CTL_MAX_SUCC];
};

struct ring_walk {
	struct ctl_op *op;
	struct event *timer;
	size_t n, cap;
	struct ring_member *m;
	size_t next_cand;        /* which entry of the last member's successor list to ask next */
	struct dht_node asked;
	bool querying;           /* a query is out: the core will call back */
	json_t *problems;
	size_t nproblems;
};

static void step(struct ring_walk *w);

void ring_free(struct ring_walk *w)
{
	if (w == NULL)
		return;
	if (w->timer)
		event_free(w->timer);
	json_decref(w->problems);
	free(w->m);
	free(w);
}

/* Nothing will call back for the walk any more: free it, then end its operation. */
static void finish(struct ring_walk *w)
{
	struct ctl_op *op = w->op;
	op->walk = NULL;
	ring_free(w);
	op_finish(op);
}

static bool node_eq(const struct dht_node *a, const struct dht_node *b)
{
	return id_eq(&a->id, &b->id) && dht_addr_eq(&a->addr, &b->addr);
}

/* "ID at ADDR", for problem texts. */
static const char *node_str(const struct ring_walk *w, const struct dht_node *n, char *buf,
			    size_t cap)
{
	char hex[ID_HEX_MAX], a[ADDR_STR_MAX];
	id_to_hex(&n->id, dht_bits(w->op->c->d), hex);
	addr_format(&n->addr, a);
	snprintf(buf, cap, "%s at %s", hex, a);
	return buf;
}

static void problem(struct ring_walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void problem(struct ring_walk *w, const char *fmt, ...)
{
	char text[512];
	va_list ap;
	if (++w->nproblems > RING_MAX_PROBLEMS)
		return;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	json_array_append_new(w->problems, json_string(text));
}

static struct ring_member *add_member(struct ring_walk *w)
{
	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 16;
		struct ring_member *m = realloc(w->m, cap * sizeof *m);
		if (m == NULL)
			return NULL;
		w->m = m;
		w->cap = cap;
	}
	struct ring_member *m = &w->m[w->n++];
	memset(m, 0, sizeof *m);
	return m;
}

static bool visited(const struct ring_walk *w, const struct dht_node *n)
{
	for (size_t i = 0; i < w->n; i++) /* O(n) per step; a ring walk is at most CTL_RING_MAX */
		if (node_eq(&w->m[i].node, n))
			return true;
	return false;
}

/* Zave's ring, as the doc defines consistent: the walk closed, and each member's first
 * successor is the next member and its predecessor the previous one. A ring of one is the
 * exception: the core gives a lone node no predecessor, and that ring is as consistent as any.
 * A walk that did not close is inconsistent already; its ends have no neighbours to check. */
static bool judge(struct ring_walk *w, bool closed)
{
	char a[160], b[160], c[160];
	bool ok = closed;
	for (size_t i = 0; i < w->n; i++) {
		const struct ring_member *m = &w->m[i];
		const struct ring_member *next = &w->m[(i + 1) % w->n];
		const struct ring_member *prev = &w->m[(i + w->n - 1) % w->n];
		bool alone = w->n == 1 && !m->has_pred;
		if ((closed || i + 1 < w->n) &&
		    (m->nsucc == 0 || !node_eq(&m->succ[0], &next->node))) {
			ok = false;
			problem(w, "the successor of %s is %s, not the next live member %s",
				node_str(w, &m->node, a, sizeof a),
				m->nsucc ? node_str(w, &m->succ[0], b, sizeof b) : "unknown",
				node_str(w, &next->node, c, sizeof c));
		}
		if ((closed || i > 0) && !alone && (!m->has_pred || !node_eq(&m->pred, &prev->node))) {
			ok = false;
			problem(w, "the predecessor of %s is %s, not the previous member %s",
				node_str(w, &m->node, a, sizeof a),
				m->has_pred ? node_str(w, &m->pred, b, sizeof b) : "unknown",
				node_str(w, &prev->node, c, sizeof c));
		}
	}
	return ok;
}

static json_t *member_json(const struct ring_walk *w, const struct ring_member *m)
{
	unsigned bits = dht_bits(w->op->c->d);
	json_t *succ = json_array();
	for (size_t i = 0; succ != NULL && i < m->nsucc; i++)
		if (json_array_append_new(succ, ctl_node_json(&m->succ[i], bits)) != 0) {
			json_decref(succ);
			succ = NULL;
		}
	return json_pack("{s:o, s:o, s:o, s:o}", "id", ctl_id_json(&m->node.id, bits), "addr",
			 ctl_addr_json(&m->node.addr), "predecessor",
			 m->has_pred ? ctl_node_json(&m->pred, bits) : json_null(), "successors",
			 succ);
}

/* Answer with what the walk found. The operation lives on while a query is out. */
static void done(struct ring_walk *w, bool closed)
{
	bool consistent = judge(w, closed);
	if (w->nproblems > RING_MAX_PROBLEMS)
		json_array_append_new(w->problems,
				      json_sprintf("... and %zu more %s",
						   w->nproblems - RING_MAX_PROBLEMS,
						   w->nproblems - RING_MAX_PROBLEMS == 1
							   ? "problem" : "problems"));
	json_t *members = json_array();
	for (size_t i = 0; members != NULL && i < w->n; i++)
		if (json_array_append_new(members, member_json(w, &w->m[i])) != 0) {
			json_decref(members);
			members = NULL;
		}
	json_t *obj = json_pack("{s:b, s:o, s:b, s:O}", "ok", 1, "members", members,
				"consistent", consistent, "problems", w->problems);
	evtimer_del(w->timer);
	op_reply_json(w->op, obj);
	if (!w->querying)
		finish(w);
}

static void on_neighbors(void *arg, const struct dht_neighbors *res)
{
	struct ring_walk *w = arg;
	char a[160], b[160];
	w->querying = false;
	if (w->op->replied || w->op->reply == NULL) {
		finish(w); /* answered on the deadline, or nobody is listening any more */
		return;
	}
	if (res->status != DHT_OK) {
		problem(w, "%s did not answer", node_str(w, &w->asked, a, sizeof a));
		w->next_cand++;
		step(w);
		return;
	}
	struct ring_member *m = add_member(w);
	if (m == NULL) {
		problem(w, "the node ran out of memory during the walk");
		done(w, false);
		return;
	}
	m->node = res->node;
	if (!id_eq(&res->node.id, &w->asked.id))
		problem(w, "%s answered with another id, as %s", node_str(w, &w->asked, a, sizeof a),
			node_str(w, &res->node, b, sizeof b));
	m->has_pred = res->has_pred;
	m->pred = res->pred;
	m->nsucc = res->nsucc < CTL_MAX_SUCC ? res->nsucc : CTL_MAX_SUCC;
	memcpy(m->succ, res->succ, m->nsucc * sizeof m->succ[0]);
	w->next_cand = 0;
	step(w);
}

/* Ask the next member: the first successor of the last one that has not failed to answer. */
static void step(struct ring_walk *w)
{
	const struct ring_member *last = &w->m[w->n - 1];
	char a[160], b[160];
	if (w->next_cand >= last->nsucc) {
		problem(w, "no successor of %s answered; the walk stopped there",
			node_str(w, &last->node, a, sizeof a));
		done(w, false);
		return;
	}
	const struct dht_node *next = &last->succ[w->next_cand];
	if (node_eq(next, &w->m[0].node)) {
		done(w, true);
	} else if (visited(w, next)) {
		problem(w, "the successor of %s is %s, already visited: the pointers loop without "
			"coming back to the start", node_str(w, &last->node, a, sizeof a),
			node_str(w, next, b, sizeof b));
		done(w, false);
	} else if (w->n >= w->op->req.max) {
		problem(w, "the walk stopped at max = %u %s", w->op->req.max,
			w->op->req.max == 1 ? "member" : "members");
		done(w, false);
	} else {
		w->asked = *next;
		w->querying = dht_query_neighbors(w->op->c->d, &next->addr, on_neighbors, w) == 0;
		if (!w->querying) {
			problem(w, "this node stopped walking: it left the ring or ran out of memory");
			done(w, false);
		}
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct ring_walk *w = arg;
	(void)fd;
	(void)what;
	problem(w, "the walk took longer than %d s and stopped after %zu %s", RING_TIMEOUT_S,
		w->n, w->n == 1 ? "member" : "members");
	done(w, false);
}

/* Start from this node's own state: it is the first member. */
static int walk_init(struct ring_walk *w, struct ctl_op *op)
{
	struct dht *d = op->c->d;
	w->op = op;
	w->timer = evtimer_new(op->c->base, on_deadline, w);
	w->problems = json_array();
	struct ring_member *self = add_member(w);
	if (w->timer == NULL || w->problems == NULL || self == NULL)
		return -1;
	self->node = *dht_self(d);
	self->has_pred = dht_predecessor(d, &self->pred) == 0;
	self->nsucc = dht_successors(d, self->succ, CTL_MAX_SUCC);
	struct timeval tv = { .tv_sec = RING_TIMEOUT_S };
	return evtimer_add(w->timer, &tv);
}

enum dht_status ring_start(struct ctl_op *op)
{
	if (dht_get_state(op->c->d) != DHT_JOINED)
		return DHT_ERR_NOT_JOINED;
	op->walk = calloc(1, sizeof *op->walk);
	if (op->walk == NULL || walk_init(op->walk, op) != 0) {
		ring_free(op->walk);
		op->walk = NULL;
		return DHT_ERR_NO_MEMORY;
	}
	step(op->walk);
	return DHT_OK;
}
