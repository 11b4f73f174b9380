/* transfer/rarity.h: the rarest-first order of one download: chunks not started yet, sorted by
 * how many peers have them, ties in random order, for the piece picker (transfer/picker.h).
 * It knows counts and chunk indices only, not peers. rarity_new() returns an object the caller
 * frees; the arrays it lends are valid until the next call that changes it. */
#ifndef TRANSFER_RARITY_H
#define TRANSFER_RARITY_H

#include <stdbool.h>
#include <stdint.h>

#include "transfer/bitfield.h"

struct rarity;

/* Return the order of NCHUNKS chunks, all listed with count zero in random order, or NULL if
 * NCHUNKS is 0 or above BITFIELD_MAX_BITS, RAND64 is NULL, or memory runs out. */
struct rarity *rarity_new(uint32_t nchunks, uint64_t (*rand64)(void *arg), void *rand_arg);
void rarity_free(struct rarity *r);

/* Make room for counts up to MAX (the number of peers). Return 0, or -1 if memory runs out. */
int rarity_reserve(struct rarity *r, uint32_t max);

/* One more (UP) or one fewer peer has chunk C: a listed C moves to a random place among the
 * chunks with its new count. The caller never takes a count below zero or above the reserve. */
void rarity_move(struct rarity *r, uint32_t c, bool up);
uint32_t rarity_count(const struct rarity *r, uint32_t c);

/* Chunk C leaves the order for good (it was started or is ours). Its count is still kept. */
void rarity_unlist(struct rarity *r, uint32_t c);
bool rarity_listed(const struct rarity *r, uint32_t c);
/* The chunks unlisted so far as words of bits, chunk c at bit c % 64 of word c / 64 (spare
 * bits past the last chunk set), so that whether a peer has any listed chunk is a test a word
 * at a time against a bit set laid out the same way. */
const uint64_t *rarity_unlisted(const struct rarity *r);

/* The listed chunks with a count of at least MIN, rarest first: set *LEN and return the first
 * of them (NULL when *LEN is 0). */
const uint32_t *rarity_from(const struct rarity *r, uint32_t min, uint32_t *len);

#endif
