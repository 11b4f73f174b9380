/* transfer/session.h: the peer-wire session core: one download (or upload) of one content id with
 * many peers. It frames and judges what peers send, fetches and checks the manifest, and composes
 * picker, choker and bitfields to decide what to ask for and whom to serve; bytes, storage,
 * hashing and time go through struct session_env. session_new() returns an object the caller frees;
 * the manifest it fetched belongs to the session (session_manifest() lends it). */
#ifndef TRANSFER_SESSION_H
#define TRANSFER_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/bitfield.h"
#include "transfer/manifest.h"
#include "transfer/wire.h"

/* Why the session ended a peer's connection. Those marked (fault) count against the peer. */
enum session_close {
	SESSION_CLOSE_PROTOCOL,  /* (fault) malformed, unknown or unwelcome message */
	SESSION_CLOSE_HANDSHAKE, /* wrong protocol version, network or content id */
	SESSION_CLOSE_BANNED,    /* (fault) proven to have sent corrupt data, or banned before */
	SESSION_CLOSE_DUPLICATE, /* ourselves, or a peer id already connected with the same key */
	SESSION_CLOSE_TIMEOUT,   /* silent for too long */
	SESSION_CLOSE_DONE,      /* both sides have everything: nothing left to trade */
	SESSION_CLOSE_FULL,      /* no room for another peer */
};

#define SESSION_DIGEST_LEN 32
#define SESSION_KEY_LEN 20 /* names who is behind a connection; WIRE_PEER_ID_LEN, see peer_key */

/* The environment. Every callback is required unless marked optional. CONN is the env's own
 * handle given to session_peer_add(). Callbacks may not call back into the session. */
/* What env->read() returns for bytes not ready yet (a marker, never read). */
extern const uint8_t session_read_later;
#define SESSION_READ_LATER (&session_read_later)

struct session_env {
	void *arg;
	/* Queue HLEN bytes, then BLEN bytes from BODY (BODY NULL when BLEN is 0), as one frame. */
	void (*send)(void *arg, void *conn, const uint8_t *head, size_t hlen, const uint8_t *body,
		     size_t blen);
	/* Bytes queued to CONN not yet on the wire: upload is paced on it (see send_low_water). */
	size_t (*backlog)(void *arg, void *conn);
	/* End the connection. The session has already forgotten the peer: the slot is free. */
	void (*close)(void *arg, void *conn, enum session_close why);
	/* Keep LEN bytes of chunk CHUNK at OFFSET, received from CONN (the chunk is not verified). */
	void (*store)(void *arg, void *conn, uint32_t chunk, uint32_t offset, const uint8_t *data,
		      size_t len);
	/* Return LEN bytes of verified chunk CHUNK at OFFSET, valid until send() returns, or NULL
	 * if they cannot be read (the request is then rejected), or SESSION_READ_LATER if they
	 * are not ready yet (being checked): the request then stays at the head of the peer's
	 * queue until session_readable() is called. */
	const uint8_t *(*read)(void *arg, uint32_t chunk, uint32_t offset, uint32_t len);
	/* Hash stored chunk CHUNK and answer later with session_chunk_verified(). With
	 * WANT_DIGESTS the answer must carry per-block digests even if the chunk is good. */
	void (*verify)(void *arg, uint32_t chunk, bool want_digests);
	/* Optional: who is behind CONN (e.g. its host), asked once when the peer is added. Bans
	 * and duplicate checks are keyed by it, because a peer id is the peer's own claim: a
	 * banned peer could come back under a new id, and anyone could claim an honest peer's id
	 * to get it refused. Without it the key is the peer id (for simulations). */
	void (*peer_key)(void *arg, void *conn, uint8_t key[SESSION_KEY_LEN]);
	/* Optional: the peer with PEER_ID is proven to have sent corrupt data: its key is banned
	 * (every connection with that key, still open, is closed with SESSION_CLOSE_BANNED right
	 * after). */
	void (*ban)(void *arg, const uint8_t peer_id[WIRE_PEER_ID_LEN]);
	/* Optional: a request for CHUNK was queued, so read() of its bytes follows soon: a
	 * chance to get them ready (check them) while earlier requests are served. */
	void (*will_read)(void *arg, uint32_t chunk);
	/* Optional: the manifest was fetched and checked against the content id. */
	void (*manifest)(void *arg, const struct manifest *m);
	uint64_t (*now)(void *arg);    /* microseconds, monotonic */
	uint64_t (*rand64)(void *arg);
	void (*log)(void *arg, const char *msg); /* optional */
};

