/* The local store: an open-addressing hash table of entries keyed by id. Keys come from the
 * network, so anyone may choose them: a slot is a keyed hash (BLAKE2b under a key of the store's
 * own) of the whole id, so that nobody can make keys collide. Deletion uses backward shifting (no
 * tombstones), so lookups stay short however many keys come and go. Expiry sweeps a slice of
 * the table per call, so that no call does work in proportion to the whole store.
 * Not here: replication and ownership (kv.c decides who should hold what). */
#include "dht/store.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* What one entry costs beyond its bytes, for the size limit: the table slot, the allocation. */
#define ENTRY_OVERHEAD 64

/* What one announced peer costs its IP's quota: its record, and a share of an entry. */
#define PEER_COST (sizeof(struct store_peer) + ENTRY_OVERHEAD)
/* Writers' usage is counted in this many buckets, an IP's chosen by the keyed hash: two IPs may
 * share one (and its quota), but nobody can choose whom they share with, and the table is
 * bounded however many addresses write. */
#define USAGE_BUCKETS 4096

/* Slots store_expire() visits in one call, at least (an eighth of the table if that is more). */
#define EXPIRE_SLICE 4096

struct store {
	struct store_entry **slots;
	size_t cap, count, bytes, max_bytes;
	unsigned max_peers;
	size_t expire_at; /* where the next expiry sweep goes on */
	size_t quota;     /* bytes one writer's IP may hold (0: no limit) */
	uint8_t hash_key[STORE_HASH_KEY_LEN];
	/* Bytes held per writer IP bucket, under a quota; allocated when first needed (32 KiB,
	 * which the simulator's thousands of nodes, storing nothing, do without). */
	size_t *usage;
};

struct store *store_new(size_t max_bytes, unsigned max_peers, size_t quota,
			const uint8_t hash_key[STORE_HASH_KEY_LEN])
{
	struct store *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->cap = 64;
	s->slots = calloc(s->cap, sizeof *s->slots);
	if (s->slots == NULL) {
		free(s);
		return NULL;
	}
	s->max_bytes = max_bytes;
	s->max_peers = max_peers;
	s->quota = quota;
	memcpy(s->hash_key, hash_key, STORE_HASH_KEY_LEN);
	return s;
}

static void entry_free(struct store_entry *e)
{
	free(e->value);
	free(e->peers);
	free(e);
}

void store_free(struct store *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			entry_free(s->slots[i]);
	free(s->slots);
	free(s->usage);
	free(s);
}

static uint64_t keyed_hash(const struct store *s, const void *in, size_t len)
{
	uint8_t h[crypto_generichash_BYTES_MIN];
	crypto_generichash(h, sizeof h, in, len, s->hash_key, STORE_HASH_KEY_LEN);
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | h[i];
	return v;
}

static size_t slot_of(const struct store *s, const struct dht_id *key)
{
	return (size_t)keyed_hash(s, key->b, ID_BYTES) & (s->cap - 1);
}

/* --- writers' quotas ------------------------------------------------------------------------ */

static size_t *usage_of(struct store *s, const struct dht_addr *a)
{
	uint8_t in[17] = { a->family };
	memcpy(in + 1, a->ip, a->family == 4 ? 4 : a->family == 6 ? 16 : 0);
	return &s->usage[keyed_hash(s, in, sizeof in) % USAGE_BUCKETS];
}

/* The usage table: NULL without a quota (nothing to count) or without memory. */
static bool usage_table(struct store *s)
{
	if (s->usage == NULL && s->quota != 0)
		s->usage = calloc(USAGE_BUCKETS, sizeof *s->usage);
	return s->usage != NULL;
}

/* May A's IP hold BYTES more? Without memory to count it, no. */
static bool quota_room(struct store *s, const struct dht_addr *a, size_t bytes)
{
	if (s->quota == 0)
		return true;
	return usage_table(s) && *usage_of(s, a) + bytes <= s->quota;
}

static void usage_add(struct store *s, const struct dht_addr *a, size_t bytes)
{
	if (usage_table(s))
		*usage_of(s, a) += bytes;
}

static void usage_sub(struct store *s, const struct dht_addr *a, size_t bytes)
{
	if (s->usage == NULL)
		return;
	size_t *u = usage_of(s, a);
	*u = *u > bytes ? *u - bytes : 0;
}

/* What E's value costs its writer (0 without a value or a known writer). */
static size_t value_cost(const struct store_entry *e)
{
	return e->value && e->writer.family != 0 ? ENTRY_OVERHEAD + e->vlen : 0;
}

