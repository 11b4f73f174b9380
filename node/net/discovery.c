/* Discovery's socket and timer. The socket is bound to the group address and port, so it sees
 * only discovery datagrams; SO_REUSEADDR lets several nodes of one machine share the port, and
 * answers go to the group too, so that every seeker hears them (a unicast answer would reach
 * only one of the sockets sharing the port). TTL 1 / link scope: discovery never leaves the
 * local network. Datagrams longer than a message are cut by the read and then dropped. A beacon
 * whose claimed address is not its source's is dropped: nobody on the network may point the
 * core's probes at a third host.
 * In a private ring every probe, answer and beacon is sealed (node/net/seal.h) under the network
 * key's discovery subkey, named for the group: an outsider can neither read nor forge one, a
 * replay is refused, and open and keyed nodes ignore each other's (neither decodes the other's). */
#include "node/net/discovery.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "node/clock.h"
#include "node/log.h"
#include "node/net/addr.h"
#include "node/net/discocore.h"
#include "node/net/iface.h"
#include "node/net/seal.h"
#include "node/net/udp.h"

struct discovery {
	struct disco_core core;
	struct discovery_cb cb;
	struct event *timer, *read, *beacon;
	struct dht_id id;
	struct sockaddr_storage group;
	socklen_t group_len;
	int fd;
	struct seal *seal; /* a private ring's, else NULL */
	struct seal_to group_name;
};

static uint64_t now_ms(void)
{
	return mono_now_us() / 1000;
}

static void send_msg(struct discovery *d, enum disco_type type)
{
	struct disco_msg m = { .type = (uint8_t)type, .bits = d->core.bits, .addr = d->core.self,
			       .id = d->id };
	uint8_t buf[DISCO_MSG_MAX], sealed[DISCO_MSG_MAX + SEAL_OVERHEAD];
	size_t len = disco_encode(&m, buf);
	const uint8_t *out = buf;

	if (d->seal != NULL) {
		len = seal_wrap(d->seal, (uint64_t)time(NULL), &d->group_name, buf, len, sealed,
				sizeof sealed);
		out = sealed;
	}
	if (d->fd >= 0 && sendto(d->fd, out, len, 0, (struct sockaddr *)&d->group,
				 d->group_len) < 0)
		log_debug("discovery: cannot send: %s", strerror(errno));
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct discovery *d = arg;
	static const struct timeval every = { 0, DISCO_PROBE_MS * 1000 };
	(void)fd;
	(void)what;
	switch (disco_core_tick(&d->core, now_ms())) {
	case DISCO_SEND_PROBE:
		send_msg(d, DISCO_PROBE);
		evtimer_add(d->timer, &every);
		break;
	case DISCO_FOUND:
		d->cb.found(d->cb.arg);
		break;
	default:
		break;
	}
}

static void on_beacon(evutil_socket_t fd, short what, void *arg)
{
	struct discovery *d = arg;
	uint64_t now = now_ms();
	(void)fd;
	(void)what;
	if (disco_core_beacon(&d->core, now, randombytes_random()) == DISCO_SEND_BEACON)
		send_msg(d, DISCO_BEACON);
	uint64_t wait = disco_core_beacon_at(&d->core) - now;
	struct timeval tv = { (time_t)(wait / 1000), (suseconds_t)(wait % 1000 * 1000) };
	evtimer_add(d->beacon, &tv);
}

/* Does the beacon's claimed address have the IP it came from? */
static bool from_itself(const struct disco_core *c, const struct sockaddr_storage *ss,
			socklen_t len)
{
	struct dht_addr src;
	return addr_from_sockaddr((const struct sockaddr *)ss, len, &src) == 0 &&
	       src.family == c->heard.addr.family &&
	       memcmp(src.ip, c->heard.addr.ip, src.family == 4 ? 4 : 16) == 0;
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct discovery *d = arg;
	uint8_t buf[128], plain[128];
	struct dht_addr via;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	ssize_t n;
	(void)what;
	/* A bounded batch per wakeup: a flood cannot hold the loop. */
	for (int i = 0; i < 32 && (n = recvfrom(fd, buf, sizeof buf, MSG_DONTWAIT,
						 (struct sockaddr *)&ss, &sl)) >= 0;
	     i++, sl = sizeof ss) {
		size_t len = (size_t)n;
		const uint8_t *msg = buf;
		if (d->seal != NULL) {
			if (seal_open(d->seal, (uint64_t)time(NULL), &d->group_name, buf, len, plain,
				      sizeof plain, &len) != SEAL_OK)
				continue;
			msg = plain;
		}
		enum disco_action a = disco_core_input(&d->core, msg, len, now_ms(), &via);
		if (a == DISCO_CANDIDATE && from_itself(&d->core, &ss, sl)) {
			d->cb.candidate(d->cb.arg, &d->core.heard);
		} else if (a == DISCO_SEND_ANSWER) {
			send_msg(d, DISCO_ANSWER);
		} else if (a == DISCO_JOIN) {
			char s[ADDR_STR_MAX];
			addr_format(&via, s);
			log_info("discovery: a ring answered from %s", s);
			d->cb.join(d->cb.arg, &via);
		}
	}
}

