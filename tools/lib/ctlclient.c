/* The control protocol's client: resolve, connect without blocking past the deadline, write one
 * line, then read lines with one reader that either waits until a deadline or takes only what
 * has arrived. A plain socket and poll() are enough for one request per connection; the node
 * closes the connection after its last line, so nothing is kept between calls. With a secret,
 * the connection first answers the node's challenge (node/control/ctlauth.h); with a network key,
 * before that, it runs the ring's handshake and every byte after it goes in records
 * (tools/lib/ctlkey.h). It checks only
 * that each line is a JSON object: callers read the fields. */
#include "tools/lib/ctlclient.h"

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

#include "node/net/addr.h"
#include "node/net/netkey.h"
#include "tools/lib/ctlkey.h"

/* Answers can be much larger than the 64 KiB request limit: a ring of 256 nodes with their
 * successor lists is a few hundred KiB. */
#define CTL_MAX_ANSWER (16u << 20)

int ctl_parse_target(const char *s, struct ctl_target *t, char err[CTL_ERR_MAX])
{
	uint16_t port;

	if (addr_split(s, t->host, sizeof t->host, &port) != 0) {
		snprintf(err, CTL_ERR_MAX, "'%s' is not HOST:PORT with a port 1-65535 (for example "
			 "127.0.0.1:4000 or [::1]:4000)", s);
		return -1;
	}
	snprintf(t->port, sizeof t->port, "%u", (unsigned)port);
	t->has_secret = false;
	t->has_netkey = false;
	return 0;
}

int ctl_target_netkey(struct ctl_target *t, const char *path, char err[CTL_ERR_MAX])
{
	struct netkey k;
	if (netkey_load(path, &k, err, CTL_ERR_MAX) != 0)
		return -1;
	netkey_derive(&k, NETKEY_STREAM, t->stream_key, sizeof t->stream_key);
	netkey_wipe(&k);
	t->has_netkey = true;
	return 0;
}

int ctl_target_secret(struct ctl_target *t, const char *path, char err[CTL_ERR_MAX])
{
	if (ctlauth_load(path, false, t->secret, err, CTL_ERR_MAX) != CTLAUTH_LOADED)
		return -1;
	t->has_secret = true;
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

/* Wait for EVENTS on FD until DEADLINE; return 1 when ready, 0 on timeout, -1 on error, -2
 * once *INTR (may be NULL) is set. */
static int wait_intr(int fd, short events, int64_t deadline, const volatile sig_atomic_t *intr)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		if (intr && *intr)
			return -2;
		int64_t left = deadline - now_ms();
		if (left <= 0)
			return 0;
		n = poll(&p, 1, (int)left);
	} while (n < 0 && errno == EINTR);
	return n;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	return wait_intr(fd, events, deadline, NULL);
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


struct ctl_conn {
	int fd;
	struct ctlkey *key; /* the keyed channel, or NULL: plain lines */
	bool eof;
	char *buf;
	size_t len, cap;
	const volatile sig_atomic_t *interrupted; /* ctl_stream's caller's flag, or NULL */
};

void ctl_conn_free(struct ctl_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	ctlkey_free(c->key);
	free(c->buf);
	free(c);
}

static enum ctl_next next_line(struct ctl_conn *c, int64_t deadline, json_t **line,
			       char err[CTL_ERR_MAX]);

/* Send LEN bytes of BUF on C, sealed on a keyed channel, by DEADLINE. Return 0 or -1. */
static int conn_send(struct ctl_conn *c, const char *buf, size_t len, int64_t deadline)
{
	if (!c->key)
		return send_all(c->fd, buf, len, deadline);
	size_t slen;
	uint8_t *sealed = ctlkey_seal(c->key, buf, len, &slen);
	int rc = sealed ? send_all(c->fd, (const char *)sealed, slen, deadline) : -1;
	free(sealed);
	return rc;
}

