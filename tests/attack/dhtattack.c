/* dhtattack: a hostile DHT neighbour for the attack tests (tests/attack/dht_*.sh). It speaks the
 * DHT's wire format through the core's own codec (dht/msg.h), from a source address of its
 * choosing on loopback, with any id in the header. By default it answers token challenges as an
 * honest node would (it can: it receives where it sends from); --no-token makes it a sender that
 * never echoes a token, like one that spoofs its source. With --network-key it seals what it
 * sends and opens what it reads as a member of a private ring does (node/net/udp.c), so a test
 * can show a keyed node serves it with the key and not without. Its values are signed with a
 * writer key of its own (from --writer-seed), or forged on request. One line of output per
 * answer. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "dht/id.h"
#include "dht/item.h"
#include "dht/idproof.h"
#include "dht/msg.h"
#include "dht/types.h"
#include "node/net/addr.h"
#include "node/net/netkey.h"
#include "node/net/udp.h"

struct att {
	int fd;
	struct dht_addr from, to;
	uint8_t node_pk[DHT_SIGN_PK_LEN], node_sk[DHT_SIGN_SK_LEN]; /* what it proves ids with */
	unsigned bits;
	struct dht_id id;
	bool no_token, have_token;
	uint8_t token[DHT_TOKEN_LEN];
	int timeout_ms;
	unsigned count; /* notices sent per run */
	uint32_t txid;
	size_t last_req, last_reply; /* bytes of the last request and answer */
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES]; /* our writer */
	uint64_t seq;           /* of our values (0: the wall clock in microseconds) */
	bool forge, claim;      /* spoil the signature; name CLAIM_PK as the writer */
	uint8_t claim_pk[DHT_ITEM_PK_LEN];
	bool has_cas;
	uint64_t cas;
	struct seal *seal;           /* --network-key, else NULL */
	struct seal_to me;           /* the --from address as a seal names it */
};

static void usage(FILE *f)
{
	fputs("usage: dhtattack --from IP:PORT --to IP:PORT [options] COMMAND [ARGS]\n"
	      "  --bits N        id width of the network (default 160)\n"
	      "  --id HEX        the id in our headers (default: random)\n"
	      "  --no-token      never echo a token (a sender that cannot receive)\n"
	      "  --timeout-ms T  wait this long for each answer (default 1000)\n"
	      "  --count N       send a notice N times (default 1)\n"
	      "  --writer-seed S sign values with the key derived from the text S (default:\n"
	      "                  from --from)\n"
	      "  --seq N         the values' sequence number (default: the clock, in us)\n"
	      "  --forge         spoil the values' signatures\n"
	      "  --claim HEX     name another writer's public key in the values (signed by ours)\n"
	      "  --cas N         puts expect the writer's value there to have seq N\n"
	      "  --network-key F seal and open datagrams with the key in file F\n"
	      "  --grind LO:HI   use a key whose id (its hash) lies in (LO, HI), as an honest\n"
	      "                  node may; else the key is random and proves no chosen id\n"
	      "commands (KEY: a name, hashed as dhtctl does):\n"
	      "  ping | neigh | join              a request; prints the answer\n"
	      "  notify | leave                   a notice (no answer)\n"
	      "  put KEY VALUE [TTL_S]            prints STORED <status>\n"
	      "  delete KEY                       a signed tombstone; prints STORED <status>\n"
	      "  get KEY [INDEX]                  prints VALUE <text> ttl N seq N writer HEX\n"
	      "                                   or the status\n"
	      "  capture KEY FILE                 saves the first value under KEY (as the\n"
	      "                                   owner sent it) to FILE\n"
	      "  replay KEY FILE                  puts the value FILE holds, as it was\n"
	      "  replay-push KEY FILE             the same as a REPLICATE notice\n"
	      "  pk                               prints our writer's public key\n"
	      "  announce KEY IP:PORT [TTL_S]     prints STORED <status>\n"
	      "  peers KEY                        prints PEERS and the addresses\n"
	      "  replicate KEY VALUE TTL_MS       a notice carrying one value\n"
	      "  flood-put N TTL_S                N puts of distinct keys; prints stored K of N\n"
	      "  collide N                        N puts of ids equal but in bytes 2..11 (what\n"
	      "                                   an unkeyed hash of the low bytes collides on);\n"
	      "                                   prints collided K of N\n"
	      "  burst N                          N PINGs back to back; prints answered K of N\n"
	      "  size get|neigh|peers|find KEY    one request without a token: prints its bytes\n"
	      "                                   and the answer's (0: none)\n"
	      "  claim SECONDS                    JOIN, then NOTIFY every 200 ms, answering each\n"
	      "                                   PROVE with our key (open rings); prints our id,\n"
	      "                                   then the JOIN's answer and the proofs asked\n",
	      f);
}

