/* tools/swarmsim/pages.h: ask for the simulator's heap to be backed by 2 MiB pages, where the
 * system allows it. A matter of speed only: no result depends on it. Allocates nothing. */
#ifndef SWARMSIM_PAGES_H
#define SWARMSIM_PAGES_H

/* Collapse the heap as it is now into huge pages, once per call; quietly do nothing where that
 * is not possible. Cheap when nothing changed since the last call. */
void pages_huge_heap(void);

#endif
