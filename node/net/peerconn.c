/* Peer-wire connections: bufferevents, the node-wide rate-limit group, reading and delivering,
 * sending, and the public API (peerconn.h). It composes its parts, calls running down only:
 * peerconn.c -> peerseal.c (a private ring's channel) -> peeradmit.c (caps, routing, the
 * handshake deadline) -> pconn_core.c (the structs of pconn_int.h, lists, closing, freeing).
 * Input is handed over in the evbuffer's own chains (evbuffer_peek), so no byte is copied on
 * the way to the session; output is copied into the evbuffer, or referenced there
 * (pconn_send_ref) when its owner can keep it alive, as for blocks served from a file map.
 * libevent 2.1 reads at most 4 KiB per readiness event (EVBUFFER_MAX_READ; 2.2 makes it
 * settable), which caps a connection at a few hundred MiB/s and splits every block into four
 * reads: each read callback therefore follows libevent's read with one large read of its own,
 * as much as the rate limits allow, charged to the rate-limit group like libevent's own.
 * Every read path stops at a backlogged output (pc_pause_if_backlogged, pconn_core.c). An open
 * node recognises a keyed node's first bytes here (route, sniff); the keyed side is peerseal.c.
 * Nothing here knows the session's messages beyond the first frame's length and type. */
#include "node/net/peerconn.h"

#include <errno.h>
#include <event2/buffer.h>
#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "node/clock.h"
#include "node/net/addr.h"
#include "node/net/pconn_int.h"
#include "node/net/peeradmit.h"
#include "node/net/peerseal.h"
#include "node/net/secchan.h"
#include "node/log.h"

#define CONNECT_TIMEOUT_S 5
#define RATE_TICK_MS 50          /* token refill period: 20 small steps a second stay smooth */
#define NOTSENT_LOWAT 16384    /* unsent bytes a socket holds before it stops taking more */
#define PEEK_VECS 16
#define LIBEVENT_READ_MAX 4096   /* EVBUFFER_MAX_READ: libevent's read took less, the socket is dry */
/* Under a cap, libevent lets one write of a connection take the group's tokens divided by the
 * group's members, at least this: with 64 peers, 1 MiB/s in 50 ms ticks gave 800 bytes, so a
 * block left in 20 writes and as many packets, and the lab spent its CPU on syscalls. The
 * bucket may go this far below zero; the next refill pays it back, so the rate holds. */
#define GROUP_MIN_SHARE (WIRE_BLOCK_HEADER_LEN + WIRE_BLOCK_SIZE + 64)

