/* Bringing up the ring for one experiment. Node I listens on its own loopback address
 * (127.0.0.2, 127.0.0.3, ...; past 250 nodes 127.0.1.x and on) so that the nodes look like
 * separate hosts, on the first port from --base-port up that is free for both TCP and UDP there
 * (someone else's test may hold one). The first node creates the ring; the others join in
 * batches, each through a member that has already joined, picked with the run's PRNG; then the
 * node's own ring walk must close over exactly N members. It does not share or fetch anything:
 * that is the experiment's part (swarm.c). */
#include "tools/dhtlab/nodes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>


#define CALL_MS 3000

double lab_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void nap(void)
{
	struct timespec ts = { 0, 100 * 1000000 };

	nanosleep(&ts, NULL);
}

/* Whether a dhtnode could bind HOST:PORT, both TCP (with SO_REUSEADDR, as the node does) and
 * UDP. The probe sockets are closed at once. */
static bool port_free(const char *host, unsigned port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	const int types[] = { SOCK_STREAM, SOCK_DGRAM };
	int one = 1;

	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return false;
	for (size_t i = 0; i < 2; i++) {
		int fd = socket(AF_INET, types[i] | SOCK_CLOEXEC, 0);
		bool ok = fd >= 0;
		if (ok && types[i] == SOCK_STREAM)
			ok = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0;
		ok = ok && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
		if (ok && types[i] == SOCK_STREAM)
			ok = listen(fd, 1) == 0;
		if (fd >= 0)
			close(fd);
		if (!ok)
			return false;
	}
	return true;
}

