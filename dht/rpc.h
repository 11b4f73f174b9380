/* dht/rpc.h: the request/response layer of the Chord core. Every datagram the core sends or
 * receives passes here: messages are encoded and decoded here, a request waits here for its reply
 * (matched by transaction id, address and node id), is resent when it goes unanswered and timed
 * out after its last try, and round-trip times are measured here, per destination. Ring
 * maintenance, lookups and the store are its clients: a request carries a handler whose reply or
 * timeout callback runs exactly once, unless the whole table is dropped or the client cancels. It is also the core's door to its environment
 * (clock, randomness, log). The rpc owns its pending requests and their encoded bytes; the stats
 * it counts into belong to the caller. No I/O: datagrams go out through the env's send().
 *
 * Hostile neighbours: a datagram over its IP's rate is dropped; a request is passed up only if it
 * echoes a token we gave its source IP, which proves the sender receives at the address it sends
 * from (so the address a request comes from can be trusted by the layers above). Without one, a
 * request or notice (NOTIFY, LEAVE, REPLICATE) gets a token challenge if that is no larger than
 * itself, and is dropped. Every datagram we send gives its receiver a token and echoes the one
 * the receiver gave us, if any; a challenged request is resent with the token once, without
 * using up a try, and so is a notice sent to a node that gave us no token yet. */
#ifndef DHT_RPC_H
#define DHT_RPC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"
#include "dht/types.h"

struct rpc;

struct rpc_config {
	unsigned bits;          /* id width, stamped on every message */
	struct dht_id self;     /* our id, stamped as the sender of every message */
	uint64_t rto_init_us;   /* the first timeout, before any round trip is measured */
	uint64_t rto_min_us, rto_max_us;
	uint32_t rate_per_s, rate_burst; /* datagrams taken from one IP (dht/guard.h) */
};

/* What a callback learns about the request it ends. */
struct rpc_req {
	struct dht_node to;
	bool to_id_known;   /* false for an address whose id we do not know (a join's contact) */
	uint64_t sent_at;   /* of the first try */
	unsigned tag;       /* the client's own note, given to rpc_request() */
};

/* A client's two ends of a request. REPLY gets any answer from the node asked, DHT_ERROR
 * included; TIMEOUT runs when every try went unanswered. Either may send new requests. */
struct rpc_handler {
	void (*reply)(void *arg, const struct rpc_req *q, const struct dht_msg *m);
	void (*timeout)(void *arg, const struct rpc_req *q);
};

/* Return a new layer, or NULL if memory runs out. ENV is copied; STATS must outlive the layer. */
struct rpc *rpc_new(const struct rpc_config *cfg, const struct dht_env *env, void *env_arg,
		    struct dht_stats *stats);
void rpc_free(struct rpc *r); /* accepts NULL; drops pending requests without calling back */

uint64_t rpc_now(const struct rpc *r);
void rpc_random(const struct rpc *r, void *buf, size_t len);
void rpc_log(const struct rpc *r, enum dht_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Ask the environment to call dht_tick() at AT. */
void rpc_set_timer(const struct rpc *r, uint64_t at);

/* Send M to TO once and expect nothing back: answers (M's txid is the request's), notices,
 * replication. Return 0, or -1 if M cannot be encoded. */
int rpc_send(struct rpc *r, const struct dht_addr *to, struct dht_msg *m);

/* Send M to TO as a request under a fresh transaction id, tried TRIES times in all. H's callback
 * gets ARG and a struct rpc_req carrying TAG. Return 0, or -1 on no memory or a message that
 * cannot be encoded (no callback then). */
int rpc_request(struct rpc *r, const struct dht_node *to, bool id_known, const struct dht_msg *m,
		unsigned tries, const struct rpc_handler *h, void *arg, unsigned tag);

enum rpc_input_result {
	RPC_IN_DROPPED, /* malformed (counted), or not listening */
	RPC_IN_REPLY,   /* a reply, handed to its request's callback (or counted as unsolicited) */
	RPC_IN_REQUEST, /* a request, decoded into *REQ for the caller to serve */
};

/* Decode one datagram; a malformed, over-rate or unproven one is counted and dropped. Only if
 * LISTENING is a reply matched to its request and a proven request passed up. */
enum rpc_input_result rpc_input(struct rpc *r, const uint8_t *buf, size_t len,
				const struct dht_addr *from, bool listening, struct dht_msg *req);

/* The first try's timeout of a request to TO now: TO's measured round trip and its variation,
 * or the node's over all destinations if TO was never measured, within [rto_min, rto_max]
 * (and at least RPC_RTO_NEW_MIN_US until TO was measured a few times). */
uint64_t rpc_rto(struct rpc *r, const struct dht_addr *to);
#define RPC_RTO_NEW_MIN_US 100000
/* When an answer from TO is overdue: like rpc_rto(), but with a floor of RPC_HINT_MIN_US even
 * for a destination barely measured, and twice that if TO will challenge the request first (we
 * hold no token of it). For a client that may then ask another meanwhile, at the cost of one
 * request: the floor is lower than rto_min (a loopback hop answers in well under 1 ms, and a
 * dead one should cost a lookup little more). */
uint64_t rpc_rto_hint(struct rpc *r, const struct dht_addr *to);
#define RPC_HINT_MIN_US 2500
/* Resend or time out the requests overdue at NOW. */
void rpc_expire(struct rpc *r, uint64_t now);
/* The earliest deadline of a pending request, or UINT64_MAX. */
uint64_t rpc_next_deadline(const struct rpc *r);
/* NODE said it is leaving: time out at once every request to it (same id, same address). */
void rpc_fail_node(struct rpc *r, const struct dht_node *node);
/* Forget every pending request whose callbacks get ARG, without calling back (the client that
 * asked no longer waits, e.g. a lookup answered by another node asked in parallel). */
void rpc_cancel(struct rpc *r, const void *arg);
/* Forget every pending request without calling back (the node leaves). */
void rpc_drop_all(struct rpc *r);

#endif
