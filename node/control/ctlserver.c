/* The control connections' plumbing: one bufferevent per connection (handed over by the
 * listener, node/net/listener.c), the check of who may connect, a line reader capped at
 * CTL_MAX_LINE, and the answer written before the connection closes.
 * Requests are parsed by control.c and run by ctlcmd.c; this file knows no command. Streaming
 * commands send progress lines before their last one; a client that does not read them loses
 * some rather than making the node hold them. Buffers are bounded (the read high-water mark)
 * and idle clients time out, so neither a flood nor a stalled client can hold memory or
 * descriptors for long. Who may send requests: the node's own user and root (access.h), and
 * whoever proves the control secret first (ctlauth.h); other lines before that are refused.
 * On a private ring, a connection may open with the network-key handshake (ctlsec.h); its lines
 * are then read from the channel's plaintext and answers sealed, the rest as above. Not done
 * here: accepting (the listener), peer wire (node/net/peerconn.c), the cryptography. */
#include "node/control/ctlserver.h"

#include <event2/buffer.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "node/control/access.h"
#include "node/control/control.h"
#include "node/control/ctlauth.h"
#include "node/control/ctlsec.h"
#include "node/net/addr.h"
#include "node/net/netkey.h"

#define IDLE_TIMEOUT_S 30       /* for a request to arrive */

enum conn_state { C_READ, C_RUNNING, C_CLOSING, C_HANDSHAKE };

struct conn {
	struct conn *prev, *next;
	struct ctlserver *s;
	struct bufferevent *bev;
	struct dht_addr peer;
	enum conn_state state;
	struct ctl_op *op;
	struct ctlsec *sec; /* a keyed connection's channel; NULL: plain */
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
	struct secchan_config *seal; /* NULL: an open ring */
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
	ctlsec_free(c->sec);
	unlink_conn(c);
	free(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg);

static void on_flushed(struct bufferevent *bev, void *arg)
{
	(void)bev;
	close_conn(arg);
}

/* Where C's request lines arrive: the socket's input, or a keyed channel's plaintext. */
static struct evbuffer *conn_input(struct conn *c)
{
	return c->sec ? ctlsec_plain(c->sec) : bufferevent_get_input(c->bev);
}

/* Queue LINE and a newline, sealed on a keyed connection. Return 0, or -1 on no memory. */
static int put_line(struct conn *c, const char *line)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	if (c->sec)
		return ctlsec_send_line(c->sec, out, line);
	return evbuffer_add(out, line, strlen(line)) == 0 && evbuffer_add(out, "\n", 1) == 0 ? 0 : -1;
}

/* Stop reading and close C once its output is sent. */
static void close_after_flush(struct conn *c)
{
	c->state = C_CLOSING;
	c->op = NULL;
	bufferevent_disable(c->bev, EV_READ);
	bufferevent_setcb(c->bev, NULL, on_flushed, on_event, c);
}

/* Queue LINE and a newline; the connection closes once they are sent. Never frees C: callers
 * inside C's own callbacks still use it. Return 0, or -1 if nothing could be queued. */
