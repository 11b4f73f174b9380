/* node/net/pconn_core.c: the bottom of the peer-wire connections (peerconn.c): the lists of a
 * network's connections, freeing, closing, and the checks every read path makes. A connection
 * closed by its owner is parked and freed from a zero-delay event, because owners close
 * connections from deep inside the session core, often while this very connection's read
 * callback is still on the stack. Hostile neighbours: a connection whose output backlog is
 * above the high-water mark is not read (nor is what it already sent handed on) until the
 * backlog drains, so a peer that asks and never reads cannot make us queue without bound.
 * The network owns every connection; pc_conn_free releases its channel and gathered sends. */
#include "node/net/pconn_int.h"

#include <event2/buffer.h>
#include <stdlib.h>
#include <sys/socket.h>

#include "node/net/addr.h"
#include "node/net/secchan.h"
#include "node/log.h"

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

void pc_conns_add(struct pnet *n, struct pconn *c)
{
	link_conn(&n->conns, c);
	n->nconns++;
}

void pc_conns_del(struct pnet *n, struct pconn *c)
{
	unlink_conn(&n->conns, c);
	n->nconns--;
}

void pc_conn_free(struct pconn *c)
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

void pc_on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct pnet *n = arg;
	(void)fd;
	(void)what;
	while (n->graveyard) {
		struct pconn *c = n->graveyard;
		unlink_conn(&n->graveyard, c);
		pc_conn_free(c);
	}
}

void pconn_close(struct pconn *c)
{
	if (c == NULL || c->dead)
		return;
	c->dead = true;
	bufferevent_setcb(c->bev, NULL, NULL, NULL, NULL);
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	pc_conns_del(c->n, c);
	link_conn(&c->n->graveyard, c);
	event_active(c->n->reaper, EV_TIMEOUT, 0);
}

/* The connection died on its own: tell the owner, then free it (we are in its callback, which
 * libevent lets us free it from). */
void pc_conn_gone(struct pconn *c, const char *why)
{
	c->dead = true;
	if (c->owner)
		c->ops->gone(c->owner, c, why);
	pc_conns_del(c->n, c);
	pc_conn_free(c);
}

/* Stop reading C while its output is above the high-water mark: every frame may be answered,
 * and a peer that does not read our answers must not make us queue more of them. */
bool pc_pause_if_backlogged(struct pconn *c)
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
bool pc_in_handshake(const struct pconn *c)
{
	return (!c->outgoing && c->owner == NULL) || (c->sc && !secchan_up(c->sc));
}

/* Under a cap, libevent's group arms the write event of every member at each refill (20 a
 * second), whether it has anything to send or not, and the next callback disarms it: with 64
 * peers that was 100,000 epoll_ctl a second across the lab. So a capped connection with
 * nothing to send has writing off (on_write) until its next send turns it on here. */
void pc_want_write(struct pconn *c)
{
	if (!(bufferevent_get_enabled(c->bev) & EV_WRITE))
		bufferevent_enable(c->bev, EV_WRITE);
}

/* End C from inside its own read path, where the owner may be on the stack: park it, then tell
 * the owner (if it has one yet) WHY. C stays readable until the reaper runs. */
void pc_drop(struct pconn *c, const char *why)
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
void pc_send_notice(struct pconn *c, enum secchan_notice kind, const char *why)
{
	uint8_t notice[SECCHAN_NOTICE_LEN];
	char a[ADDR_STR_MAX];
	secchan_notice(kind, notice);
	(void)send(bufferevent_getfd(c->bev), notice, sizeof notice, MSG_NOSIGNAL | MSG_DONTWAIT);
	addr_format(&c->addr, a);
	log_warn("peer %s: closed: %s", a, why);
	pconn_close(c);
}