static size_t find_slot(const struct store *s, const struct dht_id *key)
{
	size_t i = slot_of(s, key);
	while (s->slots[i] && !id_eq(&s->slots[i]->key, key))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int grow(struct store *s)
{
	size_t ncap = s->cap * 2;
	struct store_entry **old = s->slots, **ns = calloc(ncap, sizeof *ns);
	if (ns == NULL)
		return -1;
	size_t ocap = s->cap;
	s->slots = ns;
	s->cap = ncap;
	for (size_t i = 0; i < ocap; i++)
		if (old[i])
			s->slots[find_slot(s, &old[i]->key)] = old[i];
	free(old);
	return 0;
}

static size_t entry_bytes(const struct store_entry *e)
{
	return ENTRY_OVERHEAD + e->vlen + e->npeers * sizeof(struct store_peer);
}

/* Remove the entry in slot I, shifting later members of its cluster back into place. */
static void remove_slot(struct store *s, size_t i)
{
	const struct store_entry *e = s->slots[i];
	usage_sub(s, &e->writer, value_cost(e));
	for (size_t k = 0; k < e->npeers; k++)
		usage_sub(s, &e->peers[k].addr, PEER_COST);
	s->bytes -= entry_bytes(s->slots[i]);
	entry_free(s->slots[i]);
	s->slots[i] = NULL;
	s->count--;
	size_t j = i;
	for (;;) {
		j = (j + 1) & (s->cap - 1);
		if (s->slots[j] == NULL)
			return;
		size_t home = slot_of(s, &s->slots[j]->key);
		/* Move J back to the hole unless its home lies cyclically in (i, j]. */
		bool stays = i <= j ? (home > i && home <= j) : (home > i || home <= j);
		if (!stays) {
			s->slots[i] = s->slots[j];
			s->slots[j] = NULL;
			i = j;
		}
	}
}

/* Return KEY's entry, creating an empty one if there is none. */
static struct store_entry *entry_for(struct store *s, const struct dht_id *key,
				     enum store_result *res)
{
	size_t i = find_slot(s, key);
	if (s->slots[i]) {
		*res = STORE_OK;
		return s->slots[i];
	}
	if (s->bytes + ENTRY_OVERHEAD > s->max_bytes) {
		*res = STORE_FULL;
		return NULL;
	}
	if ((s->count + 1) * 4 > s->cap * 3) {
		if (grow(s) != 0) {
			*res = STORE_NO_MEMORY;
			return NULL;
		}
		i = find_slot(s, key);
	}
	struct store_entry *e = calloc(1, sizeof *e);
	if (e == NULL) {
		*res = STORE_NO_MEMORY;
		return NULL;
	}
	e->key = *key;
	s->slots[i] = e;
	s->count++;
	s->bytes += entry_bytes(e);
	*res = STORE_OK;
	return e;
}

uint64_t store_peers_expire(const struct store_entry *e)
{
	uint64_t t = 0;
	for (size_t i = 0; i < e->npeers; i++)
		if (e->peers[i].expires > t)
			t = e->peers[i].expires;
	return t;
}

/* Set E's expiry to the latest of its parts'. */
static void update_expires(struct store_entry *e)
{
	uint64_t peers = store_peers_expire(e);
	e->expires = e->value && e->value_expires > peers ? e->value_expires : peers;
}

/* Drop the entry of KEY if a failed write left it with nothing in it. */
static void drop_if_empty(struct store *s, const struct store_entry *e)
{
	if (e->value == NULL && e->npeers == 0)
		store_remove(s, &e->key);
}

/* Same IP (the port is left out, as in the address tokens). */
static bool same_ip(const struct dht_addr *a, const struct dht_addr *b)
{
	size_t iplen = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
	return a->family == b->family && memcmp(a->ip, b->ip, iplen) == 0;
}

enum store_result store_put(struct store *s, const struct dht_id *key, const void *value,
			    uint16_t len, uint64_t expires, uint64_t now,
			    const struct dht_addr *writer)
{
	if (len > DHT_MAX_VALUE)
		return STORE_FULL;
	enum store_result res;
	struct store_entry *e = entry_for(s, key, &res);
	if (e == NULL)
		return res;
	if (writer && store_value_live(e, now) && e->writer.family != 0 &&
	    !same_ip(&e->writer, writer))
		return STORE_NOT_WRITER;
	size_t mine = writer && same_ip(&e->writer, writer) ? value_cost(e) : 0;
	if (s->bytes - e->vlen + len > s->max_bytes ||
	    (writer && !quota_room(s, writer, ENTRY_OVERHEAD + len - mine))) {
		drop_if_empty(s, e);
		return STORE_FULL;
	}
	uint8_t *v = malloc(len ? len : 1);
	if (v == NULL) {
		drop_if_empty(s, e);
		return STORE_NO_MEMORY;
	}
	memcpy(v, value, len);
	s->bytes = s->bytes - e->vlen + len;
	usage_sub(s, &e->writer, value_cost(e));
	free(e->value);
	e->value = v;
	e->vlen = len;
	e->value_expires = expires;
	if (writer)
		e->writer = *writer;
	usage_add(s, &e->writer, value_cost(e));
	update_expires(e);
	e->refreshed = now;
	e->offered = false;
	return STORE_OK;
}


bool store_value_live(const struct store_entry *e, uint64_t now)
{
	return e->value != NULL && e->value_expires > now;
}

static struct store_peer *find_peer(struct store_entry *e, const struct dht_addr *a)
{
	for (size_t i = 0; i < e->npeers; i++)
		if (dht_addr_eq(&e->peers[i].addr, a))
			return &e->peers[i];
	return NULL;
}

enum store_result store_announce(struct store *s, const struct dht_id *key,
				 const struct dht_addr *peer, uint64_t expires, uint64_t now,
				 bool client)
{
	enum store_result res;
	struct store_entry *e = entry_for(s, key, &res);
	if (e == NULL)
		return res;
	struct store_peer *p = find_peer(e, peer);
	if (p == NULL) {
		if (e->npeers >= s->max_peers ||
		    s->bytes + sizeof(struct store_peer) > s->max_bytes ||
		    (client && !quota_room(s, peer, PEER_COST))) {
			drop_if_empty(s, e);
			return STORE_FULL;
		}
		if (e->npeers == e->cappeers) {
			size_t cap = e->cappeers ? e->cappeers * 2 : 4;
			struct store_peer *np = realloc(e->peers, cap * sizeof *np);
			if (np == NULL) {
				drop_if_empty(s, e);
				return STORE_NO_MEMORY;
			}
			e->peers = np;
			e->cappeers = cap;
		}
		p = &e->peers[e->npeers++];
		p->addr = *peer;
		s->bytes += sizeof *p;
		usage_add(s, peer, PEER_COST);
	}
	p->expires = expires;
	if (expires > e->expires)
		e->expires = expires;
	e->refreshed = now;
	e->offered = false;
	return STORE_OK;
}

struct store_entry *store_get(struct store *s, const struct dht_id *key, uint64_t now)
{
	struct store_entry *e = s->slots[find_slot(s, key)];
	return e && e->expires > now ? e : NULL;
}

size_t store_peers(struct store *s, const struct dht_id *key, uint64_t now, struct dht_addr *out,
		   size_t max, struct rng *r)
{
	struct store_entry *e = store_get(s, key, now);
	if (e == NULL)
		return 0;
	/* Reservoir sampling over the live peers: uniform whatever their number. */
	size_t seen = 0, n = 0;
	for (size_t i = 0; i < e->npeers; i++) {
		if (e->peers[i].expires <= now)
			continue;
		seen++;
		if (n < max) {
			out[n++] = e->peers[i].addr;
		} else {
			uint64_t j = rng_below(r, seen);
			if (j < max)
				out[j] = e->peers[i].addr;
		}
	}
	return n;
}

void store_remove(struct store *s, const struct dht_id *key)
{
	size_t i = find_slot(s, key);
	if (s->slots[i])
		remove_slot(s, i);
}

/* Drop E's value and peers that are expired at NOW. */
static void expire_parts(struct store *s, struct store_entry *e, uint64_t now)
{
	if (e->value && e->value_expires <= now) {
		s->bytes -= e->vlen;
		usage_sub(s, &e->writer, value_cost(e));
		free(e->value);
		e->value = NULL;
		e->vlen = 0;
	}
	size_t k = 0;
	for (size_t i = 0; i < e->npeers; i++) {
		if (e->peers[i].expires > now)
			e->peers[k++] = e->peers[i];
		else
			usage_sub(s, &e->peers[i].addr, PEER_COST);
	}
	s->bytes -= (e->npeers - k) * sizeof(struct store_peer);
	e->npeers = k;
	update_expires(e);
}

bool store_expire(struct store *s, uint64_t now)
{
	size_t slice = s->cap / 8 > EXPIRE_SLICE ? s->cap / 8 : EXPIRE_SLICE;
	size_t i = s->expire_at < s->cap ? s->expire_at : 0, visited = 0;
	while (i < s->cap && visited < slice) {
		struct store_entry *e = s->slots[i];
		visited++;
		if (e)
			expire_parts(s, e, now);
		if (e && e->expires <= now) {
			/* Removal may shift a later entry into slot I: look at it again. */
			remove_slot(s, i);
			continue;
		}
		i++;
	}
	s->expire_at = i < s->cap ? i : 0;
	return s->expire_at == 0;
}

size_t store_count(const struct store *s)
{
	return s->count;
}

size_t store_longest_run(const struct store *s)
{
	size_t best = 0, run = 0;
	for (size_t i = 0; i < 2 * s->cap; i++) { /* twice round: a run may wrap past the end */
		run = s->slots[i & (s->cap - 1)] ? run + 1 : 0;
		best = run > best ? run : best;
	}
	return best > s->cap ? s->cap : best;
}

size_t store_bytes(const struct store *s)
{
	return s->bytes;
}

void store_foreach(struct store *s, void (*fn)(void *arg, struct store_entry *e), void *arg)
{
	for (size_t i = 0; i < s->cap; i++)
		if (s->slots[i])
			fn(arg, s->slots[i]);
}
