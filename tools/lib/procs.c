/* The registry of a tool's children. Every child is recorded by PID before anything else can go
 * wrong, and is killed by that PID: never by name, never by process group, so that nothing else
 * on the machine is touched. The signal handler does only async-signal-safe work (kill, a flag);
 * the caller notices the flag in its loops and unwinds normally, removing its files. Children
 * also ask the kernel for SIGKILL when the tool dies (PR_SET_PDEATHSIG), which covers the tool
 * being killed with -9. It does not restart children or interpret their logs. */
#include "tools/lib/procs.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

struct procs {
	unsigned cap;
	volatile sig_atomic_t n;
	pid_t *pid;
	volatile sig_atomic_t *reaped;
	int *status;
	char **log;
	struct sigaction old_int, old_term;
};

static struct procs *volatile registry;
static volatile sig_atomic_t interrupted;

static void kill_all(struct procs *p, int sig)
{
	for (sig_atomic_t i = 0; i < p->n; i++)
		if (!p->reaped[i])
			kill(p->pid[i], sig);
}

/* The first signal kills the children (they hold nothing worth a graceful leave here) and lets
 * the tool unwind; a second one means the user does not want to wait for that either. */
static void on_signal(int sig)
{
	struct procs *p = registry;

	(void)sig;
	if (p)
		kill_all(p, SIGKILL);
	if (interrupted)
		_exit(130);
	interrupted = 1;
}

bool procs_interrupted(void)
{
	return interrupted != 0;
}

struct procs *procs_new(unsigned cap)
{
	struct procs *p;
	struct sigaction sa = { .sa_handler = on_signal };

	if (registry || cap == 0)
		return NULL;
	p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->cap = cap;
	p->pid = calloc(cap, sizeof *p->pid);
	p->reaped = calloc(cap, sizeof *p->reaped);
	p->status = calloc(cap, sizeof *p->status);
	p->log = calloc(cap, sizeof *p->log);
	if (!p->pid || !p->reaped || !p->status || !p->log) {
		procs_free(p);
		return NULL;
	}
	/* No SA_RESTART: a poll() in the caller's loop returns EINTR and the loop sees the flag. */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &p->old_int);
	sigaction(SIGTERM, &sa, &p->old_term);
	registry = p;
	return p;
}

static void reap(struct procs *p, int i, bool block)
{
	int st;
	pid_t r;

	if (p->reaped[i])
		return;
	do
		r = waitpid(p->pid[i], &st, block ? 0 : WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return;
	p->status[i] = r > 0 ? st : 0;
	p->reaped[i] = 1;
}

void procs_free(struct procs *p)
{
	if (!p)
		return;
	kill_all(p, SIGKILL);
	for (sig_atomic_t i = 0; i < p->n; i++)
		reap(p, (int)i, true);
	if (registry == p) {
		registry = NULL;
		sigaction(SIGINT, &p->old_int, NULL);
		sigaction(SIGTERM, &p->old_term, NULL);
	}
	for (unsigned i = 0; i < p->cap && p->log; i++)
		free(p->log[i]);
	free(p->log);
	free(p->pid);
	free((void *)p->reaped);
	free(p->status);
	free(p);
}

/* In the child, between fork and exec: die with the tool, take the default dispositions a shell
 * would give, and put the output in the log. Never returns. */
static void child(char *const argv[], int logfd, pid_t parent)
{
	int devnull = open("/dev/null", O_RDONLY);

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0)
		_exit(127);
	execvp(argv[0], argv);
	dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int procs_spawn(struct procs *p, char *const argv[], const char *log)
{
	int i = (int)p->n, logfd;
	pid_t parent = getpid(), pid;

	if ((unsigned)i >= p->cap) {
		errno = ENOSPC;
		return -1;
	}
	p->log[i] = strdup(log);
	if (!p->log[i])
		return -1;
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (logfd < 0)
		return -1;
	pid = fork();
	if (pid == 0)
		child(argv, logfd, parent);
	close(logfd);
	if (pid < 0)
		return -1;
	p->pid[i] = pid;
	p->n = i + 1;
	return i;
}

pid_t procs_pid(const struct procs *p, int i)
{
	return p->pid[i];
}

bool procs_alive(struct procs *p, int i, char *why, size_t cap)
{
	int st;

	reap(p, i, false);
	if (!p->reaped[i])
		return true;
	st = p->status[i];
	if (WIFSIGNALED(st))
		snprintf(why, cap, "was killed by signal %d", WTERMSIG(st));
	else
		snprintf(why, cap, "exited with status %d", WEXITSTATUS(st));
	return false;
}

void procs_tail(const struct procs *p, int i, FILE *f, int lines)
{
	char buf[16384];
	FILE *in = fopen(p->log[i], "r");
	size_t n;
	long size;

	if (!in) {
		fprintf(f, "    (no log at %s)\n", p->log[i]);
		return;
	}
	fseek(in, 0, SEEK_END);
	size = ftell(in);
	fseek(in, size > (long)sizeof buf - 1 ? size - (long)sizeof buf + 1 : 0, SEEK_SET);
	n = fread(buf, 1, sizeof buf - 1, in);
	fclose(in);
	buf[n] = '\0';
	size_t start = n;
	if (start > 0 && buf[start - 1] == '\n')
		start--;
	for (int seen = 0; start > 0; start--)
		if (buf[start - 1] == '\n' && ++seen == lines)
			break;
	if (start == n)
		fprintf(f, "    (the log %s is empty)\n", p->log[i]);
	for (char *line = buf + start, *nl; *line; line = nl + 1) {
		nl = strchr(line, '\n');
		fprintf(f, "    %.*s\n", nl ? (int)(nl - line) : (int)strlen(line), line);
		if (!nl)
			break;
	}
}
