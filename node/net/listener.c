/* The TCP acceptor of the node's port, shared by two protocols: control requests (JSON lines)
 * and peer wire (length-prefixed frames); on a private ring, control may also come as a
 * handshake (node/net/secchan.h) whose first 7 bytes say it is for control. A connection stays
 * here only until its first byte (or those 7) arrives, under a timeout that only those few
 * bytes can restart, so a silent client cannot hold a descriptor for long; then it goes to its
 * protocol's taker. Silent connections are capped per host and in total: a new one always gets
 * in and the oldest silent one makes room, so a client that speaks at once (dhtctl) is served
 * however many silent ones a neighbour keeps opening. If accept() fails (out of descriptors),
 * new connections pause for a second rather than spin. Not done here: reading requests or
 * frames, deciding who may connect (the control server checks its clients). */
#include "node/net/listener.h"

#include <event2/buffer.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "node/log.h"
#include "node/net/addr.h"
#include "node/net/secchan.h"

#define SNIFF_LEN 7         /* enough to tell a keyed control HELLO from peer wire's */
#define SNIFF_TIMEOUT_S 10 /* for the first byte to arrive */
#define SNIFF_PER_HOST 4   /* silent connections of one host (addr_host_key) */
#define SNIFF_MAX 64       /* silent connections in all */
#define ACCEPT_PAUSE_S 1   /* after accept() fails, e.g. out of descriptors */

struct sniff {
	struct sniff *prev, *next;
	struct listener *l;
	struct bufferevent *bev;
	struct dht_addr peer;
	uint8_t key[ADDR_KEY_LEN];
};

struct listener {
	struct event_base *base;
	struct evconnlistener *lev;
	struct event *resume;
	struct listener_takers takers;
	struct sniff *conns; /* newest first */
};

static void unlink_sniff(struct sniff *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		c->l->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
}

static void close_sniff(struct sniff *c)
{
	bufferevent_free(c->bev);
	unlink_sniff(c);
	free(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct sniff *c = arg;
	const struct listener_takers *t = &c->l->takers;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in) < SNIFF_LEN ? evbuffer_get_length(in) : SNIFF_LEN;
	const unsigned char *first = evbuffer_pullup(in, (ev_ssize_t)len);
	if (first == NULL || len == 0)
		return;
	int keyed_control = secchan_control_hello(first, len);
	if (keyed_control < 0)
		return; /* a handshake's first bytes: its purpose comes a few bytes later */
	bool control = *first == '{' || keyed_control == 1;
	listener_take_fn *take = control ? t->control : t->peer;
	void *take_arg = control ? t->control_arg : t->peer_arg;
	if (take == NULL) {
		close_sniff(c);
		return;
	}
	struct dht_addr peer = c->peer;
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	bufferevent_set_timeouts(bev, NULL, NULL);
	unlink_sniff(c);
	free(c);
	take(take_arg, bev, &peer);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	close_sniff(arg); /* EOF, an error or the timeout before the first byte */
}

/* Close the oldest silent connection if the host with KEY, or everyone, is at its cap. */
static void make_room(struct listener *l, const uint8_t *key)
{
	struct sniff *oldest = NULL, *oldest_host = NULL;
	unsigned all = 0, host = 0;
	for (struct sniff *c = l->conns; c; c = c->next) {
		oldest = c;
		all++;
		if (memcmp(c->key, key, ADDR_KEY_LEN) == 0) {
			oldest_host = c;
			host++;
		}
	}
	if (host >= SNIFF_PER_HOST)
		close_sniff(oldest_host);
	else if (all >= SNIFF_MAX)
		close_sniff(oldest);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct listener *l = arg;
	static const struct timeval idle = { .tv_sec = SNIFF_TIMEOUT_S };
	struct sniff *c = calloc(1, sizeof *c);
	(void)lev;
	if (c == NULL || addr_from_sockaddr(sa, (socklen_t)salen, &c->peer) != 0 ||
	    (c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		free(c);
		evutil_closesocket(fd);
		return;
	}
	c->l = l;
	addr_host_key(&c->peer, c->key);
	make_room(l, c->key);
	c->next = l->conns;
	if (l->conns)
		l->conns->prev = c;
	l->conns = c;
	bufferevent_set_timeouts(c->bev, &idle, NULL);
	bufferevent_setcb(c->bev, on_read, NULL, on_event, c);
	if (bufferevent_enable(c->bev, EV_READ) != 0)
		close_sniff(c);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listener *l = arg;
	(void)fd;
	(void)what;
	evconnlistener_enable(l->lev);
}

static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	struct listener *l = arg;
	static const struct timeval pause = { .tv_sec = ACCEPT_PAUSE_S };
	int e = EVUTIL_SOCKET_ERROR();
	log_warn("tcp: accept failed: %s; pausing new connections for %d s",
		 evutil_socket_error_to_string(e), ACCEPT_PAUSE_S);
	evconnlistener_disable(lev);
	evtimer_add(l->resume, &pause);
}

struct listener *listener_new(struct event_base *base, int fd, const struct listener_takers *t)
{
	struct listener *l = calloc(1, sizeof *l);
	if (l == NULL) {
		close(fd);
		return NULL;
	}
	l->base = base;
	l->takers = *t;
	l->resume = evtimer_new(base, on_resume, l);
	l->lev = evconnlistener_new(base, on_accept, l, LEV_OPT_CLOSE_ON_FREE |
				    LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (l->lev == NULL)
		close(fd);
	if (l->resume == NULL || l->lev == NULL) {
		listener_free(l);
		return NULL;
	}
	evconnlistener_set_error_cb(l->lev, on_accept_error);
	return l;
}

void listener_free(struct listener *l)
{
	if (l == NULL)
		return;
	while (l->conns)
		close_sniff(l->conns);
	if (l->lev)
		evconnlistener_free(l->lev);
	if (l->resume)
		event_free(l->resume);
	free(l);
}