struct session_config {
	uint8_t network[WIRE_NETWORK_ID_LEN];
	uint8_t content[WIRE_CONTENT_ID_LEN];
	uint8_t peer_id[WIRE_PEER_ID_LEN];
	/* Borrowed, must outlive the session, and match CONTENT; NULL: fetch it from peers. */
	const struct manifest *manifest;
	/* Verified chunks we start with (copied); NULL: none. Needs MANIFEST. */
	const struct bitfield *have;
	bool no_upload;           /* never unchoke anyone (a free rider) */
	unsigned max_peers;       /* 80 */
	unsigned max_queued;      /* requests a peer may have waiting with us; more are rejected: 256 */
	size_t send_low_water;    /* push blocks while the env's backlog is below this: 32 KiB */
	uint64_t keepalive_us;    /* send KEEPALIVE after this long without sending: 60 s */
	uint64_t idle_timeout_us; /* close a peer silent this long: 180 s */
	/* When every slot is taken, a new peer takes the slot of the peer that has traded no
	 * block either way for longest, if that is this long: 60 s (0: never). Connections that
	 * only handshake and idle cannot keep an honest peer out. */
	uint64_t evict_idle_us;
	unsigned upload_slots;    /* choker regular slots: 4 (at least; see upload_rate) */
	/* Our uplink in bytes/s if known, else 0. A fast uplink split four ways hands each peer
	 * far more than it could return, and a slow peer that is unchoked by it ranks it first
	 * for no merit of its own: with the rate known, there are enough regular slots for each
	 * to carry at most slot_rate. */
	uint64_t upload_rate;
	uint64_t slot_rate;       /* 1 MiB/s */
	uint64_t choke_period_us; /* choker recompute period: 10 s */
	uint64_t optimistic_us;   /* choker optimistic period: 30 s */
	unsigned max_depth;       /* picker pipeline depth clamp: 256 */
	/* Stay interested this long after a peer runs out of chunks we lack (0: not at all).
	 * Interest that flickers with every HAVE frees and refills the peer's upload slot each
	 * time, and refills go to anyone, free riders included; lingering keeps tit-for-tat
	 * pairs together at the price of a slot left idle meanwhile. */
	uint64_t interest_linger_us;
	/* Lend a slot (choker_lend) to an interested peer waiting choked when the uplink is about
	 * to idle: with upload_rate known, when the work queued for unchoked peers takes less
	 * than a peer needs to ask (the time unchoked peers took to ask: their round trip); else
	 * when no block has left for twice that, at least 5 ms and at most this: 100 ms (0: never
	 * lend). */
	uint64_t lend_idle_us;
	/* Peers we send the manifest to at once: 4 (0: no limit). Each newcomer asks whoever it
	 * meets first, at first the seed, and every one of them served at once shares our uplink
	 * with the chunks only we have. A peer asking for a first piece while we are busy is
	 * refused and asks another: a peer that got the manifest from us serves it too. */
	unsigned manifest_turns;
	/* Super-seed: when the session starts with every chunk, show each peer only chunks
	 * nobody else has been shown, a few at a time, so that no chunk leaves us twice before
	 * every chunk has left once; then seed as usual. For the first seed of a share whose
	 * uplink the swarm waits on. Ignored for a session that starts incomplete. */
	bool super_seed;
};

