/* The local store: an open-addressing hash table of entries keyed by id. Keys come from the
 * network, so anyone may choose them: a slot is a keyed hash (BLAKE2b under a key of the store's
 * own) of the whole id, so that nobody can make keys collide. Deletion uses backward shifting (no
 * tombstones), so lookups stay short however many keys come and go. Expiry sweeps a slice of
 * the table per call, so that no call does work in proportion to the whole store.
 * Not here: replication and ownership (kv.c decides who should hold what). */
#include "dht/store.h"

#include "dht/item.h"

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
	for (size_t i = 0; i < e->nitems; i++)
		free((void *)e->items[i].item.value);
	free(e->items);
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

static size_t item_cost(const struct store_item *it)
{
	return STORE_ITEM_OVERHEAD + it->item.vlen;
}

/* What IT costs its client's quota (0 for a copy). */
static size_t client_cost(const struct store_item *it)
{
	return it->client.family != 0 ? item_cost(it) : 0;
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
	size_t b = ENTRY_OVERHEAD + e->npeers * sizeof(struct store_peer);
	for (size_t i = 0; i < e->nitems; i++)
		b += item_cost(&e->items[i]);
	return b;
}

/* Remove the entry in slot I, shifting later members of its cluster back into place. */
static void remove_slot(struct store *s, size_t i)
{
	const struct store_entry *e = s->slots[i];
	for (size_t k = 0; k < e->nitems; k++)
		usage_sub(s, &e->items[k].client, client_cost(&e->items[k]));
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

uint64_t store_items_expire(const struct store_entry *e)
{
	uint64_t t = 0;
	for (size_t i = 0; i < e->nitems; i++)
		if (e->items[i].expires > t)
			t = e->items[i].expires;
	return t;
}

/* Set E's expiry to the latest of its parts'. */
static void update_expires(struct store_entry *e)
{
	uint64_t peers = store_peers_expire(e), items = store_items_expire(e);
	e->expires = items > peers ? items : peers;
}

/* Drop the entry of KEY if a failed write left it with nothing in it. */
static void drop_if_empty(struct store *s, const struct store_entry *e)
{
	if (e->nitems == 0 && e->npeers == 0)
		store_remove(s, &e->key);
}

/* Drop E's item I (it expired). */
static void drop_item(struct store *s, struct store_entry *e, size_t i)
{
	struct store_item *it = &e->items[i];
	s->bytes -= item_cost(it);
	usage_sub(s, &it->client, client_cost(it));
	free((void *)it->item.value);
	e->items[i] = e->items[--e->nitems];
}

/* Drop E's values and peers that are expired at NOW. */
static void expire_parts(struct store *s, struct store_entry *e, uint64_t now)
{
	for (size_t i = e->nitems; i-- > 0;)
		if (e->items[i].expires <= now)
			drop_item(s, e, i);
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

/* Same IP (the port is left out, as in the address tokens). */
static bool same_ip(const struct dht_addr *a, const struct dht_addr *b)
{
	size_t iplen = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
	return a->family == b->family && memcmp(a->ip, b->ip, iplen) == 0;
}

static struct store_item *find_item(struct store_entry *e, const uint8_t pk[DHT_ITEM_PK_LEN])
{
	for (size_t i = 0; i < e->nitems; i++)
		if (memcmp(e->items[i].item.pk, pk, DHT_ITEM_PK_LEN) == 0)
			return &e->items[i];
	return NULL;
}

/* May IT take the place of OLD (NULL: the writer has no value here), expecting CAS? */
static enum store_result put_rule(const struct store_item *old, const struct dht_item *it,
				  const uint64_t *cas)
{
	if (cas && (old ? old->item.seq : 0) != *cas)
		return STORE_CAS;
	if (old == NULL || it->seq > old->item.seq)
		return STORE_OK;
	/* Two versions of one seq: both the writer's. The greater signature wins everywhere, so
	 * that nodes that saw them in different orders still agree. */
	if (it->seq == old->item.seq && (item_same(&old->item, it) ||
					  memcmp(it->sig, old->item.sig, DHT_ITEM_SIG_LEN) > 0))
		return STORE_OK;
	return STORE_STALE;
}

/* Is there room for IT in E in place of OLD, for CLIENT? */
static bool put_room(struct store *s, const struct store_entry *e, const struct store_item *old,
		     const struct dht_item *it, const struct dht_addr *client)
{
	size_t add = STORE_ITEM_OVERHEAD + it->vlen, sub = old ? item_cost(old) : 0;
	size_t mine = old && client && same_ip(&old->client, client) ? client_cost(old) : 0;
	if (old == NULL && e->nitems >= STORE_MAX_WRITERS)
		return false;
	if (s->bytes - sub + add > s->max_bytes)
		return false;
	return client == NULL || add <= mine || quota_room(s, client, add - mine);
}

/* Copy IT into E in place of OLD (or a new slot); false if memory runs out. */
static bool put_copy(struct store *s, struct store_entry *e, struct store_item *old,
		     const struct dht_item *it, uint64_t expires, const struct dht_addr *client)
{
	uint8_t *v = malloc(it->vlen ? it->vlen : 1);
	if (v == NULL)
		return false;
	if (e->items == NULL && (e->items = calloc(STORE_MAX_WRITERS, sizeof *e->items)) == NULL) {
		free(v);
		return false;
	}
	if (old) {
		s->bytes -= item_cost(old);
		usage_sub(s, &old->client, client_cost(old));
		free((void *)old->item.value);
	} else {
		old = &e->items[e->nitems++];
	}
	if (it->vlen)
		memcpy(v, it->value, it->vlen);
	old->item = *it;
	old->item.value = v;
	old->expires = expires;
	memset(&old->client, 0, sizeof old->client);
	if (client)
		old->client = *client;
	s->bytes += item_cost(old);
	usage_add(s, &old->client, client_cost(old));
	return true;
}

enum store_result store_put(struct store *s, const struct dht_id *key,
			    const struct dht_item *item, uint64_t expires, uint64_t now,
			    const struct dht_addr *client, const uint64_t *cas)
{
	if (item->vlen > DHT_MAX_VALUE)
		return STORE_FULL;
	enum store_result res;
	struct store_entry *e = entry_for(s, key, &res);
	if (e == NULL)
		return res;
	expire_parts(s, e, now);
	struct store_item *old = find_item(e, item->pk);
	res = put_rule(old, item, cas);
	if (res == STORE_OK && old && item_same(&old->item, item)) {
		old->expires = expires > old->expires ? expires : old->expires;
	} else if (res == STORE_OK && !put_room(s, e, old, item, client)) {
		res = STORE_FULL;
	} else if (res == STORE_OK && !put_copy(s, e, old, item, expires, client)) {
		res = STORE_NO_MEMORY;
	}
	if (res != STORE_OK) {
		drop_if_empty(s, e);
		return res;
	}
	update_expires(e);
	e->refreshed = now;
	e->offered = false;
	return STORE_OK;
}

bool store_holds(struct store *s, const struct dht_id *key, const struct dht_item *item,
		 uint64_t now)
{
	struct store_entry *e = store_get(s, key, now);
	const struct store_item *it = e ? store_value_of(e, item->pk, now, true) : NULL;
	return it != NULL && item_same(&it->item, item);
}

/* Is IT live at NOW, and readable (no tombstone) unless DEAD? */
static bool counts(const struct store_item *it, uint64_t now, bool dead)
{
	return it->expires > now && (dead || !(it->item.flags & DHT_ITEM_TOMBSTONE));
}

size_t store_values(const struct store_entry *e, uint64_t now, bool dead)
{
	size_t n = 0;
	for (size_t i = 0; i < e->nitems; i++)
		n += counts(&e->items[i], now, dead);
	return n;
}

const struct store_item *store_value_at(const struct store_entry *e, size_t index, uint64_t now,
					bool dead)
{
	for (size_t i = 0; i < e->nitems; i++)
		if (counts(&e->items[i], now, dead) && index-- == 0)
			return &e->items[i];
	return NULL;
}

const struct store_item *store_value_of(const struct store_entry *e,
					const uint8_t pk[DHT_ITEM_PK_LEN], uint64_t now, bool dead)
{
	for (size_t i = 0; i < e->nitems; i++) {
		const struct store_item *it = &e->items[i];
		if (memcmp(it->item.pk, pk, DHT_ITEM_PK_LEN) == 0)
			return counts(it, now, dead) ? it : NULL;
	}
	return NULL;
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
