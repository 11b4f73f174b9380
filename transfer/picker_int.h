/* transfer/picker_int.h: the piece picker's private state, shared by picker.c (chunks, requests,
 * picking, answers, integrity) and picker_peers.c (what each peer holds, and our interest in
 * it). Not for use outside those two files. */
#ifndef TRANSFER_PICKER_INT_H
#define TRANSFER_PICKER_INT_H

#include "transfer/pace.h"
#include "transfer/picker.h"
#include "transfer/rarity.h"

enum chunk_state { CH_MISSING, CH_ACTIVE, CH_VERIFY, CH_HAVE };

struct pblock {
	struct picker_peer *req[PICKER_MAX_REQS_PER_BLOCK]; /* NULL: free slot */
	uint32_t seq[PICKER_MAX_REQS_PER_BLOCK]; /* req[s] was that peer's request number seq[s] */
	uint8_t late;		/* bit s: req[s] timed out; it no longer counts as live */
	uint8_t nlive;
	bool got;
	uint64_t sender;
};

struct pchunk {
	uint32_t idx;
	uint32_t nblocks, ngot;
	uint32_t nunreq;	/* blocks neither received nor live-requested */
	uint32_t scan;		/* no block before this one is unrequested */
	bool excl;		/* re-fetch after a hash failure: one peer only */
	bool in_open;
	struct picker_peer *owner; /* of an exclusive chunk, once someone asked */
	struct pchunk *prev, *next;	/* open list */
	struct pchunk *aprev, *anext;	/* every active chunk */
	struct pblock b[];
};

struct plist {
	struct pchunk *head, *tail;
};

/* What a HAVE reads comes first, and the peer's bits follow in the same allocation: one cache
 * miss fewer on every HAVE than a struct bitfield of its own would cost. */
struct picker_peer {
	bool has_all, choked, snubbed;
	uint32_t nwanted;	/* chunks it has that we do not */
	uint32_t nhas;		/* chunks it has */
	unsigned nlive;
	uint32_t sent_n, done_n;	/* requests sent to it, answers (block or reject) from it */
	uint32_t at;		/* index in the picker's all[] */
	uint64_t id;
	void *user;
	struct pace pace;
	uint64_t bits[];	/* chunk c at bit c % 64 of word c / 64; all set once has_all */
};

struct picker {
	struct picker_config cfg;
	uint32_t n, nhave, nall;
	struct rarity *rar;
	uint8_t *state;
	struct pchunk **pc;
	struct plist open;
	struct pchunk *active;
	/* Peers oldest first, walked newest first. An array rather than a list: a walk whose
	 * every peer is a cache miss then issues its loads at once, not one after another. */
	struct picker_peer **all;
	uint32_t npeers, cap;
};

static inline bool peer_has(const struct picker_peer *pp, uint32_t c)
{
	return (pp->bits[c / 64] >> (c % 64)) & 1;
}

/* picker_peers.c; picker.c calls it, never the other way. */
/* Forget PP (whose requests picker.c has released) and free it. */
void peers_forget(struct picker *pk, struct picker_peer *pp);
/* Chunk C became ours: no peer can give it to us any more. */
void peers_chunk_had(struct picker *pk, uint32_t c);
/* Whether PP has a chunk still in the rarity order (one nobody has started). */
bool peer_has_unstarted(const struct picker *pk, const struct picker_peer *pp);

#endif
