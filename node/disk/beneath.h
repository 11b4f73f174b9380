/* node/disk/beneath.h: opening files beneath a directory without following symbolic links, so
 * that a link planted in an output directory or swapped into a shared tree can neither redirect
 * a write nor expose a file outside it. BASE is a directory path the user chose (links in it
 * are followed); REL is relative to it, has no "." or ".." component, and every component of
 * it must be a real file or directory: a link anywhere fails with ELOOP. Every function sets
 * errno on failure. */
#ifndef NODE_BENEATH_H
#define NODE_BENEATH_H

#include <sys/stat.h>
#include <sys/types.h>

/* open(2) of REL beneath BASE with FLAGS (O_NOFOLLOW and O_CLOEXEC are added) and, with
 * O_CREAT, MODE. Return the descriptor, or -1. */
int open_beneath(const char *base, const char *rel, int flags, mode_t mode);
/* lstat(2) of REL beneath BASE, no link followed on the way. Return 0 or -1. */
int stat_beneath(const char *base, const char *rel, struct stat *sb);
/* Create the directory REL beneath BASE (mode 0777, less the umask) and its missing parents;
 * PARENTS_ONLY: only the parents of REL (REL names a file). Return 0 or -1. */
int mkdirs_beneath(const char *base, const char *rel, int parents_only);
/* Whether FD is a regular file with no other name: what a download may write into. A hard link
 * or a FIFO planted where a download goes would otherwise redirect or stall its writes. */
int fd_is_own_file(int fd);

#endif
