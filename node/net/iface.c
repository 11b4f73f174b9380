/* Interfaces through getifaddrs(3). Link-local IPv6 addresses are skipped for --listen: other
 * nodes could reach them only with a scope id, which HOST:PORT does not carry. */
#define _DEFAULT_SOURCE /* getifaddrs' struct ifaddrs */
#include "node/net/iface.h"

#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "node/net/addr.h"

static bool usable(const struct ifaddrs *i, int family)
{
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)i->ifa_addr;

	if (!i->ifa_addr || i->ifa_addr->sa_family != family)
		return false;
	return family == AF_INET || !IN6_IS_ADDR_LINKLOCAL(&s6->sin6_addr);
}

int iface_addr(const char *name, uint16_t port, struct dht_addr *out, char *err, size_t cap)
{
	struct ifaddrs *all, *i;
	const int families[] = { AF_INET, AF_INET6 };
	bool named = false;
	int rc = -1;

	if (getifaddrs(&all) != 0) {
		snprintf(err, cap, "cannot list the network interfaces: %m");
		return -1;
	}
	for (size_t f = 0; f < 2 && rc != 0; f++)
		for (i = all; i && rc != 0; i = i->ifa_next) {
			if (strcmp(i->ifa_name, name) != 0)
				continue;
			named = true;
			if (usable(i, families[f]) &&
			    addr_from_sockaddr(i->ifa_addr, families[f] == AF_INET ?
					       sizeof(struct sockaddr_in) :
					       sizeof(struct sockaddr_in6), out) == 0)
				rc = 0;
		}
	freeifaddrs(all);
	if (rc == 0)
		out->port = port;
	else if (named)
		snprintf(err, cap, "interface %s has no IPv4 or global IPv6 address; give an IP "
			 "address instead, like 192.168.1.5:%u", name, (unsigned)port);
	else
		snprintf(err, cap, "'%s' is neither an IP address nor a network interface here; "
			 "give an address like 192.168.1.5:%u or an interface like eth0:%u (see "
			 "`ip addr`)", name, (unsigned)port, (unsigned)port);
	return rc;
}

unsigned iface_index_of(const struct dht_addr *a)
{
	struct ifaddrs *all, *i;
	unsigned idx = 0;

	if (getifaddrs(&all) != 0)
		return 0;
	for (i = all; i && !idx; i = i->ifa_next) {
		struct dht_addr b;
		socklen_t len = i->ifa_addr && i->ifa_addr->sa_family == AF_INET6 ?
				sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
		if (i->ifa_addr && addr_from_sockaddr(i->ifa_addr, len, &b) == 0 &&
		    addr_same_ip(&b, a))
			idx = if_nametoindex(i->ifa_name);
	}
	freeifaddrs(all);
	return idx;
}