struct session_stats {
	uint64_t downloaded;      /* payload bytes received that we needed */
	uint64_t duplicate;       /* payload bytes received that we already had */
	uint64_t uploaded;        /* payload bytes sent */
	uint64_t corrupt_chunks;  /* chunks that failed their hash */
	uint32_t peers;
	uint32_t bans;
	uint32_t have;            /* verified chunks */
	uint32_t chunks;          /* 0 until the manifest is known */
};

struct session;

void session_config_default(struct session_config *cfg);
/* Return a session for CFG and ENV (both copied), or NULL if the config is inconsistent (a
 * manifest whose id is not CONTENT, HAVE without or unlike the manifest) or memory runs out. */
struct session *session_new(const struct session_config *cfg, const struct session_env *env);
void session_free(struct session *s); /* accepts NULL; sends nothing */
/* Our uplink is RATE bytes/s (0: unknown) from now on: the choker's regular slots follow it
 * from its next recompute, as session_config.upload_rate sets them at the start. */
void session_set_upload_rate(struct session *s, uint64_t rate);
/* Push blocks to a peer while its backlog is below BYTES from now on (session_config's
 * send_low_water), as when the node learns its uplink. */
void session_set_send_low_water(struct session *s, size_t bytes);

/* A connection to a peer is up. OUTGOING: we dialled, so we speak first. Return the slot that
 * names the peer in the calls below, or -1 if there is no room (env->close() was called). */
int session_peer_add(struct session *s, void *conn, bool outgoing);
/* LEN bytes of the peer's stream arrived (any split). Return 0, or -1 if the session ended the
 * peer (env->close() was called and the slot is free). */
int session_input(struct session *s, uint32_t slot, const uint8_t *buf, size_t len);
/* The env's backlog to the peer went down: more blocks may be sent. */
void session_writable(struct session *s, uint32_t slot);
/* Bytes that env->read() answered with SESSION_READ_LATER may be ready: serve again. */
void session_readable(struct session *s);
/* The connection died on its own. The slot is free afterwards; env->close() is not called. */
void session_peer_gone(struct session *s, uint32_t slot);
/* The answer to env->verify(CHUNK). DIGESTS holds one SESSION_DIGEST_LEN-byte digest per block
 * of the chunk, in order; required when !OK or when digests were asked for, else may be NULL. */
void session_chunk_verified(struct session *s, uint32_t chunk, bool ok, const uint8_t *digests);
/* Run timers (choking, request time-outs, keepalives, idle peers). Return when to call next. */
uint64_t session_tick(struct session *s, uint64_t now_us);
/* When session_tick() wants to run next, counting what happened since it last ran: a peer that
 * becomes interested while an upload slot is free makes the choker due at once. A driver asks
 * after feeding the session (input, a verified chunk, a new peer) and brings its timer forward,
 * or the newcomer waits for a tick planned before it came (up to the driver's longest wait). */
uint64_t session_deadline(const struct session *s);

bool session_complete(const struct session *s);
/* The manifest, NULL until it is known; owned by the session or borrowed from the config. */
const struct manifest *session_manifest(const struct session *s);
const struct bitfield *session_have(const struct session *s); /* NULL until the manifest */
void session_stats(const struct session *s, struct session_stats *out);
/* Withdrawing chunks we no longer hold (session_withdraw.c): the file a share was made from
 * changed. Stop offering CHUNK: new peers are not shown it, requests for it are rejected (those
 * already queued too), and every peer is told with a LOST frame so that it asks elsewhere and
 * never blames us for it. Return 0, or -1 if CHUNK is out of range or was never ours. */
int session_withdraw(struct session *s, uint32_t chunk);
bool session_withdrawn(const struct session *s, uint32_t chunk);
/* A chunk we lack that no connected peer holds, or UINT32_MAX if there is none (or the
 * manifest is not known yet). *WITHDRAWN: a peer told us it withdrew that chunk. */
uint32_t session_orphan(const struct session *s, bool *withdrawn);

#endif
