/* transfer/choker.h: tit-for-tat choking for one torrent: which connected peers we upload to.
 * Regular slots go to the peers that feed us fastest (as a seed: to those served least), one
 * optimistic slot rotates at random. choker_new() returns an object the caller frees; the change
 * list returned by choker_tick() is owned by the choker and valid until the next choker call. */
#ifndef TRANSFER_CHOKER_H
#define TRANSFER_CHOKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct choker_config {
	unsigned slots;			/* regular unchoke slots: 4 */
	uint64_t recompute_us;		/* regular slots are recomputed this often: 10 s */
	uint64_t optimistic_us;		/* the optimistic unchoke rotates this often: 30 s */
	uint64_t rate_window_us;	/* download rate = bytes received over this window: 20 s */
	uint64_t snub_us;		/* interesting yet silent this long = snubbed: 60 s */
	uint64_t new_peer_us;		/* connected less than this counts as new: 60 s */
	unsigned new_peer_weight;	/* a new peer's odds for the optimistic slot: 3 (others 1) */
	uint64_t (*rand64)(void *arg);	/* required */
	void *rand_arg;
};

struct choker_change {
	struct choker_peer *peer;
	void *user;			/* as given to choker_peer_add */
	bool choke;			/* true: send CHOKE; false: send UNCHOKE */
};

struct choker;
struct choker_peer;

void choker_config_default(struct choker_config *cfg);
/* Return a choker (CFG is copied) whose first recompute is due at NOW_US, or NULL if CFG is
 * invalid (no slots, a zero period, no rand64) or memory runs out. */
struct choker *choker_new(const struct choker_config *cfg, uint64_t now_us);
void choker_free(struct choker *c);

/* A connected peer, choked and not interested either way. Return NULL if memory runs out. The
 * handle lives until choker_peer_remove(); removing an unchoked peer frees its slot at the next
 * tick. */
struct choker_peer *choker_peer_add(struct choker *c, void *user, uint64_t now_us);
void choker_peer_remove(struct choker *c, struct choker_peer *p);

/* The peer is (not) interested in our data: only interested peers are unchoked. */
void choker_peer_interested(struct choker *c, struct choker_peer *p, bool interested,
			    uint64_t now_us);
/* We are (not) interested in the peer's data: only then can it snub us. */
void choker_peer_interesting(struct choker *c, struct choker_peer *p, bool interesting,
			     uint64_t now_us);
/* Payload bytes received from / sent to the peer. */
void choker_peer_received(struct choker *c, struct choker_peer *p, uint64_t bytes, uint64_t now_us);
void choker_peer_sent(struct choker *c, struct choker_peer *p, uint64_t bytes, uint64_t now_us);

/* Seed mode (we have everything): slots rotate to the peers we have uploaded least to. */
void choker_set_seed(struct choker *c, bool seed, uint64_t now_us);

/* Recompute whatever is due at NOW_US (regular slots every recompute_us, the optimistic slot
 * every optimistic_us, at once after a slot holder left or lost interest). Set *OUT to the list
 * of changes to send, owned by the choker, and return its length. */
size_t choker_tick(struct choker *c, uint64_t now_us, const struct choker_change **out);
/* When choker_tick() next has work to do; a time already past (0 after a removal) means now. */
uint64_t choker_next_deadline(const struct choker *c);

bool choker_peer_unchoked(const struct choker_peer *p);
bool choker_peer_optimistic(const struct choker_peer *p);
/* Return whether the peer is snubbing us at NOW_US (interesting, silent for snub_us). */
bool choker_peer_snubbed(const struct choker *c, const struct choker_peer *p, uint64_t now_us);
/* Bytes/s received from the peer over the last rate_window_us. */
uint64_t choker_peer_rate(const struct choker *c, const struct choker_peer *p, uint64_t now_us);
uint64_t choker_peer_uploaded(const struct choker_peer *p);

#endif
