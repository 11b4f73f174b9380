/* The core's door for application messages (dht_app_request, dht_app_reply, env.app_request):
 * a request reaches the other node's hook and its answer comes back to the caller, never inside
 * the call that sent it; an unanswered one ends with NULL after its tries, also when nobody
 * serves such requests; a leave ends pending ones; a core that is not joined, or a type that is
 * not an application type, is refused at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/tinynet.h"

struct answer {
	int calls;
	bool answered;
	uint8_t status, reason;
};

static void on_answer(void *arg, const struct dht_msg *reply)
{
	struct answer *a = arg;
	a->calls++;
	a->answered = reply != NULL;
	if (reply != NULL) {
		assert_int_equal(reply->type, DHT_PUSH_ACK);
		a->status = reply->u.push_ack.status;
		a->reason = reply->u.push_ack.reason;
	}
}

/* B's hook: answer a PUSH with an ACK whose reason is the cid's first byte. */
static void serve(struct tnode *t, const struct dht_msg *m, const struct dht_addr *from)
{
	struct dht_msg ans;
	assert_int_equal(m->type, DHT_PUSH);
	memset(&ans, 0, sizeof ans);
	ans.type = DHT_PUSH_ACK;
	ans.u.push_ack.status = 1;
	ans.u.push_ack.reason = m->u.push.cid[0];
	assert_int_equal(dht_app_reply(t->d, from, m->txid, &ans), 0);
}

static struct dht_msg push_msg(uint8_t first)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	m.type = DHT_PUSH;
	m.u.push.cid[0] = first;
	m.u.push.pusher.family = 4;
	return m;
}

static struct net *ring_of_two(struct tnode **a, struct tnode **b)
{
	struct net *net = net_new();
	*a = add_node(net, 10, 4);
	*b = add_node(net, 200, 4);
	dht_create((*a)->d);
	join_via(*b, 0);
	run_for(net, 5 * SEC);
	assert_int_equal(dht_get_state((*b)->d), DHT_JOINED);
	return net;
}

static void test_request_and_reply(void **state)
{
	(void)state;
	struct tnode *a, *b;
	struct net *net = ring_of_two(&a, &b);
	b->app = serve;
	struct answer ans = { 0 };
	struct dht_msg m = push_msg(42);
	struct dht_addr to;
	addr_of(b->idx, &to);
	assert_int_equal(dht_app_request(a->d, &to, &m, 3, on_answer, &ans), 0);
	assert_int_equal(ans.calls, 0); /* never inside the call */
	run_for(net, SEC);
	assert_int_equal(ans.calls, 1);
	assert_true(ans.answered);
	assert_int_equal(ans.status, 1);
	assert_int_equal(ans.reason, 42);
	net_free(net);
}

static void test_unanswered(void **state)
{
	(void)state;
	struct tnode *a, *b;
	struct net *net = ring_of_two(&a, &b);
	struct answer ans = { 0 }, gone = { 0 };
	struct dht_msg m = push_msg(1);
	struct dht_addr to, nobody;
	addr_of(b->idx, &to);
	addr_of(9, &nobody);
	/* B serves no application requests: the request times out, and B is none the worse. */
	assert_int_equal(dht_app_request(a->d, &to, &m, 2, on_answer, &ans), 0);
	run_for(net, 10 * SEC);
	assert_int_equal(ans.calls, 1);
	assert_false(ans.answered);
	assert_int_equal(dht_get_state(b->d), DHT_JOINED);
	/* A leave ends what is still pending, unanswered. */
	assert_int_equal(dht_app_request(a->d, &nobody, &m, 5, on_answer, &gone), 0);
	dht_leave(a->d);
	assert_int_equal(gone.calls, 1);
	assert_false(gone.answered);
	/* Not joined any more: refused at once, no callback. */
	assert_int_equal(dht_app_request(a->d, &to, &m, 2, on_answer, &gone), -1);
	assert_int_equal(gone.calls, 1);
	net_free(net);
}

static void test_refused_at_once(void **state)
{
	(void)state;
	struct tnode *a, *b;
	struct net *net = ring_of_two(&a, &b);
	struct answer ans = { 0 };
	struct dht_msg m = push_msg(1);
	struct dht_addr to;
	addr_of(b->idx, &to);
	m.type = DHT_PING; /* the core's own type: not through this door */
	assert_int_equal(dht_app_request(a->d, &to, &m, 2, on_answer, &ans), -1);
	m = push_msg(1);
	m.u.push.pusher.family = 5; /* cannot be encoded */
	assert_int_equal(dht_app_request(a->d, &to, &m, 2, on_answer, &ans), -1);
	/* A request still out when the core is freed: no callback, nothing leaked. */
	m = push_msg(1);
	assert_int_equal(dht_app_request(a->d, &to, &m, 2, on_answer, &ans), 0);
	net_free(net);
	assert_int_equal(ans.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_request_and_reply),
		cmocka_unit_test(test_unanswered),
		cmocka_unit_test(test_refused_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