/* recv() of C's plaintext: on a keyed channel, whole records' only (EAGAIN until one is). */
static ssize_t conn_recv(struct ctl_conn *c, char *buf, size_t cap)
{
	uint8_t raw[16384];
	size_t n;
	if (!c->key)
		return recv(c->fd, buf, cap, 0);
	for (;;) {
		if (ctlkey_take(c->key, buf, cap, &n) != 0 || ctlkey_room(c->key) == 0) {
			errno = EPROTO;
			return -1;
		}
		if (n > 0)
			return (ssize_t)n;
		size_t room = ctlkey_room(c->key);
		ssize_t got = recv(c->fd, raw, room < sizeof raw ? room : sizeof raw, 0);
		if (got <= 0)
			return got;
		ctlkey_feed(c->key, raw, (size_t)got);
	}
}

/* Why a handshake ended without a channel, for the user. */
static void handshake_error(enum secchan_status st, char err[CTL_ERR_MAX])
{
	if (st == SECCHAN_PEER_OPEN)
		snprintf(err, CTL_ERR_MAX, "the node has no network key: leave out --network-key "
			 "(and $DHTNODE_NETWORK_KEY)");
	else if (st == SECCHAN_REJECT)
		snprintf(err, CTL_ERR_MAX, "the node's answer to the network-key handshake does not "
			 "check: another network key, or a refusal in plain text (a node without "
			 "--control-any takes no control from other machines)");
	else
		snprintf(err, CTL_ERR_MAX, "the node closed the connection during the network-key "
			 "handshake: it uses another network key");
}

/* Run the ring's handshake on C under T's network key by DEADLINE. Return 0, or -1 with *WHY
 * and ERR. */
static int handshake(struct ctl_conn *c, const struct ctl_target *t, int64_t deadline,
		     enum ctl_result *why, char err[CTL_ERR_MAX])
{
	uint8_t hello[SECCHAN_HELLO_LEN], out[SECCHAN_OUT_MAX], raw[1024];
	size_t outlen = 0;
	enum secchan_status st = SECCHAN_NEED_MORE;
	*why = CTL_NO_ANSWER;
	snprintf(err, CTL_ERR_MAX, "the node did not finish the network-key handshake");
	if (!(c->key = ctlkey_new(t->stream_key, hello)) ||
	    send_all(c->fd, (const char *)hello, sizeof hello, deadline) < 0)
		return -1;
	while ((st = ctlkey_handshake(c->key, out, &outlen)) == SECCHAN_OK ||
	       st == SECCHAN_NEED_MORE) {
		if (outlen && send_all(c->fd, (const char *)out, outlen, deadline) < 0)
			return -1;
		if (st == SECCHAN_OK)
			continue;
		ssize_t n = recv(c->fd, raw, sizeof raw, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			if (wait_fd(c->fd, POLLIN, deadline) <= 0)
				return -1;
			continue;
		}
		if (n <= 0 || ctlkey_feed(c->key, raw, (size_t)n) != 0)
			break;
	}
	*why = CTL_KEY_FAILED;
	if (st != SECCHAN_DONE) {
		handshake_error(st, err);
		return -1;
	}
	return outlen && send_all(c->fd, (const char *)out, outlen, deadline) < 0 ? -1 : 0;
}

/* Put LINE (consumed) back before what C has read, as its next line. Return 0, or -1 on no
 * memory. */
static int unread(struct ctl_conn *c, json_t *line)
{
	char *text = json_dumps(line, JSON_COMPACT);
	size_t n = text ? strlen(text) + 1 : 0;
	char *buf = text ? malloc(c->len + n) : NULL;
	json_decref(line);
	if (!buf) {
		free(text);
		return -1;
	}
	memcpy(buf, text, n - 1);
	buf[n - 1] = '\n';
	if (c->len)
		memcpy(buf + n, c->buf, c->len);
	free(text);
	free(c->buf);
	c->buf = buf;
	c->len += n;
	c->cap = c->len;
	return 0;
}

/* Prove T's secret on C by DEADLINE: ask for a challenge and send the answer. Return 0; 1 if
 * the node answered something else (its refusal), which stays the connection's next line; or
 * -1 with *WHY and ERR. */
