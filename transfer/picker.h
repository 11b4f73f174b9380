/* transfer/picker.h: the piece picker for one download: which 16 KiB blocks to request from which
 * peer (random-first, then rarest-first, started chunks first, endgame duplicates), pipeline depth
 * per peer from its measured rate and round trip, request time-outs, and who sent each block.
 * picker_new() returns an object the caller frees; request and cancel lists go into caller arrays. */
#ifndef TRANSFER_PICKER_H
#define TRANSFER_PICKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/bitfield.h"

/* Chunks travel as blocks of this size; only the last block of the last chunk may be shorter. */
#define PICKER_BLOCK (16u * 1024u)
/* At most this many requests (live or timed out) are outstanding for one block at once, so a
 * cancel list never holds more than this many entries. */
#define PICKER_MAX_REQS_PER_BLOCK 4
#define PICKER_NONE UINT32_MAX

struct picker_config {
	uint64_t total_bytes;	/* content length, > 0 */
	uint32_t chunk_size;	/* a multiple of PICKER_BLOCK; 256 KiB by default */
	unsigned random_first;	/* chunks picked at random until this many are verified: 4 */
	unsigned endgame_dups;	/* live requests per block in endgame, 2..PICKER_MAX_REQS_PER_BLOCK */
	unsigned endgame_speedup; /* duplicate only if this many times sooner: 4; 0 = never */
	unsigned initial_depth;	/* requests in flight per peer before any measurement: 4 */
	unsigned min_depth;	/* clamp of the bandwidth-delay pipeline depth: 2 */
	unsigned max_depth;	/* 256 */
	uint64_t timeout_min_us;	/* a peer's requests time out no sooner than this: 5 s */
	uint64_t timeout_max_us;	/* ... and no later than this (also used before any measure): 60 s */
	uint64_t (*rand64)(void *arg);	/* required: ties among equally rare chunks, random-first */
	void *rand_arg;
};

/* One request to send, or (from picker_block_received) one to cancel. USER is the pointer given
 * to picker_peer_add for PEER. */
struct picker_req {
	struct picker_peer *peer;
	void *user;
	uint32_t chunk;
	uint32_t offset;	/* byte offset inside the chunk, a multiple of PICKER_BLOCK */
	uint32_t length;
};

enum picker_block {
	PICKER_BLOCK_OK,	/* new data: store it */
	PICKER_BLOCK_CHUNK_DONE, /* new data that completed its chunk: store, hash, then verify */
	PICKER_BLOCK_DUP,	/* valid but not needed (already have it): discard, not a fault */
	PICKER_BLOCK_INVALID,	/* no such chunk/offset/length in this content: a protocol fault */
};

enum picker_verdict {
	PICKER_VERIFY_OK,	/* the chunk is ours */
	PICKER_VERIFY_SOLE,	/* failed, every block came from one peer: *culprit is proven bad */
	PICKER_VERIFY_SHARED,	/* failed, several senders: see picker_block_senders() below */
	PICKER_VERIFY_INVALID,	/* the chunk was not waiting for verification */
};

struct picker;
struct picker_peer;

void picker_config_default(struct picker_config *cfg);
/* Return a picker for CFG (copied), or NULL if CFG is invalid (zero length, chunk size not a
 * multiple of PICKER_BLOCK, more than BITFIELD_MAX_BITS chunks, no rand64) or memory runs out. */
struct picker *picker_new(const struct picker_config *cfg);
void picker_free(struct picker *pk);

uint32_t picker_nchunks(const struct picker *pk);
/* Bytes in chunk I (the last may be shorter); 0 if I is out of range. */
uint32_t picker_chunk_length(const struct picker *pk, uint32_t i);
/* Mark chunk I as already ours (resuming from disk). Return 0, or -1 if I is out of range or a
 * download of it has started. */
int picker_set_have(struct picker *pk, uint32_t i);
bool picker_have(const struct picker *pk, uint32_t i);
/* How many of the peers have chunk I (peers with every chunk included); 0 if out of range. */
uint32_t picker_chunk_peers(const struct picker *pk, uint32_t i);
bool picker_complete(const struct picker *pk);
/* Return whether every missing block that any peer can give is already requested, so that
 * picker_fill() now hands out duplicates (bounded by endgame_dups). */
bool picker_endgame(const struct picker *pk);

/* Peers. ID names the peer in blame reports (picker_block_senders) and must stay unique for the
 * life of the picker, even after the peer is removed; USER is handed back in requests. A new peer
 * has no chunks and chokes us. Return NULL if memory runs out. The handle lives until
 * picker_peer_remove(), which releases its requests for other peers. */
struct picker_peer *picker_peer_add(struct picker *pk, uint64_t id, void *user);
void picker_peer_remove(struct picker *pk, struct picker_peer *pp);
uint64_t picker_peer_id(const struct picker_peer *pp);

/* What the peer has. Each returns 1 if this made the peer interesting to us (see below), 0 if
 * not, -1 if the chunk index or bitfield size is wrong. A bitfield is merged into what is known;
 * a full one counts as have_all, which is cheaper (it moves no chunk in the rarity order). */
