/* The simulated network: per-node uplink and downlink serializers and one latency for all links.
 * A serializer serves its active pipes in FIFO order (round-robin), taking whole frames up to one
 * quantum per turn, so a node's capacity is fair-shared among its busy connections. An uplink
 * turn that has room after one pipe goes on to the next: a burst of small frames to many peers
 * (a HAVE to each neighbour) costs one pair of events, not one per peer, which is what keeps a
 * 1,000-peer swarm fast. Frames of a pipe live in one byte buffer as records
 * [u32 hlen][u32 zlen][head] between cursors head <= taken <= arrived <= sent <= tail: sent..tail
 * is queued at the sender, arrived..sent in flight, head..arrived waits at the receiver's
 * downlink, and taken marks what the downlink is carrying now. With one latency and FIFO
 * serializers, batches arrive in the order they were sent, so each uplink keeps its in-flight
 * batches in one FIFO of (pipe, bytes) and an event needs only a count. It does not model loss,
 * TCP windows or slow start: the session's own pipelining is what keeps a connection full. */
#include "tools/swarmsim/net.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* Up to this many wire bytes leave one pipe per round-robin turn: one block, or many small
 * frames. Smaller turns are fairer and cost more events. */
#define QUANTUM 16384u
/* A turn that carries a block goes on with up to this many bytes of small frames from the next
 * pipes, which would have followed the block anyway: one turn, not two. */
#define TAIL 1024u
#define REC_HDR 8u
/* Record bytes a pipe keeps inside itself, which makes it four cache lines in all. */
#define PIPE_INLINE 152u

/* One side of a connection is the pipe that carries what it sends, and where it is told what
 * arrives and when it may send more (the users); the code calls it a pipe.
 * What every frame touches comes first and fits one cache line: with 160,000 pipes nearly every
 * visit to a pipe is a miss, so the connection itself is left alone on the common paths, and
 * the few records a pipe usually holds sit in its own next lines (inl) rather than in a buffer
 * elsewhere; a pipe that needs more moves them to the heap until it drains. */
struct net_side {
	_Alignas(128) uint8_t *buf; /* inl, or from the heap */
	uint32_t head, taken, arrived, sent, tail, cap; /* a pipe never holds 4 GiB */
	uint32_t backlog;         /* wire bytes in sent..tail */
	uint8_t side;             /* the sending side */
	bool closed;              /* a copy of the connection's */
	bool up_queued, down_queued;
	bool down_free;           /* the receiver's downlink is unlimited */
	bool polled;              /* the sender read the backlog since the last writable call */
	uint16_t delivering;      /* > 0 while frames of this pipe are being handed out */
	uint32_t rx_tag;          /* the receiving side's user and tag */
	void *rx_user;
	struct link *up;          /* the sender's uplink */
	struct net_conn *conn;
	struct link *down;        /* the receiver's downlink */
	void *tx_user;            /* the sending side's user and tag */
	void *owner;              /* the sending side's owner data */
	uint32_t tx_tag, word;
	uint8_t inl[PIPE_INLINE];
};
_Static_assert(sizeof(struct net_side) == 256, "a pipe is four whole cache lines");
_Static_assert(offsetof(struct net_side, conn) == 64, "the hot fields fill the first line");

struct net_conn {
	struct net_side pipe[2];      /* pipe[s] carries what side s sends */
	struct net *net;
	uint32_t node[2];
	struct net_conn *all_next;
};

/* Part of an uplink batch: REC record bytes of pipe P, on their way. */
struct flight {
	struct net_side *p;
	size_t rec;
};

/* A serializer: one node's uplink or downlink. */
struct link {
	uint64_t bps;             /* 0: unlimited (downlinks only) */
	uint32_t node;            /* whose link it is */
	struct net_side **q;          /* pipes with frames to carry, a ring: the round-robin order */
	size_t qhead, qlen, qcap;
	bool busy, up;
	uint64_t origin_us, origin_bytes; /* busy since origin_us, having carried origin_bytes */
	uint64_t total;           /* bytes of finished batches */
	struct net_side *cur;         /* downlink: the pipe whose batch is being carried */
	bool carrying;
	bool kick_due;            /* a send planned a turn start (send_kick) for now */
	size_t cur_rec, cur_wire;
	struct flight *fl;        /* uplink: batches in flight, a ring, oldest first */
	size_t fl_head, fl_len, fl_cap;
	struct net *net;
};

struct node {
	struct link up, down;
};

