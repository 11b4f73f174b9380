/* Peer-wire connections: bufferevents, the node-wide rate-limit group, routing of inbound
 * connections by the content id in their HANDSHAKE, and deferred freeing. A connection closed
 * by its owner is parked and freed from a zero-delay event, because owners close connections
 * from deep inside the session core, often while this very connection's read callback is still
 * on the stack. Input is handed over in the evbuffer's own chains (evbuffer_peek), so no byte
 * is copied on the way to the session; output is copied into the evbuffer, or referenced there
 * (pconn_send_ref) when its owner can keep it alive, as for blocks served from a file map.
 * libevent 2.1 reads at most 4 KiB per readiness event (EVBUFFER_MAX_READ; 2.2 makes it
 * settable), which caps a connection at a few hundred MiB/s and splits every block into four
 * reads: each read callback therefore follows libevent's read with one large read of its own,
 * as much as the rate limits allow, charged to the rate-limit group like libevent's own.
 * Nothing here knows the session's messages beyond the first frame's length and type. */
#include "node/net/peerconn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/net/addr.h"
#include "node/log.h"

#define CONNECT_TIMEOUT_S 5
#define SNIFF_TIMEOUT_S 10
#define RATE_TICK_MS 50          /* token refill period: 20 small steps a second stay smooth */
#define MAX_SINGLE_IO (1u << 20) /* libevent reads and writes 16 KiB per call by default */
#define PEEK_VECS 16

struct pconn {
	struct pconn *prev, *next;
	struct pnet *n;
	struct bufferevent *bev;
	struct dht_addr addr;
	const struct pconn_ops *ops;
	void *owner;      /* NULL while an inbound connection has not been routed */
	int slot;
	bool outgoing, dead;
};

struct pnet {
	struct event_base *base;
	struct pnet_config cfg;
	struct ev_token_bucket_cfg *bucket;
	struct bufferevent_rate_limit_group *group;
	struct pconn *conns;
	struct pconn *graveyard;
	struct event *reaper;
	uint8_t rbuf[MAX_SINGLE_IO]; /* reads are handed on at once, so one buffer serves all */
};

static void link_conn(struct pconn **head, struct pconn *c)
{
	c->prev = NULL;
	c->next = *head;
	if (*head)
		(*head)->prev = c;
	*head = c;
}

