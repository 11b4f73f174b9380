/* tools/lib/procs.h: child processes of a C tool (dhtlab's nodes). Start a program with its
 * output in a log file, notice when it dies, show the end of its log, and kill every child by
 * PID with SIGKILL on any way out: a normal end, an error, SIGINT/SIGTERM (the handler kills
 * them at once), or the tool's own death (the kernel sends them SIGKILL). The same policy as
 * procs.sh, its twin for bash scripts. One registry at a time; it copies nothing it is given
 * except the PIDs and log paths. */
#ifndef TOOLS_LIB_PROCS_H
#define TOOLS_LIB_PROCS_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

struct procs;

/* Make the registry for at most CAP children and install the signal handlers. Return NULL if
 * memory is short or another registry exists. */
struct procs *procs_new(unsigned cap);

/* Kill every child still running (SIGKILL: they hold nothing the caller still needs), reap
 * them, and free the registry. procs_free(NULL) does nothing. */
void procs_free(struct procs *p);

/* Start ARGV[0] (a path, or a name looked up in PATH) with ARGV, stdin from /dev/null and
 * stdout and stderr appended to LOG. Return the child's index, or -1 with errno set. */
int procs_spawn(struct procs *p, char *const argv[], const char *log);

/* Whether child I still runs; if it has ended, describe how in WHY ("exited with status 1"). */
bool procs_alive(struct procs *p, int i, char *why, size_t cap);

pid_t procs_pid(const struct procs *p, int i);

/* Copy the last LINES lines of child I's log to F, each indented. */
void procs_tail(const struct procs *p, int i, FILE *f, int lines);

/* Whether SIGINT or SIGTERM has arrived since procs_new. */
bool procs_interrupted(void);

#endif