static int open_socket(const struct dht_addr *from)
{
	struct sockaddr_storage ss;
	socklen_t len = addr_to_sockaddr(from, &ss);
	int fd = socket(ss.ss_family, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&ss, len) != 0) {
		fprintf(stderr, "dhtattack: cannot bind the source address: %s\n", strerror(errno));
		exit(2);
	}
	return fd;
}

static void send_to(struct att *a, const struct dht_addr *to, struct dht_msg *m, bool pad);

static void send_msg(struct att *a, struct dht_msg *m, bool pad)
{
	send_to(a, &a->to, m, pad);
}

static void send_to(struct att *a, const struct dht_addr *dst, struct dht_msg *m, bool pad)
{
	uint8_t buf[DHT_MSG_MAX];
	m->bits = (uint8_t)a->bits;
	m->from = a->id;
	memset(&m->ext, 0, sizeof m->ext);
	if (a->have_token && !a->no_token) {
		m->ext.has_echo = 1;
		memcpy(m->ext.echo, a->token, DHT_TOKEN_LEN);
	} else if (pad) {
		m->ext.pad = 12; /* as large as a challenge, so that one may come back */
	}
	int len = dht_msg_encode(m, buf, sizeof buf);
	if (len < 0) {
		fprintf(stderr, "dhtattack: cannot encode the message\n");
		exit(2);
	}
	struct sockaddr_storage ss;
	socklen_t sl = addr_to_sockaddr(dst, &ss);
	uint8_t sealed[DHT_MSG_MAX + SEAL_OVERHEAD];
	const uint8_t *out = buf;
	if (a->seal != NULL) {
		struct seal_to to;
		udp_seal_name(dst, &to);
		len = (int)seal_wrap(a->seal, (uint64_t)time(NULL), &to, buf, (size_t)len, sealed,
				     sizeof sealed);
		out = sealed;
	}
	sendto(a->fd, out, (size_t)len, 0, (struct sockaddr *)&ss, sl);
	a->last_req = (size_t)len;
}

/* Read one datagram into BUF (DHT_MSG_MAX bytes), opened when sealing. Return its message's
 * length, or -1 (nothing, or one that does not open). */
static ssize_t recv_msg(struct att *a, uint8_t *buf)
{
	uint8_t raw[DHT_MSG_MAX + SEAL_OVERHEAD];
	size_t len;
	ssize_t n = recv(a->fd, a->seal != NULL ? raw : buf,
			 a->seal != NULL ? sizeof raw : DHT_MSG_MAX, MSG_DONTWAIT);
	if (n <= 0 || a->seal == NULL)
		return n;
	a->last_reply = (size_t)n;
	if (seal_open(a->seal, (uint64_t)time(NULL), &a->me, raw, (size_t)n, buf, DHT_MSG_MAX,
		      &len) != SEAL_OK)
		return -1;
	return (ssize_t)len;
}

/* Wait for the answer to TXID into *M (BUF holds its bytes); false on timeout. */
static bool wait_answer(struct att *a, uint32_t txid, struct dht_msg *m, uint8_t *buf)
{
	struct pollfd p = { .fd = a->fd, .events = POLLIN };
	while (poll(&p, 1, a->timeout_ms) == 1) {
		ssize_t n = recv_msg(a, buf);
		if (n <= 0 || dht_msg_decode(m, buf, (size_t)n, a->bits) != DHT_DECODE_OK ||
		    m->txid != txid)
			continue;
		if (a->seal == NULL)
			a->last_reply = (size_t)n;
		return true;
	}
	a->last_reply = 0;
	return false;
}

