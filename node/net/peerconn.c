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
 * Hostile neighbours: a connection whose output backlog is above the high-water mark is not
 * read (nor is what it already sent handed on) until the backlog drains, so a peer that asks
 * and never reads cannot make us queue without bound. Connections are capped per host and in
 * total below the descriptor limit (room is kept for control clients, files and the listener);
 * an inbound connection must complete its HANDSHAKE within a hard deadline from its accept,
 * however it trickles; and when the caps are reached it is the oldest connection still without
 * a handshake that makes room, since it has done nothing for anyone yet.
 * In a private ring (pnet_seal) each connection first runs the network-key handshake
 * (node/net/secchan.h, over the buffers by node/net/secbuf.h), under the same deadline, before
 * its owner hears of it; afterwards every send is one encrypted record (a referenced body is
 * copied into it and released at once) and reads go to the scratch buffer as above, records
 * opened there in place. A keyed and an open node never mix: each recognises the other's first
 * bytes, answers with a fixed notice and logs "this ring uses a network key".
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
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <sodium.h>

#include "node/clock.h"
#include "node/net/addr.h"
#include "node/net/secbuf.h"
#include "node/net/secchan.h"
#include "node/log.h"

#define CONNECT_TIMEOUT_S 5
#define HANDSHAKE_DEADLINE_S 10 /* from accept to a routed HANDSHAKE, however it trickles */
#define PER_HOST_MAX 64          /* connections to or from one host (addr_host_key) */
#define PER_HOST_PER_OWNER 4     /* of those, routed to one transfer: an honest peer needs 1 */
#define PER_HOST_PENDING 2       /* of those, inbound ones still without a handshake */
#define FD_RESERVE 256           /* descriptors left to control, listener, files and UDP */
#define CONNS_MIN 16
#define HIGH_WATER_MIN (1u << 20) /* stop reading a connection with this much output queued */
#define RATE_TICK_MS 50          /* token refill period: 20 small steps a second stay smooth */
#define NOTSENT_LOWAT 16384    /* unsent bytes a socket holds before it stops taking more */
#define MAX_SINGLE_IO (1u << 20) /* libevent reads and writes 16 KiB per call by default */
#define PEEK_VECS 16
#define CORK_MAX 1024            /* small sealed sends gathered into one record (see on_read) */
#define LIBEVENT_READ_MAX 4096   /* EVBUFFER_MAX_READ: libevent's read took less, the socket is dry */
/* Under a cap, libevent lets one write of a connection take the group's tokens divided by the
 * group's members, at least this: with 64 peers, 1 MiB/s in 50 ms ticks gave 800 bytes, so a
 * block left in 20 writes and as many packets, and the lab spent its CPU on syscalls. The
 * bucket may go this far below zero; the next refill pays it back, so the rate holds. */
#define GROUP_MIN_SHARE (WIRE_BLOCK_HEADER_LEN + WIRE_BLOCK_SIZE + 64)
/* A sealed BLOCK frame fills one buffer of the record pool; the idle ones kept cover a high-water
 * mark's backlog. */
#define RECORD_BUF_LEN (WIRE_BLOCK_HEADER_LEN + WIRE_BLOCK_SIZE + SECCHAN_OVERHEAD)
#define RECORD_BUFS_KEPT (HIGH_WATER_MIN / WIRE_BLOCK_SIZE)

struct pconn {
	struct pconn *prev, *next;
	struct pnet *n;
	struct bufferevent *bev;
	struct dht_addr addr;
	uint8_t key[ADDR_KEY_LEN];
	uint64_t born_us;
	const struct pconn_ops *ops;
	void *owner;      /* NULL while an inbound connection has not been routed */
	struct secchan *sc; /* in a private ring (pnet_seal); NULL in an open one */
	int slot;
	bool outgoing, dead, paused;
	bool sniffed;     /* an open outgoing one: its first bytes were not a keyed node's notice */
	uint8_t *pend;    /* sealed: small sends gathered while corked (CORK_MAX bytes), or NULL */
	size_t npend;
	struct pconn *pend_next; /* on the network's list of connections with sends gathered */
	bool listed;      /* on that list */
};