static int prove_secret(struct ctl_conn *c, const struct ctl_target *t, int64_t deadline,
			enum ctl_result *why, char err[CTL_ERR_MAX])
{
	static const char begin[] = "{\"auth\":\"begin\"}\n";
	json_t *line = NULL;
	char *proof = NULL;
	int rc = -1;

	*why = CTL_NO_ANSWER;
	snprintf(err, CTL_ERR_MAX, "the node did not answer the secret's challenge");
	if (conn_send(c, begin, sizeof begin - 1, deadline) < 0 ||
	    next_line(c, deadline, &line, err) != CTL_LINE)
		return -1;
	const char *hex = json_string_value(json_object_get(line, "challenge"));
	if (!hex)
		return unread(c, line) == 0 ? 1 : -1;
	proof = ctlauth_proof_line(hex, t->secret);
	*why = CTL_BAD_ANSWER;
	if (!proof)
		snprintf(err, CTL_ERR_MAX, "the node's challenge is not 64 hex digits");
	else if (conn_send(c, proof, strlen(proof), deadline) < 0 ||
		 conn_send(c, "\n", 1, deadline) < 0)
		snprintf(err, CTL_ERR_MAX, "the answer to the challenge could not be sent");
	else
		rc = 0;
	free(proof);
	json_decref(line);
	return rc;
}

/* Connect (opening the keyed channel and proving T's secret if it has them) and send REQ's line
 * by DEADLINE. Return the connection, or NULL with *WHY and ERR. */
static struct ctl_conn *conn_open(const struct ctl_target *t, const json_t *req, int64_t deadline,
				  enum ctl_result *why, char err[CTL_ERR_MAX])
{
	char *line = json_dumps(req, JSON_COMPACT);
	struct ctl_conn *c = calloc(1, sizeof *c);
	int proved;

	*why = CTL_BAD_ANSWER;
	if (c)
		c->fd = -1;
	if (!line || !c) {
		snprintf(err, CTL_ERR_MAX, "out of memory");
		goto fail;
	}
	if ((c->fd = ctl_connect(t, deadline, why, err)) < 0 ||
	    (t->has_netkey && handshake(c, t, deadline, why, err) != 0))
		goto fail;
	proved = t->has_secret ? prove_secret(c, t, deadline, why, err) : 0;
	if (proved < 0)
		goto fail;
	if (proved == 0 && (conn_send(c, line, strlen(line), deadline) < 0 ||
			    conn_send(c, "\n", 1, deadline) < 0)) {
		*why = CTL_NO_ANSWER;
		snprintf(err, CTL_ERR_MAX, "the request could not be sent");
		goto fail;
	}
	free(line);
	return c;
fail:
	free(line);
	ctl_conn_free(c);
	return NULL;
}

/* Read what the socket holds, waiting until DEADLINE (0: not at all) for the first bytes.
 * Return 1 when something arrived or the peer closed, 0 when nothing came in time, -1 on an
 * error or an answer over CTL_MAX_ANSWER, -2 when interrupted. */
static int fill(struct ctl_conn *c, int64_t deadline)
{
	for (;;) {
		if (c->len + 4096 > c->cap) {
			size_t cap = c->cap ? c->cap * 2 : 16384;
			char *p = cap <= CTL_MAX_ANSWER ? realloc(c->buf, cap) : NULL;
			if (!p)
				return -1;
			c->buf = p;
			c->cap = cap;
		}
		ssize_t n = conn_recv(c, c->buf + c->len, c->cap - c->len);
		if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
			int w = deadline ? wait_intr(c->fd, POLLIN, deadline, c->interrupted) : 0;
			if (w <= 0)
				return w;
			continue;
		}
		if (n < 0)
			return -1;
		c->eof = n == 0;
		c->len += (size_t)n;
		return 1;
	}
}

/* The one line reader: take the next line as a JSON object, reading until DEADLINE (0: only
 * what has arrived). The last line may come without its newline before the close. */
