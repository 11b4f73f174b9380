/* wireattack: a hostile neighbour on the peer wire, for the attack tests and
 * tools/bench-attack-wire. It speaks the wire through transfer/wire.h, so that every attack can
 * first be run honestly and be seen to be served. Modes (--mode):
 *   manifest  handshake, then --count MANIFEST_REQs for piece 0; with --read it asks 8 at a
 *             time, as a session does, reads the answers and prints "pieces N"; without, it
 *             asks all at once, never reads, and prints "sent N closed 0|1".
 *   trickle   --count connections each sending a HANDSHAKE one byte every --interval seconds
 *             (0: all at once) for --seconds; prints "answered N open M" (answered: the node
 *             sent its HANDSHAKE back).
 *   idle      --count connections that handshake, say INTERESTED and then say nothing for
 *             --seconds (reading what comes); prints "answered N open M".
 *   cid       prints the content id of a one-file manifest named --name.
 *   serve     dials a node fetching that content id and serves it that manifest; prints
 *             "served N open M" after --seconds (N: manifest pieces asked for).
 *   probe     an outsider of a private ring: with --hello, first the network-key handshake's
 *             hello under a key of its own (node/net/secchan.h); then, regardless, the
 *             HANDSHAKE and a MANIFEST_REQ in the clear. Reads for --seconds or until closed;
 *             prints "received N closed 0|1" and the bytes received, in hex, on a second line.
 * Every socket is bound to --from, so that the node sees the attacker's own address. */
#define _GNU_SOURCE /* memmem */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "node/net/addr.h"
#include "node/net/secchan.h"
#include "transfer/manifest.h"
#include "transfer/wire.h"

#define MAX_CONNS 1024

struct opts {
	const char *mode, *name;
	struct dht_addr to, from;
	uint8_t content[WIRE_CONTENT_ID_LEN];
	uint8_t network[WIRE_NETWORK_ID_LEN];
	uint8_t peer_id[WIRE_PEER_ID_LEN];
	unsigned count, bits;
	double seconds, interval;
	bool read, hello;
};

struct conn {
	int fd;
	uint8_t in[1 << 16];
	size_t inlen;
	size_t sent;    /* trickle: handshake bytes sent */
	bool answered, closed;
};

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *msg)
{
	fprintf(stderr, "wireattack: %s\n", msg);
	exit(2);
}

/* The network id: as node/xfer/xfer.c makes it, from the ring's id width. */
static void make_network(struct opts *o)
{
	uint8_t in[WIRE_PROTOCOL_LEN + 1], h[crypto_generichash_BYTES];
	memcpy(in, WIRE_PROTOCOL, WIRE_PROTOCOL_LEN);
	in[WIRE_PROTOCOL_LEN] = (uint8_t)o->bits;
	crypto_generichash(h, sizeof h, in, sizeof in, NULL, 0);
	memcpy(o->network, h, WIRE_NETWORK_ID_LEN);
}

