/* node/net/pconn_int.h: the inside of node/net/peerconn.c's connections, shared by its parts
 * (peerconn.c, peerseal.c, peeradmit.c, pconn_core.c) and by no one else: the two structs, and
 * the low-level helpers of pconn_core.c (every function the parts share is named pc_*, since
 * the library links them as global symbols). The network (struct pnet) owns every connection. */
#ifndef NODE_PCONN_INT_H
#define NODE_PCONN_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/net/addr.h"
#include "node/net/peerconn.h"
#include "node/net/recpool.h"
#include "node/net/secchan.h"

#define HIGH_WATER_MIN (1u << 20) /* stop reading a connection with this much output queued */
#define MAX_SINGLE_IO (1u << 20) /* libevent reads and writes 16 KiB per call by default */

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
	bool corked;            /* small sealed sends are gathered until pc_uncork() */
	struct pconn *pend_list;
	uint8_t rbuf[MAX_SINGLE_IO]; /* reads are handed on at once, so one buffer serves all */
};

/* pconn_core.c: the lists, freeing, closing and the checks every read path makes. */
void pc_conns_add(struct pnet *n, struct pconn *c);
void pc_conns_del(struct pnet *n, struct pconn *c);
void pc_conn_free(struct pconn *c);
/* The reaper's callback: free the connections parked by pconn_close. ARG is the pnet. */
void pc_on_reap(evutil_socket_t fd, short what, void *arg);
void pc_conn_gone(struct pconn *c, const char *why);
bool pc_pause_if_backlogged(struct pconn *c);
bool pc_in_handshake(const struct pconn *c);
void pc_want_write(struct pconn *c);
void pc_drop(struct pconn *c, const char *why);
void pc_send_notice(struct pconn *c, enum secchan_notice kind, const char *why);

#endif