/* Join the group on the listen address's interface; the socket is bound to the group. */
static int open_socket(struct discovery *d, const struct dht_addr *listen)
{
	struct dht_addr g = { .family = listen->family, .port = DISCOVERY_PORT };
	unsigned idx = iface_index_of(listen);
	int one = 1, ttl = 1, fd, rc;

	inet_pton(g.family == 4 ? AF_INET : AF_INET6,
		  g.family == 4 ? DISCOVERY_GROUP4 : DISCOVERY_GROUP6, g.ip);
	d->group_len = addr_to_sockaddr(&g, &d->group);
	fd = socket(g.family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
		    0);
	if (fd < 0)
		return -1;
	rc = setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (g.family == 6)
		((struct sockaddr_in6 *)&d->group)->sin6_scope_id = idx;
	rc = rc || bind(fd, (struct sockaddr *)&d->group, d->group_len);
	if (g.family == 4) {
		struct ip_mreqn mr = { .imr_ifindex = (int)idx };
		memcpy(&mr.imr_multiaddr, g.ip, 4);
		memcpy(&mr.imr_address, listen->ip, 4);
		rc = rc || setsockopt(fd, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mr, sizeof mr) ||
		     setsockopt(fd, IPPROTO_IP, IP_MULTICAST_IF, &mr, sizeof mr) ||
		     setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof ttl);
	} else {
		struct ipv6_mreq mr = { .ipv6mr_interface = idx };
		memcpy(&mr.ipv6mr_multiaddr, g.ip, 16);
		rc = rc || setsockopt(fd, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mr, sizeof mr) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof idx) ||
		     setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl);
	}
	if (rc != 0 || idx == 0) {
		close(fd);
		return -1;
	}
	d->fd = fd;
	return 0;
}

struct discovery *discovery_new(struct event_base *base, const struct dht_id *id,
				const struct dht_addr *listen, unsigned bits, bool seek,
				const struct discovery_cb *cb)
{
	struct discovery *d = calloc(1, sizeof *d);
	static const struct timeval now = { 0, 0 };
	bool ok;

	if (!d)
		return NULL;
	d->cb = *cb;
	d->id = *id;
	d->fd = -1;
	disco_core_init(&d->core, listen, bits, seek ? DISCO_SEEKING : DISCO_IDLE, now_ms());
	/* Loopback has no local network to find a ring on, and many test rings share it. */
	ok = !addr_is_loopback(listen) && open_socket(d, listen) == 0;
	if (!ok && !addr_is_loopback(listen))
		log_warn("no ring discovery: no multicast on the interface of this address; "
			 "others join with --join");
	if (!ok) {
		disco_core_init(&d->core, listen, bits, seek ? DISCO_SEEKING : DISCO_IDLE,
				now_ms() - DISCO_WAIT_MS);
	}
	d->timer = evtimer_new(base, on_timer, d);
	d->read = ok ? event_new(base, d->fd, EV_READ | EV_PERSIST, on_read, d) : NULL;
	d->beacon = ok ? evtimer_new(base, on_beacon, d) : NULL;
	if (!d->timer || (ok && (!d->read || !d->beacon || event_add(d->read, NULL) != 0)) ||
	    (seek && evtimer_add(d->timer, &now) != 0)) {
		discovery_free(d);
		return NULL;
	}
	return d;
}

void discovery_member(struct discovery *d)
{
	static const struct timeval now = { 0, 0 };

	disco_core_member(&d->core, &d->id);
	if (d->beacon)
		evtimer_add(d->beacon, &now);
}

void discovery_retry(struct discovery *d)
{
	static const struct timeval soon = { 0, DISCO_PROBE_MS * 1000 };

	disco_core_retry(&d->core, now_ms());
	evtimer_add(d->timer, &soon);
}

int discovery_seal(struct discovery *d, const struct netkey *k)
{
	uint8_t key[SEAL_KEY_LEN], tag[NETKEY_TAG_LEN], boot[SEAL_BOOT_LEN];
	struct dht_addr group;

	netkey_derive(k, NETKEY_DISCOVERY, key, sizeof key);
	netkey_tag(k, tag);
	randombytes_buf(boot, sizeof boot);
	d->seal = seal_new(key, tag, boot);
	sodium_memzero(key, sizeof key);
	if (addr_from_sockaddr((struct sockaddr *)&d->group, d->group_len, &group) == 0)
		udp_seal_name(&group, &d->group_name);
	return d->seal != NULL ? 0 : -1;
}

void discovery_free(struct discovery *d)
{
	if (!d)
		return;
	seal_free(d->seal);
	if (d->timer)
		event_free(d->timer);
	if (d->read)
		event_free(d->read);
	if (d->beacon)
		event_free(d->beacon);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}
