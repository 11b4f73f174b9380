/* lo_capture: what an eavesdropper on the loopback interface sees, for the attack tests (root
 * only: an AF_PACKET socket). It captures the UDP and TCP packets to or from the given ports
 * (IPv4 and IPv6) and writes each non-empty payload to a file of its own in DIR, named
 * NNNNNN-PROTO-SRCIP-SRCPORT-DSTIP-DSTPORT, so that a test can replay a datagram or grep every
 * byte that travelled for what must not travel in clear. Bounded in time (--seconds) and count
 * (--count); a packet is seen once (the copy the kernel shows as outgoing is skipped). Prints
 * "capturing" once the socket is bound and "captured N" at the end. Every header length is
 * checked against the packet before it is read. */
#define _DEFAULT_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 64

struct cap {
	uint16_t ports[MAX_PORTS];
	unsigned nports, count, seconds, written;
	bool udp, tcp;
	const char *dir, *iface;
};

/* A packet's transport view: protocol, addresses as text, ports, payload. */
struct pkt {
	int proto; /* IPPROTO_UDP or IPPROTO_TCP */
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	uint16_t sport, dport;
	const uint8_t *payload;
	size_t len;
};

static void usage(FILE *f)
{
	fputs("usage: lo_capture --out DIR --port P [--port P]... [--udp] [--tcp]\n"
	      "                  [--count N] [--seconds S] [--iface NAME]\n"
	      "  capture the UDP (--udp) and/or TCP (--tcp; both if neither is given) payloads\n"
	      "  to or from the ports on interface NAME (default lo), at most N payloads\n"
	      "  (default 1000) for at most S seconds (default 10), one file each in DIR\n",
	      f);
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* The transport header at L4 (LEN bytes) of protocol PROTO into *P. Return 0, or -1. */
static int transport(const uint8_t *l4, size_t len, int proto, struct pkt *p)
{
	size_t hl;
	if (proto == IPPROTO_UDP && len >= 8) {
		hl = 8;
	} else if (proto == IPPROTO_TCP && len >= 20) {
		hl = (size_t)(l4[12] >> 4) * 4;
		if (hl < 20 || hl > len)
			return -1;
	} else {
		return -1;
	}
	p->proto = proto;
	p->sport = be16(l4);
	p->dport = be16(l4 + 2);
	p->payload = l4 + hl;
	p->len = len - hl;
	return 0;
}

/* An IP packet (BUF, LEN bytes, from a SOCK_DGRAM packet socket) into *P. Return 0, or -1. */
static int parse(const uint8_t *buf, size_t len, struct pkt *p)
{
	if (len >= 20 && buf[0] >> 4 == 4) {
		size_t hl = (size_t)(buf[0] & 15) * 4, total = be16(buf + 2);
		if (hl < 20 || total < hl || total > len)
			return -1;
		inet_ntop(AF_INET, buf + 12, p->src, sizeof p->src);
		inet_ntop(AF_INET, buf + 16, p->dst, sizeof p->dst);
		return transport(buf + hl, total - hl, buf[9], p);
	}
	if (len >= 40 && buf[0] >> 4 == 6) {
		size_t total = 40 + (size_t)be16(buf + 4);
		if (total > len)
			return -1;
		inet_ntop(AF_INET6, buf + 8, p->src, sizeof p->src);
		inet_ntop(AF_INET6, buf + 24, p->dst, sizeof p->dst);
		/* Extension headers are not followed: our nodes send none. */
		return transport(buf + 40, total - 40, buf[6], p);
	}
	return -1;
}

static bool wanted(const struct cap *c, const struct pkt *p)
{
	if (p->len == 0 || (p->proto == IPPROTO_UDP && !c->udp) ||
	    (p->proto == IPPROTO_TCP && !c->tcp))
		return false;
	for (unsigned i = 0; i < c->nports; i++)
		if (p->sport == c->ports[i] || p->dport == c->ports[i])
			return true;
	return false;
}

static int save(struct cap *c, const struct pkt *p)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%06u-%s-%s-%u-%s-%u", c->dir, c->written,
		 p->proto == IPPROTO_UDP ? "udp" : "tcp", p->src, (unsigned)p->sport, p->dst,
		 (unsigned)p->dport);
	FILE *f = fopen(path, "wb");
	if (f == NULL || fwrite(p->payload, 1, p->len, f) != p->len || fclose(f) != 0) {
		fprintf(stderr, "lo_capture: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	c->written++;
	return 0;
}

static int open_socket(const char *iface)
{
	int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ALL));
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL) };
	if (fd < 0) {
		fprintf(stderr, "lo_capture: cannot open a packet socket (root only): %s\n",
			strerror(errno));
		return -1;
	}
	sll.sll_ifindex = (int)if_nametoindex(iface);
	if (sll.sll_ifindex == 0 || bind(fd, (struct sockaddr *)&sll, sizeof sll) != 0) {
		fprintf(stderr, "lo_capture: cannot capture on %s: %s\n", iface, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int run(struct cap *c, int fd)
{
	static uint8_t buf[65536];
	double end = now_s() + c->seconds;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	double left;
	while (c->written < c->count && (left = end - now_s()) > 0) {
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		struct sockaddr_ll from;
		socklen_t fl = sizeof from;
		struct pkt p;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n <= 0 || from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (parse(buf, (size_t)n, &p) == 0 && wanted(c, &p) && save(c, &p) != 0)
			return 1;
	}
	printf("captured %u\n", c->written);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' }, { "port", required_argument, NULL, 'p' },
		{ "udp", no_argument, NULL, 'u' }, { "tcp", no_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' }, { "seconds", required_argument, NULL, 's' },
		{ "iface", required_argument, NULL, 'i' }, { "help", no_argument, NULL, 'h' },
		{ 0, 0, 0, 0 } };
	struct cap c = { .count = 1000, .seconds = 10, .iface = "lo" };
	int o;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'o')
			c.dir = optarg;
		else if (o == 'p' && c.nports < MAX_PORTS && atoi(optarg) > 0 && atoi(optarg) < 65536)
			c.ports[c.nports++] = (uint16_t)atoi(optarg);
		else if (o == 'u')
			c.udp = true;
		else if (o == 't')
			c.tcp = true;
		else if (o == 'n')
			c.count = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 's')
			c.seconds = (unsigned)strtoul(optarg, NULL, 10);
		else if (o == 'i')
			c.iface = optarg;
		else if (o == 'h')
			return usage(stdout), 0;
		else
			return usage(stderr), 2;
	}
	if (c.dir == NULL || c.nports == 0 || optind != argc)
		return usage(stderr), 2;
	if (!c.udp && !c.tcp)
		c.udp = c.tcp = true;
	int fd = open_socket(c.iface);
	if (fd < 0)
		return 3;
	setvbuf(stdout, NULL, _IOLBF, 0);
	puts("capturing"); /* a test waits for this before it makes traffic */
	int rc = run(&c, fd);
	close(fd);
	return rc;
}
