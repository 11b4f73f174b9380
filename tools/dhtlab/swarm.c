/* One swarm experiment on real processes: a random file of F bytes, a ring of N + 1 nodes, the
 * file shared from the seed (node 0) and fetched by the N leechers at once, every copy's
 * SHA-256 checked against the original. Completion times run from the moment the first fetch
 * request goes out; each comes from the node's own end-of-fetch line on a follow stream, so
 * nothing is polled. Setting up (file, ring, share, the announcement becoming visible) happens
 * before that moment and is timed separately. It does not print the figures (report.c). */
#define _XOPEN_SOURCE 700 /* nftw */

#include "tools/dhtlab/lab.h"

#include <errno.h>
#include <ftw.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "dht/rng.h"
#include "dht/units.h"
#include "tools/dhtlab/nodes.h"
#include "tools/lib/bound.h"

#define SHA_LEN 32
#define IO_CHUNK (1u << 20)

struct fetch {
	struct ctl_conn *s;
	bool finished;
	uint64_t bytes_done;
	char path[LAB_PATH_MAX + 512];
};

struct run {
	const struct lab_config *c;
	struct lab_result *r;
	struct lab_ring ring;
	char file[LAB_PATH_MAX + 300];
	char name[256];
	uint8_t sha[SHA_LEN];
	char key_id[80];
	struct fetch *f;
	unsigned finished;
	FILE *trace;
	double t0, shown;
};

static int fail(struct run *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct run *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(u->r->error, sizeof u->r->error, fmt, ap);
	va_end(ap);
	return -1;
}

