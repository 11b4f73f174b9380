/* node/net/discocore.h: local-network ring discovery without I/O: the probe/answer datagram
 * codec and the decision a node without --join makes (join the ring that answers, found one
 * when none does, answer others once a member). Time comes in as milliseconds from the
 * caller; nothing is sent or read here (node/net/discovery.c does that). Pure; owns nothing. */
#ifndef NODE_DISCOCORE_H
#define NODE_DISCOCORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"

#define DISCO_MSG_LEN 26       /* "DHTd", version, type, id bits, family, port, 16 bytes of IP */
#define DISCO_VERSION 1
#define DISCO_PROBE_MS 250     /* a seeker probes this often */
#define DISCO_WAIT_MS 1500     /* no answer for this long: the lowest seeker founds the ring */
#define DISCO_LOWER_TTL_MS 1000 /* a lower seeker not heard for this long is gone (or joined) */
#define DISCO_ANSWER_BURST 8   /* answers a member sends at once, then 8 a second */

enum disco_type { DISCO_PROBE = 1, DISCO_ANSWER = 2 };

/* One datagram: a seeker's probe, or a member's answer that a ring is here. ADDR is the
 * sender's DHT address (a probe's is used for the tie-break, an answer's to join through). */
struct disco_msg {
	uint8_t type;
	uint8_t bits;              /* the ring's id width */
	struct dht_addr addr;
};

/* Write M into BUF (at least DISCO_MSG_LEN bytes). Return the length. */
size_t disco_encode(const struct disco_msg *m, uint8_t *buf);

/* Read a datagram. Return 0, or -1 if it is not exactly one well-formed message of this
 * version (wrong length, magic, type, width, family, a zero port, or junk after an IPv4). */
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
};

/* Start in STATE (DISCO_SEEKING or DISCO_IDLE) at NOW. */
void disco_core_init(struct disco_core *c, const struct dht_addr *self, unsigned bits,
		     enum disco_state state, uint64_t now);

/* The probe timer, every DISCO_PROBE_MS while seeking: DISCO_SEND_PROBE, or DISCO_FOUND once
 * the wait is over with no lower seeker heard lately (the state is then DISCO_MEMBER). */
enum disco_action disco_core_tick(struct disco_core *c, uint64_t now);

/* A datagram arrived (LEN bytes). Return what to do: answer a probe (members, within the rate
 * limit), or join through *VIA when a seeker hears an answer (the state is then JOINING). */
enum disco_action disco_core_input(struct disco_core *c, const uint8_t *buf, size_t len,
				   uint64_t now, struct dht_addr *via);

/* The join (or the founding) succeeded: answer probes from now on. */
void disco_core_member(struct disco_core *c);

/* The join failed: seek again from NOW. */
void disco_core_retry(struct disco_core *c, uint64_t now);

#endif
