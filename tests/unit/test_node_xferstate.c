/* node/xfer/xferstate.c and node/disk/hashpool.c: the transfer state's JSON round trip (every field,
 * peers that do not parse skipped, damaged text refused), atomic replacement and reading back
 * in a temporary data directory, the directory walk; and the worker pool: every job's done()
 * runs once on the loop thread, in order of completion, and jobs still queued at shutdown come
 * back cancelled. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "node/net/addr.h"
#include "node/disk/hashpool.h"
#include "node/xfer/xferstate.h"

static void test_round_trip(void **state)
{
	(void)state;
	uint64_t size[2] = { 10, 1ull << 40 };
	int64_t mtime[2] = { 1, 1795309296510388242 };
	uint8_t have[3] = { 0xff, 0x01, 0x80 };
	struct dht_addr peers[2];
	assert_int_equal(addr_parse("127.0.0.1:4000", &peers[0]), 0);
	assert_int_equal(addr_parse("[::1]:6881", &peers[1]), 0);
	struct xstate in = {
		.seed = false, .path = "/data/out dir", .chunk_size = 262144,
		.leave_when_done = true, .stopped = false, .complete = true, .have = have,
		.have_len = sizeof have, .nfiles = 2, .size = size, .mtime_ns = mtime,
		.npeers = 2, .peers = peers, .active_ms = 123456, .finished = 1795309296,
	};
	memset(in.cid, 0xab, sizeof in.cid);
	char *text = xstate_encode(&in);
	assert_non_null(text);
	struct xstate out;
	assert_int_equal(xstate_decode(text, strlen(text), &out), 0);
	assert_memory_equal(out.cid, in.cid, sizeof in.cid);
	assert_false(out.seed);
	assert_string_equal(out.path, "/data/out dir");
	assert_int_equal(out.chunk_size, 262144);
	assert_true(out.leave_when_done);
	assert_false(out.stopped);
	assert_true(out.complete);
	assert_int_equal(out.have_len, 3);
	assert_memory_equal(out.have, have, 3);
	assert_int_equal(out.nfiles, 2);
	assert_true(out.size[1] == size[1] && out.mtime_ns[1] == mtime[1]);
	assert_int_equal(out.npeers, 2);
	assert_true(dht_addr_eq(&out.peers[1], &peers[1]));
	assert_int_equal(out.active_ms, 123456);
	assert_int_equal(out.finished, 1795309296);
	xstate_clear(&out);
	free(text);
}

static void test_damaged(void **state)
{
	(void)state;
	struct xstate out;
	static const char *const bad[] = {
		"", "{", "[]", "{\"version\":2}",
		"{\"version\":1,\"content_id\":\"ab\",\"role\":\"seed\",\"path\":\"/x\","
		"\"chunk_size\":16384,\"files\":[]}",
		"{\"version\":1,\"content_id\":\"" /* 63 digits */
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\",\"role\":\"seed\","
		"\"path\":\"/x\",\"chunk_size\":16384,\"files\":[]}",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(xstate_decode(bad[i], strlen(bad[i]), &out), -1);
	/* A peer that does not parse is skipped, not fatal. */
	const char *ok = "{\"version\":1,\"content_id\":\"00000000000000000000000000000000000000"
			 "00000000000000000000000000\",\"role\":\"fetch\",\"path\":\"/x\","
			 "\"chunk_size\":16384,\"files\":[],\"peers\":[\"nonsense\",\"1.2.3.4:5\"]}";
	assert_int_equal(xstate_decode(ok, strlen(ok), &out), 0);
	assert_int_equal(out.npeers, 1);
	assert_int_equal(out.peers[0].port, 5);
	/* A state written before running times were kept: none known. */
	assert_int_equal(out.active_ms, 0);
	assert_int_equal(out.finished, 0);
	xstate_clear(&out);
}

struct seen {
	int n;
	uint8_t cid[2][MANIFEST_ID_LEN];
};

static void note_dir(void *arg, const char *dir, const uint8_t cid[MANIFEST_ID_LEN])
{
	struct seen *s = arg;
	assert_non_null(strstr(dir, "/transfers/"));
	if (s->n < 2)
		memcpy(s->cid[s->n], cid, MANIFEST_ID_LEN);
	s->n++;
}