/* Send request M and return its answer in *OUT, answering one token challenge unless
 * --no-token. A request too small to draw a challenge goes unanswered: it is sent again padded.
 * False on timeout. */
static bool request(struct att *a, struct dht_msg *m, struct dht_msg *out, uint8_t *buf)
{
	m->txid = ++a->txid;
	send_msg(a, m, false);
	int full = a->timeout_ms;
	a->timeout_ms = full / 3;
	bool got = wait_answer(a, m->txid, out, buf);
	a->timeout_ms = full;
	if (!got) {
		send_msg(a, m, true);
		if (!wait_answer(a, m->txid, out, buf))
			return false;
	}
	if (out->type == DHT_ERROR && out->u.error.code == DHT_ERR_TOKEN && out->ext.has_give &&
	    !a->no_token) {
		memcpy(a->token, out->ext.give, DHT_TOKEN_LEN);
		a->have_token = true;
		send_msg(a, m, true);
		return wait_answer(a, m->txid, out, buf);
	}
	return true;
}

/* A notice: get a token first with a PING (unless --no-token), then send M once. */
static void notice(struct att *a, struct dht_msg *m)
{
	if (!a->no_token && !a->have_token) {
		struct dht_msg ping = { .type = DHT_PING }, out;
		uint8_t buf[DHT_MSG_MAX];
		request(a, &ping, &out, buf);
	}
	m->txid = 0;
	for (unsigned i = 0; i < a->count; i++)
		send_msg(a, m, false);
	puts("sent");
}

static void print_value(const struct dht_msg *m)
{
	const struct dht_item *it = &m->u.value.item;
	char pk[2 * DHT_ITEM_PK_LEN + 1];
	sodium_bin2hex(pk, sizeof pk, it->pk, DHT_ITEM_PK_LEN);
	printf("VALUE %.*s ttl %u seq %llu writer %s\n", (int)it->vlen, (const char *)it->value,
	       m->u.value.ttl_s, (unsigned long long)it->seq, pk);
}

static void print_answer(const struct att *a, const struct dht_msg *m)
{
	char s[ADDR_STR_MAX];
	switch (m->type) {
	case DHT_STORED:
		printf("STORED %s\n", dht_status_str(m->u.stored.status));
		break;
	case DHT_VALUE:
		if (m->u.value.status == DHT_OK)
			print_value(m);
		else
			printf("VALUE %s\n", dht_status_str(m->u.value.status));
		break;
	case DHT_PEERS:
		printf("PEERS");
		for (unsigned i = 0; i < m->u.peers.npeers; i++) {
			addr_format(&m->u.peers.peers[i], s);
			printf(" %s", s);
		}
		printf("\n");
		break;
	case DHT_NEIGH:
		printf("NEIGH succ %u\n", m->u.neigh.nsucc);
		break;
	case DHT_ERROR:
		printf("ERROR %u\n", m->u.error.code);
		break;
	default:
		printf("%s\n", dht_msg_type_str(m->type));
	}
	(void)a;
}

static void key_of(const struct att *a, const char *name, struct dht_id *out)
{
	id_from_key(out, name, strlen(name), a->bits);
}

/* Our value VALUE under KEY into *IT (VALUE stays the caller's), signed as the options say. */
static void make_item(const struct att *a, const struct dht_id *key, const char *value,
		      uint8_t flags, struct dht_item *it)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	memset(it, 0, sizeof *it);
	it->flags = flags;
	it->value = (const uint8_t *)value;
	it->vlen = (uint16_t)strlen(value);
	it->seq = a->seq ? a->seq
			 : (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
	item_sign(it, key, a->sk);
	if (a->claim)
		memcpy(it->pk, a->claim_pk, DHT_ITEM_PK_LEN);
	if (a->forge)
		it->sig[0] ^= 1;
}

