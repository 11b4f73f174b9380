/* tools/dhtlab/nodes.h: the ring of real dhtnode processes behind one experiment. Give every
 * node its own loopback address and a free port, start them, join them in batches through
 * running members, wait for a consistent ring, and talk to them. The ring owns the process
 * registry and its nodes; answers returned by ring_call belong to the caller. */
#ifndef DHTLAB_NODES_H
#define DHTLAB_NODES_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "dht/rng.h"
#include "tools/lib/ctlclient.h"
#include "tools/dhtlab/lab.h"
#include "tools/dhtlab/netns.h"
#include "tools/lib/procs.h"

struct lab_node {
	char addr[64];             /* "127.0.0.2:31000" */
	char http[64];             /* its web view, "127.0.0.2:31001", with --http; else "" */
	struct ctl_target target;
	char dir[LAB_PATH_MAX + 16]; /* the node's scratch: data/, out/ and node.log */
	uint64_t up, down;         /* caps in bytes per second; 0: none */
	int proc;                  /* index in the registry; -1 until started */
	unsigned starts;           /* a failed join is retried through another member */
};

struct lab_ring {
	struct lab_node *node;
	unsigned n;
	struct procs *procs;
	const struct lab_config *cfg;
	struct rng rng;            /* picks join points */
	struct lab_net *net;       /* --netns: the hosts' namespaces; NULL on loopback */
	char dir[LAB_PATH_MAX];
	double healed_at;          /* lab_now() of the last heal of a partition; 0: none */
};

/* Seconds on the monotonic clock. */
double lab_now(void);

/* Lay out N nodes under DIR: addresses, free ports, directories. Caps are left 0 for the
 * caller to set. Return 0, or -1 with a sentence in ERR. */
int ring_init(struct lab_ring *r, const struct lab_config *c, const char *dir, unsigned n,
	      char *err, size_t cap);

/* With C->netns, make the lab network (netns.h), each node's caps as its link's rates;
 * ring_form does it when not done before. Return 0, or -1 with ERR. */
int ring_net_up(struct lab_ring *r, char *err, size_t cap);

/* Start nodes 0..COUNT-1 and wait until they form one consistent ring, or until DEADLINE (lab_now
 * seconds). A node whose join fails (it exits) is started again through another member, at
 * most twice. Return 0, or -1 with a sentence in ERR (and the log of a node that failed to
 * start on stderr). */
int ring_form(struct lab_ring *r, unsigned count, double deadline, char *err, size_t cap);

/* Start node I, joining through VIA ("IP:PORT"), or with VIA NULL finding the ring on the lab
 * network by itself (dhtnode's discovery). Return 0, or -1 with ERR. */
int ring_start(struct lab_ring *r, unsigned i, const char *via, char *err, size_t cap);

/* Start node I as the founder of a ring of its own (--new-ring), whatever else runs on the lab
 * network. Return 0, or -1 with ERR. */
int ring_found(struct lab_ring *r, unsigned i, char *err, size_t cap);

/* Whether node I says it has joined. */
bool ring_joined(struct lab_ring *r, unsigned i);

/* Wait until a ring walk from the first running node closes over exactly M members. */
int ring_wait_whole(struct lab_ring *r, unsigned m, double deadline, char *err, size_t cap);

/* Start nodes 0..COUNT-1 at once, none told where a ring is (C->discover: they find each
 * other), and wait for one consistent ring of COUNT. Return 0, or -1 with ERR. */
int ring_form_all(struct lab_ring *r, unsigned count, double deadline, char *err, size_t cap);

/* Kill node I at once (SIGKILL, a crash); it is no longer checked or walked from. */
void ring_kill(struct lab_ring *r, unsigned i);

/* Check that every started node still runs. Return 0, or -1 naming the first that does not
 * in ERR, with the end of its log on stderr. */
int ring_check(struct lab_ring *r, char *err, size_t cap);

/* Send REQ (consumed) to node I. Return the answer if it says ok: true, else NULL with the
 * node's error or the reason the call failed in ERR. */
json_t *ring_call(struct lab_ring *r, unsigned i, json_t *req, int timeout_ms, char *err,
		  size_t cap);

/* Open a streaming control connection to node I (ctlclient.h's ctl_conn_open), from inside
 * its namespace on the lab network. */
struct ctl_conn *ring_conn_open(struct lab_ring *r, unsigned i, const json_t *req,
				int timeout_ms, char *err);

/* CPU seconds (user + system, all threads) node I has used so far, or -1 if unknown. */
double ring_cpu_seconds(struct lab_ring *r, unsigned i);

/* Kill every node (by PID, procs.h) and free the ring. */
void ring_stop(struct lab_ring *r);

#endif
