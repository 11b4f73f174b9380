/* dhtlab ring: a ring of dhtnode hosts on the lab network for DHT experiments, driven by
 * commands on stdin (a teaching lab types them; a test pipes them in). Each command prints
 * one line: the node's JSON answer, or {"ok":false,"error":...}. The ring is formed as for a
 * swarm (joins through members), or with --discover by every node finding it alone. */
#define _DEFAULT_SOURCE /* strsep */
#include "tools/dhtlab/lab.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tools/dhtlab/nodes.h"

#define WORDS 8
#define CALL_MS 10000
#define GET_MS 3000
#define WAIT_S 60
#define KEYS_MAX 100000

static const char help[] =
	"commands (node numbers from 0; one answer line each):\n"
	"  put I KEY VALUE | get I KEY | lookup I KEY | status I | ring I   through node I\n"
	"  crash I          kill node I at once (SIGKILL)\n"
	"  start I          start node I (a spare host, or a crashed one) without --join and\n"
	"                   report how long it took to join\n"
	"  found I          start node I with --new-ring: a second ring on the network, which\n"
	"                   the first finds by discovery and merges with (wait-ring shows it)\n"
	"  put-keys I P N   put keys P-0 .. P-(N-1) through node I\n"
	"  wait-keys P N    wait until every running node reads every key P-0 .. P-(N-1)\n"
	"  down I | up I    cut host I off the network, or connect it again\n"
	"  partition A,B,.. C,D,..   split the hosts into groups that cannot reach each other\n"
	"                   (hosts not named stay with the first group); heal   undo it\n"
	"  wait-ring M      wait until the ring is one consistent ring of M members\n"
	"                   (wait-ring and wait-keys say how long since the last heal)\n"
	"  sleep S | hosts | help | quit\n";

static void say_error(FILE *out, const char *fmt, const char *arg)
{
	json_t *o = json_pack("{s:b}", "ok", 0);
	char msg[CTL_ERR_MAX + 128];

	snprintf(msg, sizeof msg, fmt, arg);
	json_object_set_new(o, "error", json_string(msg));
	json_dumpf(o, out, JSON_COMPACT | JSON_REAL_PRECISION(4));
	fputc('\n', out);
	json_decref(o);
}

static void say(FILE *out, json_t *o)
{
	json_dumpf(o, out, JSON_COMPACT | JSON_REAL_PRECISION(4));
	fputc('\n', out);
	json_decref(o);
}

static int node_of(struct lab_ring *r, const char *w, unsigned *i, FILE *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = w ? strtoul(w, &end, 10) : 0;
	if (!w || end == w || *end || errno || v >= r->n) {
		say_error(out, "'%s': give a node number from 0 to the last host", w ? w : "");
		return -1;
	}
	*i = (unsigned)v;
	return 0;
}

/* put/get/lookup/status/ring through node W[1]. */
static void call(struct lab_ring *r, char **w, int nw, FILE *out)
{
	char err[CTL_ERR_MAX];
	unsigned i;
	json_t *req = json_pack("{s:s}", "cmd", w[0]);

	if (node_of(r, w[1], &i, out) != 0) {
		json_decref(req);
		return;
	}
	if (strcmp(w[0], "status") && strcmp(w[0], "ring")) {
		if (nw < 3 || (!strcmp(w[0], "put") && nw < 4)) {
			json_decref(req);
			say_error(out, "%s needs a node and a key (put: and a value)", w[0]);
			return;
		}
		json_object_set_new(req, "key", json_string(w[2]));
		if (!strcmp(w[0], "put"))
			json_object_set_new(req, "value", json_string(w[3]));
	}
	json_t *resp = ring_call(r, i, req, CALL_MS, err, sizeof err);
	if (resp)
		say(out, resp);
	else
		say_error(out, "%s", err);
}

