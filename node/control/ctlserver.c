/* The control connections' plumbing: one bufferevent per connection (handed over by the
 * listener, node/net/listener.c), the check of who may connect, a line reader capped at
 * CTL_MAX_LINE, and the answer written before the connection closes.
 * Requests are parsed by control.c and run by ctlcmd.c; this file knows no command. Streaming
 * commands send progress lines before their last one; a client that does not read them loses
 * some rather than making the node hold them. Buffers are bounded (the read high-water mark)
 * and idle clients time out, so neither a flood nor a stalled client can hold memory or
 * descriptors for long. Who may send requests: the node's own user and root (access.h), and
 * whoever proves the control secret first (ctlauth.h); other lines before that are refused.
 * Not done here: accepting (the listener), peer wire (node/net/peerconn.c), TLS. */
#include "node/control/ctlserver.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

#include "node/control/access.h"
#include "node/control/control.h"
#include "node/control/ctlauth.h"
#include "node/net/addr.h"

#define IDLE_TIMEOUT_S 30       /* for a request to arrive */

enum conn_state { C_READ, C_RUNNING, C_CLOSING };

struct conn {
	struct conn *prev, *next;
	struct ctlserver *s;
	struct bufferevent *bev;
	struct dht_addr peer;
	enum conn_state state;
	struct ctl_op *op;
	bool starting;  /* inside ctlcmd_start: an answer may come before it returns */
	bool broken;    /* the answer could not be queued: close when it is safe */
	bool trusted;   /* the node's user or root, or the secret was proven */
	bool challenged;
	uint8_t challenge[CTLAUTH_CHALLENGE_LEN];
	char refusal[256]; /* why an untrusted request is refused */
};

struct ctlserver {
	struct ctlcmd *cmd;
	unsigned bits;
	bool any_peer;
	struct dht_addr self; /* the listening address */
	bool has_secret;
	uint8_t secret[CTLAUTH_KEY_LEN];
	struct conn *conns;
};

static void unlink_conn(struct conn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->s->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void close_conn(struct conn *c)
{
	if (c->op)
		ctlcmd_cancel(c->op);
	bufferevent_free(c->bev);
	unlink_conn(c);
	free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg);

static void on_flushed(struct bufferevent *bev, void *arg)
{
	(void)bev;
	close_conn(arg);
}

/* Queue LINE and a newline; the connection closes once they are sent. Never frees C: callers
 * inside C's own callbacks still use it. Return 0, or -1 if nothing could be queued. */
static int answer(struct conn *c, const char *line)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	c->state = C_CLOSING;
	c->op = NULL;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, on_flushed, on_event, c);
	if (evbuffer_add(out, line, strlen(line)) != 0 || evbuffer_add(out, "\n", 1) != 0)
		return -1;
	return 0;
}

static void answer_error(struct conn *c, enum ctl_code code, const char *msg)
{
	char *line = ctl_error_line(code, msg);
	if (line == NULL || answer(c, line) != 0)
		c->broken = true;
	free(line);
}

/* Progress lines a client has not read yet; past this, new ones are dropped rather than kept. */
#define MAX_PENDING_PROGRESS (256 * 1024)

static void on_reply(void *arg, const char *line, bool more)
{
	struct conn *c = arg;
	if (more) {
		struct evbuffer *out = bufferevent_get_output(c->bev);
		if (evbuffer_get_length(out) < MAX_PENDING_PROGRESS &&
		    evbuffer_add(out, line, strlen(line)) == 0)
			evbuffer_add(out, "\n", 1);
		return;
	}
	if (answer(c, line) != 0) {
		if (c->starting)
			c->broken = true;
		else
			close_conn(c);
	}
}

/* Parse and run one request line of LEN bytes. */
static void run_line(struct conn *c, const char *line, size_t len)
{
	struct ctl_request req;
	struct ctl_error err;
	if (ctl_parse_request(line, len, c->s->bits, &req, &err) != 0) {
		answer_error(c, err.code, err.msg);
		return;
	}
	c->state = C_RUNNING;
	bufferevent_disable(c->bev, EV_READ);
	c->starting = true;
	c->op = ctlcmd_start(c->s->cmd, &req, on_reply, c);
	c->starting = false;
}

/* {"auth":"begin"}: send a challenge; the connection keeps reading. */
static void begin_auth(struct conn *c)
{
	if (!c->s->has_secret || c->challenged) {
		answer_error(c, CTL_DENIED, c->s->has_secret ? "one challenge per connection"
			     : "this node has no control secret; start it with --control-secret FILE "
			     "to let clients prove one");
		return;
	}
	char *line = ctlauth_challenge_line(c->challenge);
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (line == NULL || evbuffer_add(out, line, strlen(line)) != 0 ||
	    evbuffer_add(out, "\n", 1) != 0)
		c->broken = true;
	c->challenged = true;
	free(line);
}

/* {"auth":MAC}: the answer to this connection's challenge. */
static void check_proof(struct conn *c, const uint8_t mac[CTLAUTH_MAC_LEN])
{
	if (!c->challenged || !ctlauth_verify(mac, c->challenge, c->s->secret)) {
		answer_error(c, CTL_DENIED, "the control secret does not match this node's; give "
			     "dhtctl --secret the file the node was started with (--control-secret)");
		return;
	}
	c->challenged = false;
	c->trusted = true;
}

