/* node/push/pushauth.h: who may push, and the words of the push messages (dht/msg.h's PUSH,
 * PUSH_ACK, PUSH_STATUS, PUSH_STATE). Pure: the signed bytes of a push request, signing and
 * checking them against the admin keys a node lists (--push-key), and the bounded memory of
 * nonces that makes a replayed request repeat its first answer instead of acting again. Time
 * comes in as an argument. Nothing here allocates: the structs are plain values the caller owns. */
#ifndef NODE_PUSHAUTH_H
#define NODE_PUSHAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"

#define PUSH_MAX_KEYS 32     /* admin keys one node lists */
#define PUSH_WINDOW_S 300    /* a request's time may differ from ours by this much */
#define PUSH_REPLAY_MAX 256  /* requests remembered within the window */

/* PUSH_ACK status. */
enum push_ack { PUSH_ACCEPTED = 0, PUSH_HAVE = 1, PUSH_REFUSED = 2 };

/* PUSH_ACK and PUSH_STATE reason. */
enum push_why {
	PUSH_WHY_NONE = 0,
	PUSH_WHY_NOT_ACCEPTING, /* the node runs without --accept-push */
	PUSH_WHY_UNKNOWN_KEY,   /* signed by a key the node does not list */
	PUSH_WHY_BAD_SIGNATURE,
	PUSH_WHY_STALE,         /* its time is more than PUSH_WINDOW_S from the node's clock */
	PUSH_WHY_BUSY,          /* too many pushes within the window */
	PUSH_WHY_FETCH_FAILED,  /* the node could not start or finish the fetch (its log says why) */
	PUSH_WHY_STOPPED,       /* the node's user stopped the fetch */
	PUSH_WHY_FORGOT,        /* the node no longer knows the push (it restarted) */
	PUSH_WHY_COUNT
};

/* PUSH_STATE state. */
enum push_state { PUSH_ST_NONE = 0, PUSH_ST_FETCHING, PUSH_ST_VERIFIED, PUSH_ST_FAILED };

const char *push_why_str(unsigned why); /* "signed by a key this node does not list"... */
const char *push_why_name(unsigned why); /* "unknown_key"..., for JSON */

struct push_keys {
	size_t n;
	uint8_t pk[PUSH_MAX_KEYS][DHT_PUSH_PK_LEN];
};

/* Add the key ARG names: 64 hex digits, or a file of such keys, one a line ('#' starts a
 * comment). Return 0, or -1 with ERR saying what was wrong. */
int push_keys_add(struct push_keys *k, const char *arg, char *err, size_t errcap);
bool push_keys_has(const struct push_keys *k, const uint8_t pk[DHT_PUSH_PK_LEN]);

/* Fill M's signature (every other field of the PUSH set, pk among them) for the node TARGET
 * with the secret key SK (libsodium's crypto_sign, 64 bytes). */
void push_sign(struct dht_msg *m, const struct dht_id *target, const uint8_t *sk);

struct push_seen {
	uint8_t nonce[DHT_PUSH_NONCE_LEN];
	uint64_t time_s;
	uint8_t status, reason; /* the answer given */
};
struct push_replay {
	size_t n;
	struct push_seen e[PUSH_REPLAY_MAX];
};

enum push_check {
	PUSH_CHECK_NEW,    /* act on it, then push_replay_add() the answer */
	PUSH_CHECK_REPEAT, /* seen: give *SEEN's answer again and do nothing */
	PUSH_CHECK_REFUSE, /* refuse with *WHY */
};

/* Check the PUSH request M sent to this node (SELF) at NOW_S against KEYS and the REPLAY
 * memory: the key is listed, the signature holds, the time is within the window, the nonce
 * new. */
enum push_check push_check(const struct push_keys *keys, const struct push_replay *replay,
			   const struct dht_msg *m, const struct dht_id *self, uint64_t now_s,
			   enum push_why *why, const struct push_seen **seen);
/* Remember M, before acting on it; the caller then sets the entry's answer. Entries out of
 * the window at NOW_S make room (a replay of them is stale anyway). Return the entry (valid
 * until the next call), or NULL if the memory is full of requests still in the window. */
struct push_seen *push_replay_add(struct push_replay *r, const struct dht_msg *m,
				  uint64_t now_s);

#endif