static void start(struct lab_ring *r, unsigned i, bool found, FILE *out)
{
	char err[CTL_ERR_MAX];
	double t0 = lab_now(), deadline = t0 + 60;

	if (r->node[i].proc >= 0) {
		say_error(out, "node %s is running; crash it first", r->node[i].addr);
		return;
	}
	r->node[i].starts = 0;
	if ((found ? ring_found(r, i, err, sizeof err) : ring_start(r, i, NULL, err, sizeof err))) {
		say_error(out, "%s", err);
		return;
	}
	while (!ring_joined(r, i) && lab_now() < deadline && !procs_interrupted()) {
		struct timespec ts = { 0, 20 * 1000000 };
		if (ring_check(r, err, sizeof err) != 0)
			break;
		nanosleep(&ts, NULL);
	}
	if (!ring_joined(r, i)) {
		say_error(out, "node %s did not join within 60 s", r->node[i].addr);
		return;
	}
	say(out, json_pack("{s:b, s:i, s:s, s:f}", "ok", 1, "node", (int)i, "addr",
			   r->node[i].addr, "joined_s", lab_now() - t0));
}

/* An answer to a wait: how long it took, and since the last heal if there was one. */
static void say_waited(struct lab_ring *r, json_t *o, double t0, FILE *out)
{
	json_object_set_new(o, "waited_s", json_real(lab_now() - t0));
	if (r->healed_at > 0)
		json_object_set_new(o, "since_heal_s", json_real(lab_now() - r->healed_at));
	say(out, o);
}

static long count_of(const char *w, FILE *out)
{
	char *end;
	long v = w ? strtol(w, &end, 10) : 0;

	if (!w || end == w || *end || v <= 0 || v > KEYS_MAX) {
		say_error(out, "'%s': give a number of keys from 1 to 100000", w ? w : "");
		return -1;
	}
	return v;
}

static json_t *kv_req(const char *cmd, const char *prefix, long j)
{
	char key[96], value[112];

	snprintf(key, sizeof key, "%.64s-%ld", prefix, j);
	snprintf(value, sizeof value, "%s=v", key);
	if (!strcmp(cmd, "put"))
		return json_pack("{s:s, s:s, s:s}", "cmd", cmd, "key", key, "value", value);
	return json_pack("{s:s, s:s}", "cmd", cmd, "key", key);
}

/* put-keys I PREFIX COUNT: the value of PREFIX-j is "PREFIX-j=v". */
static void put_keys(struct lab_ring *r, char **w, int nw, FILE *out)
{
	char err[CTL_ERR_MAX];
	unsigned i;
	long n;
	double t0 = lab_now();

	if (nw != 4) {
		say_error(out, "%s", "put-keys needs a node, a prefix and a count");
		return;
	}
	if (node_of(r, w[1], &i, out) != 0 || (n = count_of(w[3], out)) < 0)
		return;
	for (long j = 0; j < n; j++) {
		json_t *resp = ring_call(r, i, kv_req("put", w[2], j), CALL_MS, err, sizeof err);
		if (!resp) {
			say_error(out, "%s", err);
			return;
		}
		json_decref(resp);
	}
	say(out, json_pack("{s:b, s:i, s:f}", "ok", 1, "put", (int)n, "s", lab_now() - t0));
}

/* Does node I read PREFIX-J with the value put-keys gave it? */
static bool reads(struct lab_ring *r, unsigned i, const char *prefix, long j)
{
	char err[CTL_ERR_MAX], want[112];
	json_t *resp = ring_call(r, i, kv_req("get", prefix, j), GET_MS, err, sizeof err);
	const char *v = resp ? json_string_value(json_object_get(resp, "value")) : NULL;
	bool ok;

	snprintf(want, sizeof want, "%.64s-%ld=v", prefix, j);
	ok = v && !strcmp(v, want);
	json_decref(resp);
	return ok;
}

