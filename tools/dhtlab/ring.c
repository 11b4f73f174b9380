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

static const char help[] =
	"commands (node numbers from 0; one answer line each):\n"
	"  put I KEY VALUE | get I KEY | lookup I KEY | status I | ring I   through node I\n"
	"  crash I          kill node I at once (SIGKILL)\n"
	"  start I          start node I (a spare host, or a crashed one) without --join and\n"
	"                   report how long it took to join\n"
	"  down I | up I    cut host I off the network, or connect it again\n"
	"  partition A,B,.. C,D,..   split the hosts into groups that cannot reach each other\n"
	"                   (hosts not named stay with the first group); heal   undo it\n"
	"  wait-ring M      wait until the ring is one consistent ring of M members\n"
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

static void start(struct lab_ring *r, unsigned i, FILE *out)
{
	char err[CTL_ERR_MAX];
	double t0 = lab_now(), deadline = t0 + 60;

	if (r->node[i].proc >= 0) {
		say_error(out, "node %s is running; crash it first", r->node[i].addr);
		return;
	}
	r->node[i].starts = 0;
	if (ring_start(r, i, NULL, err, sizeof err) != 0) {
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
	} else if (!strcmp(w[0], "crash") || !strcmp(w[0], "start") || !strcmp(w[0], "down") ||
		   !strcmp(w[0], "up")) {
		if (node_of(r, w[1], &i, out) != 0)
			return 0;
		if (!strcmp(w[0], "start"))
			start(r, i, out);
		else if (!strcmp(w[0], "crash"))
			ring_kill(r, i);
		else if (lab_net_link(r->net, i, !strcmp(w[0], "up")) != 0)
			say_error(out, "cannot change the link; see %s/net.log", r->dir);
		if (strcmp(w[0], "start"))
			say(out, json_pack("{s:b}", "ok", 1));
	} else if (!strcmp(w[0], "partition") || !strcmp(w[0], "heal")) {
		partition(r, w, !strcmp(w[0], "heal") ? 1 : nw, out);
	} else if (!strcmp(w[0], "wait-ring") && nw == 2 && atoi(w[1]) > 0) {
		if (ring_wait_whole(r, (unsigned)atoi(w[1]), lab_now() + 60, err, sizeof err) == 0)
			say(out, json_pack("{s:b, s:i}", "ok", 1, "members", atoi(w[1])));
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
