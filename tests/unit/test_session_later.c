/* The session core holding a request whose bytes are not ready (issue 8's "the sharer is not a
 * liar": a sharer checks a chunk before its first block goes out): env->read() answering
 * SESSION_READ_LATER sends nothing, neither block nor REJECT, and keeps the request; the
 * env hears of every queued request through will_read() so that it can start the check early;
 * session_readable() serves what was held, in order, and the leecher completes with the right
 * bytes and bans nobody. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/sessworld.h"

#define NCHUNKS ((FILE_LEN + CHUNK - 1) / CHUNK)

static bool ready[NCHUNKS];
static bool announced[NCHUNKS];
static unsigned reads_held;

static const uint8_t *later_read(void *arg, uint32_t chunk, uint32_t off, uint32_t len)
{
	assert_true(chunk < NCHUNKS);
	if (!ready[chunk]) {
		reads_held++;
		return SESSION_READ_LATER;
	}
	return e_read(arg, chunk, off, len);
}

static void later_will_read(void *arg, uint32_t chunk)
{
	(void)arg;
	assert_true(chunk < NCHUNKS);
	announced[chunk] = true;
}

/* A seed whose reads wait until the test says the chunk is ready. */
static struct node *later_seed(struct world *w)
{
	struct session_env env = ENV;
	env.read = later_read;
	env.will_read = later_will_read;
	return node_add_env(w, true, false, &env);
}

static void settle(struct world *w)
{
	while (pump_once(w))
		;
}

static void test_held_until_readable(void **state)
{
	(void)state;
	memset(ready, 0, sizeof ready);
	memset(announced, 0, sizeof announced);
	reads_held = 0;
	struct world *w = world_new(7);
	struct node *seed = later_seed(w);
	struct node *leech = node_add(w, false, false);
	connect_nodes(w, seed, leech);
	/* The seed unchokes on a tick; the leecher then asks. */
	for (unsigned t = 0; t < 10 && reads_held == 0; t++) {
		settle(w);
		w->now += 1000000;
		session_tick(seed->s, w->now);
		session_tick(leech->s, w->now);
	}
	settle(w);
	/* Requests arrived and were announced, but nothing went out for them. */
	struct session_stats st;
	session_stats(seed->s, &st);
	assert_true(reads_held > 0);
	assert_int_equal(st.uploaded, 0);
	unsigned n_announced = 0;
	for (unsigned c = 0; c < NCHUNKS; c++)
		n_announced += announced[c];
	assert_true(n_announced > 0);
	session_stats(leech->s, &st);
	assert_int_equal(st.have, 0);
	/* Still held after a second of fake time: no REJECT made the leecher give up on us. */
	w->now += 1000000;
	session_tick(seed->s, w->now);
	session_tick(leech->s, w->now);
	settle(w);
	session_stats(seed->s, &st);
	assert_int_equal(st.uploaded, 0);
	/* Ready: everything held is served, and the rest follows. */
	for (unsigned c = 0; c < NCHUNKS; c++)
		ready[c] = true;
	session_readable(seed->s);
	run(w, 30);
	assert_has_file(w, leech);
	assert_int_equal(leech->bans, 0);
	session_stats(leech->s, &st);
	assert_int_equal(st.corrupt_chunks, 0);
	world_free(w);
}

/* Chunks become ready one at a time, in an order of their own: the download still completes. */
static void test_ready_one_by_one(void **state)
{
	(void)state;
	memset(ready, 0, sizeof ready);
	memset(announced, 0, sizeof announced);
	struct world *w = world_new(11);
	struct node *seed = later_seed(w);
	struct node *leech = node_add(w, false, false);
	connect_nodes(w, seed, leech);
	for (unsigned step = 0; step < 200 && !session_complete(leech->s); step++) {
		settle(w);
		for (unsigned c = 0; c < NCHUNKS; c++)
			if (announced[c] && !ready[c]) {
				ready[c] = true;
				break;
			}
		session_readable(seed->s);
		w->now += 100000;
		session_tick(seed->s, w->now);
		session_tick(leech->s, w->now);
	}
	assert_has_file(w, leech);
	assert_int_equal(leech->bans, 0);
	world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_held_until_readable),
		cmocka_unit_test(test_ready_one_by_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
