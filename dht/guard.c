/* Address tokens and per-IP rate limits for the request layer (see guard.h).
 *
 * A token is the first DHT_TOKEN_LEN bytes of a keyed BLAKE2b (libsodium's generic hash) of
 * the address family and IP; the port is left out, as in BEP 5, so that a node's token holds
 * for every port it sends from. Tokens under the previous secret are still taken, so a token
 * given just before a rotation stays good for at least GUARD_ROTATE_US.
 *
 * The tables are small arrays searched linearly: a few hundred entries compared per datagram
 * cost less than the datagram's decoding, and a full table evicts its least recently used entry,
 * so an attacker with many addresses only ever makes us forget, never grow. */
#include "dht/guard.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define LEARNED_MAX 512
#define BUCKETS_MAX 1024

struct learned {
	struct dht_addr addr;
	uint8_t token[DHT_TOKEN_LEN];
	uint64_t used;
};

struct bucket {
	struct dht_addr ip; /* the port is 0 */
	uint64_t level;     /* datagrams times 1e6, so that refills need no division remainder */
	uint64_t last;
};

struct guard {
	uint8_t secret[2][GUARD_SECRET_LEN]; /* current, previous */
	uint64_t rotated;
	uint32_t rate, burst;
	size_t nlearned, nbuckets;
	struct learned learned[LEARNED_MAX];
	struct bucket buckets[BUCKETS_MAX];
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
	return g;
}

void guard_free(struct guard *g)
{
	if (g == NULL)
		return;
	sodium_memzero(g->secret, sizeof g->secret);
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

static struct learned *learned_find(const struct guard *g, const struct dht_addr *a)
{
	for (size_t i = 0; i < g->nlearned; i++)
		if (dht_addr_eq(&g->learned[i].addr, a))
			return (struct learned *)&g->learned[i];
	return NULL;
}

void guard_learn(struct guard *g, const struct dht_addr *a, const uint8_t token[DHT_TOKEN_LEN],
		 uint64_t now)
{
	struct learned *l = learned_find(g, a);
	if (l == NULL && g->nlearned < LEARNED_MAX) {
		l = &g->learned[g->nlearned++];
	} else if (l == NULL) {
		l = &g->learned[0];
		for (size_t i = 1; i < g->nlearned; i++)
			if (g->learned[i].used < l->used)
				l = &g->learned[i];
	}
	l->addr = *a;
	memcpy(l->token, token, DHT_TOKEN_LEN);
	l->used = now;
}

bool guard_echo(const struct guard *g, const struct dht_addr *a, uint8_t out[DHT_TOKEN_LEN])
{
	const struct learned *l = learned_find(g, a);
	if (l)
		memcpy(out, l->token, DHT_TOKEN_LEN);
	return l != NULL;
}

static struct bucket *bucket_for(struct guard *g, const struct dht_addr *a, uint64_t now)
{
	struct dht_addr ip = ip_of(a);
	struct bucket *oldest = NULL;
	for (size_t i = 0; i < g->nbuckets; i++) {
		struct bucket *b = &g->buckets[i];
		if (dht_addr_eq(&b->ip, &ip))
			return b;
		if (oldest == NULL || b->last < oldest->last)
			oldest = b;
	}
	struct bucket *b = g->nbuckets < BUCKETS_MAX ? &g->buckets[g->nbuckets++] : oldest;
	b->ip = ip;
	b->level = (uint64_t)g->burst * 1000000;
	b->last = now;
	return b;
}

bool guard_allow(struct guard *g, const struct dht_addr *a, uint64_t now)
{
	struct bucket *b = bucket_for(g, a, now);
	uint64_t full = (uint64_t)g->burst * 1000000;
	uint64_t dt = now > b->last ? now - b->last : 0;
	/* rate datagrams a second: rate * dt(us) millionths of a datagram per microsecond. */
	uint64_t add = dt > full ? full : dt * g->rate;
	b->level = b->level + add > full ? full : b->level + add;
	b->last = now;
	if (b->level < 1000000)
		return false;
	b->level -= 1000000;
	return true;
}
