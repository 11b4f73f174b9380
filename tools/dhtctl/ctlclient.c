/* The control protocol's client: resolve, connect without blocking past the deadline, write one
 * line, read one line, parse it. A plain socket and poll() are enough for one request at a
 * time; the node closes the connection after its answer, so nothing is kept between calls.
 * It does not interpret the answer beyond checking that it is a JSON object: callers do. */
#include "tools/dhtctl/ctlclient.h"

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

/* Answers can be much larger than the 64 KiB request limit: a ring of 256 nodes with their
 * successor lists is a few hundred KiB. */
#define CTL_MAX_ANSWER (16u << 20)

int ctl_parse_target(const char *s, struct ctl_target *t, char err[CTL_ERR_MAX])
{
	const char *colon = strrchr(s, ':');
	const char *host = s;
	size_t hlen;
	char *end;
	long port;

	if (!colon || colon == s || !colon[1]) {
		snprintf(err, CTL_ERR_MAX, "'%s' is not HOST:PORT (for example 127.0.0.1:4000)", s);
		return -1;
	}
	hlen = (size_t)(colon - s);
	if (s[0] == '[' && colon[-1] == ']') {
		host = s + 1;
		hlen -= 2;
	}
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (errno || *end || port < 1 || port > 65535) {
		snprintf(err, CTL_ERR_MAX, "'%s' has no valid port (1-65535) after the last ':'", s);
		return -1;
	}
	if (hlen == 0 || hlen >= CTL_HOST_MAX) {
		snprintf(err, CTL_ERR_MAX, "'%s' has no usable host name before the port", s);
		return -1;
	}
	memcpy(t->host, host, hlen);
	t->host[hlen] = '\0';
	snprintf(t->port, CTL_PORT_MAX, "%ld", port);
	return 0;
}

/* strerror() capitalises; the message reads better mid-sentence in lower case. */
static void errtext(char err[CTL_ERR_MAX], int e)
{
	snprintf(err, CTL_ERR_MAX, "%s", strerror(e));
	if (err[0] >= 'A' && err[0] <= 'Z' && err[1] >= 'a' && err[1] <= 'z')
		err[0] = (char)(err[0] - 'A' + 'a');
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for EVENTS on FD until DEADLINE; return 1 when ready, 0 on timeout, -1 on error. */
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

/* Connect to one resolved address; return the socket, or -1 with the reason in ERR. */
static int connect_one(const struct addrinfo *ai, int64_t deadline, enum ctl_result *why,
		       char err[CTL_ERR_MAX])
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
	int soerr = 0;
	socklen_t slen = sizeof(soerr);

	*why = CTL_REFUSED;
	if (fd < 0) {
		errtext(err, errno);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		errtext(err, errno);
		goto fail;
	}
	if (wait_fd(fd, POLLOUT, deadline) <= 0) {
		*why = CTL_NO_ANSWER;
		snprintf(err, CTL_ERR_MAX, "no answer to the connection attempt");
		goto fail;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &slen) < 0 || soerr) {
		errtext(err, soerr ? soerr : errno);
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static int ctl_connect(const struct ctl_target *t, int64_t deadline, enum ctl_result *why,
		       char err[CTL_ERR_MAX])
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	int fd = -1;
	int rc = getaddrinfo(t->host, t->port, &hints, &res);

	*why = CTL_REFUSED;
	if (rc) {
		snprintf(err, CTL_ERR_MAX, "cannot resolve '%s': %s", t->host, gai_strerror(rc));
		return -1;
	}
	for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
		fd = connect_one(ai, deadline, why, err);
	freeaddrinfo(res);
	return fd;
}

static int send_all(int fd, const char *buf, size_t len, int64_t deadline)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(fd, POLLOUT, deadline) <= 0)
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int ctl_open(const struct ctl_target *t, int timeout_ms, enum ctl_result *why,
	     char err[CTL_ERR_MAX])
{
	return ctl_connect(t, now_ms() + timeout_ms, why, err);
}

int ctl_send(int fd, const char *buf, size_t len, int timeout_ms)
{
	return send_all(fd, buf, len, now_ms() + timeout_ms);
}

int ctl_wait(int fd, short events, int ms)
{
	return wait_fd(fd, events, now_ms() + ms);
}

struct linebuf {
	char *p;
	size_t len, cap;
};

/* Read until a newline, EOF or the deadline. Return 1 with a complete line (or EOF after
 * some bytes), 0 on timeout, -1 on an error or an over-long answer. */
static int read_line(int fd, struct linebuf *lb, int64_t deadline)
{
	for (;;) {
		if (lb->len + 4096 > lb->cap) {
			size_t cap = lb->cap ? lb->cap * 2 : 16384;
			char *p = cap <= CTL_MAX_ANSWER ? realloc(lb->p, cap) : NULL;
			if (!p)
				return -1;
			lb->p = p;
			lb->cap = cap;
		}
		ssize_t n = recv(fd, lb->p + lb->len, lb->cap - lb->len, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int w = wait_fd(fd, POLLIN, deadline);
			if (w <= 0)
				return w;
			continue;
		}
		if (n < 0)
			return -1;
		if (n == 0)
			return lb->len > 0 ? 1 : -1;
		if (memchr(lb->p + lb->len, '\n', (size_t)n)) {
			lb->len += (size_t)n;
			return 1;
		}
		lb->len += (size_t)n;
	}
}

enum ctl_result ctl_call(const struct ctl_target *t, const json_t *req, int timeout_ms,
			 json_t **resp, char err[CTL_ERR_MAX])
{
	int64_t deadline = now_ms() + timeout_ms;
	enum ctl_result res = CTL_REFUSED;
	struct linebuf lb = { 0 };
	char *line = json_dumps(req, JSON_COMPACT);
	json_error_t jerr;
	int fd, rc;

	*resp = NULL;
	if (!line) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		return CTL_BAD_ANSWER;
	}
	fd = ctl_connect(t, deadline, &res, err);
	if (fd < 0)
		goto out;
	res = CTL_NO_ANSWER;
	snprintf(err, CTL_ERR_MAX, "no answer within %d ms", timeout_ms);
	if (send_all(fd, line, strlen(line), deadline) < 0 || send_all(fd, "\n", 1, deadline) < 0)
		goto out;
	rc = read_line(fd, &lb, deadline);
	if (rc == 0)
		goto out;
	res = CTL_BAD_ANSWER;
	if (rc < 0) {
		snprintf(err, CTL_ERR_MAX, "the connection closed without an answer");
		goto out;
	}
	*resp = json_loadb(lb.p, lb.len, JSON_DISABLE_EOF_CHECK, &jerr);
	if (!*resp || !json_is_object(*resp)) {
		json_decref(*resp);
		*resp = NULL;
		snprintf(err, CTL_ERR_MAX, "the answer is not a JSON object (%s)", jerr.text);
		goto out;
	}
	res = CTL_OK;
out:
	if (fd >= 0)
		close(fd);
	free(lb.p);
	free(line);
	return res;
}
