/* Bit sets over chunk indices. Bits live in 64-bit words with
 * chunk i at bit (63 - i % 64) of word i / 64, so that the words written big-endian are exactly
 * the BitTorrent-order wire bytes, and scans go a word at a time. Bits past the end are always
 * zero, which keeps counting and searching free of edge cases. This module knows nothing of
 * peers, picking or the network; it only checks the bytes it is handed. */
#include "transfer/bitfield.h"

#include <stdlib.h>
#include <string.h>

struct bitfield {
	uint32_t nbits;
	uint32_t nwords;
	uint32_t count;
	uint64_t w[];
};

static uint32_t words_for(uint32_t nbits)
{
	return (nbits + 63) / 64;
}

static uint64_t bit_mask(uint32_t i)
{
	return (uint64_t)1 << (63 - i % 64);
}

/* The valid bits of the last word: everything past nbits must stay zero. */
static uint64_t last_word_mask(uint32_t nbits)
{
	unsigned r = nbits % 64;
	return r ? ~(uint64_t)0 << (64 - r) : ~(uint64_t)0;
}

static uint32_t popcount_words(const uint64_t *w, uint32_t n)
{
	uint32_t c = 0;
	for (uint32_t k = 0; k < n; k++)
		c += (uint32_t)__builtin_popcountll(w[k]);
	return c;
}

struct bitfield *bitfield_new(uint32_t nbits)
{
	if (nbits == 0 || nbits > BITFIELD_MAX_BITS)
		return NULL;
	uint32_t nw = words_for(nbits);
	struct bitfield *bf = calloc(1, sizeof *bf + nw * sizeof bf->w[0]);
	if (bf == NULL)
		return NULL;
	bf->nbits = nbits;
	bf->nwords = nw;
	return bf;
}

struct bitfield *bitfield_dup(const struct bitfield *bf)
{
	struct bitfield *d = bitfield_new(bf->nbits);
	if (d != NULL)
		bitfield_copy(d, bf);
	return d;
}

void bitfield_free(struct bitfield *bf)
{
	free(bf);
}

int bitfield_copy(struct bitfield *dst, const struct bitfield *src)
{
	if (dst->nbits != src->nbits)
		return -1;
	memcpy(dst->w, src->w, src->nwords * sizeof src->w[0]);
	dst->count = src->count;
	return 0;
}

uint32_t bitfield_size(const struct bitfield *bf)
{
	return bf->nbits;
}

bool bitfield_test(const struct bitfield *bf, uint32_t i)
{
	return i < bf->nbits && (bf->w[i / 64] & bit_mask(i)) != 0;
}

int bitfield_set(struct bitfield *bf, uint32_t i)
{
	if (i >= bf->nbits)
		return -1;
	if (!(bf->w[i / 64] & bit_mask(i))) {
		bf->w[i / 64] |= bit_mask(i);
		bf->count++;
	}
	return 0;
}

int bitfield_clear(struct bitfield *bf, uint32_t i)
{
	if (i >= bf->nbits)
		return -1;
	if (bf->w[i / 64] & bit_mask(i)) {
		bf->w[i / 64] &= ~bit_mask(i);
		bf->count--;
	}
	return 0;
}

void bitfield_set_all(struct bitfield *bf)
{
	memset(bf->w, 0xff, bf->nwords * sizeof bf->w[0]);
	bf->w[bf->nwords - 1] &= last_word_mask(bf->nbits);
	bf->count = bf->nbits;
}

void bitfield_clear_all(struct bitfield *bf)
{
	memset(bf->w, 0, bf->nwords * sizeof bf->w[0]);
	bf->count = 0;
}

uint32_t bitfield_count(const struct bitfield *bf)
{
	return bf->count;
}

bool bitfield_all(const struct bitfield *bf)
{
	return bf->count == bf->nbits;
}

bool bitfield_none(const struct bitfield *bf)
{
	return bf->count == 0;
}

/* The first index >= FROM whose bit is set in (A & ~B), or in A when B is NULL; INVERT_A scans
 * ~A instead. One helper serves all three searches so the word-skipping logic exists once. */
static uint32_t scan(const struct bitfield *a, const struct bitfield *b, bool invert_a,
		     uint32_t from)
{
	if (from >= a->nbits)
		return BITFIELD_NONE;
	uint32_t k = from / 64;
	uint64_t first = ~(uint64_t)0 >> (from % 64);
	for (; k < a->nwords; k++, first = ~(uint64_t)0) {
		uint64_t v = invert_a ? ~a->w[k] : a->w[k];
		if (b != NULL)
			v &= ~b->w[k];
		if (k == a->nwords - 1)
			v &= last_word_mask(a->nbits);
		v &= first;
		if (v)
			return k * 64 + (uint32_t)__builtin_clzll(v);
	}
	return BITFIELD_NONE;
}

uint32_t bitfield_next_set(const struct bitfield *bf, uint32_t from)
{
	return scan(bf, NULL, false, from);
}

uint32_t bitfield_next_clear(const struct bitfield *bf, uint32_t from)
{
	if (bf->count == bf->nbits)
		return BITFIELD_NONE;
	return scan(bf, NULL, true, from);
}

uint32_t bitfield_first_missing(const struct bitfield *bf)
{
	return bitfield_next_clear(bf, 0);
}

uint32_t bitfield_next_wanted(const struct bitfield *theirs, const struct bitfield *mine,
			      uint32_t from)
{
	if (theirs->nbits != mine->nbits || theirs->count == 0)
		return BITFIELD_NONE;
	return scan(theirs, mine, false, from);
}

bool bitfield_interesting(const struct bitfield *theirs, const struct bitfield *mine)
{
	return bitfield_next_wanted(theirs, mine, 0) != BITFIELD_NONE;
}

size_t bitfield_wire_len(uint32_t nbits)
{
	return ((size_t)nbits + 7) / 8;
}

int bitfield_encode(const struct bitfield *bf, struct bwriter *w)
{
	size_t n = bitfield_wire_len(bf->nbits);
	if (w->bad || n > w->cap - w->len) {
		w->bad = true;
		return -1;
	}
	uint8_t word[8];
	for (uint32_t k = 0; k < bf->nwords; k++) {
		be64_put(word, bf->w[k]);
		size_t take = n - (size_t)k * 8 < 8 ? n - (size_t)k * 8 : 8;
		bw_bytes(w, word, take);
	}
	return 0;
}

int bitfield_decode(struct bitfield *bf, const uint8_t *buf, size_t len)
{
	if (len != bitfield_wire_len(bf->nbits))
		return -1;
	unsigned spare = (unsigned)(len * 8 - bf->nbits);
	if (spare && (buf[len - 1] & ((1u << spare) - 1)))
		return -1;
	for (uint32_t k = 0; k < bf->nwords; k++) {
		uint8_t word[8] = { 0 };
		size_t take = len - (size_t)k * 8 < 8 ? len - (size_t)k * 8 : 8;
		memcpy(word, buf + (size_t)k * 8, take);
		bf->w[k] = be64_get(word);
	}
	bf->count = popcount_words(bf->w, bf->nwords);
	return 0;
}