static void unlink_conn(struct pconn **head, struct pconn *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else
		*head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

static void conn_free(struct pconn *c)
{
	if (c->bev) {
		/* libevent leaves a freed bufferevent in its rate-limit group until its deferred
		 * cleanup runs; freeing the group before that aborts. Leave the group now. */
		bufferevent_remove_from_rate_limit_group(c->bev);
		bufferevent_free(c->bev);
	}
	free(c);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct pnet *n = arg;
	(void)fd;
	(void)what;
	while (n->graveyard) {
		struct pconn *c = n->graveyard;
		unlink_conn(&n->graveyard, c);
		conn_free(c);
	}
}

void pconn_close(struct pconn *c)
{
	if (c == NULL || c->dead)
		return;
	c->dead = true;
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	unlink_conn(&c->n->conns, c);
	link_conn(&c->n->graveyard, c);
	event_active(c->n->reaper, EV_TIMEOUT, 0);
}

/* The connection died on its own: tell the owner, then free it (we are in its callback, which
 * libevent lets us free it from). */
static void conn_gone(struct pconn *c, const char *why)
{
	c->dead = true;
	if (c->owner)
		c->ops->gone(c->owner, c, why);
	unlink_conn(&c->n->conns, c);
	conn_free(c);
}

/* Hand everything buffered to the owner, chain by chain. */
static void deliver(struct pconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (!c->dead && evbuffer_get_length(in) > 0) {
		struct evbuffer_iovec v[PEEK_VECS];
		int nv = evbuffer_peek(in, -1, NULL, v, PEEK_VECS);
		size_t used = 0;
		for (int i = 0; i < nv && i < PEEK_VECS; i++) {
			if (c->ops->input(c->owner, c, v[i].iov_base, v[i].iov_len) < 0)
				return;
			used += v[i].iov_len;
		}
		evbuffer_drain(in, used);
	}
}

/* An inbound connection's first frame must be a HANDSHAKE naming content we serve. Return
 * false if C was closed. */
static bool route(struct pconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t have = evbuffer_get_length(in);
	const uint8_t *p = evbuffer_pullup(in, have < 128 ? (ev_ssize_t)have : 128);
	struct wire_msg msg;
	size_t used;
	enum wire_status st = p ? wire_frame(p, have < 128 ? have : 128, &msg, &used) : WIRE_NEED_MORE;
	if (st == WIRE_NEED_MORE && have < 128)
		return true;
	const struct pconn_ops *ops;
	void *owner;
	if (st != WIRE_OK || msg.type != WIRE_HANDSHAKE ||
	    c->n->cfg.route(c->n->cfg.route_arg, msg.u.handshake.content, &ops, &owner) != 0) {
		char a[ADDR_STR_MAX];
		addr_format(&c->addr, a);
		log_debug("peer %s: first frame is not a handshake for content we serve", a);
		pconn_close(c);
		return false;
	}
	c->ops = ops;
	c->owner = owner;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	return ops->up(owner, c) == 0 && !c->dead;
}

/* Read what the socket holds, up to what the rate limits allow now, straight into the node's
 * scratch buffer and on to the owner (which keeps any partial frame itself). An error or the
 * end of the stream is left for libevent's next read, which reports it. */
static void read_direct(struct pconn *c)
{
	struct pnet *n = c->n;
	ev_ssize_t allowed = bufferevent_get_max_to_read(c->bev);
	if (allowed > (ev_ssize_t)sizeof n->rbuf)
		allowed = (ev_ssize_t)sizeof n->rbuf;
	if (allowed <= 0)
		return;
	ssize_t got;
	do
		got = read(bufferevent_getfd(c->bev), n->rbuf, (size_t)allowed);
	while (got < 0 && errno == EINTR);
	if (got <= 0)
		return;
	if (n->group)
		bufferevent_rate_limit_group_decrement_read(n->group, got);
	c->ops->input(c->owner, c, n->rbuf, (size_t)got);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	(void)bev;
	if (c->owner == NULL && !route(c))
		return;
	if (c->owner != NULL)
		deliver(c);
	if (c->owner != NULL && !c->dead)
		read_direct(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	(void)bev;
	if (c->owner)
		c->ops->writable(c->owner, c);
}

static void set_nodelay(struct bufferevent *bev)
{
	int one = 1;
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd >= 0)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct pconn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		set_nodelay(bev);
		bufferevent_set_timeouts(bev, NULL, NULL);
		if (bufferevent_enable(bev, EV_READ) != 0) {
			conn_gone(c, "cannot read from the connection");
			return;
		}
		c->ops->up(c->owner, c);
		return;
	}
	const char *why = (what & BEV_EVENT_TIMEOUT) ? "timed out"
			  : (what & BEV_EVENT_EOF)   ? "closed by the peer"
						     : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
	conn_gone(c, why);
}

static struct pconn *conn_new(struct pnet *n, struct bufferevent *bev, const struct dht_addr *a)
{
	struct pconn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->n = n;
	c->bev = bev;
	c->addr = *a;
	c->slot = -1;
	bufferevent_set_max_single_read(bev, MAX_SINGLE_IO);
	bufferevent_set_max_single_write(bev, MAX_SINGLE_IO);
	bufferevent_setwatermark(bev, EV_WRITE, n->cfg.low_water, 0);
	if (n->group && bufferevent_add_to_rate_limit_group(bev, n->group) != 0) {
		free(c);
		return NULL;
	}
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	link_conn(&n->conns, c);
	return c;
}

void pnet_accept(void *arg, struct bufferevent *bev, const struct dht_addr *peer)
{
	struct pnet *n = arg;
	static const struct timeval sniff = { .tv_sec = SNIFF_TIMEOUT_S };
	struct pconn *c = conn_new(n, bev, peer);
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	set_nodelay(bev);
	bufferevent_set_timeouts(bev, &sniff, NULL);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
		conn_gone(c, "cannot read from the connection");
		return;
	}
	/* The listener already read the first bytes: no read event will announce them. */
	if (evbuffer_get_length(bufferevent_get_input(bev)) > 0)
		on_read(bev, c);
}

/* A TCP socket bound to our own address (any port), so that peers see connections come from
 * the node's address, not from whatever the kernel picks (127.0.0.1 for every lab node). */
static evutil_socket_t bound_socket(struct pnet *n, int family)
{
	evutil_socket_t fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	struct dht_addr self = n->cfg.self;
	struct sockaddr_storage ss;
	self.port = 0;
	socklen_t sl = addr_to_sockaddr(&self, &ss);
	if (sl && ss.ss_family == family)
		(void)bind(fd, (struct sockaddr *)&ss, sl); /* best effort: unbound still works */
	if (evutil_make_socket_nonblocking(fd) != 0) {
		evutil_closesocket(fd);
		return -1;
	}
	return fd;
}