static int make_dirs(const struct lab_node *nd, char *err, size_t cap)
{
	const char *sub[] = { "", "/data", "/out" };
	char path[sizeof ((struct lab_node *)0)->dir + 8];

	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof path, "%s%s", nd->dir, sub[i]);
		if (mkdir(path, 0700) != 0) {
			snprintf(err, cap, "cannot create %s: %s", path, strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* With --http: the first free port on HOST from FROM up for ND's web view. */
static int http_port(struct lab_node *nd, const char *host, unsigned from, bool netns,
		     char *err, size_t cap)
{
	/* A host namespace is ours alone (its view on its own loopback, which needs no control
	 * secret), and is not bound here to probe. */
	while (!netns && from < 65536 && !port_free(host, from))
		from++;
	if (from >= 65536) {
		snprintf(err, cap, "no free port for the web view on %s (try another --base-port)",
			 host);
		return -1;
	}
	snprintf(nd->http, sizeof nd->http, "%s:%u", host, from);
	return 0;
}

int ring_init(struct lab_ring *r, const struct lab_config *c, const char *dir, unsigned n,
	      char *err, size_t cap)
{
	unsigned port = c->base_port;
	char why[CTL_ERR_MAX];

	memset(r, 0, sizeof *r);
	r->cfg = c;
	r->node = calloc(n, sizeof *r->node);
	r->procs = procs_new(3 * n); /* room for the restarts */
	rng_seed(&r->rng, c->seed ^ 0x6a6f696e73ULL);
	if (!r->node || !r->procs) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	snprintf(r->dir, sizeof r->dir, "%s", dir);
	for (unsigned i = 0; i < n; i++, port++) {
		struct lab_node *nd = &r->node[r->n++];
		char host[32];
		if (c->netns) {
			/* A host of its own: the same port everywhere, nobody else's to collide with. */
			lab_net_addr(i, host, sizeof host);
			port = LAB_NET_PORT;
		} else {
			snprintf(host, sizeof host, "127.0.%u.%u", i / 250, 2 + i % 250);
		}
		while (!c->netns && port < 65536 && !port_free(host, port))
			port++;
		if (port >= 65536) {
			snprintf(err, cap, "no free port on %s from %u up (try another --base-port)",
				 host, c->base_port);
			return -1;
		}
		snprintf(nd->addr, sizeof nd->addr, "%s:%u", host, port);
		if (c->http && http_port(nd, c->netns ? "127.0.0.1" : host, port + 1, c->netns,
					 err, cap) != 0)
			return -1;
		if (ctl_parse_target(nd->addr, &nd->target, why) != 0) {
			snprintf(err, cap, "%s", why);
			return -1;
		}
		snprintf(nd->dir, sizeof nd->dir, "%s/n%03u", dir, i);
		nd->proc = -1;
		if (make_dirs(nd, err, cap) != 0)
			return -1;
	}
	return 0;
}

/* A node's command line and the strings it points to. */
struct node_cmd {
	char data[sizeof ((struct lab_node *)0)->dir + 8], log[sizeof ((struct lab_node *)0)->dir + 16];
	char up[24], down[24], succ[16];
	char *argv[32];
	int k;
};

static void arg(struct node_cmd *c, const char *s)
{
	c->argv[c->k++] = (char *)s;
}

/* The options every node of the lab gets the same way: rates, successors, web view, log, the
 * network key. */
static void add_tuning(const struct lab_ring *r, const struct lab_node *nd, struct node_cmd *c)
{
	/* On the lab network the kernel enforces the rates (netns.c), as on a real LAN. */
	if (nd->up && !r->net) {
		snprintf(c->up, sizeof c->up, "%llu", (unsigned long long)nd->up);
		arg(c, "--up-rate");
		arg(c, c->up);
	}
	if (nd->down && !r->net) {
		snprintf(c->down, sizeof c->down, "%llu", (unsigned long long)nd->down);
		arg(c, "--down-rate");
		arg(c, c->down);
	}
	if (r->cfg->succ_len) {
		snprintf(c->succ, sizeof c->succ, "%u", r->cfg->succ_len);
		arg(c, "--succ-len");
		arg(c, c->succ);
		/* The node keeps its 3 replicas on successors in the list, so a shorter list
		 * takes fewer. */
		if (r->cfg->succ_len < 3) {
			arg(c, "--replicas");
			arg(c, c->succ);
		}
	}
	if (nd->http[0] != '\0') {
		arg(c, "--http");
		arg(c, nd->http);
	}
	if (r->cfg->log_level) {
		arg(c, "--log-level");
		arg(c, r->cfg->log_level);
	}
	if (r->cfg->network_key) {
		arg(c, "--network-key");
		arg(c, r->cfg->network_key);
	}
}

static int start_node(struct lab_ring *r, unsigned i, const char *via, bool found, char *err,
		      size_t cap)
{
	struct lab_node *nd = &r->node[i];
	struct node_cmd c = { .k = 0 };

	if (r->net) {
		arg(&c, "ip");
		arg(&c, "netns");
		arg(&c, "exec");
		arg(&c, lab_net_ns(r->net, i));
	}
	snprintf(c.data, sizeof c.data, "%s/data", nd->dir);
	snprintf(c.log, sizeof c.log, "%s/node.log", nd->dir);
	arg(&c, r->cfg->dhtnode);
	arg(&c, "--listen");
	arg(&c, nd->addr);
	arg(&c, "--data-dir");
	arg(&c, c.data);
	if (via) {
		arg(&c, "--join");
		arg(&c, via);
	} else if (found) {
		arg(&c, "--new-ring"); /* no wait for other rings: the lab knows there are none */
	}
	add_tuning(r, nd, &c);
	c.argv[c.k] = NULL;
	nd->starts++;
	nd->proc = procs_spawn(r->procs, c.argv, c.log);
	if (nd->proc < 0) {
		snprintf(err, cap, "cannot start %s: %s", r->cfg->dhtnode, strerror(errno));
		return -1;
	}
	return 0;
}

int ring_start(struct lab_ring *r, unsigned i, const char *via, char *err, size_t cap)
{
	return start_node(r, i, via, false, err, cap);
}

int ring_found(struct lab_ring *r, unsigned i, char *err, size_t cap)
{
	return start_node(r, i, NULL, true, err, cap);
}

int ring_check(struct lab_ring *r, char *err, size_t cap)
{
	char why[64];

	for (unsigned i = 0; i < r->n; i++) {
		const struct lab_node *nd = &r->node[i];
		if (nd->proc < 0 || procs_alive(r->procs, nd->proc, why, sizeof why))
			continue;
		snprintf(err, cap, "node %u (%s, pid %d) %s; its log is %s/node.log", i, nd->addr,
			 (int)procs_pid(r->procs, nd->proc), why, nd->dir);
		fprintf(stderr, "dhtlab: %s, which ends:\n", err);
		procs_tail(r->procs, nd->proc, stderr, 15);
		return -1;
	}
	return 0;
}

static const char *field(const json_t *o, const char *name, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, name));

	return s ? s : dflt;
}

