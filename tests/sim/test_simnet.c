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
	static const struct net_ops ops = { on_deliver, on_writable };
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_callback_inside_send),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