static void note(const struct run *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const struct run *u, const char *fmt, ...)
{
	va_list ap;

	if (u->c->quiet)
		return;
	va_start(ap, fmt);
	fputs("dhtlab: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static int result_init(const struct lab_config *c, struct lab_result *r)
{
	unsigned n = c->nodes;

	memset(r, 0, sizeof *r);
	r->nodes = n;
	r->file_bytes = c->file_bytes;
	r->last_done = -1;
	lab_bounds(c, &r->d_p2p, &r->d_cs, &r->d_node);
	r->ratio_valid = true;
	r->done = malloc(n * sizeof *r->done);
	r->first_byte = malloc(n * sizeof *r->first_byte);
	r->download_start = malloc(n * sizeof *r->download_start);
	r->node_seconds = malloc(n * sizeof *r->node_seconds);
	r->up = malloc(n * sizeof *r->up);
	r->hash_ok = calloc(n, sizeof *r->hash_ok);
	r->addr = calloc(n, sizeof *r->addr);
	r->cpu = malloc((n + 1) * sizeof *r->cpu);
	r->uplink = calloc(n + 1, sizeof *r->uplink);
	if (!r->done || !r->first_byte || !r->download_start || !r->node_seconds || !r->up ||
	    !r->hash_ok || !r->addr || !r->cpu || !r->uplink)
		return -1;
	for (unsigned i = 0; i <= n; i++)
		r->cpu[i] = -1;
	for (unsigned i = 0; i < n; i++) {
		r->done[i] = r->first_byte[i] = r->download_start[i] = r->node_seconds[i] = -1;
		r->up[i] = lab_peer_up(c, i);
	}
	return 0;
}

void lab_result_free(struct lab_result *r)
{
	free(r->done);
	free(r->first_byte);
	free(r->download_start);
	free(r->node_seconds);
	free(r->up);
	free(r->hash_ok);
	free(r->addr);
	free(r->received);
	free(r->cpu);
	free(r->uplink);
	memset(r, 0, sizeof *r);
}

/* Write F bytes of the run's PRNG stream to the shared file, hashing as it goes. */
static int make_file(struct run *u)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *buf = malloc(IO_CHUNK);
	struct rng rng;
	FILE *out = NULL;
	int rc = -1;

	snprintf(u->name, sizeof u->name, "dhtlab-%llu.bin", (unsigned long long)u->c->seed);
	snprintf(u->file, sizeof u->file, "%s/share/%s", u->r->dir, u->name);
	rng_seed(&rng, u->c->seed);
	if (!md || !buf || !EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	if (!(out = fopen(u->file, "wb"))) {
		fail(u, "cannot create %s: %s", u->file, strerror(errno));
		goto out;
	}
	for (uint64_t left = u->c->file_bytes; left > 0;) {
		size_t n = left < IO_CHUNK ? (size_t)left : IO_CHUNK;
		rng_bytes(&rng, buf, n);
		if (fwrite(buf, 1, n, out) != n || !EVP_DigestUpdate(md, buf, n)) {
			fail(u, "cannot write %s: %s", u->file, strerror(errno));
			goto out;
		}
		left -= n;
	}
	rc = fclose(out) == 0 && EVP_DigestFinal_ex(md, u->sha, NULL) ? 0 : -1;
	out = NULL;
	if (rc != 0)
		fail(u, "cannot write %s: %s", u->file, strerror(errno));
out:
	if (out)
		fclose(out);
	EVP_MD_CTX_free(md);
	free(buf);
	return rc;
}

/* Whether PATH holds exactly the original bytes. */
static bool same_hash(const char *path, const uint8_t want[SHA_LEN])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t *buf = malloc(IO_CHUNK), got[SHA_LEN];
	FILE *in = fopen(path, "rb");
	bool ok = md && buf && in && EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	size_t n;

	while (ok && (n = fread(buf, 1, IO_CHUNK, in)) > 0)
		ok = EVP_DigestUpdate(md, buf, n);
	ok = ok && !ferror(in) && EVP_DigestFinal_ex(md, got, NULL) &&
	     memcmp(got, want, SHA_LEN) == 0;
	if (in)
		fclose(in);
	EVP_MD_CTX_free(md);
	free(buf);
	return ok;
}

static int rm_all(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

void lab_remove_tree(const char *dir)
{
	nftw(dir, rm_all, 16, FTW_DEPTH | FTW_PHYS);
}

/* After a failure: everything but the nodes' logs goes (the copies can be large); directories
 * that still hold a log stay, so their rmdir fails quietly. */
static int rm_but_logs(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	if (flag == FTW_DP)
		rmdir(path);
	else if (strcmp(path + ftw->base, "node.log") != 0)
		unlink(path);
	return 0;
}

static int setup_ring(struct run *u, double deadline)
{
	const struct lab_config *c = u->c;
	double t = lab_now();

	if (ring_init(&u->ring, c, u->r->dir, c->nodes + 1, u->r->error, sizeof u->r->error) != 0)
		return -1;
	u->ring.node[0].up = c->seed_up;
	for (unsigned i = 0; i < c->nodes; i++) {
		u->ring.node[i + 1].up = u->r->up[i];
		u->ring.node[i + 1].down = c->peer_down;
		snprintf(u->r->addr[i], sizeof u->r->addr[i], "%s", u->ring.node[i + 1].addr);
	}
	if (ring_form(&u->ring, u->ring.n, deadline, u->r->error, sizeof u->r->error) != 0)
		return -1;
	u->r->ring_s = lab_now() - t;
	return 0;
}

static int share(struct run *u)
{
	double t = lab_now();
	int ms = 60000 + (int)(u->c->file_bytes / (10u << 20) * 1000);
	json_t *req = json_pack("{s:s, s:s}", "cmd", "share", "path", u->file);
	if (u->c->chunk_kib)
		json_object_set_new(req, "chunk_size", json_integer((json_int_t)u->c->chunk_kib * 1024));
	json_t *resp = ring_call(&u->ring, 0, req, ms, u->r->error, sizeof u->r->error);
	const char *cid = json_string_value(json_object_get(resp, "content_id"));
	const char *key = json_string_value(json_object_get(resp, "key_id"));

	if (resp && (!cid || !key))
		fail(u, "the seed's share answer has no content_id or key_id");
	if (cid && key) {
		snprintf(u->r->content_id, sizeof u->r->content_id, "%s", cid);
		snprintf(u->key_id, sizeof u->key_id, "%s", key);
		u->r->share_s = lab_now() - t;
	}
	json_decref(resp);
	return cid && key ? 0 : -1;
}

/* Wait until the seed's announcement can be found from the last leecher, so that the timed
 * part measures the exchange and not the DHT store's propagation. */
static int wait_announced(struct run *u, double deadline)
{
	double t = lab_now(), end = t + 30 < deadline ? t + 30 : deadline;
	char err[CTL_ERR_MAX] = "";

	for (;;) {
		json_t *req = json_pack("{s:s, s:s, s:i}", "cmd", "get_peers", "id", u->key_id, "max",
					50);
		json_t *resp = ring_call(&u->ring, u->ring.n - 1, req, 5000, err, sizeof err);
		size_t peers = json_array_size(json_object_get(resp, "peers"));
		json_decref(resp);
		if (peers > 0)
			break;
		if (procs_interrupted())
			return fail(u, "interrupted");
		if (lab_now() > end)
			return fail(u, "the seed's announcement was not found from %s (%s)",
				    u->ring.node[u->ring.n - 1].addr, *err ? err : "no peers");
		struct timespec ts = { 0, 100 * 1000000 };
		nanosleep(&ts, NULL);
	}
	u->r->announce_s = lab_now() - t;
	return 0;
}

static int start_fetches(struct run *u)
{
	char err[CTL_ERR_MAX];

	u->f = calloc(u->c->nodes, sizeof *u->f);
	if (!u->f)
		return fail(u, "out of memory");
	for (unsigned i = 0; i < u->ring.n; i++)
		u->r->cpu[i] = ring_cpu_seconds(&u->ring, i);
	u->t0 = lab_now();
	for (unsigned i = 0; i < u->c->nodes; i++) {
		const struct lab_node *nd = &u->ring.node[i + 1];
		char out[sizeof nd->dir + 8];
		snprintf(out, sizeof out, "%s/out", nd->dir);
		json_t *req = json_pack("{s:s, s:s, s:s, s:b, s:b}", "cmd", "fetch", "content_id",
					u->r->content_id, "out", out, "follow", 1,
					"leave_when_done", 0);
		u->f[i].s = ring_conn_open(&u->ring, i + 1, req, 5000, err);
		json_decref(req);
		if (!u->f[i].s)
			return fail(u, "cannot start the fetch on %s: %s", nd->addr, err);
		snprintf(u->f[i].path, sizeof u->f[i].path, "%s/%s", out, u->name);
	}
	return 0;
}

static void trace_line(struct run *u, unsigned i, double t, const json_t *p)
{
	if (!u->trace)
		return;
	fprintf(u->trace, "%.3f,%u,%s,%.0f,%.0f,%.0f,%.0f\n", t, i + 1,
		json_string_value(json_object_get(p, "phase")) ? json_string_value(
			json_object_get(p, "phase")) : "",
		json_number_value(json_object_get(p, "bytes_done")),
		json_number_value(json_object_get(p, "rate_down")),
		json_number_value(json_object_get(p, "rate_up")),
		json_number_value(json_object_get(p, "peers")));
}

/* Take one line of leecher I's stream. Return 0, or -1 when its fetch failed. */
static int take_line(struct run *u, unsigned i, const json_t *line, double t)
{
	struct lab_result *r = u->r;
	const json_t *p = json_object_get(line, "progress");
	const char *phase = json_string_value(json_object_get(p, "phase"));
	const char *path = json_string_value(json_object_get(line, "path"));

	if (json_is_false(json_object_get(line, "ok")))
		return fail(u, "the fetch on %s failed: %s: %s", r->addr[i],
			    json_string_value(json_object_get(line, "code")) ?
				    json_string_value(json_object_get(line, "code")) : "error",
			    json_string_value(json_object_get(line, "error")) ?
				    json_string_value(json_object_get(line, "error")) : "no message");
	if (p) {
		trace_line(u, i, t, p);
		u->f[i].bytes_done = (uint64_t)json_number_value(json_object_get(p, "bytes_done"));
		if (r->first_byte[i] < 0 && u->f[i].bytes_done > 0)
			r->first_byte[i] = t;
		if (r->download_start[i] < 0 && phase && strcmp(phase, "download") == 0)
			r->download_start[i] = t;
	}
	if (!json_is_true(json_object_get(line, "done")))
		return 0;
	u->f[i].finished = true;
	u->f[i].bytes_done = u->c->file_bytes;
	u->finished++;
	r->done[i] = t;
	r->node_seconds[i] = json_number_value(json_object_get(line, "seconds"));
	if (path)
		snprintf(u->f[i].path, sizeof u->f[i].path, "%s", path);
	return 0;
}

/* Take every complete line leecher I has sent. Return 0 or -1. */
static int drain(struct run *u, unsigned i)
{
	char err[CTL_ERR_MAX];
	json_t *line;
	enum ctl_next sr = CTL_AGAIN;

	while (!u->f[i].finished && (sr = ctl_conn_next(u->f[i].s, &line, err)) == CTL_LINE) {
		int rc = take_line(u, i, line, lab_now() - u->t0);
		json_decref(line);
		if (rc != 0)
			return -1;
	}
	if (u->f[i].finished || sr == CTL_AGAIN)
		return 0;
	if (sr == CTL_EOF)
		return fail(u, "%s closed its fetch stream before the fetch finished", u->r->addr[i]);
	return fail(u, "%s: %s", u->r->addr[i], err);
}

static uint64_t received(const struct run *u)
{
	uint64_t got = 0;

	for (unsigned i = 0; i < u->c->nodes; i++)
		got += u->f[i].bytes_done;
	return got;
}

/* Sample what the leechers hold once a second (and at the end), for the rate timeline. */
static void sample(struct run *u, bool last)
{
	struct lab_result *r = u->r;
	unsigned want = (unsigned)(lab_now() - u->t0) + 1 + (last ? 1 : 0);

	while (r->nreceived < want) {
		uint64_t *p = realloc(r->received, (r->nreceived + 1) * sizeof *p);
		if (!p)
			return;
		r->received = p;
		r->received[r->nreceived++] = received(u);
	}
}

static void show(struct run *u, bool last)
{
	uint64_t got = received(u), all = u->c->file_bytes * u->c->nodes;
	double t = lab_now() - u->t0;

	sample(u, last);
	if (u->c->quiet || !isatty(2) || (!last && t - u->shown < 0.5))
		return;
	u->shown = t;
	fprintf(stderr, "\r  %6.1f s  finished %u/%u  received %5.1f%%  (bound %.1f s)%s", t,
		u->finished, u->c->nodes, all ? 100.0 * (double)got / (double)all : 100.0,
		u->r->d_p2p, last ? "\n" : "");
}

static int wait_fetches(struct run *u, double deadline)
{
	unsigned n = u->c->nodes;
	struct pollfd *pf = calloc(n, sizeof *pf);
	unsigned *who = calloc(n, sizeof *who);
	int rc = -1;

	if (!pf || !who) {
		rc = fail(u, "out of memory");
		goto out;
	}
	while (u->finished < n) {
		nfds_t k = 0;
		if (ring_check(&u->ring, u->r->error, sizeof u->r->error) != 0)
			goto out;
		if (procs_interrupted()) {
			fail(u, "interrupted");
			goto out;
		}
		if (lab_now() > deadline) {
			fail(u, "timed out: %u of %u fetches finished within the limit", u->finished, n);
			goto out;
		}
		for (unsigned i = 0; i < n; i++)
			if (!u->f[i].finished) {
				pf[k] = (struct pollfd){ .fd = ctl_conn_fd(u->f[i].s), .events = POLLIN };
				who[k++] = i;
			}
		if (poll(pf, k, 200) < 0 && errno != EINTR)
			goto out;
		for (nfds_t j = 0; j < k; j++)
			if (pf[j].revents && drain(u, who[j]) != 0)
				goto out;
		show(u, false);
	}
	rc = 0;
out:
	show(u, true);
	free(pf);
	free(who);
	return rc;
}

static void verify(struct run *u)
{
	struct lab_result *r = u->r;

	r->verified = u->finished == u->c->nodes;
	for (unsigned i = 0; i < u->c->nodes; i++) {
		r->hash_ok[i] = u->f[i].finished && same_hash(u->f[i].path, u->sha);
		r->verified = r->verified && r->hash_ok[i];
		if (u->f[i].finished && r->done[i] > r->last_done)
			r->last_done = r->done[i];
	}
	if (u->finished == u->c->nodes && !r->verified)
		fail(u, "some copies differ from the original (see the sha256 column)");
	/* A time below a lower bound means the clock or the bound is wrong, and the run
	 * measured nothing: it fails rather than print a figure nobody should believe. */
	if (r->verified)
		r->ratio_valid = bound_judge(r->last_done, r->d_node, &r->ratio, r->error,
					     sizeof r->error);
}

static int make_scratch(struct run *u)
{
	const char *tmp = getenv("TMPDIR");
	char share[sizeof u->r->dir + 8];

	snprintf(u->r->dir, sizeof u->r->dir, "%s/dhtlab.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(u->r->dir)) {
		fail(u, "cannot create a scratch directory in %s: %s", tmp && *tmp ? tmp : "/tmp",
		     strerror(errno));
		u->r->dir[0] = '\0';
		return -1;
	}
	snprintf(share, sizeof share, "%s/share", u->r->dir);
	if (mkdir(share, 0700) != 0)
		return fail(u, "cannot create %s: %s", share, strerror(errno));
	return 0;
}

/* Each node's own estimate of its uplink (status "uplink"; a node without --up-rate sizes its
 * upload slots by it), read once the copies are done. A node that does not answer stays 0. */
static void read_uplinks(struct run *u)
{
	char err[CTL_ERR_MAX];

	for (unsigned i = 0; i < u->ring.n && i <= u->c->nodes; i++) {
		json_t *st = ring_call(&u->ring, i, json_pack("{s:s}", "cmd", "status"), 3000, err,
				       sizeof err);
		json_int_t v = json_integer_value(json_object_get(st, "uplink"));
		u->r->uplink[i] = v > 0 ? (uint64_t)v : 0;
		json_decref(st);
	}
}

static int run(struct run *u, double deadline)
{
	if (make_scratch(u) != 0 || make_file(u) != 0)
		return -1;
	note(u, "starting %u nodes %s (scratch %s)", u->c->nodes + 1,
	     u->c->netns ? "in network namespaces, 10.77.0.2 up" : "from 127.0.0.2 up", u->r->dir);
	if (setup_ring(u, deadline) != 0)
		return -1;
	char size[32];
	note(u, "ring of %u consistent after %.1f s; sharing %s from %s", u->c->nodes + 1,
	     u->r->ring_s, units_format_size(u->c->file_bytes, size, sizeof size),
	     u->ring.node[0].addr);
	if (share(u) != 0 || wait_announced(u, deadline) != 0)
		return -1;
	note(u, "content id %s; fetching on %u leecher%s", u->r->content_id, u->c->nodes,
	     u->c->nodes == 1 ? "" : "s");
	if (u->c->trace_path && !(u->trace = fopen(u->c->trace_path, "w")))
		return fail(u, "cannot write %s: %s", u->c->trace_path, strerror(errno));
	if (u->trace)
		fprintf(u->trace, "t,node,phase,bytes_done,rate_down,rate_up,peers\n");
	if (start_fetches(u) != 0 || wait_fetches(u, deadline) != 0)
		return -1;
	for (unsigned i = 0; i < u->ring.n; i++) {
		double now = ring_cpu_seconds(&u->ring, i);
		u->r->cpu[i] = now >= 0 && u->r->cpu[i] >= 0 ? now - u->r->cpu[i] : -1;
	}
	read_uplinks(u);
	verify(u);
	return u->r->error[0] ? -1 : 0;
}

int lab_swarm(const struct lab_config *c, struct lab_result *r)
{
	struct run u = { .c = c, .r = r };
	int rc;

	if (result_init(c, r) != 0) {
		snprintf(r->error, sizeof r->error, "out of memory");
		return LAB_EXIT_FAILED;
	}
	rc = run(&u, lab_now() + lab_timeout(c));
	for (unsigned i = 0; u.f && i < c->nodes; i++)
		ctl_conn_free(u.f[i].s);
	free(u.f);
	if (u.trace)
		fclose(u.trace);
	ring_stop(&u.ring);
	if (r->dir[0] && c->keep) {
		fprintf(stderr, "dhtlab: the run's files (logs, copies) are kept in %s\n", r->dir);
	} else if (r->dir[0] && rc != 0 && !procs_interrupted()) {
		nftw(r->dir, rm_but_logs, 16, FTW_DEPTH | FTW_PHYS);
		fprintf(stderr, "dhtlab: the nodes' logs are kept in %s\n", r->dir);
	} else if (r->dir[0]) {
		lab_remove_tree(r->dir);
	}
	if (rc == 0)
		return LAB_EXIT_OK;
	return procs_interrupted() ? LAB_EXIT_INTERRUPTED : LAB_EXIT_FAILED;
}
