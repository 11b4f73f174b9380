/* node/net/discovery.h: finding a ring on the local network (node/net/discocore.h decides,
 * this module does the I/O): one UDP socket joined to the discovery group (239.255.77.77, or
 * ff02::77 for an IPv6 node) on the interface of the node's listen address, probes and answers
 * on DISCOVERY_PORT, a probe timer on the caller's event base. The caller owns the struct and
 * the base; callbacks run from the loop. */
#ifndef NODE_DISCOVERY_H
#define NODE_DISCOVERY_H

#include <event2/event.h>
#include <stdbool.h>

#include "dht/msg.h"
#include "node/net/netkey.h"

#define DISCOVERY_PORT 4077
#define DISCOVERY_GROUP4 "239.255.77.77"
#define DISCOVERY_GROUP6 "ff02::77"

struct discovery;

struct discovery_cb {
	void (*join)(void *arg, const struct dht_addr *via); /* a ring answered: join through VIA */
	void (*found)(void *arg);                            /* none did: start a new ring */
	/* A member heard NODE's beacon (its address is the datagram's source): ring unification
	 * may take it up (dht_merge_hint). */
	void (*candidate)(void *arg, const struct dht_node *node);
	void *arg;
};

/* Start discovery for a node ID at LISTEN with BITS-wide ids. SEEK: look for a ring now (the
 * callbacks say what came of it); otherwise stay quiet until discovery_member. A member
 * answers probes and beacons now and then; beacons it hears go to cb->candidate. If the socket
 * cannot be set up (no multicast on that interface), say so in the log and, when seeking,
 * call found from the loop. Return NULL only when memory is short. */
struct discovery *discovery_new(struct event_base *base, const struct dht_id *id,
				const struct dht_addr *listen, unsigned bits, bool seek,
				const struct discovery_cb *cb);

/* A private ring (call before the loop runs): seal probes, answers and beacons under K's
 * discovery subkey and ignore every datagram that does not open. Return 0, or -1 when memory is
 * short. */
int discovery_seal(struct discovery *d, const struct netkey *k);

/* The node is in a ring now: answer others' probes and beacon from here on. */
void discovery_member(struct discovery *d);

/* The join through the answerer failed: look again. */
void discovery_retry(struct discovery *d);

void discovery_free(struct discovery *d); /* accepts NULL */

#endif