struct net {
	struct evq *q;
	struct net_ops ops;
	void *ctx;
	struct node **nodes;      /* each allocated alone: events point at their links */
	size_t nnodes, cap;
	struct net_conn *all;
	uint64_t latency_us;
	uint8_t scratch[NET_MAX_ZHEAD + NET_MAX_ZEROS]; /* past NET_MAX_ZHEAD: zeros, never written */
	uint8_t joined[65536];    /* small frames joined for one delivery */
};

/* Let go of P's records for good. */
static void pipe_drop_buf(struct net_side *p)
{
	if (p->buf != p->inl)
		free(p->buf);
	p->buf = NULL;
}

struct net *net_new(struct evq *q, const struct net_ops *ops, void *ctx, uint64_t latency_us)
{
	struct net *n = calloc(1, sizeof *n);
	if (n == NULL)
		return NULL;
	n->latency_us = latency_us;
	n->q = q;
	n->ops = *ops;
	n->ctx = ctx;
	return n;
}

void net_free(struct net *n)
{
	if (n == NULL)
		return;
	while (n->all) {
		struct net_conn *c = n->all;
		n->all = c->all_next;
		pipe_drop_buf(&c->pipe[0]);
		pipe_drop_buf(&c->pipe[1]);
		free(c);
	}
	for (size_t i = 0; i < n->nnodes; i++) {
		free(n->nodes[i]->up.fl);
		free(n->nodes[i]->up.q);
		free(n->nodes[i]->down.q);
		free(n->nodes[i]);
	}
	free(n->nodes);
	free(n);
}

int net_node_add(struct net *n, uint64_t up, uint64_t down)
{
	if (up == 0)
		return -1;
	if (n->nnodes == n->cap) {
		size_t cap = n->cap ? n->cap * 2 : 64;
		struct node **nn = realloc(n->nodes, cap * sizeof *nn);
		if (nn == NULL)
			return -1;
		n->nodes = nn;
		n->cap = cap;
	}
	struct node *nd = calloc(1, sizeof *nd);
	if (nd == NULL)
		return -1;
	nd->up.bps = up;
	nd->up.up = true;
	nd->up.node = (uint32_t)n->nnodes;
	nd->up.net = nd->down.net = n;
	nd->down.bps = down;
	n->nodes[n->nnodes] = nd;
	return (int)n->nnodes++;
}

uint64_t net_node_uploaded(const struct net *n, uint32_t i)
{
	return i < n->nnodes ? n->nodes[i]->up.total : 0;
}

struct net_conn *net_connect(struct net *n, uint32_t a, uint32_t b)
{
	if (a >= n->nnodes || b >= n->nnodes)
		return NULL;
	struct net_conn *c = aligned_alloc(_Alignof(struct net_conn), sizeof *c);
	if (c == NULL)
		return NULL;
	memset(c, 0, sizeof *c);
	c->net = n;
	c->node[0] = a;
	c->node[1] = b;
	for (int s = 0; s < 2; s++) {
		c->pipe[s].conn = c;
		c->pipe[s].side = (uint8_t)s;
		c->pipe[s].up = &n->nodes[c->node[s]]->up;
		c->pipe[s].down = &n->nodes[c->node[!s]]->down;
		c->pipe[s].down_free = c->pipe[s].down->bps == 0;
		c->pipe[s].buf = c->pipe[s].inl;
		c->pipe[s].cap = PIPE_INLINE;
	}
	c->all_next = n->all;
	n->all = c;
	return c;
}

static bool *qflag(struct link *l, struct net_side *p)
{
	return l->up ? &p->up_queued : &p->down_queued;
}

/* The queue is a ring of pointers rather than a list threaded through the pipes: pushing and
 * popping then touch no pipe but the one moved, which matters with 160,000 pipes. Ring sizes
 * are powers of two, so an index wraps with a mask rather than a division. */
static int ring_grow(struct link *l)
{
	size_t cap = l->qcap ? l->qcap * 2 : 16;
	struct net_side **n = malloc(cap * sizeof *n);
	if (n == NULL)
		return -1;
	for (size_t i = 0; i < l->qlen; i++)
		n[i] = l->q[(l->qhead + i) & (l->qcap - 1)];
	free(l->q);
	l->q = n;
	l->qcap = cap;
	l->qhead = 0;
	return 0;
}

static void link_push(struct link *l, struct net_side *p)
{
	if (*qflag(l, p) || (l->qlen == l->qcap && ring_grow(l) < 0))
		return;
	*qflag(l, p) = true;
	l->q[(l->qhead + l->qlen++) & (l->qcap - 1)] = p;
}

