/* Streaming control connections. Connecting and sending are done at once, with a deadline,
 * with ctlclient's pieces, because the lab talks to nodes on loopback where both finish
 * immediately or fail; only the reading side is incremental, since a fetch streams progress lines for as long as it runs.
 * Lines are split here and parsed with jansson; their meaning is the caller's business. */
#include "tools/dhtlab/stream.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* A progress line is a few hundred bytes; anything near this is a broken peer. */
#define STREAM_MAX_LINE (1u << 20)

struct ctl_stream {
	int fd;
	bool eof;
	char *buf;
	size_t len, cap;
};

struct ctl_stream *ctl_stream_open(const struct ctl_target *t, const json_t *req, int timeout_ms,
				   char err[CTL_ERR_MAX])
{
	char *line = json_dumps(req, JSON_COMPACT);
	enum ctl_result why;
	char reason[CTL_ERR_MAX];
	struct ctl_stream *s = calloc(1, sizeof *s);
	int fd = -1;

	if (!line || !s) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		goto fail;
	}
	fd = ctl_open(t, timeout_ms, &why, reason);
	if (fd < 0) {
		snprintf(err, CTL_ERR_MAX, "cannot connect to %s:%s: %.200s", t->host, t->port, reason);
		goto fail;
	}
	if (ctl_send(fd, line, strlen(line), timeout_ms) < 0 || ctl_send(fd, "\n", 1, timeout_ms) < 0) {
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