static void test_files(void **state)
{
	(void)state;
	char data[] = "/tmp/test_node_xferstate.XXXXXX", dir[512], err[256], junk[600];
	uint8_t cid[MANIFEST_ID_LEN], *buf;
	size_t len;
	assert_non_null(mkdtemp(data));
	memset(cid, 0x5a, sizeof cid);
	assert_int_equal(xstate_dir(data, cid, dir, sizeof dir), 0);
	assert_int_equal(xstate_write(dir, XSTATE_FILE, "one", 3, err, sizeof err), 0);
	assert_int_equal(xstate_write(dir, XSTATE_FILE, "second", 6, err, sizeof err), 0);
	assert_int_equal(xstate_read(dir, XSTATE_FILE, 100, &buf, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal((char *)buf, "second");
	free(buf);
	assert_int_equal(xstate_read(dir, XSTATE_FILE, 5, &buf, &len), -1); /* too large */
	snprintf(junk, sizeof junk, "%s/transfers/not-a-content-id", data);
	assert_int_equal(mkdir(junk, 0700), 0);
	struct seen s = { 0 };
	xstate_foreach(data, note_dir, &s);
	assert_int_equal(s.n, 1);
	assert_memory_equal(s.cid[0], cid, sizeof cid);
	xstate_remove(dir);
	assert_int_equal(access(dir, F_OK), -1);
	rmdir(junk);
	snprintf(junk, sizeof junk, "%s/transfers", data);
	assert_int_equal(rmdir(junk), 0);
	assert_int_equal(rmdir(data), 0);
}

/* ---- the pool ---- */

struct tjob {
	struct hp_job j;
	int index;
	int *done_order, *ndone;
	pthread_t worker;
	bool cancelled_seen;
};

static void tjob_run(struct hp_job *j)
{
	struct tjob *t = (struct tjob *)j;
	t->worker = pthread_self();
	struct timespec ts = { 0, 1000000 };
	nanosleep(&ts, NULL);
}

static void tjob_done(struct hp_job *j)
{
	struct tjob *t = (struct tjob *)j;
	t->done_order[(*t->ndone)++] = t->index;
	t->cancelled_seen = atomic_load(&j->cancelled) && !j->ran;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void test_pool(void **state)
{
	(void)state;
	enum { N = 16 };
	struct event_base *base = event_base_new();
	struct hashpool *p = hashpool_new(base, 2);
	struct tjob jobs[N];
	int order[N], ndone = 0;
	assert_int_equal(hashpool_threads(p), 2);
	for (int i = 0; i < N; i++) {
		memset(&jobs[i], 0, sizeof jobs[i]);
		jobs[i] = (struct tjob){ .j = { .run = tjob_run, .done = tjob_done }, .index = i,
					 .done_order = order, .ndone = &ndone };
		hashpool_submit(p, &jobs[i].j);
	}
	struct event *t = evtimer_new(base, on_timeout, base);
	struct timeval tv = { .tv_usec = 20000 };
	for (int tries = 0; ndone < N && tries < 500; tries++) {
		evtimer_add(t, &tv);
		event_base_dispatch(base);
	}
	assert_int_equal(ndone, N);
	for (int i = 0; i < N; i++) {
		assert_true(jobs[i].j.ran);
		assert_false(pthread_equal(jobs[i].worker, pthread_self()));
	}
	/* Jobs queued when the pool stops come back, cancelled, from hashpool_free. */
	ndone = 0;
	for (int i = 0; i < N; i++) {
		jobs[i] = (struct tjob){ .j = { .run = tjob_run, .done = tjob_done }, .index = i,
					 .done_order = order, .ndone = &ndone };
		hashpool_submit(p, &jobs[i].j);
	}
	hashpool_free(p);
	assert_int_equal(ndone, N);
	int cancelled = 0;
	for (int i = 0; i < N; i++)
		cancelled += jobs[i].cancelled_seen;
	assert_true(cancelled > 0);
	event_free(t);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_files), cmocka_unit_test(test_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
