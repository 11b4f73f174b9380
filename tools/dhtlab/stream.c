/* Streaming control connections. Connecting and sending are done at once, with a deadline,
 * because the lab talks to nodes on loopback where both finish immediately or fail; only the
 * reading side is incremental, since a fetch streams progress lines for as long as it runs.
 * Lines are split here and parsed with jansson; their meaning is the caller's business. */
#include "tools/dhtlab/stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* A progress line is a few hundred bytes; anything near this is a broken peer. */
#define STREAM_MAX_LINE (1u << 20)

struct ctl_stream {
	int fd;
	bool eof;
	char *buf;
	size_t len, cap;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	return n;
}

static int connect_to(const struct ctl_target *t, int64_t deadline, char err[CTL_ERR_MAX])
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	int soerr = 0, fd = -1, rc = getaddrinfo(t->host, t->port, &hints, &ai);
	socklen_t slen = sizeof soerr;

	if (rc) {
		snprintf(err, CTL_ERR_MAX, "cannot resolve '%s': %s", t->host, gai_strerror(rc));
		return -1;
	}
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0 || (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS))
		goto fail;
	if (wait_fd(fd, POLLOUT, deadline) <= 0) {
		errno = ETIMEDOUT;
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr) {
		errno = soerr ? soerr : errno;
		goto fail;
	}
	freeaddrinfo(ai);
	return fd;
fail:
	snprintf(err, CTL_ERR_MAX, "cannot connect to %s:%s: %s", t->host, t->port, strerror(errno));
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return -1;
}

static int send_all(int fd, const char *p, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

struct ctl_stream *ctl_stream_open(const struct ctl_target *t, const json_t *req, int timeout_ms,
				   char err[CTL_ERR_MAX])
{
	int64_t deadline = now_ms() + timeout_ms;
	char *line = json_dumps(req, JSON_COMPACT);
	struct ctl_stream *s = calloc(1, sizeof *s);
	int fd = -1;

	if (!line || !s) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		goto fail;
	}
	fd = connect_to(t, deadline, err);
	if (fd < 0)
		goto fail;
	if (send_all(fd, line, strlen(line), deadline) < 0 || send_all(fd, "\n", 1, deadline) < 0) {
		snprintf(err, CTL_ERR_MAX, "cannot send the request to %s:%s", t->host, t->port);
		goto fail;
	}
	free(line);
	s->fd = fd;
	return s;
fail:
	if (fd >= 0)
		close(fd);
	free(line);
	free(s);
	return NULL;
}

int ctl_stream_fd(const struct ctl_stream *s)
{
	return s->fd;
}

/* Read what the socket holds. Return 0, or -1 on an error or an over-long line. */
static int fill(struct ctl_stream *s)
{
	while (!s->eof) {
		if (s->cap - s->len < 4096) {
			size_t cap = s->cap ? s->cap * 2 : 16384;
			char *p = cap <= 2 * STREAM_MAX_LINE ? realloc(s->buf, cap) : NULL;
			if (!p)
				return -1;
			s->buf = p;
			s->cap = cap;
		}
		ssize_t n = recv(s->fd, s->buf + s->len, s->cap - s->len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		if (n == 0)
			s->eof = true;
		s->len += (size_t)n;
		if (n > 0 && memchr(s->buf + s->len - (size_t)n, '\n', (size_t)n))
			return 0;
	}
	return 0;
}

enum stream_result ctl_stream_next(struct ctl_stream *s, json_t **line, char err[CTL_ERR_MAX])
{
	json_error_t jerr;
	char *nl;
	size_t used;

	*line = NULL;
	nl = s->len ? memchr(s->buf, '\n', s->len) : NULL;
	if (!nl && fill(s) < 0) {
		snprintf(err, CTL_ERR_MAX, "reading from the node failed: %s", strerror(errno));
		return STREAM_ERROR;
	}
	nl = s->len ? memchr(s->buf, '\n', s->len) : NULL;
	if (!nl && s->len >= STREAM_MAX_LINE) {
		snprintf(err, CTL_ERR_MAX, "the node sent a line longer than %u bytes", STREAM_MAX_LINE);
		return STREAM_ERROR;
	}
	if (!nl && !(s->eof && s->len > 0))
		return s->eof ? STREAM_EOF : STREAM_AGAIN;
	used = nl ? (size_t)(nl - s->buf) + 1 : s->len;
	*line = json_loadb(s->buf, used, JSON_DISABLE_EOF_CHECK, &jerr);
	memmove(s->buf, s->buf + used, s->len - used);
	s->len -= used;
	if (!*line || !json_is_object(*line)) {
		json_decref(*line);
		*line = NULL;
		snprintf(err, CTL_ERR_MAX, "the node sent a line that is not a JSON object (%s)",
			 jerr.text);
		return STREAM_ERROR;
	}
	return STREAM_LINE;
}

void ctl_stream_free(struct ctl_stream *s)
{
	if (!s)
		return;
	close(s->fd);
	free(s->buf);
	free(s);
}
