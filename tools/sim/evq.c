/* A binary heap of events. Ties on time break by a monotonically increasing sequence number:
 * without it, heap order among equal times would depend on the heap's history and replay would
 * not be exact. */
#include "tools/sim/evq.h"

#include <stdlib.h>

struct ev {
	uint64_t at;
	uint64_t seq;
	evq_fn *fn;
	void *arg;
	uint64_t u;
};

struct evq {
	struct ev *h;
	size_t n, cap;
	uint64_t now, seq;
	void *ctx;
};

struct evq *evq_new(void *ctx)
{
	struct evq *q = calloc(1, sizeof *q);
	if (q)
		q->ctx = ctx;
	return q;
}

void evq_free(struct evq *q)
{
	if (q == NULL)
		return;
	free(q->h);
	free(q);
}

static bool ev_less(const struct ev *a, const struct ev *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void sift_up(struct evq *q, size_t i)
{
	struct ev e = q->h[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!ev_less(&e, &q->h[p]))
			break;
		q->h[i] = q->h[p];
		i = p;
	}
	q->h[i] = e;
}

static void sift_down(struct evq *q, size_t i)
{
	struct ev e = q->h[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && ev_less(&q->h[c + 1], &q->h[c]))
			c++;
		if (!ev_less(&q->h[c], &e))
			break;
		q->h[i] = q->h[c];
		i = c;
	}
	q->h[i] = e;
}

int evq_at(struct evq *q, uint64_t at, evq_fn *fn, void *arg, uint64_t u)
{
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 1024;
		struct ev *h = realloc(q->h, cap * sizeof *h);
		if (h == NULL)
			return -1;
		q->h = h;
		q->cap = cap;
	}
	if (at < q->now)
		at = q->now;
	q->h[q->n] = (struct ev){ at, q->seq++, fn, arg, u };
	sift_up(q, q->n++);
	return 0;
}

bool evq_step(struct evq *q, uint64_t until)
{
	if (q->n == 0 || q->h[0].at > until)
		return false;
	struct ev e = q->h[0];
	q->h[0] = q->h[--q->n];
	if (q->n)
		sift_down(q, 0);
	q->now = e.at;
	e.fn(q->ctx, e.arg, e.u);
	return true;
}

void evq_run_until(struct evq *q, uint64_t until)
{
	while (evq_step(q, until))
		;
	if (until > q->now)
		q->now = until;
}

uint64_t evq_now(const struct evq *q)
{
	return q->now;
}

size_t evq_pending(const struct evq *q)
{
	return q->n;
}

void evq_filter(struct evq *q, bool (*drop)(void *ctx, void *arg, uint64_t u))
{
	size_t k = 0;
	for (size_t i = 0; i < q->n; i++)
		if (!drop(q->ctx, q->h[i].arg, q->h[i].u))
			q->h[k++] = q->h[i];
	q->n = k;
	/* Rebuild the heap; sequence numbers keep the order among equal times. */
	for (size_t i = q->n / 2; i-- > 0;)
		sift_down(q, i);
}
