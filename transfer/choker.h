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
	/* ... and, while the torrent is young (its first young_us: 10 s) and we are no seed,
	 * as soon as its holder got optimistic_bytes (256 KiB) from us. 0: never early. */
	uint64_t young_us, optimistic_bytes;
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

/* Hold SLOTS regular slots (at least 1) from the next recompute on, as when the uplink they
 * share turns out faster or slower than first thought. */
void choker_set_slots(struct choker *c, unsigned slots);

/* Seed mode (we have everything): slots rotate to the peers we have uploaded least to. */
void choker_set_seed(struct choker *c, bool seed, uint64_t now_us);

/* Our uplink sits idle while interested peers wait choked: lend one of them (at random, new
 * ones weighted up) a slot on top of the others until the next regular recompute, or until it
 * loses interest; at most `slots` are lent at once. Return whether a peer was found; the next
 * choker_tick() lists its UNCHOKE. */
bool choker_lend(struct choker *c, uint64_t now_us);
/* FROM holds a lent slot it does not use: lend it to another choked, interested peer instead
 * (drawn as choker_lend draws). Return whether one was found; if not, FROM keeps the slot. */
bool choker_relend(struct choker *c, struct choker_peer *from, uint64_t now_us);
bool choker_peer_lent(const struct choker_peer *p);

/* Recompute whatever is due at NOW_US (regular slots every recompute_us, the optimistic slot
 * every optimistic_us or early as said above, at once after a slot holder left or lost
 * interest). Set *OUT to the list
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
/* Payload bytes received from the peer in total. */
uint64_t choker_peer_received_total(const struct choker_peer *p);
/* A number naming the peer for the choker's life (rounds below name peers by it). */
uint64_t choker_peer_serial(const struct choker_peer *p);

/* The last rounds, for people watching a node (the web view): who held a slot after each
 * recompute and why. A round is kept when a period fell due or a slot changed hands. */
#define CHOKER_ROUNDS 8
#define CHOKER_ROUND_PEERS 8
enum choker_why {
	CHOKER_WHY_RATE,       /* a regular slot: among the fastest to feed us */
	CHOKER_WHY_SEED,       /* a regular slot as a seed: among those served least */
	CHOKER_WHY_KEPT,       /* a holder kept between periods (a slot was refilled) */
	CHOKER_WHY_SNUBBED,    /* a regular slot although snubbing us: nobody else wanted it */
	CHOKER_WHY_OPTIMISTIC, /* the optimistic slot */
	CHOKER_WHY_LENT,       /* a slot lent while our uplink sat idle (choker_lend) */
};
struct choker_round {
	uint64_t at_us;
	bool regular_due, optimistic_due;
	uint32_t changes;        /* CHOKE/UNCHOKE messages the round asked for */
	uint32_t npeers;         /* holders listed (at most CHOKER_ROUND_PEERS) */
	struct {
		uint64_t serial;
		enum choker_why why;
		uint64_t rate;   /* its download rate to us then, bytes/s */
	} peers[CHOKER_ROUND_PEERS];
};
/* Copy up to MAX of the last rounds into OUT, newest first; return how many. */
size_t choker_rounds(const struct choker *c, struct choker_round *out, size_t max);
const char *choker_why_str(enum choker_why why);

#endif
