/* Address tokens and per-IP rate limits for the request layer (see guard.h).
 *
 * A token is the first DHT_TOKEN_LEN bytes of a keyed BLAKE2b (libsodium's generic hash) of
 * the address family and IP; the port is left out, as in BEP 5, so that a node's token holds
 * for every port it sends from. Tokens under the previous secret are still taken, so a token
 * given just before a rotation stays good for at least GUARD_ROTATE_US.
 *
 * The tables are bounded maps (addrmap.c): an attacker with many addresses only ever makes us
 * forget (a token: one more challenge; a bucket: a fresh burst), never grow past the bound. */
#include "dht/guard.h"

#include "dht/addrmap.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define LEARNED_MAX 1024
#define BUCKETS_MAX 4096

struct learned {
	uint8_t token[DHT_TOKEN_LEN];
};

struct bucket {
	uint64_t level; /* datagrams times 1e6, so that refills need no division remainder */
	uint64_t last;
};

struct guard {
	uint8_t secret[2][GUARD_SECRET_LEN]; /* current, previous */
	uint64_t rotated;
	uint32_t rate, burst;
	struct addrmap *learned; /* by address: the token that node gave us */
	struct addrmap *buckets; /* by IP (port 0) */
};

struct guard *guard_new(uint32_t rate, uint32_t burst, const uint8_t secret[GUARD_SECRET_LEN])
{
	struct guard *g = calloc(1, sizeof *g);
	if (g == NULL)
		return NULL;
	g->rate = rate;
	g->burst = burst;
	memcpy(g->secret[0], secret, GUARD_SECRET_LEN);
	memcpy(g->secret[1], secret, GUARD_SECRET_LEN);
	uint64_t seed;
	memcpy(&seed, secret, sizeof seed);
	g->learned = addrmap_new(sizeof(struct learned), LEARNED_MAX, seed);
	g->buckets = addrmap_new(sizeof(struct bucket), BUCKETS_MAX, ~seed);
	if (g->learned == NULL || g->buckets == NULL) {
		guard_free(g);
		return NULL;
	}
	return g;
}

void guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	sodium_memzero(g->secret, sizeof g->secret);
	addrmap_free(g->learned);
	addrmap_free(g->buckets);
	free(g);
}

bool guard_rotate_due(const struct guard *g, uint64_t now)
{
	return now - g->rotated >= GUARD_ROTATE_US;
}

void guard_rotate(struct guard *g, uint64_t now, const uint8_t secret[GUARD_SECRET_LEN])
{
	memcpy(g->secret[1], g->secret[0], GUARD_SECRET_LEN);
	memcpy(g->secret[0], secret, GUARD_SECRET_LEN);
	g->rotated = now;
}

/* The address with its port cleared, and only the bytes its family uses. */
static struct dht_addr ip_of(const struct dht_addr *a)
{
	struct dht_addr ip;
	memset(&ip, 0, sizeof ip);
	ip.family = a->family;
	memcpy(ip.ip, a->ip, a->family == 4 ? 4 : a->family == 6 ? 16 : 0);
	return ip;
}

/* The address with only the bytes its family uses: the key of the tables. */
static struct dht_addr norm(const struct dht_addr *a)
{
	struct dht_addr n = ip_of(a);
	n.port = a->port;
	return n;
}

static void token_under(const uint8_t *secret, const struct dht_addr *a,
			uint8_t out[DHT_TOKEN_LEN])
{
	struct dht_addr ip = ip_of(a);
	uint8_t in[17], h[crypto_generichash_BYTES_MIN];
	in[0] = ip.family;
	memcpy(in + 1, ip.ip, 16);
	crypto_generichash(h, sizeof h, in, sizeof in, secret, GUARD_SECRET_LEN);
	memcpy(out, h, DHT_TOKEN_LEN);
}

void guard_token(const struct guard *g, const struct dht_addr *a, uint8_t out[DHT_TOKEN_LEN])
{
	token_under(g->secret[0], a, out);
}

bool guard_token_ok(const struct guard *g, const struct dht_addr *a,
		    const uint8_t token[DHT_TOKEN_LEN])
{
	uint8_t t[DHT_TOKEN_LEN];
	for (int i = 0; i < 2; i++) {
		token_under(g->secret[i], a, t);
		if (sodium_memcmp(t, token, DHT_TOKEN_LEN) == 0)
			return true;
	}
	return false;
}

void guard_learn(struct guard *g, const struct dht_addr *a, const uint8_t token[DHT_TOKEN_LEN],
		 uint64_t now)
{
	struct dht_addr k = norm(a);
	bool added;
	struct learned *l = addrmap_put(g->learned, &k, now, &added);
	if (l)
		memcpy(l->token, token, DHT_TOKEN_LEN);
}

bool guard_echo(struct guard *g, const struct dht_addr *a, uint8_t out[DHT_TOKEN_LEN],
		uint64_t now)
{
	struct dht_addr k = norm(a);
	const struct learned *l = addrmap_get(g->learned, &k, now);
	if (l)
		memcpy(out, l->token, DHT_TOKEN_LEN);
	return l != NULL;
}

bool guard_allow(struct guard *g, const struct dht_addr *a, uint64_t now)
{
	struct dht_addr ip = ip_of(a);
	bool added;
	struct bucket *b = addrmap_put(g->buckets, &ip, now, &added);
	if (b == NULL)
		return true; /* no memory for a bucket yet: not the sender's fault */
	uint64_t full = (uint64_t)g->burst * 1000000;
	if (added) {
		b->level = full;
		b->last = now;
	}
	uint64_t dt = now > b->last ? now - b->last : 0;
	/* RATE datagrams a second is RATE millionths of a datagram a microsecond. */
	uint64_t add = dt >= full ? full : dt * g->rate;
	b->level = b->level + add > full ? full : b->level + add;
	b->last = now;
	if (b->level < 1000000)
		return false;
	b->level -= 1000000;
	return true;
}