/* One pass over the reads not yet seen right; return how many are still missing. */
static size_t read_pass(struct lab_ring *r, const char *prefix, long n, uint8_t *seen)
{
	size_t left = 0;

	for (unsigned i = 0; i < r->n; i++)
		for (long j = 0; j < n && r->node[i].proc >= 0; j++) {
			uint8_t *s = &seen[(size_t)i * (size_t)n + (size_t)j];
			if (!*s && !procs_interrupted())
				*s = reads(r, i, prefix, j);
			left += !*s;
		}
	return left;
}

/* wait-keys PREFIX COUNT: every running node reads every key right, within WAIT_S. */
static void wait_keys(struct lab_ring *r, char **w, int nw, FILE *out)
{
	double t0 = lab_now();
	long n;
	size_t left = 1;

	if (nw != 3) {
		say_error(out, "%s", "wait-keys needs a prefix and a count");
		return;
	}
	if ((n = count_of(w[2], out)) < 0)
		return;
	uint8_t *seen = calloc((size_t)r->n * (size_t)n, 1);
	while (seen && left > 0 && lab_now() < t0 + WAIT_S && !procs_interrupted()) {
		struct timespec ts = { 0, 100 * 1000000 };
		if ((left = read_pass(r, w[1], n, seen)) > 0)
			nanosleep(&ts, NULL);
	}
	free(seen);
	if (left > 0) {
		char msg[96];
		snprintf(msg, sizeof msg, "%zu reads of %s-* still wrong after %d s", left, w[1],
			 WAIT_S);
		say_error(out, "%s", msg);
		return;
	}
	say_waited(r, json_pack("{s:b, s:i}", "ok", 1, "keys", (int)n), t0, out);
}

static void partition(struct lab_ring *r, char **w, int nw, FILE *out)
{
	unsigned *group = calloc(r->n, sizeof *group);
	int rc;

	for (int g = 1; group && g < nw; g++)
		for (char *p = w[g], *tok; (tok = strsep(&p, ",")) != NULL;) {
			unsigned i;
			if (node_of(r, tok, &i, out) != 0) {
				free(group);
				return;
			}
			group[i] = (unsigned)g - 1;
		}
	rc = group ? lab_net_partition(r->net, nw > 1 ? group : NULL) : -1;
	free(group);
	if (rc == 0 && nw <= 1)
		r->healed_at = lab_now();
	if (rc != 0)
		say_error(out, "cannot change the partition (nft in PATH?); see %s/net.log", r->dir);
	else
		say(out, json_pack("{s:b}", "ok", 1));
}

static void hosts(struct lab_ring *r, FILE *out)
{
	json_t *a = json_array();

	for (unsigned i = 0; i < r->n; i++)
		json_array_append_new(a, json_pack("{s:i, s:s, s:s, s:b}", "node", (int)i, "addr",
						   r->node[i].addr, "ns", lab_net_ns(r->net, i),
						   "running", r->node[i].proc >= 0));
	say(out, json_pack("{s:b, s:o}", "ok", 1, "hosts", a));
}

