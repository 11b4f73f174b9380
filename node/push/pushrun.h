/* node/push/pushrun.h: one push as the pushing node runs it (docs/control.md, push): walk the
 * ring's successor pointers to find its members, send each a signed PUSH, then poll those
 * that accepted with PUSH_STATUS until each has a verified copy, fails, stops answering or the
 * push times out. Members that join after the walk are not chased. The content must already
 * be shared by this node (it is the first seed). The run owns its member table; the core and
 * the push_node are the caller's and must outlive it, or be freed first (push_run_free). */
#ifndef NODE_PUSHRUN_H
#define NODE_PUSHRUN_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/push/push.h"

#define PUSH_MAX_MEMBERS 1024
#define PUSH_WALK_TIMEOUT_S 20
#define PUSH_STALL_S 120      /* a member whose copy does not grow this long is given up */
#define PUSH_POLL_MISSES 12   /* unanswered status polls in a row that make "no answer" */

enum push_mstate {
	PM_SOURCE,    /* this node: it shares the content */
	PM_ASKING,    /* the push request is out */
	PM_FETCHING,  /* accepted; polled for progress */
	PM_VERIFIED,  /* its copy is complete and verified */
	PM_HAD,       /* it already held the content: nothing to do */
	PM_REFUSED,   /* why: enum push_why */
	PM_NO_ANSWER, /* to the request, or to PUSH_POLL_MISSES polls in a row */
	PM_FAILED,    /* its fetch failed or was stopped; why: enum push_why */
	PM_TIMEOUT,   /* still fetching when the push's time ran out, or stalled */
};
const char *push_mstate_name(enum push_mstate s); /* "verified", "no_answer", ... */

struct push_member {
	struct dht_node node;
	enum push_mstate state;
	uint8_t why;           /* enum push_why, for PM_REFUSED and PM_FAILED */
	uint64_t done, total;  /* bytes of its copy, as it last said */
	double seconds;        /* from the push requests to its final state */
	/* the run's own bookkeeping */
	struct push_run *run;
	unsigned misses;
	uint64_t progress_us;  /* when its copy last grew */
	bool asking;
};

struct push_run;
struct push_run_cb {
	void (*progress)(void *arg, const struct push_run *r); /* about once a second */
	/* Every member is final (or the walk found none): called once. It may call
	 * push_run_cancel(), and nothing else of the run after that. */
	void (*done)(void *arg, const struct push_run *r);
	/* A cancelled run has freed itself (perhaps inside push_run_cancel): the last call. */
	void (*gone)(void *arg);
};

/* Start pushing content CID from the node P for at most TIMEOUT_S seconds. CB (copied) gets
 * ARG. Return the run, or NULL if the node is not in a ring or memory runs out. */
struct push_run *push_run_new(struct event_base *base, struct push_node *p,
			      const uint8_t cid[DHT_PUSH_CID_LEN], uint32_t timeout_s,
			      const struct push_run_cb *cb, void *arg);
/* No more progress or done callbacks; the run frees itself once the core no longer holds
 * requests of it, and then calls gone. */
void push_run_cancel(struct push_run *r);
/* Free R at once, without calling gone: only after the core is freed (it drops requests
 * without calling back). Accepts NULL. */
void push_run_free(struct push_run *r);

/* The members found (this node first); valid until the next callback. */
const struct push_member *push_run_members(const struct push_run *r, size_t *n);
bool push_run_walking(const struct push_run *r);
/* Seconds since the push requests went out (0 while walking). */
double push_run_seconds(const struct push_run *r);

#endif