static void make_put(const struct att *a, const char *key, const char *value, uint8_t flags,
		     struct dht_msg *m)
{
	m->type = DHT_PUT;
	key_of(a, key, &m->u.put.key);
	make_item(a, &m->u.put.key, value, flags, &m->u.put.item);
	m->u.put.has_cas = a->has_cas;
	m->u.put.cas = a->cas;
}

/* Build the request for COMMAND ARGV into *M; return false if COMMAND is no request. */
static bool build(struct att *a, int argc, char **argv, struct dht_msg *m)
{
	const char *c = argv[0];
	memset(m, 0, sizeof *m);
	if (strcmp(c, "ping") == 0 || strcmp(c, "neigh") == 0 || strcmp(c, "join") == 0) {
		m->type = c[0] == 'p' ? DHT_PING : c[0] == 'n' ? DHT_GET_NEIGH : DHT_JOIN;
	} else if (strcmp(c, "put") == 0 && argc >= 3) {
		make_put(a, argv[1], argv[2], 0, m);
		m->u.put.ttl_s = argc >= 4 ? (uint32_t)strtoul(argv[3], NULL, 10) : 0;
	} else if (strcmp(c, "delete") == 0 && argc >= 2) {
		make_put(a, argv[1], "", DHT_ITEM_TOMBSTONE, m);
	} else if (strcmp(c, "get") == 0 && argc >= 2) {
		m->type = DHT_GET;
		key_of(a, argv[1], &m->u.get.key);
		m->u.get.index = argc >= 3 ? (uint8_t)strtoul(argv[2], NULL, 10) : 0;
	} else if (strcmp(c, "announce") == 0 && argc >= 3) {
		m->type = DHT_ANNOUNCE;
		key_of(a, argv[1], &m->u.announce.key);
		if (addr_parse(argv[2], &m->u.announce.peer) != 0)
			return false;
		m->u.announce.ttl_s = argc >= 4 ? (uint32_t)strtoul(argv[3], NULL, 10) : 0;
	} else if (strcmp(c, "peers") == 0 && argc >= 2) {
		m->type = DHT_GET_PEERS;
		key_of(a, argv[1], &m->u.get_peers.key);
		m->u.get_peers.max = DHT_MAX_PEERS;
	} else if (strcmp(c, "find") == 0 && argc >= 2) {
		m->type = DHT_FIND;
		key_of(a, argv[1], &m->u.find.key);
	} else {
		return false;
	}
	return true;
}

static int run_request(struct att *a, int argc, char **argv)
{
	struct dht_msg m, out;
	uint8_t buf[DHT_MSG_MAX];
	if (!build(a, argc, argv, &m)) {
		usage(stderr);
		return 2;
	}
	if (!request(a, &m, &out, buf)) {
		puts("TIMEOUT");
		return 1;
	}
	print_answer(a, &out);
	return 0;
}

static int run_notice(struct att *a, int argc, char **argv)
{
	struct dht_msg m;
	memset(&m, 0, sizeof m);
	if (strcmp(argv[0], "replicate") == 0) {
		if (argc < 4) {
			usage(stderr);
			return 2;
		}
		m.type = DHT_REPLICATE;
		m.u.repl.n = 1;
		key_of(a, argv[1], &m.u.repl.e[0].key);
		m.u.repl.e[0].kind = DHT_ENTRY_VALUE;
		make_item(a, &m.u.repl.e[0].key, argv[2], 0, &m.u.repl.e[0].item);
		m.u.repl.e[0].ttl_ms = (uint32_t)strtoul(argv[3], NULL, 10);
	} else {
		m.type = strcmp(argv[0], "notify") == 0 ? DHT_NOTIFY : DHT_LEAVE;
	}
	notice(a, &m);
	return 0;
}