static struct net_side *link_pop(struct link *l)
{
	if (l->qlen == 0)
		return NULL;
	struct net_side *p = l->q[l->qhead];
	l->qhead = (l->qhead + 1) & (l->qcap - 1);
	l->qlen--;
	*qflag(l, p) = false;
	return p;
}

static size_t rec_wire(const uint8_t *r)
{
	uint32_t h, z;
	memcpy(&h, r, 4);
	memcpy(&z, r + 4, 4);
	return (size_t)h + z;
}

static size_t rec_size(const uint8_t *r)
{
	uint32_t h;
	memcpy(&h, r, 4);
	return REC_HDR + h;
}

/* Make room for NEED more bytes at the tail, sliding live records to the front first. */
static int pipe_reserve(struct net_side *p, size_t need)
{
	if (p->tail + need <= p->cap)
		return 0;
	if (p->head > 0) {
		uint32_t h = p->head;
		memmove(p->buf, p->buf + h, p->tail - h);
		p->head = 0;
		p->taken -= h;
		p->arrived -= h;
		p->sent -= h;
		p->tail -= h;
		if (p->tail + need <= p->cap)
			return 0;
	}
	size_t cap = (size_t)p->cap * 2;
	while (cap < p->tail + need)
		cap *= 2;
	uint8_t *nb = NULL;
	if (cap > UINT32_MAX)
		return -1;
	if (p->buf == p->inl) {
		nb = malloc(cap);
		if (nb != NULL)
			memcpy(nb, p->inl, p->tail);
	} else {
		nb = realloc(p->buf, cap);
	}
	if (nb == NULL)
		return -1;
	p->buf = nb;
	p->cap = (uint32_t)cap;
	return 0;
}

/* Every record of P has been handed over: start again at the front, inline if that was on the
 * heap, so the next few records share the pipe's cache lines. */
static void pipe_drained(struct net_side *p)
{
	p->head = p->taken = p->arrived = p->sent = p->tail = 0;
	if (p->buf != p->inl) {
		free(p->buf);
		p->buf = p->inl;
		p->cap = PIPE_INLINE;
	}
}

static void link_kick(struct link *l, struct net *n);

/* A turn started by a send: from the event loop, not from inside the sender's call, since a
 * turn tells senders they may write more, and a session told so while it is still sending
 * would be re-entered (a super-seed ended its seeding under its own feet that way). */
static void send_kick(void *ctx, void *arg, uint64_t u)
{
	(void)ctx;
	(void)u;
	struct link *l = arg;
	l->kick_due = false;
	link_kick(l, l->net);
}

struct net_side *net_conn_side(struct net_conn *c, int side)
{
	return &c->pipe[side];
}

int net_side_send(struct net_side *p, const uint8_t *head, size_t hlen, size_t zlen)
{
	if (p->closed || zlen > NET_MAX_ZEROS || (zlen && hlen > NET_MAX_ZHEAD) || hlen > UINT32_MAX)
		return -1;
	if (pipe_reserve(p, REC_HDR + hlen) < 0)
		return -1;
	uint32_t h = (uint32_t)hlen, z = (uint32_t)zlen;
	memcpy(p->buf + p->tail, &h, 4);
	memcpy(p->buf + p->tail + 4, &z, 4);
	memcpy(p->buf + p->tail + REC_HDR, head, hlen);
	p->tail += REC_HDR + h;
	p->backlog += h + z;
	struct link *l = p->up;
	link_push(l, p);
	if (l->carrying || l->kick_due)
		return 0;
	if (evq_at(l->net->q, evq_now(l->net->q), send_kick, l, 0) < 0)
		return -1;
	l->kick_due = true;
	return 0;
}

size_t net_side_backlog(struct net_side *p)
{
	p->polled = true;
	return p->backlog;
}

/* Hand the records in [from, to) of P to the receiving side. Runs of frames without a zero run
 * are joined into one stretch of stream (as a socket read would return them), a frame with a
 * zero run is handed over alone with its zeros behind it. */