static int dial(const struct opts *o)
{
	struct sockaddr_storage ss, from;
	socklen_t sl = addr_to_sockaddr(&o->to, &ss);
	struct dht_addr f = o->from;
	f.port = 0;
	socklen_t fl = addr_to_sockaddr(&f, &from);
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if ((fl && bind(fd, (struct sockaddr *)&from, fl) != 0) ||
	    connect(fd, (struct sockaddr *)&ss, sl) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* The HANDSHAKE of connection I: each claims its own peer id (the given one for I = 0), as
 * many peers would, so that the node cannot refuse them as one peer's duplicates. */
static size_t handshake(const struct opts *o, unsigned i, uint8_t *buf, size_t cap)
{
	struct wire_handshake hs = { .version = WIRE_VERSION };
	memcpy(hs.network, o->network, sizeof hs.network);
	memcpy(hs.content, o->content, sizeof hs.content);
	memcpy(hs.peer, o->peer_id, sizeof hs.peer);
	hs.peer[0] ^= (uint8_t)i;
	hs.peer[1] ^= (uint8_t)(i >> 8);
	struct bwriter w;
	bw_init(&w, buf, cap);
	wire_put_handshake(&w, &hs);
	return w.len;
}

static void send_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Read what C has (without blocking) and decode whole frames; FN sees each. Marks C closed at
 * the end of its stream. */
static void pump(struct conn *c, void (*fn)(struct conn *c, const struct wire_msg *m, void *arg),
		 void *arg)
{
	for (;;) {
		ssize_t r = recv(c->fd, c->in + c->inlen, sizeof c->in - c->inlen, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR)) {
			c->closed = true;
			return;
		}
		if (r < 0)
			return;
		c->inlen += (size_t)r;
		struct wire_msg m;
		size_t used;
		while (wire_frame(c->in, c->inlen, &m, &used) == WIRE_OK) {
			if (m.type == WIRE_HANDSHAKE)
				c->answered = true;
			if (fn)
				fn(c, &m, arg);
			memmove(c->in, c->in + used, c->inlen - used);
			c->inlen -= used;
		}
		if (c->inlen == sizeof c->in)
			c->inlen = 0; /* a frame too large for us: its bytes do not matter here */
	}
}

/* Wait up to MS for input on any of N connections. */
static void wait_input(struct conn *cs, unsigned n, int ms)
{
	static struct pollfd pf[MAX_CONNS];
	for (unsigned i = 0; i < n; i++)
		pf[i] = (struct pollfd){ .fd = cs[i].closed ? -1 : cs[i].fd, .events = POLLIN };
	(void)poll(pf, n, ms);
}

/* Wait a little for input, then read and drop what any of N connections has. */
static void read_all(struct conn *cs, unsigned n)
{
	wait_input(cs, n, 100);
	for (unsigned i = 0; i < n; i++)
		if (!cs[i].closed)
			pump(&cs[i], NULL, NULL);
}

static void count_piece(struct conn *c, const struct wire_msg *m, void *arg)
{
	(void)c;
	if (m->type == WIRE_MANIFEST_PIECE)
		(*(unsigned *)arg)++;
}

static void put_requests(uint8_t *buf, unsigned n)
{
	struct bwriter w;
	bw_init(&w, buf, (size_t)n * 16);
	for (unsigned i = 0; i < n; i++)
		wire_put_piece_index(&w, WIRE_MANIFEST_REQ, 0);
}

static int mode_manifest(const struct opts *o)
{
	static struct conn c;
	uint8_t hs[128];
	if ((c.fd = dial(o)) < 0)
		die("cannot connect");
	send_all(c.fd, hs, handshake(o, 0, hs, sizeof hs));
	uint8_t *reqs = malloc((size_t)o->count * 16);
	if (reqs == NULL)
		die("out of memory");
	put_requests(reqs, o->count);
	size_t total = (size_t)o->count * 9, off = 0; /* 9 bytes a request */
	unsigned pieces = 0;
	double end = now_s() + o->seconds;
	while (now_s() < end && !c.closed) {
		/* Honest: MF_WINDOW (8) requests at a time, as the session asks. */
		size_t upto = o->read && (pieces + 8) * 9 < total ? (pieces + 8) * 9 : total;
		if (off < upto) {
			ssize_t w = send(c.fd, reqs + off, upto - off, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno != EAGAIN)
				c.closed = true;
			off += w > 0 ? (size_t)w : 0;
		}
		if (o->read) {
			pump(&c, count_piece, &pieces);
			if (pieces >= o->count)
				break;
		}
		struct pollfd pf = { .fd = c.fd, .events = o->read ? POLLIN : 0 };
		pf.events |= off < upto ? POLLOUT : 0;
		(void)poll(&pf, 1, 100);
		if (!o->read && (pf.revents & (POLLHUP | POLLERR)))
			c.closed = true;
	}
	if (o->read)
		printf("pieces %u\n", pieces);
	else
		printf("sent %zu closed %d\n", off / 9, c.closed);
	free(reqs);
	return 0;
}

static int open_conns(const struct opts *o, struct conn *cs)
{
	for (unsigned i = 0; i < o->count; i++) {
		cs[i].fd = dial(o);
		if (cs[i].fd < 0)
			cs[i].closed = true;
	}
	return 0;
}

static void report(const struct conn *cs, unsigned n, const char *what, unsigned extra)
{
	unsigned answered = 0, open = 0;
	for (unsigned i = 0; i < n; i++) {
		answered += cs[i].answered;
		open += !cs[i].closed;
	}
	if (what)
		printf("%s %u ", what, extra);
	printf("answered %u open %u\n", answered, open);
}

/* Send each connection's next handshake byte (all of it with no interval). */
static void trickle_step(const struct opts *o, struct conn *cs)
{
	for (unsigned i = 0; i < o->count; i++) {
		struct conn *c = &cs[i];
		uint8_t hs[128];
		size_t len = handshake(o, i, hs, sizeof hs);
		if (c->closed || c->sent >= len)
			continue;
		size_t n = o->interval > 0 ? 1 : len;
		if (send(c->fd, hs + c->sent, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
			c->closed = true;
		else
			c->sent += n;
	}
}

static int mode_trickle(const struct opts *o, struct conn *cs)
{
	open_conns(o, cs);
	double end = now_s() + o->seconds, next = 0;
	while (now_s() < end) {
		if (now_s() >= next) {
			trickle_step(o, cs);
			next = now_s() + (o->interval > 0 ? o->interval : 1e9);
		}
		read_all(cs, o->count);
	}
	report(cs, o->count, NULL, 0);
	return 0;
}

static int mode_idle(const struct opts *o, struct conn *cs)
{
	uint8_t hs[128], buf[16];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	wire_put_bare(&w, WIRE_INTERESTED);
	open_conns(o, cs);
	for (unsigned i = 0; i < o->count; i++)
		if (!cs[i].closed) {
			send_all(cs[i].fd, hs, handshake(o, i, hs, sizeof hs));
			send_all(cs[i].fd, buf, w.len);
		}
	double end = now_s() + o->seconds;
	while (now_s() < end) {
		read_all(cs, o->count);
	}
	report(cs, o->count, NULL, 0);
	return 0;
}

/* A one-file manifest named NAME: built under a placeholder name of the same length (the
 * builder checks names as the node does), then renamed in its bytes. */
static uint8_t *forged_manifest(const char *name, size_t *len)
{
	size_t n = strlen(name);
	char *ph = malloc(n + 1);
	static const uint8_t data[1000];
	struct manifest_builder *b = manifest_builder_new(MANIFEST_MIN_CHUNK);
	if (ph == NULL || b == NULL || n == 0)
		die("cannot build a manifest");
	memset(ph, 'P', n);
	ph[n] = '\0';
	struct manifest *m = NULL;
	if (manifest_builder_add_file(b, ph, sizeof data) == 0 &&
	    manifest_builder_add_data(b, data, sizeof data) == 0)
		m = manifest_builder_finish(b);
	manifest_builder_free(b);
	if (m == NULL)
		die("cannot build a manifest");
	const uint8_t *bytes = manifest_bytes(m, len);
	uint8_t *copy = malloc(*len);
	uint8_t *at = copy ? memmem(bytes, *len, ph, n) : NULL;
	if (at == NULL)
		die("cannot build a manifest");
	memcpy(copy, bytes, *len);
	memcpy(copy + (at - bytes), name, n);
	manifest_free(m);
	free(ph);
	return copy;
}

struct serving {
	const uint8_t *bytes;
	size_t len;
	unsigned asked;
};

static void serve_piece(struct conn *c, const struct wire_msg *m, void *arg)
{
	struct serving *sv = arg;
	if (m->type != WIRE_MANIFEST_REQ || m->u.piece_index != 0)
		return;
	uint8_t buf[WIRE_MANIFEST_PIECE_SIZE + 64];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	wire_put_manifest_piece(&w, 0, (uint32_t)sv->len, sv->bytes, (uint32_t)sv->len);
	send_all(c->fd, buf, w.len);
	sv->asked++;
}

static int mode_serve(struct opts *o, struct conn *c)
{
	struct serving sv = { .bytes = forged_manifest(o->name, &sv.len) };
	manifest_sha256(sv.bytes, sv.len, o->content);
	uint8_t hs[128], bits[16];
	if ((c->fd = dial(o)) < 0)
		die("cannot connect");
	send_all(c->fd, hs, handshake(o, 0, hs, sizeof hs));
	struct bwriter w;
	bw_init(&w, bits, sizeof bits);
	bw_u32(&w, 2); /* a BITFIELD: we have the manifest; its one byte says chunk 0 too */
	bw_u8(&w, WIRE_BITFIELD);
	bw_u8(&w, 0x80);
	send_all(c->fd, bits, w.len);
	double end = now_s() + o->seconds;
	while (now_s() < end && !c->closed) {
		wait_input(c, 1, 100);
		pump(c, serve_piece, &sv);
	}
	report(c, 1, "served", sv.asked);
	free((void *)sv.bytes);
	return 0;
}

/* A hello under a network key nobody else holds, with a node key of its own. */
static void outsider_hello(uint8_t out[SECCHAN_HELLO_LEN])
{
	static struct secchan_config cfg;
	uint8_t seed[SECCHAN_SEED_LEN];
	randombytes_buf(cfg.stream_key, sizeof cfg.stream_key);
	crypto_sign_keypair(cfg.pk, cfg.sk);
	randombytes_buf(seed, sizeof seed);
	struct secchan *s = secchan_new(&cfg, true, seed);
	if (s == NULL)
		die("out of memory");
	secchan_hello(s, out);
	secchan_free(s);
}

static int mode_probe(const struct opts *o)
{
	static struct conn c;
	uint8_t buf[256], hello[SECCHAN_HELLO_LEN];
	size_t len = handshake(o, 0, buf, sizeof buf);
	struct bwriter w;
	if ((c.fd = dial(o)) < 0)
		die("cannot connect");
	if (o->hello) {
		outsider_hello(hello);
		send_all(c.fd, hello, sizeof hello);
	}
	bw_init(&w, buf + len, sizeof buf - len);
	wire_put_piece_index(&w, WIRE_MANIFEST_REQ, 0);
	send_all(c.fd, buf, len + w.len);
	double end = now_s() + o->seconds;
	while (now_s() < end && !c.closed && c.inlen < sizeof c.in) {
		struct pollfd pf = { .fd = c.fd, .events = POLLIN };
		(void)poll(&pf, 1, 100);
		ssize_t r = recv(c.fd, c.in + c.inlen, sizeof c.in - c.inlen, MSG_DONTWAIT);
		if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR))
			c.closed = true;
		c.inlen += r > 0 ? (size_t)r : 0;
	}
	printf("received %zu closed %d\n", c.inlen, c.closed);
	for (size_t i = 0; i < c.inlen; i++)
		printf("%02x", c.in[i]);
	printf("\n");
	return 0;
}

static int mode_cid(const struct opts *o)
{
	size_t len;
	uint8_t *bytes = forged_manifest(o->name, &len), id[MANIFEST_ID_LEN];
	char hex[2 * MANIFEST_ID_LEN + 1];
	manifest_sha256(bytes, len, id);
	sodium_bin2hex(hex, sizeof hex, id, sizeof id);
	printf("%s\n", hex);
	free(bytes);
	return 0;
}

static void parse_hex(const char *s, uint8_t *out, size_t len)
{
	size_t got;
	if (sodium_hex2bin(out, len, s, strlen(s), NULL, &got, NULL) != 0 || got != len)
		die("a hex id has the wrong length");
}

/* --from takes an IP alone: the port is the kernel's. */
static void from_ip(const char *ip, struct dht_addr *out)
{
	char buf[ADDR_STR_MAX + 8];
	snprintf(buf, sizeof buf, strchr(ip, ':') ? "[%s]:1" : "%s:1", ip);
	if (addr_parse(buf, out) != 0)
		die("bad --from: give an IP address");
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "mode", required_argument, NULL, 'm' }, { "to", required_argument, NULL, 't' },
		{ "from", required_argument, NULL, 'f' }, { "content", required_argument, NULL, 'c' },
		{ "bits", required_argument, NULL, 'b' }, { "count", required_argument, NULL, 'n' },
		{ "seconds", required_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ "peer-id", required_argument, NULL, 'p' }, { "name", required_argument, NULL, 'N' },
		{ "read", no_argument, NULL, 'r' }, { "hello", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;
	randombytes_buf(o->peer_id, sizeof o->peer_id);
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'm': o->mode = optarg; break;
		case 't': if (addr_parse(optarg, &o->to) != 0) die("bad --to"); break;
		case 'f': from_ip(optarg, &o->from); break;
		case 'c': parse_hex(optarg, o->content, sizeof o->content); break;
		case 'b': o->bits = (unsigned)atoi(optarg); break;
		case 'n': o->count = (unsigned)atoi(optarg); break;
		case 's': o->seconds = atof(optarg); break;
		case 'i': o->interval = atof(optarg); break;
		case 'p': parse_hex(optarg, o->peer_id, sizeof o->peer_id); break;
		case 'N': o->name = optarg; break;
		case 'r': o->read = true; break;
		case 'H': o->hello = true; break;
		default: die("usage: see the comment at the top of tests/attack/wireattack.c");
		}
	}
	if (o->mode == NULL)
		die("--mode is required");
	if (strcmp(o->mode, "manifest") != 0 && o->count > MAX_CONNS)
		die("--count is at most 1024 connections");
}

int main(int argc, char **argv)
{
	static struct opts o = { .count = 1, .bits = 160, .seconds = 5 };
	static struct conn cs[MAX_CONNS];
	if (sodium_init() < 0)
		die("libsodium failed");
	signal(SIGPIPE, SIG_IGN);
	parse(argc, argv, &o);
	make_network(&o);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (strcmp(o.mode, "cid") == 0)
		return o.name ? mode_cid(&o) : 2;
	if (o.to.family == 0)
		die("--to is required");
	if (strcmp(o.mode, "manifest") == 0)
		return mode_manifest(&o);
	if (strcmp(o.mode, "trickle") == 0)
		return mode_trickle(&o, cs);
	if (strcmp(o.mode, "idle") == 0)
		return mode_idle(&o, cs);
	if (strcmp(o.mode, "probe") == 0)
		return mode_probe(&o);
	if (strcmp(o.mode, "serve") == 0 && o.name)
		return mode_serve(&o, cs);
	die("unknown --mode, or --name missing");
}