static int run_flood(struct att *a, int argc, char **argv)
{
	unsigned n = argc >= 2 ? (unsigned)strtoul(argv[1], NULL, 10) : 100, ok = 0;
	char ttl[16], key[32], value[DHT_MAX_VALUE + 1];
	snprintf(ttl, sizeof ttl, "%s", argc >= 3 ? argv[2] : "0");
	memset(value, 'x', DHT_MAX_VALUE);
	value[DHT_MAX_VALUE] = 0;
	for (unsigned i = 0; i < n; i++) {
		snprintf(key, sizeof key, "flood-%u-%u", (unsigned)getpid(), i);
		char *args[] = { "put", key, value, ttl };
		struct dht_msg m, out;
		uint8_t buf[DHT_MSG_MAX];
		build(a, 4, args, &m);
		ok += request(a, &m, &out, buf) && out.type == DHT_STORED &&
		      out.u.stored.status == DHT_OK;
	}
	printf("stored %u of %u\n", ok, n);
	return 0;
}

static int run_collide(struct att *a, int argc, char **argv)
{
	unsigned n = argc >= 2 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000, ok = 0;
	for (unsigned i = 0; i < n; i++) {
		struct dht_msg m, out;
		uint8_t buf[DHT_MSG_MAX];
		memset(&m, 0, sizeof m);
		m.type = DHT_PUT;
		memset(m.u.put.key.b, 0x5a, ID_BYTES);
		m.u.put.key.b[0] = 0;
		for (int b = 0; b < 4; b++)
			m.u.put.key.b[2 + b] = (uint8_t)(i >> (8 * b));
		m.u.put.ttl_s = 60;
		make_item(a, &m.u.put.key, "c", 0, &m.u.put.item);
		ok += request(a, &m, &out, buf) && out.type == DHT_STORED &&
		      out.u.stored.status == DHT_OK;
	}
	printf("collided %u of %u\n", ok, n);
	return 0;
}

/* Count the PONGs to our burst (txids FIRST..LAST) that arrive within TIMEOUT_MS of each other. */
static unsigned drain(struct att *a, uint32_t first, uint32_t last, int timeout_ms)
{
	unsigned got = 0;
	uint8_t buf[DHT_MSG_MAX];
	struct dht_msg out;
	struct pollfd p = { .fd = a->fd, .events = POLLIN };
	while (poll(&p, 1, timeout_ms) == 1) {
		ssize_t len = recv_msg(a, buf);
		if (len > 0 && dht_msg_decode(&out, buf, (size_t)len, a->bits) == DHT_DECODE_OK &&
		    out.type == DHT_PONG && out.txid >= first && out.txid <= last)
			got++;
	}
	return got;
}

/* N PINGs back to back (after one exchange for the token), then count the PONGs; answers are
 * read between chunks, so that our own socket buffer does not drop them. */
static int run_burst(struct att *a, int argc, char **argv)
{
	unsigned n = argc >= 2 ? (unsigned)strtoul(argv[1], NULL, 10) : 1000, got = 0;
	struct dht_msg m = { .type = DHT_PING }, out;
	uint8_t buf[DHT_MSG_MAX];
	if (!request(a, &m, &out, buf))
		return puts("TIMEOUT"), 1;
	uint32_t first = a->txid + 1, last = a->txid + n;
	for (unsigned i = 0; i < n; i++) {
		m.txid = ++a->txid;
		send_msg(a, &m, false);
		if (i % 50 == 49)
			got += drain(a, first, last, 0);
	}
	got += drain(a, first, last, a->timeout_ms);
	printf("answered %u of %u\n", got, n);
	return 0;
}

static int run_size(struct att *a, int argc, char **argv)
{
	struct dht_msg m, out;
	uint8_t buf[DHT_MSG_MAX];
	if (argc < 2 || !build(a, argc - 1, argv + 1, &m)) {
		usage(stderr);
		return 2;
	}
	a->no_token = true;
	m.txid = ++a->txid;
	send_msg(a, &m, false);
	wait_answer(a, m.txid, &out, buf);
	printf("request %zu reply %zu\n", a->last_req, a->last_reply);
	return 0;
}

/* capture KEY FILE: the owner's first value under KEY, as the datagram it came in. */
static int run_capture(struct att *a, int argc, char **argv)
{
	struct dht_msg m, out;
	uint8_t buf[DHT_MSG_MAX];
	char *get[] = { "get", argc >= 3 ? argv[1] : "" };
	if (argc < 3 || !build(a, 2, get, &m))
		return usage(stderr), 2;
	if (!request(a, &m, &out, buf) || out.type != DHT_VALUE || out.u.value.status != DHT_OK)
		return puts("NOT CAPTURED"), 1;
	FILE *f = fopen(argv[2], "wb");
	if (f == NULL || fwrite(buf, 1, a->last_reply, f) != a->last_reply || fclose(f) != 0)
		return perror(argv[2]), 2;
	print_value(&out);
	return 0;
}