static enum ctl_next next_line(struct ctl_conn *c, int64_t deadline, json_t **line,
			       char err[CTL_ERR_MAX])
{
	json_error_t jerr;
	char *nl;
	size_t used;
	int rc = 1;

	*line = NULL;
	while (!(nl = c->len ? memchr(c->buf, '\n', c->len) : NULL) && !c->eof && rc > 0)
		rc = fill(c, deadline);
	if (rc == -2)
		return CTL_INTERRUPTED;
	if (rc < 0) {
		snprintf(err, CTL_ERR_MAX, "reading the answer failed: %s",
			 c->len + 4096 > CTL_MAX_ANSWER ? "it is too long" : strerror(errno));
		return CTL_ERROR;
	}
	if (!nl && !(c->eof && c->len > 0))
		return c->eof ? CTL_EOF : CTL_AGAIN;
	used = nl ? (size_t)(nl - c->buf) + 1 : c->len;
	*line = json_loadb(c->buf, used, JSON_DISABLE_EOF_CHECK, &jerr);
	memmove(c->buf, c->buf + used, c->len - used);
	c->len -= used;
	if (!json_is_object(*line)) {
		json_decref(*line);
		*line = NULL;
		snprintf(err, CTL_ERR_MAX, "an answer is not a JSON object (%s)", jerr.text);
		return CTL_ERROR;
	}
	return CTL_LINE;
}

/* What a wait for a line that did not come means, in ctl_call's and ctl_stream's terms. */
static enum ctl_result no_line(enum ctl_next l, int ms, char err[CTL_ERR_MAX])
{
	if (l == CTL_AGAIN || l == CTL_INTERRUPTED) {
		if (l == CTL_AGAIN)
			snprintf(err, CTL_ERR_MAX, "no answer within %d ms", ms);
		else
			snprintf(err, CTL_ERR_MAX, "interrupted");
		return CTL_NO_ANSWER;
	}
	if (l == CTL_EOF)
		snprintf(err, CTL_ERR_MAX, "the connection closed before the last answer");
	return CTL_BAD_ANSWER;
}

enum ctl_result ctl_call(const struct ctl_target *t, const json_t *req, int timeout_ms,
			 json_t **resp, char err[CTL_ERR_MAX])
{
	int64_t deadline = now_ms() + timeout_ms;
	enum ctl_result res;
	struct ctl_conn *c = conn_open(t, req, deadline, &res, err);
	enum ctl_next l;

	*resp = NULL;
	if (!c)
		return res;
	l = next_line(c, deadline, resp, err);
	ctl_conn_free(c);
	return l == CTL_LINE ? CTL_OK : no_line(l, timeout_ms, err);
}

enum ctl_result ctl_stream(const struct ctl_target *t, const json_t *req, int idle_ms,
			   const struct ctl_stream_cb *cb, json_t **last, char err[CTL_ERR_MAX])
{
	enum ctl_result res;
	struct ctl_conn *c = conn_open(t, req, now_ms() + idle_ms, &res, err);
	enum ctl_next l = CTL_LINE;
	json_t *o = NULL;

	*last = NULL;
	if (c)
		c->interrupted = cb ? cb->interrupted : NULL;
	while (c && (l = next_line(c, now_ms() + idle_ms, &o, err)) == CTL_LINE) {
		const json_t *p = json_object_get(o, "progress");
		if (!p) {
			*last = o;
			break;
		}
		if (cb && cb->fn)
			cb->fn(cb->arg, p);
		json_decref(o);
	}
	ctl_conn_free(c);
	if (!c)
		return res;
	return l == CTL_LINE ? CTL_OK : no_line(l, idle_ms, err);
}

struct ctl_conn *ctl_conn_open(const struct ctl_target *t, const json_t *req, int timeout_ms,
			       char err[CTL_ERR_MAX])
{
	enum ctl_result why;

	return conn_open(t, req, now_ms() + timeout_ms, &why, err);
}

int ctl_conn_fd(const struct ctl_conn *c)
{
	return c->fd;
}

enum ctl_next ctl_conn_next(struct ctl_conn *c, json_t **line, char err[CTL_ERR_MAX])
{
	return next_line(c, 0, line, err);
}
