/* tools/dhtsim/idset.h: a growing hash set of ids, so that the simulator gives each new node an
 * id no node of the run has had (collisions are real at small id widths). The set owns its table. */
#ifndef DHTSIM_IDSET_H
#define DHTSIM_IDSET_H

#include <stdbool.h>
#include <stddef.h>

#include "dht/id.h"

struct idset;

struct idset *idset_new(void);
void idset_free(struct idset *s); /* accepts NULL */
bool idset_has(const struct idset *s, const struct dht_id *id);
/* Add ID; return 0 (also if it was present), or -1 if memory runs out. */
int idset_add(struct idset *s, const struct dht_id *id);
size_t idset_size(const struct idset *s);

#endif
