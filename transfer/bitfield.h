/* transfer/bitfield.h: which chunks a peer has: a fixed-size bit set over chunk indices, with its
 * wire encoding (how many peers have each chunk is transfer/rarity.h's). bitfield_new() returns
 * an object the caller owns and frees; nothing else allocates. */
#ifndef TRANSFER_BITFIELD_H
#define TRANSFER_BITFIELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/bytes.h"

/* The most chunks a share may have (so a bitfield is at most 32 KiB on the wire). */
#define BITFIELD_MAX_BITS (1u << 18)
#define BITFIELD_MAX_BYTES (BITFIELD_MAX_BITS / 8)
/* Returned by the searches below when there is no such index. */
#define BITFIELD_NONE UINT32_MAX

struct bitfield;

/* Return a bitfield of NBITS bits, all clear, or NULL if NBITS is 0, above BITFIELD_MAX_BITS, or
 * memory runs out. */
struct bitfield *bitfield_new(uint32_t nbits);
/* Return a copy of BF (NULL if memory runs out). */
struct bitfield *bitfield_dup(const struct bitfield *bf);
void bitfield_free(struct bitfield *bf);
/* Make DST equal to SRC. Return 0, or -1 (DST untouched) if their sizes differ. */
int bitfield_copy(struct bitfield *dst, const struct bitfield *src);

uint32_t bitfield_size(const struct bitfield *bf);
/* Return whether bit I is set; false for I >= size. */
bool bitfield_test(const struct bitfield *bf, uint32_t i);
/* Set or clear bit I. Return 0, or -1 (nothing changes) if I >= size. */
int bitfield_set(struct bitfield *bf, uint32_t i);
int bitfield_clear(struct bitfield *bf, uint32_t i);
void bitfield_set_all(struct bitfield *bf);
void bitfield_clear_all(struct bitfield *bf);

/* The number of set bits, kept up to date on every change: O(1). */
uint32_t bitfield_count(const struct bitfield *bf);
bool bitfield_all(const struct bitfield *bf);
bool bitfield_none(const struct bitfield *bf);

/* Return the first set (clear) index >= FROM, or BITFIELD_NONE. These scan a word at a time. */
uint32_t bitfield_next_set(const struct bitfield *bf, uint32_t from);
uint32_t bitfield_next_clear(const struct bitfield *bf, uint32_t from);
/* The first chunk we lack: bitfield_next_clear(bf, 0). */
uint32_t bitfield_first_missing(const struct bitfield *bf);
/* Return the first index >= FROM set in THEIRS and clear in MINE (a chunk they can give us), or
 * BITFIELD_NONE, also when the sizes differ. */
uint32_t bitfield_next_wanted(const struct bitfield *theirs, const struct bitfield *mine,
			      uint32_t from);
/* Return whether THEIRS has any chunk MINE lacks (we are interested in them). */
bool bitfield_interesting(const struct bitfield *theirs, const struct bitfield *mine);

/* Bytes on the wire for NBITS bits: ceil(NBITS / 8). */
size_t bitfield_wire_len(uint32_t nbits);
/* Append BF's wire form: bit i is bit (7 - i % 8) of byte i / 8, as in BitTorrent, spare bits
 * zero. Return 0, or -1 if it does not fit (the writer is then marked bad). */
int bitfield_encode(const struct bitfield *bf, struct bwriter *w);
/* Replace BF's bits with the wire form in BUF. Return 0, or -1 (BF untouched) if LEN is not
 * bitfield_wire_len(size) or a spare bit past the end is set. */
int bitfield_decode(struct bitfield *bf, const uint8_t *buf, size_t len);

#endif