struct pconn *pconn_connect(struct pnet *n, const struct dht_addr *to,
			    const struct pconn_ops *ops, void *owner)
{
	static const struct timeval connect = { .tv_sec = CONNECT_TIMEOUT_S };
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(to, &ss);
	evutil_socket_t fd = sl ? bound_socket(n, ss.ss_family) : -1;
	struct bufferevent *bev = fd >= 0 ? bufferevent_socket_new(n->base, fd,
								   BEV_OPT_CLOSE_ON_FREE)
					  : NULL;
	if (bev == NULL && fd >= 0)
		evutil_closesocket(fd);
	struct pconn *c = bev ? conn_new(n, bev, to) : NULL;
	if (c == NULL) {
		if (bev)
			bufferevent_free(bev);
		return NULL;
	}
	c->ops = ops;
	c->owner = owner;
	c->outgoing = true;
	bufferevent_set_timeouts(bev, NULL, &connect);
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)sl) != 0) {
		unlink_conn(&n->conns, c);
		conn_free(c);
		return NULL;
	}
	return c;
}

void pconn_send(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		size_t blen)
{
	if (c->dead)
		return;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add(out, head, hlen);
	if (blen > 0)
		evbuffer_add(out, body, blen);
}

void pconn_send_ref(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		    size_t blen, void (*release)(const void *body, size_t blen, void *arg),
		    void *arg)
{
	if (c->dead) {
		release(body, blen, arg);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add(out, head, hlen);
	if (evbuffer_add_reference(out, body, blen, release, arg) != 0) {
		evbuffer_add(out, body, blen);
		release(body, blen, arg);
	}
}

size_t pconn_backlog(const struct pconn *c)
{
	return c->dead ? 0 : evbuffer_get_length(bufferevent_get_output(c->bev));
}

const struct dht_addr *pconn_addr(const struct pconn *c)
{
	return &c->addr;
}

bool pconn_outgoing(const struct pconn *c)
{
	return c->outgoing;
}

int pconn_slot(const struct pconn *c)
{
	return c->slot;
}

void pconn_set_slot(struct pconn *c, int slot)
{
	c->slot = slot;
}

/* One token bucket for the node: RATE bytes a second in RATE_TICK_MS steps, with a burst of
 * one step so that the pace stays even rather than arriving in lumps each second. */
static int make_group(struct pnet *n)
{
	const struct pnet_config *cfg = &n->cfg;
	if (cfg->up_rate == 0 && cfg->down_rate == 0)
		return 0;
	struct timeval tick = { .tv_usec = RATE_TICK_MS * 1000 };
	size_t per_tick_r = EV_RATE_LIMIT_MAX, per_tick_w = EV_RATE_LIMIT_MAX;
	if (cfg->down_rate)
		per_tick_r = (size_t)(cfg->down_rate * RATE_TICK_MS / 1000) + 1;
	if (cfg->up_rate)
		per_tick_w = (size_t)(cfg->up_rate * RATE_TICK_MS / 1000) + 1;
	/* A burst of two ticks: libevent counts ticks on a clock grid while its refill timer runs
	 * off that grid, so a refill now and then finds two ticks due at once; a one-tick cap
	 * would drop one and halve the rate for seconds. */
	size_t burst_r = cfg->down_rate ? 2 * per_tick_r : per_tick_r;
	size_t burst_w = cfg->up_rate ? 2 * per_tick_w : per_tick_w;
	n->bucket = ev_token_bucket_cfg_new(per_tick_r, burst_r, per_tick_w, burst_w, &tick);
	n->group = n->bucket ? bufferevent_rate_limit_group_new(n->base, n->bucket) : NULL;
	return n->group ? 0 : -1;
}

struct pnet *pnet_new(struct event_base *base, const struct pnet_config *cfg)
{
	struct pnet *n = calloc(1, sizeof *n);
	if (n == NULL)
		return NULL;
	n->base = base;
	n->cfg = *cfg;
	n->reaper = event_new(base, -1, 0, on_reap, n);
	if (n->reaper == NULL || make_group(n) != 0) {
		pnet_free(n);
		return NULL;
	}
	return n;
}

void pnet_free(struct pnet *n)
{
	if (n == NULL)
		return;
	while (n->conns) {
		struct pconn *c = n->conns;
		unlink_conn(&n->conns, c);
		conn_free(c);
	}
	on_reap(-1, 0, n);
	if (n->group)
		bufferevent_rate_limit_group_free(n->group);
	if (n->bucket)
		ev_token_bucket_cfg_free(n->bucket);
	if (n->reaper)
		event_free(n->reaper);
	free(n);
}
