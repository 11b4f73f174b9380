/* tools/dhtsim/values.h: signed values put into the simulated ring and read back with the
 * cores' own put and get (dht/kv.h), each get judged against the value put: dhtsim's --values,
 * read right after a mass crash. struct scen_values owns its keys and its gets' state until
 * values_free(); the statistics go into the caller's struct. */
#ifndef DHTSIM_VALUES_H
#define DHTSIM_VALUES_H

#include <stdbool.h>
#include <stdint.h>

#include "tools/dhtsim/sim.h"

struct scen_values;

/* Put K values under random keys, each from a random member, and run until every put has
 * ended or CAP_US passes. Return NULL if memory runs out. *FAILED gets the puts that failed. */
struct scen_values *values_put(struct sim *s, uint64_t k, uint64_t cap_us, uint64_t *failed);
/* Get every value put, each from a random member, at once; each get that ends is recorded into
 * ST (correct: the value put; wrong: another; failed: an error or none, the value lost), which
 * must outlive the gets. */
void values_get(struct sim *s, struct scen_values *v, struct sim_lookup_stats *st);
/* Gets issued and not yet ended. */
uint64_t values_pending(const struct scen_values *v);
/* Free V (NULL too) once no core can call back: nothing pending, or the world freed. */
void values_free(struct scen_values *v);

#endif
