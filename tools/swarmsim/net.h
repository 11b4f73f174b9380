/* tools/swarmsim/net.h: the swarm simulator's network. Each node has an uplink and a downlink,
 * each a serializer that carries the queued frames of its connections round-robin at its
 * capacity; every connection adds the same one-way latency. Frames are a header of real bytes
 * (copied) followed by a run of zero bytes that is never stored: a block's payload costs nothing.
 * The net owns its connections until net_free(); frames handed to callbacks live until they return. */
#ifndef SWARMSIM_NET_H
#define SWARMSIM_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tools/sim/evq.h"

/* The longest zero run one frame may carry. */
#define NET_MAX_ZEROS 16384u
/* Frame header bytes at most when a zero run follows. */
#define NET_MAX_ZHEAD 64u

struct net;
struct net_conn;
/* One side of a connection: what it sends, and who hears what arrives. Lives as long as its
 * connection. */
struct net_side;

/* USER and TAG are what net_side_set_user() gave the side the call is about; the net keeps
 * them beside each pipe's state, so a call costs no visit to the connection. Neither is called
 * for a side with no user, nor after net_close(). */
struct net_ops {
	/* FRAME (LEN bytes) from the other side arrived at USER's side. */
	void (*deliver)(void *ctx, void *user, uint32_t tag, const uint8_t *frame, size_t len);
	/* Frames left USER's side since it last read its backlog: it may send more. */
	void (*writable)(void *ctx, void *user, uint32_t tag);
	/* Optional: node NODE's uplink has nothing left to carry (IDLE), or carries again. */
	void (*uplink)(void *ctx, uint32_t node, bool idle);
};

/* Return a network that schedules its events on Q, calls OPS with CTX and delays every frame by
 * LATENCY_US one way, or NULL. */
struct net *net_new(struct evq *q, const struct net_ops *ops, void *ctx, uint64_t latency_us);
void net_free(struct net *n); /* accepts NULL; frees every connection */

/* Add a node with UP and DOWN capacities in bytes per second (DOWN 0: unlimited; UP must be
 * positive). Return its index, or -1 on no memory. */
int net_node_add(struct net *n, uint64_t up, uint64_t down);
/* Bytes node I has put on its uplink so far (counted as each batch finishes). */
uint64_t net_node_uploaded(const struct net *n, uint32_t i);

/* Connect node A (side 0) to node B (side 1). Return the connection (owned by the net) or NULL
 * on no memory. */
struct net_conn *net_connect(struct net *n, uint32_t a, uint32_t b);
/* Abort C: queued and in-flight frames are dropped in both directions. Idempotent. */
void net_close(struct net_conn *c);
bool net_closed(const struct net_conn *c);
uint32_t net_conn_node(const struct net_conn *c, int side);
struct net_side *net_conn_side(struct net_conn *c, int side);

/* Queue a frame from side S: HLEN header bytes, then ZLEN zero bytes (ZLEN <= NET_MAX_ZEROS,
 * and then HLEN <= NET_MAX_ZHEAD). Return 0, or -1 if the connection is closed or memory runs
 * out. */
int net_side_send(struct net_side *s, const uint8_t *head, size_t hlen, size_t zlen);
/* Wire bytes S has queued that its uplink has not started sending (0 once closed). Reading it
 * asks for a writable call once some of them leave. */
size_t net_side_backlog(struct net_side *s);
/* Name S's user and tag for the callbacks (net_ops). */
void net_side_set_user(struct net_side *s, void *user, uint32_t tag);
/* Owner data: a pointer and a word the net keeps for the caller beside S's own state, so that
 * reading them costs no trip elsewhere in memory. */
void net_side_set_owner(struct net_side *s, void *owner, uint32_t word);
void *net_side_owner(const struct net_side *s);
uint32_t net_side_word(const struct net_side *s);

#endif
