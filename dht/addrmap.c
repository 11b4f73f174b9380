/* A bounded map from addresses to records (see addrmap.h): open addressing with linear probing
 * and backward-shift deletion (no tombstones), as in store.c. The table is kept at most 3/4
 * full. Eviction scans for the least recently used entry: that costs a pass over the map, but
 * only when it is full, i.e. when addresses come faster than they are forgotten.
 *
 * A slot is 28 bytes: the simulator holds three maps in each of thousands of nodes. It keeps
 * its address's hash (its home, and a cheap first comparison while probing) and the time of its
 * last use in units of 1024 us, compared modulo 2^32 (an entry unused for 25 days may be taken
 * for a recent one: it is evicted a little late). */
#include "dht/addrmap.h"

#include <stdlib.h>
#include <string.h>

struct slot {
	uint32_t tag;     /* 0: empty; else the address's hash with its top bit set */
	uint32_t used_at; /* now >> 10 */
	struct dht_addr addr;
};

#define TAG_USED 0x80000000u

struct addrmap {
	size_t rec_size, max, cap, count;
	uint64_t seed;
	struct slot *slots;
	uint8_t *recs; /* cap records of rec_size bytes, parallel to slots */
};

struct addrmap *addrmap_new(size_t rec_size, size_t max, uint64_t seed)
{
	struct addrmap *m = calloc(1, sizeof *m);
	if (m == NULL)
		return NULL;
	m->rec_size = rec_size;
	m->max = max < (size_t)1 << 28 ? max : (size_t)1 << 28; /* slots stay under 2^31 */
	m->seed = seed | 1;
	return m;
}

void addrmap_free(struct addrmap *m)
{
	if (m == NULL)
		return;
	free(m->slots);
	free(m->recs);
	free(m);
}

static uint64_t mix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 33);
}

/* A keyed mix of the address's family, IP and port, as a slot's tag. */
static uint32_t tag_of(const struct addrmap *m, const struct dht_addr *a)
{
	uint64_t w[2];
	memcpy(w, a->ip, sizeof w);
	uint64_t h = mix(m->seed ^ a->family ^ (uint64_t)a->port << 8);
	h = mix(h ^ w[0]);
	h = mix(h ^ w[1] ^ m->seed);
	return (uint32_t)h | TAG_USED;
}

/* The home slot of TAG (the map holds fewer than 2^31 slots). */
static size_t home(const struct addrmap *m, uint32_t tag)
{
	return (size_t)(tag & ~TAG_USED) & (m->cap - 1);
}

static bool same(const struct dht_addr *a, const struct dht_addr *b)
{
	return a->family == b->family && dht_addr_eq(a, b);
}

static size_t find(const struct addrmap *m, const struct dht_addr *a, uint32_t tag)
{
	size_t i = home(m, tag);
	while (m->slots[i].tag && (m->slots[i].tag != tag || !same(&m->slots[i].addr, a)))
		i = (i + 1) & (m->cap - 1);
	return i;
}

void *addrmap_get(struct addrmap *m, const struct dht_addr *a, uint64_t now)
{
	if (m->count == 0)
		return NULL;
	size_t i = find(m, a, tag_of(m, a));
	if (!m->slots[i].tag)
		return NULL;
	m->slots[i].used_at = (uint32_t)(now >> 10);
	return m->recs + i * m->rec_size;
}

static void move_slot(struct addrmap *m, size_t to, size_t from)
{
	m->slots[to] = m->slots[from];
	memcpy(m->recs + to * m->rec_size, m->recs + from * m->rec_size, m->rec_size);
	m->slots[from].tag = 0;
}

/* Remove slot I, shifting later members of its cluster back into place. */
static void remove_slot(struct addrmap *m, size_t i)
{
	m->slots[i].tag = 0;
	m->count--;
	for (size_t j = (i + 1) & (m->cap - 1); m->slots[j].tag; j = (j + 1) & (m->cap - 1)) {
		size_t h = home(m, m->slots[j].tag);
		bool stays = i <= j ? (h > i && h <= j) : (h > i || h <= j);
		if (!stays) {
			move_slot(m, i, j);
			i = j;
		}
	}
}

static int resize(struct addrmap *m, size_t ncap)
{
	struct slot *os = m->slots, *ns = calloc(ncap, sizeof *ns);
	uint8_t *orec = m->recs, *nrec = calloc(ncap, m->rec_size);
	if (ns == NULL || nrec == NULL) {
		free(ns);
		free(nrec);
		return -1;
	}
	size_t ocap = m->cap;
	m->slots = ns;
	m->recs = nrec;
	m->cap = ncap;
	for (size_t i = 0; i < ocap; i++) {
		if (!os[i].tag)
			continue;
		size_t j = find(m, &os[i].addr, os[i].tag);
		m->slots[j] = os[i];
		memcpy(m->recs + j * m->rec_size, orec + i * m->rec_size, m->rec_size);
	}
	free(os);
	free(orec);
	return 0;
}

static void evict_oldest(struct addrmap *m)
{
	size_t oldest = m->cap;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].tag && (oldest == m->cap ||
					(int32_t)(m->slots[i].used_at - m->slots[oldest].used_at) < 0))
			oldest = i;
	if (oldest < m->cap)
		remove_slot(m, oldest);
}

void *addrmap_put(struct addrmap *m, const struct dht_addr *a, uint64_t now, bool *added)
{
	*added = false;
	void *rec = addrmap_get(m, a, now);
	if (rec)
		return rec;
	if (m->count >= m->max)
		evict_oldest(m);
	if ((m->count + 1) * 4 > m->cap * 3 && resize(m, m->cap ? m->cap * 2 : 16) != 0)
		return NULL;
	uint32_t tag = tag_of(m, a);
	size_t i = find(m, a, tag);
	m->slots[i] = (struct slot){ .tag = tag, .used_at = (uint32_t)(now >> 10), .addr = *a };
	m->count++;
	*added = true;
	rec = m->recs + i * m->rec_size;
	memset(rec, 0, m->rec_size);
	return rec;
}