/* One line of LEN bytes (newline removed): an auth step, or a request. */
static void take_line(struct conn *c, const char *line, size_t len)
{
	uint8_t mac[CTLAUTH_MAC_LEN];
	if (len > 0 && line[len - 1] == '\r')
		len--;
	switch (ctlauth_parse(line, len, mac)) {
	case CTLAUTH_NONE:
		if (c->trusted)
			run_line(c, line, len);
		else
			answer_error(c, CTL_DENIED, c->refusal);
		return;
	case CTLAUTH_BEGIN:
		begin_auth(c);
		return;
	case CTLAUTH_PROOF:
		check_proof(c, mac);
		return;
	case CTLAUTH_BAD:
		answer_error(c, CTL_USAGE, "an auth line is {\"auth\":\"begin\"} or {\"auth\":"
			     "HEX} with the 64-digit HMAC of the challenge");
		return;
	}
}

/* Take whole lines while the connection still reads them (auth steps come before the
 * request); at EOF, the rest counts as one. */
static void read_lines(struct conn *c, bool eof)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (c->state == C_READ && !c->broken) {
		size_t eol_len = 0, len = evbuffer_get_length(in);
		struct evbuffer_ptr p = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (p.pos >= 0)
			len = (size_t)p.pos;
		else if (len == 0 || (!eof && len <= CTL_MAX_LINE + 1))
			return; /* wait for the rest; room for a '\r' before the newline */
		if (len > CTL_MAX_LINE + 1) {
			answer_error(c, CTL_USAGE, "the request line is longer than 64 KiB; send one "
				     "JSON object of at most 65536 bytes per line");
			return;
		}
		take_line(c, (const char *)evbuffer_pullup(in, (ev_ssize_t)len), len);
		if (c->state == C_READ)
			evbuffer_drain(in, len + eol_len);
	}
}

/* Loopback, or this machine through the node's own address: a node bound to a LAN address
 * cannot be reached over loopback at all, and only this host can connect from that address. */
static bool peer_allowed(const struct ctlserver *s, const struct dht_addr *peer)
{
	return s->any_peer || addr_is_loopback(peer) || addr_same_ip(peer, &s->self);
}

/* Whether C's client may send requests without proving the secret; if not, C->refusal says
 * why. */
static void judge(struct conn *c)
{
	uid_t uid = 0;
	enum access_verdict v = access_check(bufferevent_getfd(c->bev), &uid);
	c->trusted = v == ACCESS_OK;
	if (!c->trusted)
		access_refusal(v, uid, c->s->any_peer ?
			       "; clients on other machines must prove the control secret with "
			       "dhtctl --secret FILE" :
			       "; run dhtctl on the node's host, or start the node with --control-any "
			       "--control-secret FILE", c->refusal, sizeof c->refusal);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (c->state == C_READ)
		read_lines(c, false);
	if (c->broken)
		close_conn(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if ((what & BEV_EVENT_EOF) && !(what & BEV_EVENT_ERROR) && c->state == C_READ &&
	    evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
		/* The client half-closed after a request without a newline: still answer it. */
		read_lines(c, true);
		if (!c->broken)
			return;
	}
	close_conn(c); /* reading is off once a request is taken: only errors and timeouts get here */
}

void ctlserver_take(void *arg, struct bufferevent *bev, const struct dht_addr *peer)
{
	struct ctlserver *s = arg;
	static const struct timeval idle = { .tv_sec = IDLE_TIMEOUT_S };
	struct conn *c = calloc(1, sizeof *c);
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	c->s = s;
	c->bev = bev;
	c->peer = *peer;
	c->next = s->conns;
	if (s->conns)
		s->conns->prev = c;
	s->conns = c;
	bufferevent_set_timeouts(bev, &idle, &idle);
	if (!peer_allowed(s, peer)) {
		answer_error(c, CTL_DENIED, "control connections are accepted from this machine only; "
			     "run dhtctl on the node's host, or start the node with --control-any "
			     "--control-secret FILE");
		if (c->broken || bufferevent_enable(bev, EV_WRITE) != 0)
			close_conn(c);
		return;
	}
	judge(c);
	/* Never hold more than one request line (and its "\r\n") in memory. */
	bufferevent_setwatermark(bev, EV_READ, 0, CTL_MAX_LINE + 2);
	bufferevent_setcb(bev, on_read, NULL, on_event, c);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
		close_conn(c);
		return;
	}
	/* The listener already read the first bytes: no read event will announce them. */
	on_read(bev, c);
}

struct ctlserver *ctlserver_new(struct ctlcmd *cmd, unsigned bits, bool any_peer,
				const struct dht_addr *self, const uint8_t *secret)
{
	struct ctlserver *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->cmd = cmd;
	s->bits = bits;
	s->any_peer = any_peer;
	s->self = *self;
	s->has_secret = secret != NULL;
	if (secret != NULL)
		memcpy(s->secret, secret, sizeof s->secret);
	return s;
}

void ctlserver_free(struct ctlserver *s)
{
	if (s == NULL)
		return;
	while (s->conns)
		close_conn(s->conns);
	sodium_memzero(s->secret, sizeof s->secret);
	free(s);
}