int picker_peer_have(struct picker *pk, struct picker_peer *pp, uint32_t chunk);
int picker_peer_bitfield(struct picker *pk, struct picker_peer *pp, const struct bitfield *bf);
int picker_peer_have_all(struct picker *pk, struct picker_peer *pp);
/* The peer no longer has CHUNK (it withdrew it: its file changed). Requests it holds for the
 * chunk stay until answered (it rejects them). Return 0, or -1 if CHUNK is out of range. */
int picker_peer_lost(struct picker *pk, struct picker_peer *pp, uint32_t chunk);
/* Return whether the peer has a chunk we do not have yet (send INTERESTED). Re-check every peer
 * after a chunk is verified: this can turn false then. */
bool picker_peer_interesting(const struct picker *pk, const struct picker_peer *pp);
/* Return whether the peer has chunk CHUNK (false when out of range), or every chunk. */
bool picker_peer_has(const struct picker *pk, const struct picker_peer *pp, uint32_t chunk);
bool picker_peer_complete(const struct picker *pk, const struct picker_peer *pp);

/* The peer choked (true) or unchoked (false) us. No new requests go to a choking peer, but the
 * outstanding ones stay until answered (each gets a block or a REJECT: report REJECTs through
 * picker_reject) or until they time out (picker_tick). */
void picker_peer_choked(struct picker *pk, struct picker_peer *pp, bool choked);
/* Optional: tell the picker a peer's rate (bytes/s) and round trip (us) measured elsewhere. The
 * picker also measures both itself from picker_fill() and picker_block_received() times. */
void picker_peer_measure(struct picker *pk, struct picker_peer *pp, uint64_t rate, uint64_t rtt_us);
/* Requests the picker keeps in flight to this peer: ceil(2 * rate * rtt / PICKER_BLOCK) + 1
 * clamped to [min_depth, max_depth]; initial_depth before measurements; 1 while snubbed. */
unsigned picker_peer_depth(const struct picker *pk, const struct picker_peer *pp);
/* Return whether the peer's requests last timed out and it has sent nothing since. */
bool picker_peer_snubbed(const struct picker_peer *pp);

/* Choose requests to top the peer's pipeline up to its depth: blocks of started chunks first,
 * then a new chunk (random while fewer than random_first chunks are verified, rarest otherwise,
 * ties at random), then in endgame duplicates of outstanding blocks, only those this peer should
 * deliver endgame_speedup times sooner than their current requests leave their peer's queue
 * (from each peer's rate and how many of its requests are still unanswered; never duplicating
 * a peer not yet measured). Write at most MAX into OUT and return how many; the
 * caller sends each as a REQUEST. Returns 0 while the peer chokes us. */
size_t picker_fill(struct picker *pk, struct picker_peer *pp, uint64_t now_us,
		   struct picker_req *out, size_t max);

/* A block arrived from PP (whether or not we still asked it for that block: the wire layer
 * decides what is a fault). On OK or CHUNK_DONE the data must be stored. Write into CANCEL
 * (room for PICKER_MAX_REQS_PER_BLOCK) the other peers' requests for this block and set
 * *NCANCEL: the caller sends them CANCEL; the picker has already forgotten them. */
enum picker_block picker_block_received(struct picker *pk, struct picker_peer *pp, uint32_t chunk,
					uint32_t offset, uint32_t length, uint64_t now_us,
					struct picker_req *cancel, size_t *ncancel);
/* The peer rejected a request: release that block for others. Call it for every REJECT, even
 * of a request already released or cancelled, and for a request that could not be sent: the
 * picker counts answers to know how far down each peer's queue a request is. Return 0, or -1
 * if no such request from this peer was outstanding. */
int picker_reject(struct picker *pk, struct picker_peer *pp, uint32_t chunk, uint32_t offset,
		  uint32_t length);

/* Time out requests: a peer whose pipeline has delivered nothing for 3 x (rtt + queued bytes /
 * rate), clamped to [timeout_min_us, timeout_max_us], is snubbed: its requests stay valid (the
 * block is accepted if it comes) but the blocks are offered to other peers, and its depth drops
 * to 1 until it delivers. Call picker_fill() for the other peers afterwards. Return the time the
 * next time-out is due, or UINT64_MAX if nothing is in flight. */
uint64_t picker_tick(struct picker *pk, uint64_t now_us);

/* Integrity. After PICKER_BLOCK_CHUNK_DONE the caller hashes the chunk and reports the result.
 * While the chunk waits, picker_block_senders writes into IDS (room for the chunk's block count)
 * the id of the peer each block came from, in block order, and returns the count (0 if the chunk
 * is not waiting).
 * A failed chunk is discarded and fetched again from a single peer (any peer; the first to ask
 * owns it). When every block of a failed chunk came from one peer, that peer is proven bad
 * (PICKER_VERIFY_SOLE). Otherwise (PICKER_VERIFY_SHARED) keep, per block, the sender and a digest
 * of the failed data; when the chunk later verifies, each peer whose block differs from the good
 * copy is proven bad. Both proofs rest only on the manifest's hash, so an honest peer is never
 * blamed. The single-peer re-fetch guarantees that a good copy arrives, or its sender is proven. */
size_t picker_block_senders(const struct picker *pk, uint32_t chunk, uint64_t *ids);
enum picker_verdict picker_chunk_verified(struct picker *pk, uint32_t chunk, bool ok,
					  uint64_t *culprit);

#endif
