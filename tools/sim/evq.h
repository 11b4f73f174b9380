/* tools/sim/evq.h: the discrete-event queue shared by the simulators: a binary min-heap ordered by
 * (time, insertion sequence), so that events at the same virtual time run in the order they were
 * scheduled and a run is reproducible bit for bit. Times are virtual microseconds.
 * The queue owns only its array; event arguments belong to whoever scheduled them. */
#ifndef SIM_EVQ_H
#define SIM_EVQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef void evq_fn(void *ctx, void *arg, uint64_t u);

struct evq;

struct evq *evq_new(void *ctx);
void evq_free(struct evq *q); /* accepts NULL; does not free pending events' arguments */

/* Schedule FN(ctx, ARG, U) at virtual time AT (never before now). Return 0, or -1 on no memory. */
int evq_at(struct evq *q, uint64_t at, evq_fn *fn, void *arg, uint64_t u);

/* Run the earliest event if it is due at or before UNTIL; advance now. Return false if none is. */
bool evq_step(struct evq *q, uint64_t until);

/* Run every event due at or before UNTIL, then set now to UNTIL. */
void evq_run_until(struct evq *q, uint64_t until);

uint64_t evq_now(const struct evq *q);
size_t evq_pending(const struct evq *q);

/* Drop every pending event for which DROP(ctx, arg, u) returns true (e.g. a crashed node's). */
void evq_filter(struct evq *q, bool (*drop)(void *ctx, void *arg, uint64_t u));

#endif
