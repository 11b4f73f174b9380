/* node/net/iface.h: network interfaces by name and by address (getifaddrs): the address that
 * "--listen eth0:4000" means, and the interface an address is on, for discovery's multicast.
 * Nothing to own or free. */
#ifndef NODE_IFACE_H
#define NODE_IFACE_H

#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"

/* The first IPv4 address of interface NAME, else its first IPv6 address that is not
 * link-local, with PORT, into OUT. Return 0, or -1 with a sentence in ERR (no interface of
 * that name, or one without a usable address). */
int iface_addr(const char *name, uint16_t port, struct dht_addr *out, char *err, size_t cap);

/* The index of the interface that holds A's IP, or 0 if none does. */
unsigned iface_index_of(const struct dht_addr *a);

#endif