static void pipe_deliver(struct net_side *p, struct net *n, size_t from, size_t to)
{
	struct net_conn *c = p->conn;
	size_t run = 0;
	p->delivering++;
	while (from < to && !p->closed && p->rx_user != NULL) {
		const uint8_t *r = p->buf + from;
		uint32_t h, z;
		memcpy(&h, r, 4);
		memcpy(&z, r + 4, 4);
		if (z == 0 && run + h <= sizeof n->joined) {
			memcpy(n->joined + run, r + REC_HDR, h);
			run += h;
			from += REC_HDR + h;
			continue;
		}
		if (run > 0) {
			n->ops.deliver(n->ctx, p->rx_user, p->rx_tag, n->joined, run);
			run = 0;
			continue;
		}
		from += REC_HDR + h;
		if (z == 0) {
			n->ops.deliver(n->ctx, p->rx_user, p->rx_tag, r + REC_HDR, h);
			continue;
		}
		uint8_t *f = n->scratch + NET_MAX_ZHEAD - h;
		memcpy(f, r + REC_HDR, h);
		n->ops.deliver(n->ctx, p->rx_user, p->rx_tag, f, (size_t)h + z);
	}
	if (run > 0 && !p->closed)
		n->ops.deliver(n->ctx, p->rx_user, p->rx_tag, n->joined, run);
	p->delivering--;
	if (p->closed && c->pipe[0].delivering == 0 && c->pipe[1].delivering == 0) {
		pipe_drop_buf(&c->pipe[0]);
		pipe_drop_buf(&c->pipe[1]);
	} else if (!p->closed && p->head == p->tail && p->delivering == 0) {
		pipe_drained(p);
	}
}

/* Take whole frames from P at cursor *AT (not past END) while they fit in BUDGET wire bytes;
 * with FORCE, the first one even if it does not; with SMALL, none with a zero run. */
static void take_frames(struct net_side *p, uint32_t *at, uint32_t end, size_t budget, bool force,
			bool small, size_t *rec, size_t *wire)
{
	uint32_t r = 0;
	size_t w = 0;
	while (*at + r < end) {
		const uint8_t *x = p->buf + *at + r;
		size_t ww = rec_wire(x);
		if ((w + ww > budget && !(force && r == 0)) || (small && ww > rec_size(x) - REC_HDR))
			break;
		w += ww;
		r += (uint32_t)rec_size(x);
	}
	*at += r;
	*rec = r;
	*wire = w;
}

static void link_done(void *ctx, void *arg, uint64_t u);
static void uplink_arrive(void *ctx, void *arg, uint64_t u);

static uint64_t link_end_time(struct link *l, uint64_t now)
{
	if (!l->busy) {
		l->busy = true;
		l->origin_us = now;
		l->origin_bytes = 0;
	}
	l->origin_bytes += l->cur_wire;
	/* Exact: the end of the batch is a function of the bytes carried since the link went busy,
	 * so rounding never accumulates. */
	return l->origin_us + (l->origin_bytes * 1000000 + l->bps - 1) / l->bps;
}

static void link_push_front(struct link *l, struct net_side *p)
{
	/* Only ever right after a pop, so there is room. */
	*qflag(l, p) = true;
	l->qhead = (l->qhead + l->qcap - 1) & (l->qcap - 1);
	l->q[l->qhead] = p;
	l->qlen++;
}

static int fl_push(struct link *l, struct net_side *p, size_t rec)
{
	if (l->fl_len == l->fl_cap) {
		size_t cap = l->fl_cap ? l->fl_cap * 2 : 16;
		struct flight *n = malloc(cap * sizeof *n);
		if (n == NULL)
			return -1;
		for (size_t i = 0; i < l->fl_len; i++)
			n[i] = l->fl[(l->fl_head + i) & (l->fl_cap - 1)];
		free(l->fl);
		l->fl = n;
		l->fl_cap = cap;
		l->fl_head = 0;
	}
	l->fl[(l->fl_head + l->fl_len++) & (l->fl_cap - 1)] = (struct flight){ p, rec };
	return 0;
}

/* Start an uplink turn: up to a quantum of frames, from as many pipes as it takes; past the
 * first pipe, small frames only, so that none waits behind a block it was queued before. */
static void uplink_start(struct link *l, struct net *n)
{
	size_t wire = 0, parts = 0;
	struct net_side *p;
	while (wire < QUANTUM + TAIL && (p = link_pop(l)) != NULL) {
		size_t r, w, budget = wire < QUANTUM ? QUANTUM - wire : QUANTUM + TAIL - wire;
		take_frames(p, &p->sent, p->tail, budget, wire == 0, wire > 0, &r, &w);
		if (r == 0 || fl_push(l, p, r) < 0) {
			p->sent -= (uint32_t)r;
			link_push_front(l, p);
			break;
		}
		p->backlog -= (uint32_t)w;
		wire += w;
		parts++;
		if (p->sent < p->tail)
			link_push(l, p);
	}
	if (parts == 0) {
		if (l->busy && n->ops.uplink != NULL)
			n->ops.uplink(n->ctx, l->node, true);
		l->busy = false;
		return;
	}
	if (!l->busy && n->ops.uplink != NULL)
		n->ops.uplink(n->ctx, l->node, false);
	l->carrying = true;
	l->cur_wire = wire;
	uint64_t end = link_end_time(l, evq_now(n->q));
	evq_at(n->q, end, link_done, l, 0);
	evq_at(n->q, end + n->latency_us, uplink_arrive, l, parts);
	/* The ring does not move while we call out: only a turn start (not re-entered while
	 * carrying) adds to it. Only senders that looked at their backlog wait for it to drop. */
	for (size_t i = l->fl_len - parts; i < l->fl_len; i++) {
		struct net_side *q = l->fl[(l->fl_head + i) & (l->fl_cap - 1)].p;
		if (!q->polled || q->tx_user == NULL)
			continue;
		q->polled = false;
		n->ops.writable(n->ctx, q->tx_user, q->tx_tag);
	}
}

