/* The streaming side of the control client: for commands that answer with progress lines
 * before their last line (share, fetch and watch with "follow"). It connects and sends with
 * ctlclient.c's pieces; unlike ctl_call, the deadline is per line, since a download may run for
 * hours while lines keep coming four times a second; and a signal can end the wait (Ctrl-C on
 * a fetch). It checks only that each line is a JSON object; the commands read the fields. */
#include "tools/dhtctl/files.h"

#include <signal.h>
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE (16u << 20)

/* Send LINE and its newline within MS. */
static int send_line(int fd, const char *line, int ms)
{
	if (ctl_send(fd, line, strlen(line), ms) != 0)
		return -1;
	return ctl_send(fd, "\n", 1, ms);
}

struct reader {
	int fd;
	char *buf;
	size_t len, cap;
	const volatile sig_atomic_t *interrupted;
};

/* Wait up to MS for input on R's socket. Return 1 ready, 0 timeout, -1 error, -2 if a signal
 * set *R->INTERRUPTED meanwhile: poll() is not restarted after a signal handler, so Ctrl-C
 * is seen at once, not at the next progress line. */
static int wait_input(const struct reader *r, int ms)
{
	struct pollfd p = { .fd = r->fd, .events = POLLIN };
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		if (r->interrupted && *r->interrupted)
			return -2;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		long left = ms - ((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			return 0;
		int n = poll(&p, 1, (int)left);
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

/* Take the next line into *LINE (NUL-terminated, owned by the reader until the next call).
 * Return 1, 0 on timeout, -1 on EOF before a whole line, an error or an over-long line, -2 if
 * interrupted. */
static int next_line(struct reader *r, int ms, char **line, size_t *consumed)
{
	for (;;) {
		char *nl = r->len ? memchr(r->buf, '\n', r->len) : NULL;
		if (nl) {
			*nl = '\0';
			*line = r->buf;
			*consumed = (size_t)(nl - r->buf) + 1;
			return 1;
		}
		if (r->len + 4096 > r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 65536;
			char *p = cap <= MAX_LINE ? realloc(r->buf, cap) : NULL;
			if (!p)
				return -1;
			r->buf = p;
			r->cap = cap;
		}
		ssize_t n = recv(r->fd, r->buf + r->len, r->cap - r->len - 1, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int w = wait_input(r, ms);
			if (w <= 0)
				return w;
			continue;
		}
		if (n <= 0) {
			/* The last line may come without its newline before the close. */
			if (n == 0 && r->len > 0) {
				r->buf[r->len] = '\0';
				*line = r->buf;
				*consumed = r->len;
				return 1;
			}
			return -1;
		}
		r->len += (size_t)n;
	}
}

static void drop_line(struct reader *r, size_t consumed)
{
	memmove(r->buf, r->buf + consumed, r->len - consumed);
	r->len -= consumed;
}

/* Read lines until one without "progress"; return the result and set *LAST. */
static enum ctl_result read_lines(struct reader *r, int ms, ctl_progress_fn *fn, void *arg,
				  json_t **last, char err[CTL_ERR_MAX])
{
	for (;;) {
		char *line;
		size_t used;
		json_error_t jerr;
		int rc = next_line(r, ms, &line, &used);
		if (rc == 0) {
			snprintf(err, CTL_ERR_MAX, "no answer within %d ms", ms);
			return CTL_NO_ANSWER;
		}
		if (rc == -2) {
			snprintf(err, CTL_ERR_MAX, "interrupted");
			return CTL_NO_ANSWER;
		}
		if (rc < 0) {
			snprintf(err, CTL_ERR_MAX, "the connection closed before the last answer");
			return CTL_BAD_ANSWER;
		}
		json_t *o = json_loads(line, 0, &jerr);
		drop_line(r, used);
		if (!json_is_object(o)) {
			json_decref(o);
			snprintf(err, CTL_ERR_MAX, "an answer is not a JSON object (%s)", jerr.text);
			return CTL_BAD_ANSWER;
		}
		const json_t *p = json_object_get(o, "progress");
		if (!p) {
			*last = o;
			return CTL_OK;
		}
		if (fn)
			fn(arg, p);
		json_decref(o);
	}
}

enum ctl_result ctl_stream(const struct ctl_target *t, const json_t *req, int idle_ms,
			   const struct ctl_stream_cb *cb, json_t **last, char err[CTL_ERR_MAX])
{
	enum ctl_result res;
	struct reader r = { .fd = -1, .interrupted = cb ? cb->interrupted : NULL };
	char *line = json_dumps(req, JSON_COMPACT);

	*last = NULL;
	if (!line) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return CTL_BAD_ANSWER;
	}
	r.fd = ctl_open(t, idle_ms, &res, err);
	if (r.fd < 0)
		goto out;
	res = CTL_NO_ANSWER;
	snprintf(err, CTL_ERR_MAX, "the request could not be sent");
	if (send_line(r.fd, line, idle_ms) == 0)
		res = read_lines(&r, idle_ms, cb ? cb->fn : NULL, cb ? cb->arg : NULL, last, err);
out:
	if (r.fd >= 0)
		close(r.fd);
	free(r.buf);
	free(line);
	return res;
}