static int answer(struct conn *c, const char *line)
{
	close_after_flush(c);
	return put_line(c, line);
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
		if (evbuffer_get_length(out) < MAX_PENDING_PROGRESS)
			put_line(c, line);
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
	if (line == NULL || put_line(c, line) != 0)
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
	struct evbuffer *in = conn_input(c);
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
 * why. On a private ring taking remote control, such a client must come through the keyed
 * channel: a plain one is told so and closed (return false). */
static bool judge(struct conn *c)
{
	uid_t uid = 0;
	enum access_verdict v = access_check(bufferevent_getfd(c->bev), &uid);
	c->trusted = v == ACCESS_OK;
	if (c->trusted)
		return true;
	if (c->s->seal != NULL && c->s->any_peer && c->sec == NULL) {
		answer_error(c, CTL_DENIED, "this ring uses a network key: dhtctl --network-key FILE "
			     "(with --secret FILE) runs control from other machines or users through "
			     "the ring's encrypted handshake");
		return false;
	}
	access_refusal(v, uid, c->s->any_peer ?
		       "; clients on other machines must prove the control secret with "
		       "dhtctl --secret FILE" :
		       "; run dhtctl on the node's host, or start the node with --control-any "
		       "--control-secret FILE", c->refusal, sizeof c->refusal);
	return true;
}

/* The keyed channel's handshake on C, then its records; false once C must close. */
static bool read_keyed(struct conn *c)
{
	struct evbuffer *raw = bufferevent_get_input(c->bev);
	if (c->state == C_HANDSHAKE) {
		enum secchan_status st = ctlsec_handshake(c->sec, raw, bufferevent_get_output(c->bev));
		if (st == SECCHAN_NEED_MORE)
			return true;
		if (st != SECCHAN_DONE)
			return false; /* another key, or forged: an outsider learns only the close */
		c->state = C_READ;
		if (!judge(c))
			return true;
	}
	return c->state != C_READ || ctlsec_open(c->sec, raw) == 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	(void)bev;
	if (c->sec && !read_keyed(c)) {
		close_conn(c);
		return;
	}
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
	    evbuffer_get_length(conn_input(c)) > 0) {
		/* The client half-closed after a request without a newline: still answer it. */
		read_lines(c, true);
		if (!c->broken)
			return;
	}
	close_conn(c); /* reading is off once a request is taken: only errors and timeouts get here */
}

/* A connection that opened with a handshake: keyed on a private ring; an open node tells the
 * client it has no network key and closes. Return 0, or -1 if C must close now. */
static int start_keyed(struct conn *c)
{
	uint8_t notice[SECCHAN_NOTICE_LEN];
	if (c->s->seal == NULL) {
		secchan_notice(SECCHAN_NOTICE_NO_KEY, notice);
		close_after_flush(c);
		return evbuffer_add(bufferevent_get_output(c->bev), notice, sizeof notice);
	}
	uint8_t seed[SECCHAN_SEED_LEN];
	randombytes_buf(seed, sizeof seed);
	c->sec = ctlsec_new(c->s->seal, seed);
	sodium_memzero(seed, sizeof seed);
	c->state = C_HANDSHAKE;
	return c->sec ? 0 : -1;
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
	const unsigned char *first = evbuffer_pullup(bufferevent_get_input(bev), 1);
	bool keyed = first != NULL && *first != '{';
	if (!keyed)
		judge(c);
	if (keyed ? start_keyed(c) != 0 : c->broken) {
		close_conn(c);
		return;
	}
	/* Never hold more than one request line (and its "\r\n") in memory, sealed or not. */
	bufferevent_setwatermark(bev, EV_READ, 0, CTL_MAX_LINE + 2 + (keyed ? SECCHAN_OVERHEAD : 0));
	if (c->state != C_CLOSING)
		bufferevent_setcb(bev, on_read, NULL, on_event, c);
	if (bufferevent_enable(bev, c->state == C_CLOSING ? EV_WRITE : EV_READ | EV_WRITE) != 0) {
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

int ctlserver_seal(struct ctlserver *s, const struct netkey *key, const uint8_t *pk,
		   const uint8_t *sk)
{
	s->seal = sodium_malloc(sizeof *s->seal);
	if (s->seal == NULL)
		return -1;
	netkey_derive(key, NETKEY_STREAM, s->seal->stream_key, sizeof s->seal->stream_key);
	memcpy(s->seal->pk, pk, SECCHAN_PK_LEN);
	memcpy(s->seal->sk, sk, SECCHAN_SK_LEN);
	s->seal->aes = crypto_aead_aes256gcm_is_available() != 0;
	s->seal->control = true;
	return 0;
}

void ctlserver_free(struct ctlserver *s)
{
	if (s == NULL)
		return;
	while (s->conns)
		close_conn(s->conns);
	sodium_memzero(s->secret, sizeof s->secret);
	if (s->seal)
		sodium_free(s->seal);
	free(s);
}
