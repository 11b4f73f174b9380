/* Huge pages for the simulator's heap. A large swarm is a few hundred MiB of small objects
 * (sessions, pickers, pipes) touched in no order at all: with 4 KiB pages most of those
 * touches miss the TLB as well as the cache, and a run takes about a fifth longer. Linux (6.1
 * and later) collapses a populated range into 2 MiB pages on request (MADV_COLLAPSE), whatever
 * the system's transparent-huge-page policy short of "never". The heap is found in
 * /proc/self/maps; memory malloc() maps on its own (large blocks) is left alone.
 * Elsewhere, or on any failure, this does nothing. */
#define _DEFAULT_SOURCE
#include "tools/swarmsim/pages.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __linux__
#include <sys/mman.h>
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#define HUGE (2ul << 20)

/* Find the heap's range (several map lines once parts of it are collapsed). Return 0, or -1 if
 * there is none to be seen. */
static int heap_range(uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	if (f == NULL)
		return -1;
	char line[512];
	int rc = -1;
	while (fgets(line, sizeof line, f) != NULL) {
		unsigned long a, b;
		if (strstr(line, "[heap]") == NULL || sscanf(line, "%lx-%lx", &a, &b) != 2)
			continue;
		if (rc < 0)
			*lo = a;
		*hi = b;
		rc = 0;
	}
	fclose(f);
	return rc;
}

void pages_huge_heap(void)
{
	/* Only what grew since the last call: the rest is collapsed already. */
	static uintptr_t done;
	uintptr_t lo, hi;
	if (heap_range(&lo, &hi) < 0)
		return;
	lo = (lo > done ? lo : done) + HUGE - 1;
	lo &= ~(HUGE - 1);
	hi &= ~(HUGE - 1);
	if (hi <= lo)
		return;
	madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
	madvise((void *)lo, hi - lo, MADV_COLLAPSE);
	done = hi;
}
#else
void pages_huge_heap(void)
{
}
#endif
