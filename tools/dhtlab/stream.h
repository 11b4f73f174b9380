/* tools/dhtlab/stream.h: a control connection kept open for a streaming command (fetch with
 * follow, watch; docs/control.md): send one request, then take the node's lines one by one as
 * they arrive, without blocking, from the caller's poll() loop. Each line returned is a JSON
 * object the caller owns; the request stays the caller's. */
#ifndef DHTLAB_STREAM_H
#define DHTLAB_STREAM_H

#include <jansson.h>

#include "tools/dhtctl/ctlclient.h"

struct ctl_stream;

/* Connect to T and send REQ, waiting at most TIMEOUT_MS for both. Return the stream, or NULL
 * with the reason in ERR. */
struct ctl_stream *ctl_stream_open(const struct ctl_target *t, const json_t *req, int timeout_ms,
				   char err[CTL_ERR_MAX]);

/* The socket, for poll() with POLLIN. */
int ctl_stream_fd(const struct ctl_stream *s);

enum stream_result {
	STREAM_LINE,    /* *LINE holds the next object */
	STREAM_AGAIN,   /* nothing complete yet: poll and call again */
	STREAM_EOF,     /* the node closed the connection, every line already taken */
	STREAM_ERROR,   /* a read error, an over-long line or a line that is not an object */
};

/* Take the next complete line, reading whatever the socket has first. */
enum stream_result ctl_stream_next(struct ctl_stream *s, json_t **line, char err[CTL_ERR_MAX]);

void ctl_stream_free(struct ctl_stream *s);

#endif