json_t *ring_call(struct lab_ring *r, unsigned i, json_t *req, int timeout_ms, char *err,
		  size_t cap)
{
	char why[CTL_ERR_MAX];
	json_t *resp = NULL;

	if (r->net && lab_net_enter(r->net, i) != 0)
		snprintf(err, cap, "%s: cannot enter its namespace: %s", r->node[i].addr,
			 strerror(errno));
	else if (ctl_call(&r->node[i].target, req, timeout_ms, &resp, why) != CTL_OK)
		snprintf(err, cap, "%s: %s", r->node[i].addr, why);
	if (r->net)
		lab_net_leave(r->net);
	json_decref(req);
	if (resp && !json_is_true(json_object_get(resp, "ok"))) {
		snprintf(err, cap, "%s answered %s: %s", r->node[i].addr,
			 field(resp, "code", "an error"), field(resp, "error", "(no message)"));
		json_decref(resp);
		resp = NULL;
	}
	return resp;
}

struct ctl_conn *ring_conn_open(struct lab_ring *r, unsigned i, const json_t *req,
				int timeout_ms, char *err)
{
	struct ctl_conn *c;

	if (r->net && lab_net_enter(r->net, i) != 0) {
		snprintf(err, CTL_ERR_MAX, "cannot enter its namespace: %s", strerror(errno));
		return NULL;
	}
	c = ctl_conn_open(&r->node[i].target, req, timeout_ms, err);
	if (r->net)
		lab_net_leave(r->net);
	return c;
}

bool ring_joined(struct lab_ring *r, unsigned i)
{
	char err[CTL_ERR_MAX];
	json_t *st = ring_call(r, i, json_pack("{s:s}", "cmd", "status"), CALL_MS, err, sizeof err);
	const char *state = json_string_value(json_object_get(st, "state"));
	bool ok = state && strcmp(state, "joined") == 0;

	json_decref(st);
	return ok;
}

/* Node I died before it joined (found no route while the ring was changing, say): start it
 * again through another member that has joined, one of 0..JOINED-1. Return 0, or -1 when it
 * has failed too often, with its log on stderr. */
static int rejoin(struct lab_ring *r, unsigned i, unsigned joined, char *err, size_t cap)
{
	char why[64];
	const char *via;

	if (procs_alive(r->procs, r->node[i].proc, why, sizeof why))
		return 0;
	if (r->node[i].starts >= 3)
		return ring_check(r, err, cap);
	via = r->node[rng_below(&r->rng, joined)].addr;
	if (!r->cfg->quiet)
		fprintf(stderr, "dhtlab: node %u (%s) %s before it joined; starting it again "
			"through %s\n", i, r->node[i].addr, why, via);
	return ring_start(r, i, via, err, cap);
}

/* Wait until nodes FROM..TO-1 have all joined. */
static int wait_joined(struct lab_ring *r, unsigned from, unsigned to, double deadline,
		       char *err, size_t cap)
{
	unsigned next = from;

	while (next < to) {
		for (unsigned j = next; j < to; j++)
			if (rejoin(r, j, from ? from : 1, err, cap) != 0)
				return -1;
		if (ring_check(r, err, cap) != 0)
			return -1;
		if (procs_interrupted()) {
			snprintf(err, cap, "interrupted");
			return -1;
		}
		if (ring_joined(r, next)) {
			next++;
			continue;
		}
		if (lab_now() > deadline) {
			snprintf(err, cap, "node %u (%s) did not join the ring in time; its log is %s/"
				 "node.log", next, r->node[next].addr, r->node[next].dir);
			return -1;
		}
		nap();
	}
	return 0;
}

/* One ring walk from node 0 finds exactly M members and calls the ring consistent. */
static bool ring_whole(struct lab_ring *r, unsigned m, char *last, size_t cap)
{
	json_t *req = json_pack("{s:s, s:I}", "cmd", "ring", "max", (json_int_t)m + 8);
	unsigned from = 0;

	while (from + 1 < r->n && r->node[from].proc < 0)
		from++; /* a crashed node (ring_kill) walks nothing */
	json_t *resp = ring_call(r, from, req, 10000, last, cap);
	size_t members = json_array_size(json_object_get(resp, "members"));
	bool ok = resp && json_is_true(json_object_get(resp, "consistent")) && members == m;

	if (resp && !ok)
		snprintf(last, cap, "the walk from %s found %zu of %u members%s", r->node[from].addr,
			 members, m,
			 json_is_true(json_object_get(resp, "consistent")) ? "" : ", not consistent");
	json_decref(resp);
	return ok;
}

