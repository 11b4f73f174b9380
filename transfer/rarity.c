/* The rarest-first order. Chunks not started yet live in one array sorted by count (how many
 * peers have them). Each count is a bucket, a contiguous run of the array; one more or one fewer
 * holder moves a chunk across one bucket edge in O(1), and a swap with a random member keeps
 * every bucket a uniformly random permutation, so "the first chunk in the array a peer has" is
 * rarest-first with ties broken at random. Unlisted chunks gather in a prefix before bucket 0.
 *
 * It does not know peers, blocks or requests: the picker says who has what and what started. */
#include "transfer/rarity.h"

#include <stdlib.h>

/* A chunk's count and place side by side: a move reads both, one cache line not two. */
struct rentry {
	uint32_t count, pos;
};

struct rarity {
	uint32_t n;
	struct rentry *e;
	uint32_t *order;
	uint32_t *bstart;	/* bucket a is order[bstart[a] .. bstart[a + 1]) */
	uint32_t bcap;		/* buckets 0..bcap; bstart[bcap + 1] == n */
	uint64_t *unlisted;
	uint64_t (*rand64)(void *arg);
	void *rand_arg;
};

static uint32_t rnd_below(const struct rarity *r, uint64_t n)
{
	return (uint32_t)(r->rand64(r->rand_arg) % n);
}

struct rarity *rarity_new(uint32_t nchunks, uint64_t (*rand64)(void *arg), void *rand_arg)
{
	if (nchunks == 0 || nchunks > BITFIELD_MAX_BITS || rand64 == NULL)
		return NULL;
	struct rarity *r = calloc(1, sizeof *r);
	if (r == NULL)
		return NULL;
	r->n = nchunks;
	r->rand64 = rand64;
	r->rand_arg = rand_arg;
	r->e = calloc(nchunks, sizeof *r->e);
	r->order = malloc(nchunks * sizeof *r->order);
	r->bstart = malloc(2 * sizeof *r->bstart);
	uint32_t words = (nchunks + 63) / 64;
	r->unlisted = calloc(words, sizeof *r->unlisted);
	if (!r->e || !r->order || !r->bstart || !r->unlisted) {
		rarity_free(r);
		return NULL;
	}
	r->bstart[0] = 0;
	r->bstart[1] = nchunks;
	if (nchunks % 64)
		r->unlisted[words - 1] = ~(uint64_t)0 << (nchunks % 64);
	/* Everything starts tied at zero: shuffle once so that ties are random from the start. */
	for (uint32_t i = 0; i < nchunks; i++) {
		uint32_t j = rnd_below(r, (uint64_t)i + 1);
		if (j != i)
			r->order[i] = r->order[j];
		r->order[j] = i;
	}
	for (uint32_t i = 0; i < nchunks; i++)
		r->e[r->order[i]].pos = i;
	return r;
}

void rarity_free(struct rarity *r)
{
	if (r == NULL)
		return;
	free(r->e);
	free(r->order);
	free(r->bstart);
	free(r->unlisted);
	free(r);
}

int rarity_reserve(struct rarity *r, uint32_t max)
{
	if (max <= r->bcap)
		return 0;
	uint32_t cap = r->bcap * 2 + 8;
	cap = cap < max ? max : cap;
	uint32_t *b = realloc(r->bstart, ((size_t)cap + 2) * sizeof *b);
	if (b == NULL)
		return -1;
	for (uint32_t a = r->bcap + 2; a < cap + 2; a++)
		b[a] = r->n;
	r->bstart = b;
	r->bcap = cap;
	return 0;
}

static void swap(struct rarity *r, uint32_t i, uint32_t j)
{
	uint32_t a = r->order[i], b = r->order[j];
	r->order[i] = b;
	r->e[b].pos = i;
	r->order[j] = a;
	r->e[a].pos = j;
}

bool rarity_listed(const struct rarity *r, uint32_t c)
{
	return r->e[c].pos >= r->bstart[0];
}

void rarity_move(struct rarity *r, uint32_t c, bool up)
{
	uint32_t a = up ? r->e[c].count++ : r->e[c].count--;
	if (!rarity_listed(r, c))
		return;
	if (up)
		swap(r, r->e[c].pos, --r->bstart[a + 1]);
	else
		swap(r, r->e[c].pos, r->bstart[a]++);
	/* C just crossed into its new bucket at one of its edges: put it at a random place. */
	uint32_t b = up ? a + 1 : a - 1;
	uint32_t lo = r->bstart[b], size = r->bstart[b + 1] - lo;
	if (size > 1)
		swap(r, r->e[c].pos, lo + rnd_below(r, size));
}

uint32_t rarity_count(const struct rarity *r, uint32_t c)
{
	return r->e[c].count;
}

/* Walk C down through the lower buckets into the unlisted prefix: O(its count), once per chunk. */
void rarity_unlist(struct rarity *r, uint32_t c)
{
	if (!rarity_listed(r, c))
		return;
	for (uint32_t a = r->e[c].count + 1; a-- > 0;)
		swap(r, r->e[c].pos, r->bstart[a]++);
	r->unlisted[c / 64] |= (uint64_t)1 << (c % 64);
}

const uint64_t *rarity_unlisted(const struct rarity *r)
{
	return r->unlisted;
}

const uint32_t *rarity_from(const struct rarity *r, uint32_t min, uint32_t *len)
{
	uint32_t lo = r->bstart[min <= r->bcap + 1 ? min : r->bcap + 1];
	*len = r->n - lo;
	return *len ? r->order + lo : NULL;
}
