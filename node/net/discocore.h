/* node/net/discocore.h: local-network ring discovery without I/O: the probe/answer/beacon
 * datagram codec and the decisions: a node without --join joins the ring that answers, founds
 * one when none does, answers others once a member; a member beacons now and then, and a beacon
 * heard is a candidate for ring unification (another ring may be on the same network). Time
 * and randomness come in from the caller; nothing is sent or read here (node/net/discovery.c
 * does that). Pure; owns nothing. */
#ifndef NODE_DISCOCORE_H
#define NODE_DISCOCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"

#define DISCO_MSG_LEN 26       /* "DHTd", version, type, id bits, family, port, 16 bytes of IP */
#define DISCO_BEACON_LEN (DISCO_MSG_LEN + ID_BYTES) /* and the member's id */
#define DISCO_MSG_MAX DISCO_BEACON_LEN
#define DISCO_VERSION 1
#define DISCO_PROBE_MS 250     /* a seeker probes this often */
#define DISCO_WAIT_MS 1500     /* no answer for this long: the lowest seeker founds the ring */
#define DISCO_LOWER_TTL_MS 1000 /* a lower seeker not heard for this long is gone (or joined) */
#define DISCO_ANSWER_BURST 8   /* answers a member sends at once, then 8 a second */
/* A member beacons every DISCO_BEACON_MS on average (uniform in [1/2, 3/2] of it, the first
 * within one period of joining): N members cost N / 10 datagrams a second on the network. */
#define DISCO_BEACON_MS 10000

enum disco_type { DISCO_PROBE = 1, DISCO_ANSWER = 2, DISCO_BEACON = 3 };

/* One datagram: a seeker's probe, a member's answer that a ring is here, or a member's beacon.
 * ADDR is the sender's DHT address (a probe's is used for the tie-break, an answer's to join
 * through); a beacon carries the member's ID too. */
struct disco_msg {
	uint8_t type;
	uint8_t bits;              /* the ring's id width */
	struct dht_addr addr;
	struct dht_id id;          /* DISCO_BEACON only */
};

/* Write M into BUF (at least DISCO_MSG_MAX bytes). Return the length. */
size_t disco_encode(const struct disco_msg *m, uint8_t *buf);

/* Read a datagram. Return 0, or -1 if it is not exactly one well-formed message of this
 * version (wrong length for its type, magic, type, width, family, a zero port, junk after an
 * IPv4, or a beacon's id not below 2^width). */
int disco_decode(const uint8_t *buf, size_t len, struct disco_msg *out);

/* Order of addresses for the tie-break: family, then IP bytes, then port. */
int disco_addr_cmp(const struct dht_addr *a, const struct dht_addr *b);

enum disco_state {
	DISCO_IDLE,     /* not seeking, not answering (yet): --join or --new-ring before the ring */
	DISCO_SEEKING,  /* probing; deferring while a lower seeker is heard */
	DISCO_JOINING,  /* joining through an answerer; silent until joined or failed */
	DISCO_MEMBER,   /* in a ring: answers probes */
};

enum disco_action {
	DISCO_NONE,
	DISCO_SEND_PROBE,
	DISCO_SEND_ANSWER,
	DISCO_JOIN,     /* join through *VIA */
	DISCO_FOUND,    /* no ring answered and no lower seeker: start a new ring */
	DISCO_SEND_BEACON,
	DISCO_CANDIDATE, /* a member heard a beacon: hand c->heard to ring unification */
};

struct disco_core {
	enum disco_state state;
	struct dht_addr self;
	uint8_t bits;
	uint64_t seek_ms;          /* when seeking (re)started */
	uint64_t lower_ms;         /* when a lower seeker was last heard */
	bool lower;
	double tokens;             /* answers allowed now */
	uint64_t tokens_ms;
	uint64_t dropped;          /* malformed datagrams and other rings' widths */
	struct dht_id id;          /* ours, beaconed once a member */
	uint64_t beacon_ms;        /* the next beacon; 0: not scheduled yet */
	struct dht_node heard;     /* the beacon behind the last DISCO_CANDIDATE */
};

/* Start in STATE (DISCO_SEEKING or DISCO_IDLE) at NOW. */
void disco_core_init(struct disco_core *c, const struct dht_addr *self, unsigned bits,
		     enum disco_state state, uint64_t now);

/* The probe timer, every DISCO_PROBE_MS while seeking: DISCO_SEND_PROBE, or DISCO_FOUND once
 * the wait is over with no lower seeker heard lately (the state is then DISCO_MEMBER). */
enum disco_action disco_core_tick(struct disco_core *c, uint64_t now);

/* A datagram arrived (LEN bytes). Return what to do: answer a probe (members, within the rate
 * limit), join through *VIA when a seeker hears an answer or a beacon (the state is then
 * JOINING), or, for a member hearing a beacon, DISCO_CANDIDATE with the beaconing node in
 * c->heard (its address as the beacon claims it: the caller checks it against the source). */
enum disco_action disco_core_input(struct disco_core *c, const uint8_t *buf, size_t len,
				   uint64_t now, struct dht_addr *via);

/* The join (or the founding) succeeded: answer probes and beacon ID from now on. */
void disco_core_member(struct disco_core *c, const struct dht_id *id);

/* The beacon timer of a member, RND a fresh random number: DISCO_SEND_BEACON when one is due
 * at NOW (the next is then drawn), else DISCO_NONE. Call it again at disco_core_beacon_at(). */
enum disco_action disco_core_beacon(struct disco_core *c, uint64_t now, uint32_t rnd);
/* When the next beacon is due (meaningful once disco_core_beacon has run as a member). */
uint64_t disco_core_beacon_at(const struct disco_core *c);

/* The join failed: seek again from NOW. */
void disco_core_retry(struct disco_core *c, uint64_t now);

#endif