struct pnet {
	struct event_base *base;
	struct pnet_config cfg;
	struct ev_token_bucket_cfg *bucket;
	struct bufferevent_rate_limit_group *group;
	struct pconn *conns;
	struct pconn *graveyard;
	struct event *reaper;
	struct event *sweeper;  /* closes inbound connections past their handshake deadline */
	unsigned nconns, max_conns;
	uint64_t sent;          /* bytes all connections have handed to the kernel */
	size_t high_water;
	struct secchan_config *seal; /* NULL: an open ring */
	struct recpool *records;     /* buffers of sealed bulk records, in a private ring */
	bool corked;            /* small sealed sends are gathered until uncork() */
	struct pconn *pend_list;
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

static void conns_add(struct pnet *n, struct pconn *c)
{
	link_conn(&n->conns, c);
	n->nconns++;
}

static void conns_del(struct pnet *n, struct pconn *c)
{
	unlink_conn(&n->conns, c);
	n->nconns--;
}

static void conn_free(struct pconn *c)
{
	if (c->bev) {
		/* libevent leaves a freed bufferevent in its rate-limit group until its deferred
		 * cleanup runs; freeing the group before that aborts. Leave the group now. */
		bufferevent_remove_from_rate_limit_group(c->bev);
		bufferevent_free(c->bev);
	}
	for (struct pconn **p = &c->n->pend_list; c->listed && *p; p = &(*p)->pend_next)
		if (*p == c) {
			*p = c->pend_next;
			break;
		}
	secchan_free(c->sc);
	free(c->pend);
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
	conns_del(c->n, c);
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
	conns_del(c->n, c);
	conn_free(c);
}

/* Stop reading C while its output is above the high-water mark: every frame may be answered,
 * and a peer that does not read our answers must not make us queue more of them. */
static bool pause_if_backlogged(struct pconn *c)
{
	if (c->dead || evbuffer_get_length(bufferevent_get_output(c->bev)) <= c->n->high_water)
		return false;
	if (!c->paused) {
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
	}
	return true;
}

/* Whether C has yet to prove itself: an inbound connection not yet routed by its first frame, or
 * one of a private ring whose channel is not up. */
static bool in_handshake(const struct pconn *c)
{
	return (!c->outgoing && c->owner == NULL) || (c->sc && !secchan_up(c->sc));
}

/* Under a cap, libevent's group arms the write event of every member at each refill (20 a
 * second), whether it has anything to send or not, and the next callback disarms it: with 64
 * peers that was 100,000 epoll_ctl a second across the lab. So a capped connection with
 * nothing to send has writing off (on_write) until its next send turns it on here. */
static void want_write(struct pconn *c)
{
	if (!(bufferevent_get_enabled(c->bev) & EV_WRITE))
		bufferevent_enable(c->bev, EV_WRITE);
}

/* End C from inside its own read path, where the owner may be on the stack: park it, then tell
 * the owner (if it has one yet) WHY. C stays readable until the reaper runs. */
static void drop(struct pconn *c, const char *why)
{
	const struct pconn_ops *ops = c->ops;
	void *owner = c->owner;
	if (c->dead)
		return;
	pconn_close(c);
	if (owner)
		ops->gone(owner, c, why);
}

/* Tell a peer that cannot be in our ring why before closing: a fixed notice (secchan.h),
 * written straight to the socket, whose output is still empty before any handshake. */
static void send_notice(struct pconn *c, enum secchan_notice kind, const char *why)
{
	uint8_t notice[SECCHAN_NOTICE_LEN];
	char a[ADDR_STR_MAX];
	secchan_notice(kind, notice);
	(void)send(bufferevent_getfd(c->bev), notice, sizeof notice, MSG_NOSIGNAL | MSG_DONTWAIT);
	addr_format(&c->addr, a);
	log_warn("peer %s: closed: %s", a, why);
	pconn_close(c);
}

/* Hand what is buffered to the owner, chain by chain, while the output backlog allows. */
static void deliver_plain(struct pconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);
	while (!c->dead && evbuffer_get_length(in) > 0 && !pause_if_backlogged(c)) {
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

/* Connections of the host with KEY: all of them, or (OWNER not NULL) those routed to OWNER. */
static unsigned host_conns(const struct pnet *n, const uint8_t *key, const void *owner)
{
	unsigned k = 0;
	for (const struct pconn *c = n->conns; c; c = c->next)
		if (memcmp(c->key, key, ADDR_KEY_LEN) == 0 && (owner == NULL || c->owner == owner))
			k++;
	return k;
}

/* An inbound connection's first frame must be a HANDSHAKE naming content we serve: MSG, as
 * wire_frame found it (ST). Return false if C was closed. */
static bool route_frame(struct pconn *c, enum wire_status st, const struct wire_msg *msg)
{
	const struct pconn_ops *ops;
	void *owner;
	const char *bad = NULL;
	if (st != WIRE_OK || msg->type != WIRE_HANDSHAKE ||
	    c->n->cfg.route(c->n->cfg.route_arg, msg->u.handshake.content, &ops, &owner) != 0)
		bad = "first frame is not a handshake for content we serve";
	else if (host_conns(c->n, c->key, owner) >= PER_HOST_PER_OWNER)
		bad = "too many connections from this host for this content";
	if (bad) {
		char a[ADDR_STR_MAX];
		addr_format(&c->addr, a);
		log_debug("peer %s: %s", a, bad);
		pconn_close(c);
		return false;
	}
	c->ops = ops;
	c->owner = owner;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	return ops->up(owner, c) == 0 && !c->dead;
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
		send_notice(c, SECCHAN_NOTICE_NO_KEY, "it sent a network-key handshake: this ring "
			    "uses a network key, and this node runs without one (--network-key)");
		return false;
	}
	return route_frame(c, st, &msg);
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

/* ---- a private ring's connections: the handshake, then records (secchan.h) ---- */

/* The channel is up: a dialled connection is now up for its owner; an inbound one waits for
 * its first record to be routed. Return false if C was closed. */
static bool sealed_up(struct pconn *c)
{
	char a[ADDR_STR_MAX];
	addr_format(&c->addr, a);
	log_debug("peer %s: network-key handshake done (%s)", a, secchan_cipher(c->sc));
	if (!c->outgoing)
		return true;
	return c->ops->up(c->owner, c) == 0 && !c->dead;
}

static void sealed_failed(struct pconn *c, enum secchan_status st)
{
	char a[ADDR_STR_MAX];
	addr_format(&c->addr, a);
	if (st == SECCHAN_PLAIN) {
		send_notice(c, SECCHAN_NOTICE_NEED_KEY, "it has no network key (this ring uses a "
			    "network key)");
	} else if (st == SECCHAN_PEER_OPEN) {
		log_warn("peer %s: it has no network key (this ring uses a network key)", a);
		drop(c, "the peer has no network key (this ring uses a network key)");
	} else if (c->outgoing) {
		log_warn("peer %s: failed the network-key handshake: another network key?", a);
		drop(c, "failed the network-key handshake (another network key?)");
	} else {
		log_debug("peer %s: failed the network-key handshake: closed", a);
		pconn_close(c);
	}
}

/* Run the handshake on what has arrived, sending its answers. Return true once the channel is
 * up and C still open. */
static bool handshake(struct pconn *c)
{
	enum secchan_status st = secbuf_handshake(c->sc, bufferevent_get_input(c->bev),
						  bufferevent_get_output(c->bev));
	if (st == SECCHAN_DONE)
		return sealed_up(c);
	if (st != SECCHAN_NEED_MORE)
		sealed_failed(c, st);
	return false;
}

/* A record's plaintext, for the owner. An inbound connection is routed by the frame its first
 * record starts with (a peer sends each frame in one record). A secbuf_take_fn. */
static bool take_plain(void *arg, uint8_t *plain, size_t len)
{
	struct pconn *c = arg;
	struct wire_msg msg;
	size_t used;
	if (c->owner == NULL && !route_frame(c, wire_frame(plain, len, &msg, &used), &msg))
		return false;
	return c->ops->input(c->owner, c, plain, len) == 0 && !c->dead &&
	       !pause_if_backlogged(c);
}

/* End C if opening its records failed (ST): a peer past the handshake broke the stream, which
 * is no noise from outsiders (they never get this far), so say so. */
static void opened(struct pconn *c, enum secbuf_status st)
{
	static const char *const why[] = {
		[SECBUF_MALFORMED] = "sent a malformed record",
		[SECBUF_FORGED] = "sent a record that does not open (forged or replayed)",
		[SECBUF_NO_MEMORY] = "out of memory",
	};
	char a[ADDR_STR_MAX];
	if (st == SECBUF_OK || c->dead)
		return;
	addr_format(&c->addr, a);
	log_warn("peer %s: %s", a, why[st]);
	drop(c, why[st]);
}

/* Open the records that have arrived whole in the input, while the output backlog allows. */
static void open_records(struct pconn *c)
{
	if (!c->dead && !pause_if_backlogged(c))
		opened(c, secbuf_open_input(c->sc, bufferevent_get_input(c->bev), take_plain, c));
}

/* As read_direct: one large read, as the rate limits allow, into the node's scratch buffer
 * after the partial record the input held; the records are opened there in place, and what
 * is left (a partial record, or records held back by a backlog) goes back into the input. */
static void read_sealed(struct pconn *c)
{
	struct pnet *n = c->n;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	size_t keep = evbuffer_get_length(in), used = 0;
	ev_ssize_t allowed = bufferevent_get_max_to_read(c->bev);
	if (keep > SECCHAN_RECORD_MAX + SECCHAN_OVERHEAD || allowed <= 0)
		return;
	if (allowed > (ev_ssize_t)(sizeof n->rbuf - keep))
		allowed = (ev_ssize_t)(sizeof n->rbuf - keep);
	evbuffer_remove(in, n->rbuf, keep);
	ssize_t got;
	do
		got = read(bufferevent_getfd(c->bev), n->rbuf + keep, (size_t)allowed);
	while (got < 0 && errno == EINTR);
	size_t have = keep + (got > 0 ? (size_t)got : 0);
	if (got > 0 && n->group)
		bufferevent_rate_limit_group_decrement_read(n->group, got);
	if (got > 0)
		opened(c, secbuf_open_span(c->sc, n->rbuf, have, &used, take_plain, c));
	/* The input is empty now, and libevent freezes its end outside its own reads: put the
	 * rest back at the front. */
	if (!c->dead && evbuffer_prepend(in, n->rbuf + used, have - used) != 0)
		drop(c, "out of memory");
}

static void sealed_read(struct pconn *c)
{
	if (!secchan_up(c->sc) && !handshake(c))
		return;
	open_records(c);
	if (!c->dead && !c->paused)
		read_sealed(c);
	pause_if_backlogged(c);
}

static void seal_now(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		     size_t blen)
{
	/* The stream cannot skip a record: end the connection, from the loop. */
	if (secbuf_seal_pooled(c->sc, c->n->records, bufferevent_get_output(c->bev), head, hlen, body,
			       blen) != 0)
		bufferevent_trigger_event(c->bev, BEV_EVENT_ERROR, BEV_TRIG_DEFER_CALLBACKS);
	want_write(c);
}

static void flush_pend(struct pconn *c)
{
	size_t len = c->npend;
	c->npend = 0;
	if (len > 0 && !c->dead)
		seal_now(c, c->pend, len, NULL, 0);
}

/* Seal every connection's gathered sends, each as one record. */
static void uncork(struct pnet *n)
{
	n->corked = false;
	while (n->pend_list) {
		struct pconn *c = n->pend_list;
		n->pend_list = c->pend_next;
		c->pend_next = NULL;
		c->listed = false;
		flush_pend(c);
	}
}

/* A record costs 20 bytes: answers to a read's records (REQUESTs, HAVEs to every peer) are
 * small and many, so while corked they are gathered per connection, in order, and sealed
 * together when the read is done (or before anything larger). */
static void sealed_send(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
			size_t blen)
{
	size_t len = hlen + blen;
	if (c->n->corked && len <= CORK_MAX && (c->pend || (c->pend = malloc(CORK_MAX)))) {
		if (c->npend + len > CORK_MAX)
			flush_pend(c);
		if (!c->listed) {
			c->listed = true;
			c->pend_next = c->n->pend_list;
			c->n->pend_list = c;
		}
		memcpy(c->pend + c->npend, head, hlen);
		if (blen > 0)
			memcpy(c->pend + c->npend + hlen, body, blen);
		c->npend += len;
		return;
	}
	flush_pend(c);
	seal_now(c, head, hlen, body, blen);
}

static void deliver(struct pconn *c)
{
	if (c->sc)
		open_records(c);
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
	drop(c, "the peer uses a network key (this ring uses a network key)");
	return false;
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	(void)bev;
	if (c->sc) {
		struct pnet *n = c->n;
		n->corked = true;
		sealed_read(c);
		uncork(n);
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
	pause_if_backlogged(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct pconn *c = arg;
	(void)bev;
	if (c->paused) {
		c->paused = false;
		if (bufferevent_enable(c->bev, EV_READ) != 0) {
			conn_gone(c, "cannot read from the connection");
			return;
		}
		deliver(c); /* what arrived before the pause */
	}
	if (c->owner && !c->dead)
		c->ops->writable(c->owner, c);
	if (!c->dead && c->n->group && !in_handshake(c) &&
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

static void arm_sweeper(struct pnet *n)
{
	static const struct timeval sweep = { .tv_sec = 1 };
	if (!evtimer_pending(n->sweeper, NULL))
		evtimer_add(n->sweeper, &sweep);
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
		if (c->sc == NULL) {
			c->ops->up(c->owner, c);
			return;
		}
		uint8_t hello[SECCHAN_HELLO_LEN];
		secchan_hello(c->sc, hello);
		evbuffer_add(bufferevent_get_output(bev), hello, sizeof hello);
		arm_sweeper(c->n);
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
	conn_gone(c, why);
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
	conns_add(n, c);
	return c;
}

/* The oldest inbound connection still without a handshake, of the host with KEY or (KEY NULL)
 * of anyone; NULL if there is none. The list is newest first. */
static struct pconn *oldest_pending(const struct pnet *n, const uint8_t *key, unsigned *count)
{
	struct pconn *found = NULL;
	*count = 0;
	for (struct pconn *c = n->conns; c; c = c->next)
		if (!c->outgoing && c->owner == NULL &&
		    (key == NULL || memcmp(c->key, key, ADDR_KEY_LEN) == 0)) {
			found = c;
			(*count)++;
		}
	return found;
}

static void evict(struct pconn *c, const char *why)
{
	char a[ADDR_STR_MAX];
	addr_format(&c->addr, a);
	log_debug("peer %s: closed before its handshake: %s", a, why);
	pconn_close(c);
}

/* Make room for an inbound connection from PEER, or return -1 to refuse it. */
static int admit(struct pnet *n, const struct dht_addr *peer)
{
	uint8_t key[ADDR_KEY_LEN];
	unsigned pending;
	addr_host_key(peer, key);
	struct pconn *old = oldest_pending(n, key, &pending);
	if (pending >= PER_HOST_PENDING)
		evict(old, "its host opened more connections");
	if (host_conns(n, key, NULL) >= PER_HOST_MAX) {
		char a[ADDR_STR_MAX];
		addr_format(peer, a);
		log_debug("peer %s: refused: %d connections from its host already", a, PER_HOST_MAX);
		return -1;
	}
	if (n->nconns < n->max_conns)
		return 0;
	old = oldest_pending(n, NULL, &pending);
	if (old == NULL) {
		log_debug("tcp: refused a peer: %u connections open, the most we keep", n->nconns);
		return -1;
	}
	evict(old, "the node is at its connection limit");
	return 0;
}

/* Close inbound connections that have not completed a handshake in time. A read timeout
 * would restart with every byte, and one byte every few seconds would hold a descriptor for
 * good: the deadline runs from the accept. */
static void on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct pnet *n = arg;
	static const struct timeval sweep = { .tv_sec = 1 };
	uint64_t now = mono_now_us();
	bool waiting = false;
	(void)fd;
	(void)what;
	for (struct pconn *c = n->conns, *next; c; c = next) {
		next = c->next;
		if (!in_handshake(c))
			continue;
		if (now - c->born_us < (uint64_t)HANDSHAKE_DEADLINE_S * 1000000)
			waiting = true;
		else if (c->outgoing) {
			/* Its owner hears of it and may close others: walk the list afresh. */
			drop(c, "no network-key handshake in time");
			waiting = true;
			break;
		} else
			evict(c, "no handshake in time");
	}
	if (waiting)
		evtimer_add(n->sweeper, &sweep);
}

/* Give C its channel in a private ring. Return 0, or -1 on no memory. */
static int seal_conn(struct pconn *c)
{
	uint8_t seed[SECCHAN_SEED_LEN];
	if (c->n->seal == NULL)
		return 0;
	randombytes_buf(seed, sizeof seed);
	c->sc = secchan_new(c->n->seal, c->outgoing, seed);
	sodium_memzero(seed, sizeof seed);
	return c->sc ? 0 : -1;
}

void pnet_accept(void *arg, struct bufferevent *bev, const struct dht_addr *peer)
{
	struct pnet *n = arg;
	struct pconn *c = admit(n, peer) == 0 ? conn_new(n, bev, peer) : NULL;
	if (c == NULL) {
		bufferevent_free(bev);
		return;
	}
	if (seal_conn(c) != 0) {
		conns_del(n, c);
		conn_free(c);
		return;
	}
	set_nodelay(bev);
	arm_sweeper(n);
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
	if (seal_conn(c) != 0 ||
	    bufferevent_socket_connect(bev, (struct sockaddr *)&ss, (int)sl) != 0) {
		conns_del(n, c);
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
	if (c->sc) {
		sealed_send(c, head, hlen, body, blen);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add(out, head, hlen);
	if (blen > 0)
		evbuffer_add(out, body, blen);
	want_write(c);
}

void pconn_send_ref(struct pconn *c, const uint8_t *head, size_t hlen, const uint8_t *body,
		    size_t blen, void (*release)(const void *body, size_t blen, void *arg),
		    void *arg)
{
	if (c->dead || c->sc) {
		/* Sealing copies BODY into the record: it is free to go at once. */
		if (!c->dead)
			sealed_send(c, head, hlen, body, blen);
		release(body, blen, arg);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(c->bev);
	evbuffer_add(out, head, hlen);
	if (evbuffer_add_reference(out, body, blen, release, arg) != 0) {
		evbuffer_add(out, body, blen);
		release(body, blen, arg);
	}
	want_write(c);
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

/* Connections we keep open at most: the descriptor limit less what the rest of the node needs,
 * so that a flood of peers never leaves control or the disk without a descriptor. */
static unsigned conns_budget(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > 65536)
		return 65536 - FD_RESERVE;
	return rl.rlim_cur > FD_RESERVE + CONNS_MIN ? (unsigned)rl.rlim_cur - FD_RESERVE : CONNS_MIN;
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
	n->reaper = event_new(base, -1, 0, on_reap, n);
	n->sweeper = evtimer_new(base, on_sweep, n);
	n->max_conns = conns_budget();
	n->high_water = 4 * cfg->low_water > HIGH_WATER_MIN ? 4 * cfg->low_water : HIGH_WATER_MIN;
	if (n->reaper == NULL || n->sweeper == NULL || make_group(n) != 0) {
		pnet_free(n);
		return NULL;
	}
	return n;
}

int pnet_seal(struct pnet *n, const struct netkey *key, const uint8_t pk[SECCHAN_PK_LEN],
	      const uint8_t sk[SECCHAN_SK_LEN])
{
	n->seal = sodium_malloc(sizeof *n->seal);
	n->records = recpool_new(RECORD_BUF_LEN, RECORD_BUFS_KEPT);
	if (n->seal == NULL || n->records == NULL)
		return -1;
	netkey_derive(key, NETKEY_STREAM, n->seal->stream_key, sizeof n->seal->stream_key);
	memcpy(n->seal->pk, pk, SECCHAN_PK_LEN);
	memcpy(n->seal->sk, sk, SECCHAN_SK_LEN);
	n->seal->aes = crypto_aead_aes256gcm_is_available() != 0;
	n->seal->control = false;
	return 0;
}

void pnet_free(struct pnet *n)
{
	if (n == NULL)
		return;
	while (n->conns) {
		struct pconn *c = n->conns;
		conns_del(n, c);
		conn_free(c);
	}
	on_reap(-1, 0, n);
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
