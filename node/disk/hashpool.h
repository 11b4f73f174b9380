/* node/hashpool.h: worker threads for the slow work that must not sit on the event loop thread,
 * which moves the bytes: hashing chunks (SHA-256 bounds transfer speed), reading them back from
 * disk, fsync'ing state. A job's run() happens on a worker, its done() later on the loop thread.
 * The pool holds a submitted job until it calls done(), which is where the job's owner frees it. */
#ifndef NODE_HASHPOOL_H
#define NODE_HASHPOOL_H

#include <event2/event.h>
#include <stdatomic.h>
#include <stdbool.h>

struct hashpool;

/* Embed this at the start of a job's own struct. */
struct hp_job {
	/* On a worker thread. It must not touch loop-thread state; it may poll CANCELLED. */
	void (*run)(struct hp_job *j);
	/* On the loop thread, exactly once per submitted job, after run() or instead of it when
	 * the pool shuts down first (then CANCELLED is set and run() may not have happened). */
	void (*done)(struct hp_job *j);
	atomic_bool cancelled; /* set by the owner (or the pool) to ask run() to stop early */
	bool ran;              /* run() happened to its end: set by the pool */
	struct hp_job *next;   /* the pool's */
};

/* Start THREADS workers (0: one per CPU, at most 8) whose completions are delivered on BASE.
 * Return NULL if threads or memory cannot be had. */
struct hashpool *hashpool_new(struct event_base *base, unsigned threads);
unsigned hashpool_threads(const struct hashpool *p);
/* Queue J (run and done must be set). */
void hashpool_submit(struct hashpool *p, struct hp_job *j);
/* Ask running jobs to stop, wait for the workers, and call done() for every job still held
 * (marked cancelled unless it ran). Accepts NULL. */
void hashpool_free(struct hashpool *p);

#endif