static void downlink_start(struct link *l, struct net *n)
{
	struct net_side *p = link_pop(l);
	if (p == NULL) {
		l->busy = false;
		return;
	}
	take_frames(p, &p->taken, p->arrived, QUANTUM, true, false, &l->cur_rec, &l->cur_wire);
	if (p->taken < p->arrived)
		link_push(l, p);
	l->cur = p;
	l->carrying = true;
	evq_at(n->q, link_end_time(l, evq_now(n->q)), link_done, l, 0);
}

/* Start carrying the next batch, if any. */
static void link_kick(struct link *l, struct net *n)
{
	if (l->carrying)
		return;
	if (l->up)
		uplink_start(l, n);
	else
		downlink_start(l, n);
}

static void link_done(void *ctx, void *arg, uint64_t u)
{
	(void)ctx;
	(void)u;
	struct link *l = arg;
	struct net *n = l->net;
	struct net_side *p = l->cur;
	l->carrying = false;
	l->cur = NULL;
	l->total += l->cur_wire;
	if (!l->up && !p->closed) {
		size_t from = p->head;
		p->head += (uint32_t)l->cur_rec;
		pipe_deliver(p, n, from, p->head);
	}
	link_kick(l, n);
}

static void uplink_arrive(void *ctx, void *arg, uint64_t u)
{
	(void)ctx;
	struct link *l = arg;
	struct net *n = l->net;
	for (uint64_t i = 0; i < u; i++) {
		struct flight f = l->fl[l->fl_head];
		l->fl_head = (l->fl_head + 1) & (l->fl_cap - 1);
		l->fl_len--;
		struct net_side *p = f.p;
		if (p->closed)
			continue;
		p->arrived += (uint32_t)f.rec;
		if (p->down_free) {
			size_t from = p->head;
			p->head = p->taken = p->arrived;
			pipe_deliver(p, n, from, p->head);
			continue;
		}
		link_push(p->down, p);
		link_kick(p->down, n);
	}
}

static void link_forget(struct link *l, struct net_side *p)
{
	if (!*qflag(l, p))
		return;
	size_t k = 0;
	for (size_t i = 0; i < l->qlen; i++) {
		struct net_side *x = l->q[(l->qhead + i) & (l->qcap - 1)];
		if (x != p)
			l->q[(l->qhead + k++) & (l->qcap - 1)] = x;
	}
	l->qlen = k;
	*qflag(l, p) = false;
}

void net_close(struct net_conn *c)
{
	if (c->pipe[0].closed)
		return;
	bool delivering = c->pipe[0].delivering || c->pipe[1].delivering;
	for (int s = 0; s < 2; s++) {
		struct net_side *p = &c->pipe[s];
		p->closed = true;
		link_forget(p->up, p);
		link_forget(p->down, p);
		p->backlog = 0;
		/* A batch being carried keeps the link busy until its end: the bytes are on the wire. */
		if (!delivering)
			pipe_drop_buf(p);
	}
}

bool net_closed(const struct net_conn *c)
{
	return c->pipe[0].closed;
}

uint32_t net_conn_node(const struct net_conn *c, int side)
{
	return c->node[side];
}

void net_side_set_user(struct net_side *p, void *user, uint32_t tag)
{
	struct net_side *in = &p->conn->pipe[!p->side];
	p->tx_user = user;
	p->tx_tag = tag;
	in->rx_user = user;
	in->rx_tag = tag;
}

void net_side_set_owner(struct net_side *p, void *owner, uint32_t word)
{
	p->owner = owner;
	p->word = word;
}

void *net_side_owner(const struct net_side *p)
{
	return p->owner;
}

uint32_t net_side_word(const struct net_side *p)
{
	return p->word;
}
