/* node/net/peeradmit.c: admission of peer-wire connections (peerconn.c). Connections are
 * capped per host and in total below the descriptor limit (room is kept for control clients,
 * files and the listener); an inbound connection must complete its HANDSHAKE within a hard
 * deadline from its accept, however it trickles; and when the caps are reached it is the
 * oldest connection still without a handshake that makes room, since it has done nothing for
 * anyone yet. Its first frame routes it to an owner, at most a few per host. Nothing is
 * allocated here. */
#include "node/net/peeradmit.h"

#include <string.h>
#include <sys/resource.h>

#include "node/clock.h"
#include "node/net/addr.h"
#include "node/log.h"

#define HANDSHAKE_DEADLINE_S 10 /* from accept to a routed HANDSHAKE, however it trickles */
#define PER_HOST_MAX 64          /* connections to or from one host (addr_host_key) */
#define PER_HOST_PER_OWNER 4     /* of those, routed to one transfer: an honest peer needs 1 */
#define PER_HOST_PENDING 2       /* of those, inbound ones still without a handshake */
#define FD_RESERVE 256           /* descriptors left to control, listener, files and UDP */
#define CONNS_MIN 16

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
bool pc_route_frame(struct pconn *c, enum wire_status st, const struct wire_msg *msg)
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

void pc_arm_sweeper(struct pnet *n)
{
	static const struct timeval sweep = { .tv_sec = 1 };
	if (!evtimer_pending(n->sweeper, NULL))
		evtimer_add(n->sweeper, &sweep);
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
int pc_admit(struct pnet *n, const struct dht_addr *peer)
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
void pc_on_sweep(evutil_socket_t fd, short what, void *arg)
{
	struct pnet *n = arg;
	static const struct timeval sweep = { .tv_sec = 1 };
	uint64_t now = mono_now_us();
	bool waiting = false;
	(void)fd;
	(void)what;
	for (struct pconn *c = n->conns, *next; c; c = next) {
		next = c->next;
		if (!pc_in_handshake(c))
			continue;
		if (now - c->born_us < (uint64_t)HANDSHAKE_DEADLINE_S * 1000000)
			waiting = true;
		else if (c->outgoing) {
			/* Its owner hears of it and may close others: walk the list afresh. */
			pc_drop(c, "no network-key handshake in time");
			waiting = true;
			break;
		} else
			evict(c, "no handshake in time");
	}
	if (waiting)
		evtimer_add(n->sweeper, &sweep);
}

/* Connections we keep open at most: the descriptor limit less what the rest of the node needs,
 * so that a flood of peers never leaves control or the disk without a descriptor. */
unsigned pc_conns_budget(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur > 65536)
		return 65536 - FD_RESERVE;
	return rl.rlim_cur > FD_RESERVE + CONNS_MIN ? (unsigned)rl.rlim_cur - FD_RESERVE : CONNS_MIN;
}