/* replay KEY FILE, replay-push KEY FILE: send the value a capture saved, unchanged. */
static int run_replay(struct att *a, int argc, char **argv)
{
	uint8_t saved[DHT_MSG_MAX], buf[DHT_MSG_MAX];
	struct dht_msg cap, m, out;
	FILE *f = argc >= 3 ? fopen(argv[2], "rb") : NULL;
	size_t len = f ? fread(saved, 1, sizeof saved, f) : 0;
	if (f)
		fclose(f);
	if (len == 0 || dht_msg_decode(&cap, saved, len, a->bits) != DHT_DECODE_OK ||
	    cap.type != DHT_VALUE || cap.u.value.status != DHT_OK)
		return fprintf(stderr, "dhtattack: no captured value in that file\n"), 2;
	memset(&m, 0, sizeof m);
	if (strcmp(argv[0], "replay-push") == 0) {
		m.type = DHT_REPLICATE;
		m.u.repl.n = 1;
		key_of(a, argv[1], &m.u.repl.e[0].key);
		m.u.repl.e[0].kind = DHT_ENTRY_VALUE;
		m.u.repl.e[0].ttl_ms = 3600 * 1000;
		m.u.repl.e[0].item = cap.u.value.item;
		notice(a, &m);
		return 0;
	}
	m.type = DHT_PUT;
	key_of(a, argv[1], &m.u.put.key);
	m.u.put.item = cap.u.value.item;
	if (!request(a, &m, &out, buf))
		return puts("TIMEOUT"), 1;
	print_answer(a, &out);
	return 0;
}

/* The options about our values; -1 if C is none of them or its argument is bad. */
static int parse_writer_opt(struct att *a, int c, const char **seed)
{
	size_t got = 0;
	switch (c) {
	case 'W':
		*seed = optarg;
		return 0;
	case 's':
		a->seq = strtoull(optarg, NULL, 10);
		return 0;
	case 'F':
		a->forge = true;
		return 0;
	case 'a':
		a->has_cas = true;
		a->cas = strtoull(optarg, NULL, 10);
		return 0;
	case 'C':
		a->claim = true;
		return sodium_hex2bin(a->claim_pk, DHT_ITEM_PK_LEN, optarg, strlen(optarg), NULL,
				      &got, NULL) == 0 && got == DHT_ITEM_PK_LEN ? 0 : -1;
	default:
		return -1;
	}
}

