/* The worker pool: a FIFO of jobs under one mutex, N pthreads taking from it, and a pipe that
 * wakes the event loop when finished jobs wait for their done() call. A pipe, rather than
 * evthread_use_pthreads() and event_active() from a worker, keeps libevent itself lock-free:
 * locking every bufferevent operation would tax the very thread this pool is meant to spare.
 * The pool knows nothing of what jobs do; it does no hashing itself. */
#define _GNU_SOURCE /* pipe2 */
#include "node/disk/hashpool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/log.h"

#define MAX_THREADS 8

struct hashpool {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct hp_job *head, *tail;    /* waiting to run */
	struct hp_job *done, *done_tail; /* run, waiting for done() on the loop */
	struct hp_job **running;       /* per worker: its current job, to cancel at shutdown */
	bool stopping;
	unsigned nthreads;
	pthread_t *threads;
	int wake[2];                   /* workers write a byte; the loop reads */
	struct event *ev;
};

static void push(struct hp_job **head, struct hp_job **tail, struct hp_job *j)
{
	j->next = NULL;
	if (*tail)
		(*tail)->next = j;
	else
		*head = j;
	*tail = j;
}

static struct hp_job *pop(struct hp_job **head, struct hp_job **tail)
{
	struct hp_job *j = *head;
	if (j) {
		*head = j->next;
		if (*head == NULL)
			*tail = NULL;
	}
	return j;
}

/* Called with the lock held. Only the first finished job of a batch needs to wake the loop. */
static void finished(struct hashpool *p, struct hp_job *j)
{
	bool wake = p->done == NULL;
	push(&p->done, &p->done_tail, j);
	if (wake) {
		char b = 1;
		/* A full pipe already holds a wake-up; nothing is lost by a failed write. */
		if (write(p->wake[1], &b, 1) < 0 && errno != EAGAIN)
			log_warn("hashpool: cannot wake the loop: %s", strerror(errno));
	}
}

struct worker_arg {
	struct hashpool *p;
	unsigned index;
};

static void *worker(void *arg)
{
	struct hashpool *p = ((struct worker_arg *)arg)->p;
	unsigned index = ((struct worker_arg *)arg)->index;
	free(arg);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (!p->stopping && p->head == NULL)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->stopping)
			break;
		struct hp_job *j = pop(&p->head, &p->tail);
		p->running[index] = j;
		pthread_mutex_unlock(&p->mu);
		j->run(j);
		pthread_mutex_lock(&p->mu);
		p->running[index] = NULL;
		j->ran = true;
		finished(p, j);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

/* The loop side: call done() for everything finished so far, in order. */
static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct hashpool *p = arg;
	char buf[64];
	(void)what;
	while (read(fd, buf, sizeof buf) > 0)
		;
	pthread_mutex_lock(&p->mu);
	struct hp_job *list = p->done;
	p->done = p->done_tail = NULL;
	pthread_mutex_unlock(&p->mu);
	while (list) {
		struct hp_job *j = list;
		list = j->next;
		j->done(j);
	}
}

static unsigned default_threads(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n < 1)
		return 1;
	return n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

static int start_threads(struct hashpool *p)
{
	for (unsigned i = 0; i < p->nthreads; i++) {
		struct worker_arg *a = malloc(sizeof *a);
		if (a == NULL)
			return -1;
		a->p = p;
		a->index = i;
		if (pthread_create(&p->threads[i], NULL, worker, a) != 0) {
			free(a);
			p->nthreads = i; /* only those started are joined */
			return -1;
		}
	}
	return 0;
}

struct hashpool *hashpool_new(struct event_base *base, unsigned threads)
{
	struct hashpool *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->wake[0] = p->wake[1] = -1;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->nthreads = threads ? (threads > MAX_THREADS ? MAX_THREADS : threads) : default_threads();
	p->threads = calloc(p->nthreads, sizeof *p->threads);
	p->running = calloc(p->nthreads, sizeof *p->running);
	if (p->threads == NULL || p->running == NULL ||
	    pipe2(p->wake, O_NONBLOCK | O_CLOEXEC) != 0)
		goto fail;
	p->ev = event_new(base, p->wake[0], EV_READ | EV_PERSIST, on_wake, p);
	if (p->ev == NULL || event_add(p->ev, NULL) != 0)
		goto fail;
	if (start_threads(p) != 0)
		goto fail;
	return p;
fail:
	hashpool_free(p);
	return NULL;
}

unsigned hashpool_threads(const struct hashpool *p)
{
	return p->nthreads;
}

void hashpool_submit(struct hashpool *p, struct hp_job *j)
{
	j->ran = false;
	pthread_mutex_lock(&p->mu);
	push(&p->head, &p->tail, j);
	pthread_cond_signal(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

void hashpool_free(struct hashpool *p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&p->mu);
	p->stopping = true;
	for (unsigned i = 0; i < p->nthreads; i++)
		if (p->running && p->running[i])
			atomic_store(&p->running[i]->cancelled, true);
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	for (unsigned i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	/* Every job is now either finished or never started: hand them all back. */
	struct hp_job *j;
	while ((j = pop(&p->head, &p->tail)) != NULL) {
		atomic_store(&j->cancelled, true);
		push(&p->done, &p->done_tail, j);
	}
	while ((j = pop(&p->done, &p->done_tail)) != NULL)
		j->done(j);
	if (p->ev)
		event_free(p->ev);
	if (p->wake[0] >= 0)
		close(p->wake[0]);
	if (p->wake[1] >= 0)
		close(p->wake[1]);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->threads);
	free(p->running);
	free(p);
}
