/* tools/dhtctl/ctlclient.h: the client side of the control protocol (docs/control.md): one
 * request line of JSON to a dhtnode over TCP, one response line back, within a deadline.
 * Shared by dhtctl and the kvload benchmark driver. The caller owns every json_t it gets. */
#ifndef DHTCTL_CTLCLIENT_H
#define DHTCTL_CTLCLIENT_H

#include <stddef.h>

#include <jansson.h>

#define CTL_HOST_MAX 256
#define CTL_PORT_MAX 8
#define CTL_ERR_MAX 512

/* Where a dhtnode's control port is. */
struct ctl_target {
	char host[CTL_HOST_MAX];
	char port[CTL_PORT_MAX];
};

enum ctl_result {
	CTL_OK = 0,
	CTL_REFUSED,     /* connect failed: nothing listening, host unknown or unreachable */
	CTL_NO_ANSWER,   /* connected (or connecting) but nothing came back before the deadline */
	CTL_BAD_ANSWER,  /* the peer closed early or sent something that is not a JSON object */
};

/* Parse "HOST:PORT" or "[V6]:PORT" into T. Return 0, or -1 with a sentence in ERR. */
int ctl_parse_target(const char *s, struct ctl_target *t, char err[CTL_ERR_MAX]);

/* Send REQ (not consumed) to T and read one response object into *RESP within TIMEOUT_MS
 * milliseconds in all. On CTL_OK the caller owns *RESP; otherwise *RESP is NULL and ERR holds
 * the reason in a few words ("connection refused"). */
enum ctl_result ctl_call(const struct ctl_target *t, const json_t *req, int timeout_ms,
			 json_t **resp, char err[CTL_ERR_MAX]);

/* The pieces ctl_call is made of, for clients with other framing (progress streams).
 * ctl_open: connect to T within TIMEOUT_MS; return a non-blocking socket the caller closes, or
 * -1 with *WHY and ERR set. ctl_send: send LEN bytes within TIMEOUT_MS; return 0 or -1.
 * ctl_wait: wait at most MS for EVENTS (poll's) on FD; return 1 ready, 0 timeout, -1 error. */
int ctl_open(const struct ctl_target *t, int timeout_ms, enum ctl_result *why,
	     char err[CTL_ERR_MAX]);
int ctl_send(int fd, const char *buf, size_t len, int timeout_ms);
int ctl_wait(int fd, short events, int ms);

#endif