/* Answer a PROVE from FROM with our key's signature over the claim it names. */
static void prove(struct att *a, const struct dht_msg *m, const struct dht_addr *from)
{
	struct idproof_claim c = { .bits = a->bits, .challenger = *from,
				   .prover = { .id = a->id, .addr = a->from } };
	memcpy(c.nonce, m->u.prove.nonce, sizeof c.nonce);
	struct dht_msg p;
	memset(&p, 0, sizeof p);
	p.type = DHT_PROOF;
	p.txid = m->txid;
	memcpy(p.u.proof.pk, a->node_pk, sizeof p.u.proof.pk);
	if (idproof_sign(&c, a->node_sk, p.u.proof.sig) == 0)
		send_to(a, from, &p, false);
}

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static int run_claim(struct att *a, int argc, char **argv)
{
	if (argc < 2 || a->seal != NULL) {
		usage(stderr);
		return 2;
	}
	uint64_t end = now_ms() + 1000 * strtoull(argv[1], NULL, 10), next = 0;
	struct dht_msg m = { .type = DHT_PING }, in;
	uint8_t buf[DHT_MSG_MAX];
	request(a, &m, &in, buf); /* a token, as an honest node gets one */
	memset(&m, 0, sizeof m);
	m.type = DHT_JOIN;
	m.txid = ++a->txid;
	uint32_t join_txid = m.txid;
	send_msg(a, &m, false);
	char join[32] = "none", hex[ID_HEX_MAX];
	unsigned proofs = 0;
	id_to_hex(&a->id, a->bits, hex);
	printf("id %s\n", hex);
	fflush(stdout);
	for (uint64_t t = now_ms(); t < end; t = now_ms()) {
		if (t >= next) {
			struct dht_msg n = { .type = DHT_NOTIFY };
			send_msg(a, &n, false);
			next = t + 200;
		}
		struct pollfd p = { .fd = a->fd, .events = POLLIN };
		if (poll(&p, 1, 50) != 1)
			continue;
		struct sockaddr_storage ss;
		socklen_t sl = sizeof ss;
		struct dht_addr src;
		ssize_t len = recvfrom(a->fd, buf, sizeof buf, 0, (struct sockaddr *)&ss, &sl);
		if (len <= 0 || addr_from_sockaddr((struct sockaddr *)&ss, sl, &src) != 0 ||
		    dht_msg_decode(&in, buf, (size_t)len, a->bits) != DHT_DECODE_OK)
			continue;
		if (in.type == DHT_PROVE) {
			proofs++;
			prove(a, &in, &src);
		} else if (in.txid == join_txid && in.type == DHT_ERROR) {
			snprintf(join, sizeof join, "ERROR %u", in.u.error.code);
		} else if (in.txid == join_txid) {
			snprintf(join, sizeof join, "%s", dht_msg_type_str(in.type));
		}
	}
	printf("join %s, proofs asked %u\n", join, proofs);
	return 0;
}

/* --grind LO:HI: draw keys until one's id lies in (LO, HI); it becomes our id. */
static int grind(struct att *a, const char *range)
{
	char lo_hex[64];
	const char *colon = strchr(range, ':');
	struct dht_id lo, hi;
	if (colon == NULL || (size_t)(colon - range) >= sizeof lo_hex)
		return -1;
	memcpy(lo_hex, range, (size_t)(colon - range));
	lo_hex[colon - range] = '\0';
	if (id_from_hex(&lo, lo_hex, a->bits) != 0 || id_from_hex(&hi, colon + 1, a->bits) != 0)
		return -1;
	for (long tries = 0; tries < (1L << 24); tries++) {
		crypto_sign_keypair(a->node_pk, a->node_sk);
		id_from_key(&a->id, a->node_pk, sizeof a->node_pk, a->bits);
		if (id_in_oo(&a->id, &lo, &hi))
			return 0;
	}
	return -1;
}

/* Seal as a member with the key in FILE, sending from FROM. */
static int start_sealing(struct att *a, const char *file, const struct dht_addr *from)
{
	struct netkey k;
	char err[512] = "libsodium failed to initialise";
	uint8_t key[SEAL_KEY_LEN], tag[NETKEY_TAG_LEN], boot[SEAL_BOOT_LEN];
	if (sodium_init() < 0 || netkey_load(file, &k, err, sizeof err) != 0) {
		fprintf(stderr, "dhtattack: %s\n", err);
		return -1;
	}
	netkey_derive(&k, NETKEY_DATAGRAM, key, sizeof key);
	netkey_tag(&k, tag);
	netkey_wipe(&k);
	randombytes_buf(boot, sizeof boot);
	a->seal = seal_new(key, tag, boot);
	sodium_memzero(key, sizeof key);
	udp_seal_name(from, &a->me);
	return a->seal != NULL ? 0 : -1;
}

/* Our writer key: derived from the text SEED, or from the --from address in ARGV. */
static void writer_key(struct att *a, const char *seed, int argc, char **argv)
{
	uint8_t s[crypto_sign_SEEDBYTES];
	const char *text = seed ? seed : argv[0];
	for (int k = 1; seed == NULL && k < argc; k++)
		if (strcmp(argv[k], "--from") == 0 && k + 1 < argc)
			text = argv[k + 1];
	crypto_generichash(s, sizeof s, (const uint8_t *)text, strlen(text), NULL, 0);
	crypto_sign_seed_keypair(a->pk, a->sk, s);
}

