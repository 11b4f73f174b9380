/* The swarm simulator's network (tools/swarmsim/net.c): a sender is never called back while it
 * is still inside its own send, as a real socket loop never does; frames still leave at the
 * link's rate and arrive after the latency. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "tools/swarmsim/net.h"

struct world {
	struct evq *q;
	struct net *n;
	struct net_side *tx;
	bool sending;            /* inside net_side_send() */
	unsigned writable, inside, delivered;
	uint64_t last_at;
};

static void on_deliver(void *ctx, void *user, uint32_t tag, const uint8_t *frame, size_t len)
{
	(void)user;
	(void)tag;
	(void)frame;
	(void)len;
	struct world *w = ctx;
	w->delivered++;
	w->last_at = evq_now(w->q);
}

static void on_writable(void *ctx, void *user, uint32_t tag)
{
	(void)user;
	(void)tag;
	struct world *w = ctx;
	w->writable++;
	if (w->sending)
		w->inside++;
}

static void send_one(struct world *w, size_t zeros)
{
	uint8_t head[9] = { 0 };
	/* As a session does: it looked at its backlog, so frames leaving call it writable. */
	(void)net_side_backlog(w->tx);
	w->sending = true;
	assert_int_equal(net_side_send(w->tx, head, sizeof head, zeros), 0);
	w->sending = false;
}

static void test_no_callback_inside_send(void **state)
{
	(void)state;
	static const struct net_ops ops = { on_deliver, on_writable, NULL };
	struct world w = { 0 };
	w.q = evq_new(&w);
	w.n = net_new(w.q, &ops, &w, 40000);
	assert_non_null(w.n);
	assert_int_equal(net_node_add(w.n, 1 << 20, 0), 0);
	assert_int_equal(net_node_add(w.n, 1 << 20, 0), 1);
	struct net_conn *c = net_connect(w.n, 0, 1);
	assert_non_null(c);
	w.tx = net_conn_side(c, 0);
	net_side_set_user(w.tx, &w, 0);
	net_side_set_user(net_conn_side(c, 1), &w, 1);
	/* Each frame finds the uplink idle, as a reply to a request does. */
	for (int i = 0; i < 4; i++) {
		send_one(&w, 16384 - 9);
		evq_run_until(w.q, evq_now(w.q) + 100000);
	}
	assert_int_equal(w.delivered, 4);
	assert_int_equal(w.writable, 4);
	assert_int_equal(w.inside, 0);
	/* A 16 KiB frame at 1 MiB/s leaves in 15.6 ms and lands 40 ms later. */
	assert_in_range(w.last_at, 355000, 357000);
	net_free(w.n);
	evq_free(w.q);
}

struct gaps {
	struct evq *q;
	unsigned busy, idle;
	uint64_t busy_at, idle_at;
};

static void on_uplink(void *ctx, uint32_t node, bool idle)
{
	struct gaps *g = ctx;
	assert_int_equal(node, 0);
	if (idle) {
		g->idle++;
		g->idle_at = evq_now(g->q);
	} else {
		g->busy++;
		g->busy_at = evq_now(g->q);
	}
}

/* The uplink hook tells each stretch of carrying once: busy at the first send, idle when the
 * last batch has left, not between batches that follow one another. */
static void test_uplink_idle_and_busy(void **state)
{
	(void)state;
	static const struct net_ops ops = { on_deliver, on_writable, on_uplink };
	struct gaps g = { 0 };
	g.q = evq_new(&g);
	struct net *n = net_new(g.q, &ops, &g, 40000);
	assert_non_null(n);
	assert_int_equal(net_node_add(n, 1 << 20, 0), 0);
	assert_int_equal(net_node_add(n, 1 << 20, 0), 1);
	struct net_conn *c = net_connect(n, 0, 1);
	assert_non_null(c);
	uint8_t head[9] = { 0 };
	evq_run_until(g.q, 10000);
	for (int i = 0; i < 3; i++)
		assert_int_equal(net_side_send(net_conn_side(c, 0), head, sizeof head, 16384 - 9), 0);
	evq_run_until(g.q, 200000);
	assert_int_equal(g.busy, 1);
	assert_int_equal(g.idle, 1);
	assert_int_equal(g.busy_at, 10000);
	/* Three 16 KiB frames at 1 MiB/s: 46.9 ms of carrying. */
	assert_in_range(g.idle_at, 56000, 57000);
	net_free(n);
	evq_free(g.q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_callback_inside_send),
		cmocka_unit_test(test_uplink_idle_and_busy),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
