/* dht/chord.h: the Chord protocol core, a pure state machine. It keeps a node's ring membership
 * correct (join, stabilize, rectify, fix-fingers, check-predecessor, leave, after Zave's corrected
 * Chord) and runs iterative lookups. It does no I/O: every datagram comes in through dht_input()
 * and goes out through env->send(); time, timers and randomness come from the environment; so the
 * same core runs in real nodes and in the simulator.
 *
 * Invariants the core maintains (Zave, "Reasoning about identifier spaces", TSE 2017), given that
 * no node loses every entry of its successor list at once:
 *  - a node's successor list is ordered: walking it clockwise never passes the node itself
 *    without landing on it (in rings smaller than r+1 the list wraps onto the node, which is fine);
 *  - a node is adopted as first successor only after it has answered (checked live) and proven
 *    its id (dht/proof.h);
 *  - the predecessor is replaced only by a node closer to us that has proven its id (rectify),
 *    or when it is found dead;
 *  - from every joined node, the first live successors lead to one ordered ring that goes round
 *    the circle exactly once.
 * Memory: struct dht is owned by the caller of dht_new() and freed by dht_free(). Pointers handed
 * to callbacks are valid only during the callback. */
#ifndef DHT_CHORD_H
#define DHT_CHORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/id.h"
#include "dht/msg.h"
#include "dht/types.h"

struct dht;

/* Return a new core, or NULL if CFG is invalid (bad bits or r) or memory runs out. ENV is copied;
 * ENV_ARG is passed to every env call. Nothing is sent before dht_create() or dht_join(). */
struct dht *dht_new(const struct dht_config *cfg, const struct dht_env *env, void *env_arg);
void dht_free(struct dht *d); /* accepts NULL; drops pending lookups without calling back */

/* Start a new ring of one node. */
void dht_create(struct dht *d);

/* Join the ring that the node at VIA belongs to. CB (may be NULL) is called once with DHT_OK,
 * DHT_ERR_ID_TAKEN or DHT_ERR_TIMEOUT. Return 0, or -1 if already joined or joining. */
int dht_join(struct dht *d, const struct dht_addr *via, dht_join_cb *cb, void *arg);

/* Leave gracefully: tell predecessor and successor, then stop. Pending lookups fail. */
void dht_leave(struct dht *d);

/* Feed one received datagram. Malformed input is dropped and counted, never trusted. */
void dht_input(struct dht *d, const uint8_t *buf, size_t len, const struct dht_addr *from);

/* NODE was heard of outside the ring (a discovery beacon on the local network). If it lies
 * between our predecessor and our successor it may belong to another ring: the core probes it
 * within two stabilization periods and, if it is, links the two rings (ring unification). At
 * most one such candidate is kept, so a flood of beacons costs one probe a period. */
void dht_merge_hint(struct dht *d, const struct dht_node *node);

/* Run due timers and timeouts; return the next deadline (also announced via env->set_timer). */
uint64_t dht_tick(struct dht *d);

/* Find the node that owns KEY (its successor). CB is called exactly once, and never before
 * dht_lookup returns: even a key we own ourselves is answered at the earliest in the next
 * dht_tick(), whose deadline (now) the core announces through env->set_timer and dht_tick's
 * return value. The same holds for every entry point that takes a callback (dht_join and the
 * operations of dht/kv.h). Return 0, or -1 if not joined or out of memory (CB is then not
 * called). */
int dht_lookup(struct dht *d, const struct dht_id *key, dht_lookup_cb *cb, void *arg);

/* Application messages (DHT_MSG_IS_APP): the core carries them, with its retries and its
 * checks, and hands incoming requests to env->app_request; their meaning is the node's.
 * CB gets the reply, or NULL when every one of TRIES tries went unanswered; never before
 * dht_app_request returns. Return 0, or -1 if not joined, M cannot be encoded, or no memory
 * (CB is then not called). */
typedef void dht_app_cb(void *arg, const struct dht_msg *reply);
int dht_app_request(struct dht *d, const struct dht_addr *to, const struct dht_msg *m,
		    unsigned tries, dht_app_cb *cb, void *arg);
/* Answer the application request whose transaction id is TXID, from TO, with M. Return 0, or
 * -1 if M cannot be encoded. */
int dht_app_reply(struct dht *d, const struct dht_addr *to, uint32_t txid, struct dht_msg *m);

enum dht_state dht_get_state(const struct dht *d);
const struct dht_node *dht_self(const struct dht *d);
unsigned dht_bits(const struct dht *d);
/* Copy the predecessor into OUT and return 0, or return -1 if none is known. */
int dht_predecessor(const struct dht *d, struct dht_node *out);
/* Copy up to MAX successors (first first) into OUT; return how many. Each node appears once,
 * and this node only when it is alone: what a person reading a status expects. */
size_t dht_successors(const struct dht *d, struct dht_node *out, size_t max);
/* Copy up to MAX entries of the successor list as the node holds and acts on it. In a ring of
 * fewer than r+1 nodes it wraps onto the node itself and repeats (Zave's lists keep length r
 * for what they are used for: to be copied by predecessors, and to survive failures): for
 * checkers and simulators. Return how many. */
size_t dht_successor_list(const struct dht *d, struct dht_node *out, size_t max);
/* Copy up to MAX distinct fingers and their lowest indices; return how many. */
size_t dht_fingers(const struct dht *d, struct dht_node *out, unsigned *index, size_t max);
const struct dht_stats *dht_get_stats(const struct dht *d);
/* Copy into PK the Ed25519 key NODE proved to this node (dht/proof.h; this node's own for
 * itself) and return 0, or return -1 if NODE has proven none here (lately). */
int dht_node_key(struct dht *d, const struct dht_node *node, uint8_t pk[DHT_SIGN_PK_LEN]);

#endif
