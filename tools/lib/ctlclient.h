/* tools/lib/ctlclient.h: the client side of the control protocol (docs/control.md): one
 * request line of JSON to a dhtnode over TCP, then its answer lines, read with one line reader
 * three ways: a single answer within a deadline (ctl_call), progress lines until the last one
 * (ctl_stream), or line by line from the caller's poll() loop (struct ctl_conn). Used by dhtctl,
 * dhtlab and kvload. The caller owns every json_t it gets. */
#ifndef TOOLS_LIB_CTLCLIENT_H
#define TOOLS_LIB_CTLCLIENT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "node/control/ctlauth.h"

#define CTL_HOST_MAX 256
#define CTL_PORT_MAX 8
#define CTL_ERR_MAX 512

/* Where a dhtnode's control port is, the control secret to prove there and the network key to
 * open the connection with, if any. */
struct ctl_target {
	char host[CTL_HOST_MAX];
	char port[CTL_PORT_MAX];
	bool has_secret;
	uint8_t secret[CTLAUTH_KEY_LEN];
	bool has_netkey;
	uint8_t stream_key[32]; /* the network key's NETKEY_STREAM subkey */
};

enum ctl_result {
	CTL_OK = 0,
	CTL_REFUSED,     /* connect failed: nothing listening, host unknown or unreachable */
	CTL_NO_ANSWER,   /* connected (or connecting) but nothing came back before the deadline */
	CTL_BAD_ANSWER,  /* the peer closed early or sent something that is not a JSON object */
	CTL_KEY_FAILED,  /* the network-key handshake failed: another key, or the node has none */
};

/* Parse "HOST:PORT" or "[V6]:PORT" (node/net/addr.h's rules) into T, without a secret. Return
 * 0, or -1 with a sentence in ERR. */
int ctl_parse_target(const char *s, struct ctl_target *t, char err[CTL_ERR_MAX]);

/* Read the control secret from the file PATH into T: every connection to T then proves it
 * before its request (needed from other machines, or as another user). Return 0, or -1 with a
 * sentence in ERR. */
int ctl_target_secret(struct ctl_target *t, const char *path, char err[CTL_ERR_MAX]);

/* Read the ring's network key from the file PATH (dhtnode --network-key's) into T: every
 * connection to T then opens with the ring's handshake and runs encrypted (needed from other
 * machines or users when the node has one). Return 0, or -1 with a sentence in ERR. */
int ctl_target_netkey(struct ctl_target *t, const char *path, char err[CTL_ERR_MAX]);

/* Send REQ (not consumed) to T and read one response object into *RESP within TIMEOUT_MS
 * milliseconds in all. On CTL_OK the caller owns *RESP; otherwise *RESP is NULL and ERR holds
 * the reason in a few words ("connection refused"). */
enum ctl_result ctl_call(const struct ctl_target *t, const json_t *req, int timeout_ms,
			 json_t **resp, char err[CTL_ERR_MAX]);

/* Called for each progress line (an object with "progress"); PROGRESS is valid during the call. */
typedef void ctl_progress_fn(void *arg, const json_t *progress);

struct ctl_stream_cb {
	ctl_progress_fn *fn; /* NULL: progress lines are dropped */
	void *arg;
	/* If a signal handler sets this, the stream ends at once with CTL_NO_ANSWER ("interrupted"):
	 * poll() is not restarted after a signal, so Ctrl-C is seen at once, not at the next line. */
	const volatile sig_atomic_t *interrupted;
};

/* Send REQ (not consumed) to T; pass progress lines to CB's FN (CB may be NULL); return with
 * the last line in *LAST (the caller owns it). IDLE_MS bounds the wait for each line, since a
 * download may run for hours while lines keep coming. Results as ctl_call(). */
enum ctl_result ctl_stream(const struct ctl_target *t, const json_t *req, int idle_ms,
			   const struct ctl_stream_cb *cb, json_t **last, char err[CTL_ERR_MAX]);

/* An open connection whose lines the caller takes one at a time, without blocking. */
struct ctl_conn;

/* Connect to T and send REQ (not consumed), within TIMEOUT_MS for both. Return the connection
 * (ctl_conn_free), or NULL with the reason in ERR. */
struct ctl_conn *ctl_conn_open(const struct ctl_target *t, const json_t *req, int timeout_ms,
			       char err[CTL_ERR_MAX]);

/* The socket, for poll() with POLLIN. */
int ctl_conn_fd(const struct ctl_conn *c);

enum ctl_next {
	CTL_LINE,    /* *LINE holds the next object */
	CTL_AGAIN,   /* nothing complete yet: poll and call again */
	CTL_EOF,     /* the node closed the connection, every line already taken */
	CTL_ERROR,   /* a read error, an over-long line or a line that is not an object (ERR) */
	CTL_INTERRUPTED, /* ctl_stream only: the caller's interrupted flag was set */
};

/* Take the next complete line, reading whatever the socket holds first. */
enum ctl_next ctl_conn_next(struct ctl_conn *c, json_t **line, char err[CTL_ERR_MAX]);

void ctl_conn_free(struct ctl_conn *c);

#endif