/* One command line, split into W. Return 1 on quit. */
static int command(struct lab_ring *r, char **w, int nw, FILE *out)
{
	char err[CTL_ERR_MAX];
	unsigned i = 0;

	if (!strcmp(w[0], "quit"))
		return 1;
	if (!strcmp(w[0], "put") || !strcmp(w[0], "get") || !strcmp(w[0], "lookup") ||
	    !strcmp(w[0], "status") || !strcmp(w[0], "ring")) {
		call(r, w, nw, out);
	} else if (!strcmp(w[0], "crash") || !strcmp(w[0], "start") || !strcmp(w[0], "found") ||
		   !strcmp(w[0], "down") || !strcmp(w[0], "up")) {
		bool starts = !strcmp(w[0], "start") || !strcmp(w[0], "found");
		if (node_of(r, w[1], &i, out) != 0)
			return 0;
		if (starts)
			start(r, i, !strcmp(w[0], "found"), out);
		else if (!strcmp(w[0], "crash"))
			ring_kill(r, i);
		else if (lab_net_link(r->net, i, !strcmp(w[0], "up")) != 0)
			say_error(out, "cannot change the link; see %s/net.log", r->dir);
		if (!starts)
			say(out, json_pack("{s:b}", "ok", 1));
	} else if (!strcmp(w[0], "put-keys")) {
		put_keys(r, w, nw, out);
	} else if (!strcmp(w[0], "wait-keys")) {
		wait_keys(r, w, nw, out);
	} else if (!strcmp(w[0], "partition") || !strcmp(w[0], "heal")) {
		partition(r, w, !strcmp(w[0], "heal") ? 1 : nw, out);
	} else if (!strcmp(w[0], "wait-ring") && nw == 2 && atoi(w[1]) > 0) {
		double t0 = lab_now();
		if (ring_wait_whole(r, (unsigned)atoi(w[1]), t0 + WAIT_S, err, sizeof err) == 0)
			say_waited(r, json_pack("{s:b, s:i}", "ok", 1, "members", atoi(w[1])), t0,
				   out);
		else
			say_error(out, "%s", err);
	} else if (!strcmp(w[0], "sleep") && nw == 2 && atof(w[1]) > 0) {
		struct timespec ts = { (time_t)atof(w[1]),
				       (long)((atof(w[1]) - (long)atof(w[1])) * 1e9) };
		nanosleep(&ts, NULL);
		say(out, json_pack("{s:b}", "ok", 1));
	} else if (!strcmp(w[0], "hosts")) {
		hosts(r, out);
	} else {
		fputs(help, out);
	}
	return 0;
}

static int session(struct lab_ring *r, FILE *in, FILE *out)
{
	char line[4096];

	while (!procs_interrupted() && fgets(line, sizeof line, in)) {
		char *w[WORDS], *p = line;
		int nw = 0;
		while (nw < WORDS && (w[nw] = strtok(nw ? NULL : p, " \t\r\n")) != NULL)
			nw++;
		if (nw == 0 || w[0][0] == '#')
			continue;
		if (command(r, w, nw, out))
			break;
		fflush(out);
	}
	return procs_interrupted() ? LAB_EXIT_INTERRUPTED : LAB_EXIT_OK;
}

int lab_ring_run(const struct lab_config *c, unsigned spare, FILE *in, FILE *out)
{
	const char *tmp = getenv("TMPDIR");
	char dir[LAB_PATH_MAX], err[CTL_ERR_MAX];
	struct lab_ring r;
	double t0 = lab_now();
	int rc = LAB_EXIT_FAILED;

	snprintf(dir, sizeof dir, "%s/dhtlab.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "dhtlab: cannot create a scratch directory: %s\n", strerror(errno));
		return LAB_EXIT_FAILED;
	}
	if (ring_init(&r, c, dir, c->nodes + spare, err, sizeof err) != 0 ||
	    ring_net_up(&r, err, sizeof err) != 0 || (t0 = lab_now(), 0) ||
	    (c->discover ? ring_form_all(&r, c->nodes, t0 + lab_timeout(c), err, sizeof err)
			 : ring_form(&r, c->nodes, t0 + lab_timeout(c), err, sizeof err)) != 0) {
		fprintf(stderr, "dhtlab: %s\n", err);
	} else {
		say(out, json_pack("{s:b, s:i, s:i, s:f, s:b}", "ok", 1, "members", (int)c->nodes,
				   "spare", (int)spare, "formed_s", lab_now() - t0, "discovered",
				   c->discover));
		fflush(out);
		rc = session(&r, in, out);
	}
	ring_stop(&r);
	if (c->keep)
		fprintf(stderr, "dhtlab: the nodes' logs are kept in %s\n", dir);
	else
		lab_remove_tree(dir);
	return rc;
}