static int parse_args(struct att *a, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' }, { "to", required_argument, NULL, 't' },
		{ "bits", required_argument, NULL, 'b' }, { "id", required_argument, NULL, 'i' },
		{ "no-token", no_argument, NULL, 'n' }, { "count", required_argument, NULL, 'c' },
		{ "timeout-ms", required_argument, NULL, 'w' }, { "help", no_argument, NULL, 'h' },
		{ "network-key", required_argument, NULL, 'k' }, { "grind", required_argument, NULL, 'g' },
		{ "writer-seed", required_argument, NULL, 'W' }, { "seq", required_argument, NULL, 's' },
		{ "forge", no_argument, NULL, 'F' }, { "claim", required_argument, NULL, 'C' },
		{ "cas", required_argument, NULL, 'a' }, { 0, 0, 0, 0 } };
	struct dht_addr from = { 0 };
	const char *id_hex = NULL, *key_file = NULL, *seed = NULL, *range = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
		if (c == 'f' && addr_parse(optarg, &from) == 0)
			continue;
		if (c == 't' && addr_parse(optarg, &a->to) == 0)
			continue;
		if (c == 'b')
			a->bits = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'i')
			id_hex = optarg;
		else if (c == 'n')
			a->no_token = true;
		else if (c == 'w')
			a->timeout_ms = atoi(optarg);
		else if (c == 'c')
			a->count = (unsigned)strtoul(optarg, NULL, 10);
		else if (c == 'k')
			key_file = optarg;
		else if (c == 'g')
			range = optarg;
		else if (c == 'h')
			usage(stdout), exit(0);
		else if (parse_writer_opt(a, c, &seed) != 0)
			return -1;
	}
	writer_key(a, seed, argc, argv);
	if (from.family == 0 || a->to.family == 0 || !id_bits_valid(a->bits) || optind >= argc)
		return -1;
	if (id_hex && id_from_hex(&a->id, id_hex, a->bits) != 0)
		return -1;
	if (id_hex == NULL)
		id_from_u64(&a->id, (uint64_t)time(NULL) * 2654435761u ^ (uint64_t)getpid(), a->bits);
	if (sodium_init() < 0)
		exit(2);
	crypto_sign_keypair(a->node_pk, a->node_sk);
	if (range != NULL && grind(a, range) != 0)
		return -1;
	a->from = from;
	a->fd = open_socket(&from);
	if (key_file != NULL && start_sealing(a, key_file, &from) != 0)
		exit(2);
	return optind;
}

static int run(struct att *a, int ac, char **av)
{
	if (strcmp(av[0], "notify") == 0 || strcmp(av[0], "leave") == 0 ||
	    strcmp(av[0], "replicate") == 0)
		return run_notice(a, ac, av);
	if (strcmp(av[0], "flood-put") == 0)
		return run_flood(a, ac, av);
	if (strcmp(av[0], "burst") == 0)
		return run_burst(a, ac, av);
	if (strcmp(av[0], "collide") == 0)
		return run_collide(a, ac, av);
	if (strcmp(av[0], "size") == 0)
		return run_size(a, ac, av);
	if (strcmp(av[0], "capture") == 0)
		return run_capture(a, ac, av);
	if (strcmp(av[0], "replay") == 0 || strcmp(av[0], "replay-push") == 0)
		return run_replay(a, ac, av);
	if (strcmp(av[0], "pk") == 0) {
		char hex[2 * DHT_ITEM_PK_LEN + 1];
		puts(sodium_bin2hex(hex, sizeof hex, a->pk, DHT_ITEM_PK_LEN));
		return 0;
	}
	if (strcmp(av[0], "claim") == 0)
		return run_claim(a, ac, av);
	return run_request(a, ac, av);
}

int main(int argc, char **argv)
{
	struct att a = { .bits = 160, .timeout_ms = 1000, .count = 1 };
	int i = parse_args(&a, argc, argv);
	if (i < 0) {
		usage(stderr);
		return 2;
	}
	a.txid = (uint32_t)getpid() << 8;
	int rc = run(&a, argc - i, argv + i);
	seal_free(a.seal);
	return rc;
}