int ring_wait_whole(struct lab_ring *r, unsigned m, double deadline, char *err, size_t cap)
{
	char last[CTL_ERR_MAX] = "no answer";

	while (!ring_whole(r, m, last, sizeof last)) {
		if (ring_check(r, err, cap) != 0)
			return -1;
		if (procs_interrupted() || lab_now() > deadline) {
			snprintf(err, cap, "%s", procs_interrupted() ? "interrupted" :
				 "the ring did not become consistent in time");
			fprintf(stderr, "dhtlab: last ring walk: %s\n", last);
			return -1;
		}
		nap();
	}
	return 0;
}

int ring_net_up(struct lab_ring *r, char *err, size_t cap)
{
	if (r->net || !r->cfg->netns)
		return 0;
	struct lab_link *link = calloc(r->n, sizeof *link);
	char log[LAB_PATH_MAX + 16];

	if (!link) {
		snprintf(err, cap, "out of memory");
		return -1;
	}
	for (unsigned i = 0; i < r->n; i++)
		link[i] = (struct lab_link){ r->node[i].up, r->node[i].down };
	snprintf(log, sizeof log, "%s/net.log", r->dir);
	r->net = lab_net_new(r->n, link, r->cfg->loss, r->cfg->delay_ms, log, err, cap);
	free(link);
	return r->net ? 0 : -1;
}

/* Many joins at once into a small ring, or into one still settling from the last batch, make
 * joins fail (their lookups find no route). So a batch is at most as large as the ring it
 * joins (1, 1, 2, 4, ... up to --batch), and the whole ring must be consistent before the
 * next batch starts. */
int ring_form(struct lab_ring *r, unsigned count, double deadline, char *err, size_t cap)
{
	unsigned batch = r->cfg->batch ? r->cfg->batch : 1;

	if (ring_net_up(r, err, cap) != 0)
		return -1;
	if (start_node(r, 0, NULL, true, err, cap) != 0 ||
	    wait_joined(r, 0, 1, deadline, err, cap) != 0)
		return -1;
	for (unsigned i = 1, end; i < count; i = end) {
		end = i + (batch < i ? batch : i);
		end = end < count ? end : count;
		for (unsigned j = i; j < end; j++)
			if (ring_start(r, j, r->node[rng_below(&r->rng, i)].addr, err, cap) != 0)
				return -1;
		if (wait_joined(r, i, end, deadline, err, cap) != 0 ||
		    ring_wait_whole(r, end, deadline, err, cap) != 0)
			return -1;
	}
	/* Asked for, so printed even with --quiet; on stderr, which --json leaves alone. */
	for (unsigned i = 0; i < r->n; i++)
		if (r->node[i].http[0] != '\0')
			fprintf(stderr, "dhtlab: node %u (%s): web view http://%s/%s%s\n", i,
				r->node[i].addr, r->node[i].http, r->net ? " in namespace " : "",
				r->net ? lab_net_ns(r->net, i) : "");
	return 0;
}

int ring_form_all(struct lab_ring *r, unsigned count, double deadline, char *err, size_t cap)
{
	if (ring_net_up(r, err, cap) != 0)
		return -1;
	for (unsigned i = 0; i < count; i++)
		if (ring_start(r, i, NULL, err, cap) != 0)
			return -1;
	return ring_wait_whole(r, count, deadline, err, cap);
}

void ring_kill(struct lab_ring *r, unsigned i)
{
	char why[64];

	if (r->node[i].proc < 0)
		return;
	kill(procs_pid(r->procs, r->node[i].proc), SIGKILL);
	while (procs_alive(r->procs, r->node[i].proc, why, sizeof why))
		nap();
	r->node[i].proc = -1;
}

double ring_cpu_seconds(struct lab_ring *r, unsigned i)
{
	char path[64], buf[1024];
	unsigned long long ut, st;
	FILE *f;
	size_t n;
	char *p;

	if (r->node[i].proc < 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/stat", (int)procs_pid(r->procs, r->node[i].proc));
	if (!(f = fopen(path, "r")))
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* Fields 14 and 15 (utime, stime) follow the command name, which ends at the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut,
			 &st) != 2)
		return -1;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

void ring_stop(struct lab_ring *r)
{
	procs_free(r->procs);
	lab_net_free(r->net); /* after the processes: nothing may hold a namespace then */
	free(r->node);
	memset(r, 0, sizeof *r);
}