/* Hand what is buffered to the owner, chain by chain, while the output backlog allows. */
static void deliver_plain(struct pconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (!c->dead && evbuffer_get_length(in) > 0 && !pc_pause_if_backlogged(c)) {
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

/* Route an open ring's inbound connection by the frame at the head of its input. Return false
 * if C was closed or must wait for more. */
static bool route(struct pconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t have = evbuffer_get_length(in);
	size_t look = have < 128 ? have : 128;
	const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)look);
	struct wire_msg msg;
	size_t used;
	enum wire_status st = p ? wire_frame(p, look, &msg, &used) : WIRE_NEED_MORE;
	if (st == WIRE_NEED_MORE && have < 128)
		return false;
	if (st != WIRE_OK && p && secchan_is_handshake(p, look)) {
		pc_send_notice(c, SECCHAN_NOTICE_NO_KEY, "it sent a network-key handshake: this ring "
			    "uses a network key, and this node runs without one (--network-key)");
		return false;
	}
	return pc_route_frame(c, st, &msg);
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

static void deliver(struct pconn *c)
{
	if (c->sc)
		pc_open_records(c);
	else
		deliver_plain(c);
}

/* An open node's dialled connection: a keyed node answers its first frame with a notice. Return
 * false if C was closed or must wait for more. */
static bool sniff(struct pconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t have = evbuffer_get_length(in);
	const uint8_t *p = evbuffer_pullup(in, have < SECCHAN_MAGIC_LEN ? (ev_ssize_t)have
									: SECCHAN_MAGIC_LEN);
	uint8_t notice[SECCHAN_NOTICE_LEN];
	secchan_notice(SECCHAN_NOTICE_NEED_KEY, notice);
	if (p == NULL || (have < SECCHAN_MAGIC_LEN && memcmp(p, notice, have) == 0))
		return false;
	c->sniffed = true;
	if (!secchan_is_handshake(p, have))
		return true;
	char a[ADDR_STR_MAX];
	addr_format(&c->addr, a);
	log_warn("peer %s: it uses a network key and this node none (this ring uses a network "
		 "key): start it with --network-key", a);
	pc_drop(c, "the peer uses a network key (this ring uses a network key)");
	return false;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	(void)bev;
	if (c->sc) {
		struct pnet *n = c->n;
		n->corked = true;
		pc_sealed_read(c);
		pc_uncork(n);
		return;
	}
	if (c->owner == NULL && !route(c))
		return;
	if (c->outgoing && !c->sniffed && !sniff(c))
		return;
	/* A read of libevent's that took less than its most found the socket dry: another read
	 * would be a system call for EAGAIN, as it was for nearly every HAVE. */
	bool more = evbuffer_get_length(bufferevent_get_input(c->bev)) >= LIBEVENT_READ_MAX;
	deliver_plain(c);
	if (more && !c->dead && !c->paused)
		read_direct(c);
	pc_pause_if_backlogged(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	(void)bev;
	if (c->paused) {
		c->paused = false;
		if (bufferevent_enable(c->bev, EV_READ) != 0) {
			pc_conn_gone(c, "cannot read from the connection");
			return;
		}
		deliver(c); /* what arrived before the pause */
	}
	if (c->owner && !c->dead)
		c->ops->writable(c->owner, c);
	if (!c->dead && c->n->group && !pc_in_handshake(c) &&
	    evbuffer_get_length(bufferevent_get_output(c->bev)) == 0)
		bufferevent_disable(c->bev, EV_WRITE);
}

/* No Nagle; and the socket is writable only while it holds less than NOTSENT_LOWAT unsent, so
 * that, uncapped, what waits to go waits in our buffer, bounded by the low-water mark, rather
 * than in a send buffer that grows to megabytes: a REQUEST of ours queued behind seconds of
 * blocks to the same peer would stall what we fetch from it. */
static void set_nodelay(struct bufferevent *bev)
{
	int one = 1, lowat = NOTSENT_LOWAT;
	evutil_socket_t fd = bufferevent_getfd(bev);
	if (fd >= 0) {
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		setsockopt(fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct pconn *c = arg;
	if (what & BEV_EVENT_CONNECTED) {
		set_nodelay(bev);
		bufferevent_set_timeouts(bev, NULL, NULL);
		if (bufferevent_enable(bev, EV_READ) != 0) {
			pc_conn_gone(c, "cannot read from the connection");
			return;
		}
		if (c->sc == NULL) {
			c->ops->up(c->owner, c);
			return;
		}
		uint8_t hello[SECCHAN_HELLO_LEN];
		secchan_hello(c->sc, hello);
		evbuffer_add(bufferevent_get_output(bev), hello, sizeof hello);
		pc_arm_sweeper(c->n);
		return;
	}
	const char *why = (what & BEV_EVENT_TIMEOUT) ? "timed out"
			  : (what & BEV_EVENT_EOF)   ? "closed by the peer"
						     : evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR());
	if (c->sc && !secchan_up(c->sc) && c->outgoing && (what & BEV_EVENT_EOF)) {
		char a[ADDR_STR_MAX];
		addr_format(&c->addr, a);
		why = "closed by the peer in the network-key handshake (another network key?)";
		log_warn("peer %s: %s", a, why);
	}
	pc_conn_gone(c, why);
}

/* What leaves an output buffer went to the kernel (or died with its connection, which is rare
 * enough not to matter to a rate). */
static void on_drained(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg)
{
	struct pnet *n = arg;
	(void)buf;
	n->sent += info->n_deleted;
}

static struct pconn *conn_new(struct pnet *n, struct bufferevent *bev, const struct dht_addr *a)
{
	struct pconn *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->n = n;
	c->bev = bev;
	c->addr = *a;
	addr_host_key(a, c->key);
	c->born_us = mono_now_us();
	c->slot = -1;
	bufferevent_set_max_single_read(bev, MAX_SINGLE_IO);
	bufferevent_set_max_single_write(bev, MAX_SINGLE_IO);
	bufferevent_setwatermark(bev, EV_WRITE, n->cfg.low_water, 0);
	if ((n->group && bufferevent_add_to_rate_limit_group(bev, n->group) != 0) ||
	    evbuffer_add_cb(bufferevent_get_output(bev), on_drained, n) == NULL) {
		if (n->group)
			bufferevent_remove_from_rate_limit_group(bev);
		free(c);
		return NULL;
	}
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	pc_conns_add(n, c);
	return c;
}

void pnet_accept(void *arg, struct bufferevent *bev, const struct dht_addr *peer)
{
	struct pnet *n = arg;
	struct pconn *c = pc_admit(n, peer) == 0 ? conn_new(n, bev, peer) : NULL;
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	if (pc_seal_conn(c) != 0) {
		pc_conns_del(n, c);
		pc_conn_free(c);
		return;
	}
	set_nodelay(bev);
	pc_arm_sweeper(n);
	if (bufferevent_enable(bev, EV_READ | EV_WRITE) != 0) {
		pc_conn_gone(c, "cannot read from the connection");
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
	if (n->nconns >= n->max_conns) {
		log_debug("tcp: not dialling: %u connections open, the most we keep", n->nconns);
		return NULL;
	}
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
	if (pc_seal_conn(c) != 0 ||
	    bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)sl) != 0) {
		pc_conns_del(n, c);
		pc_conn_free(c);
		return NULL;
	}
	return c;
}

void pconn_send(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		size_t blen)
{
	if (c->dead)
		return;
	if (c->sc) {
		pc_sealed_send(c, head, hlen, body, blen);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add(out, head, hlen);
	if (blen > 0)
		evbuffer_add(out, body, blen);
	pc_want_write(c);
}

void pconn_send_ref(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		    size_t blen, void (*release)(const void *body, size_t blen, void *arg),
		    void *arg)
{
	if (c->dead || c->sc) {
		/* Sealing copies BODY into the record: it is free to go at once. */
		if (!c->dead)
			pc_sealed_send(c, head, hlen, body, blen);
		release(body, blen, arg);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add(out, head, hlen);
	if (evbuffer_add_reference(out, body, blen, release, arg) != 0) {
		evbuffer_add(out, body, blen);
		release(body, blen, arg);
	}
	pc_want_write(c);
}

/* Bytes C's socket holds that TCP has not sent yet (SIOCOUTQNSD); 0 if it cannot tell. */
static uint64_t kernel_unsent(const struct pconn *c)
{
	int fd = bufferevent_getfd(c->bev), v = 0;
	return fd >= 0 && ioctl(fd, SIOCOUTQNSD, &v) == 0 && v > 0 ? (uint64_t)v : 0;
}

/* Uncapped, the kernel takes whatever we write into a send buffer that grows to megabytes, so
 * what left our buffers is not yet what left the host: what the sockets still hold unsent is
 * taken off, and counts as waiting. */
void pnet_set_low_water(struct pnet *n, size_t low_water)
{
	n->cfg.low_water = low_water;
	n->high_water = 4 * low_water > HIGH_WATER_MIN ? 4 * low_water : HIGH_WATER_MIN;
	for (struct pconn *c = n->conns; c; c = c->next)
		if (!c->dead)
			bufferevent_setwatermark(c->bev, EV_WRITE, low_water, 0);
}

void pnet_uplink(const struct pnet *n, uint64_t *sent, bool *backlogged)
{
	uint64_t held = 0;
	*backlogged = false;
	for (const struct pconn *c = n->conns; c; c = c->next) {
		if (c->dead)
			continue;
		uint64_t k = kernel_unsent(c);
		held += k;
		*backlogged = *backlogged || k > 0 ||
			      evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
	}
	*sent = n->sent > held ? n->sent - held : 0;
}

size_t pconn_backlog(const struct pconn *c)
{
	return c->dead ? 0 : evbuffer_get_length(bufferevent_get_output(c->bev));
}

void pconn_peer_key(void *arg, void *conn, uint8_t key[SESSION_KEY_LEN])
{
	const struct pconn *c = conn;
	(void)arg;
	memset(key, 0, SESSION_KEY_LEN);
	memcpy(key, c->key, ADDR_KEY_LEN < SESSION_KEY_LEN ? ADDR_KEY_LEN : SESSION_KEY_LEN);
}

const uint8_t *pconn_peer_pubkey(const struct pconn *c)
{
	return c->sc ? secchan_peer_pk(c->sc) : NULL;
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
	if (n->group == NULL)
		return -1;
	bufferevent_rate_limit_group_set_min_share(n->group, GROUP_MIN_SHARE);
	return 0;
}

struct pnet *pnet_new(struct event_base *base, const struct pnet_config *cfg)
{
	struct pnet *n = calloc(1, sizeof *n);
	if (n == NULL)
		return NULL;
	n->base = base;
	n->cfg = *cfg;
	n->reaper = event_new(base, -1, 0, pc_on_reap, n);
	n->sweeper = evtimer_new(base, pc_on_sweep, n);
	n->max_conns = pc_conns_budget();
	n->high_water = 4 * cfg->low_water > HIGH_WATER_MIN ? 4 * cfg->low_water : HIGH_WATER_MIN;
	if (n->reaper == NULL || n->sweeper == NULL || make_group(n) != 0) {
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
		pc_conns_del(n, c);
		pc_conn_free(c);
	}
	pc_on_reap(-1, 0, n);
	if (n->group)
		bufferevent_rate_limit_group_free(n->group);
	if (n->bucket)
		ev_token_bucket_cfg_free(n->bucket);
	if (n->reaper)
		event_free(n->reaper);
	if (n->sweeper)
		event_free(n->sweeper);
	if (n->seal)
		sodium_free(n->seal);
	/* Outputs freed above may hand their buffers back later, in libevent's finalizers. */
	recpool_close(n->records);
	free(n);
}
