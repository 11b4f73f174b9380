/* node/net/udp.h: the UDP adapter. It drives one Chord core (dht/chord.h, dht/kv.h) from a libevent
 * loop: datagrams from the socket go to dht_input(), the core's sends go out with sendto(), its
 * timer is one libevent timer, its clock node/clock.h and its randomness libsodium.
 * The adapter owns the core and the socket; the event base stays the caller's. */
#ifndef NODE_UDP_H
#define NODE_UDP_H

#include <event2/event.h>
#include <stdint.h>

#include "dht/chord.h"
#include "node/net/netkey.h"
#include "node/net/seal.h"
/* For node/xfer, which still reads the clock through this header. */
#include "node/clock.h"

struct udp_dht;

/* Make a core from CFG on the bound UDP socket FD (which the adapter now owns). Return NULL if
 * CFG is invalid or memory runs out (FD is closed then too). */
struct udp_dht *udp_dht_new(struct event_base *base, int fd, const struct dht_config *cfg);
void udp_dht_free(struct udp_dht *u); /* accepts NULL; frees the core, closes the socket */

/* Hand the application requests the core does not serve (dht_env.app_request) to FN with
 * ARG (FN NULL: drop them). */
typedef void udp_app_fn(void *arg, const struct dht_msg *m, const struct dht_addr *from);
void udp_dht_set_app(struct udp_dht *u, udp_app_fn *fn, void *arg);

/* Make this a private ring's node (call before the loop runs): from now on every datagram sent
 * is sealed under K's datagram subkey and every one read must open (node/net/seal.h), or it
 * is dropped before the core sees it, counted and logged (rate-limited). Without this call
 * the node is open, and drops (counts, logs) the sealed datagrams it cannot read. Return 0,
 * or -1 when memory is short. */
int udp_dht_seal(struct udp_dht *u, const struct netkey *k);

/* Datagrams refused before the core, by reason. Owned by the adapter, live until
 * udp_dht_free(): a reader sees the counts as they grow. */
struct udp_seal_stats {
	bool keyed;
	uint8_t tag[NETKEY_TAG_LEN];     /* the ring's key tag, when keyed */
	uint64_t refused[SEAL_NRESULTS]; /* keyed: by enum seal_result ([SEAL_OK] stays 0) */
	uint64_t sealed;                 /* open: sealed datagrams it cannot read */
};
const struct udp_seal_stats *udp_dht_seal_stats(const struct udp_dht *u);

/* The name a sealed datagram to A carries (its receiver's address), for programs that seal
 * as a node does (the attack tests). */
void udp_seal_name(const struct dht_addr *a, struct seal_to *out);

/* The core, owned by the adapter: valid until udp_dht_free(). */
struct dht *udp_dht_core(struct udp_dht *u);

#endif
