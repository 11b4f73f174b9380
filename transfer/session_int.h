/* transfer/session_int.h: the session core's private state, shared by session_dispatch.c (peers,
 * framing, handshake, dispatch, timers), session_exchange.c (chunks: requests, blocks, upload,
 * choking, integrity, ending peers), session_manifest.c (fetching and serving the manifest),
 * session_seed.c (super-seeding) and session_peer.c (sending, logging, freeing a slot). Not for
 * use outside those files. */
#ifndef TRANSFER_SESSION_INT_H
#define TRANSFER_SESSION_INT_H

#include "transfer/choker.h"
#include "transfer/picker.h"
#include "transfer/session.h"

/* Chunks a super-seed keeps reserved for one peer at most. */
#define SEED_FRESH_MAX 8

/* A request we sent and whose answer (BLOCK or REJECT) has not come yet. */
struct out_req {
	uint32_t chunk, offset, length;
	bool answered;
};

/* What nearly every message reads or writes comes first, in two cache lines. */
struct peer {
	bool used;                /* the slot holds a peer */
	void *conn;
	struct picker_peer *pp;   /* NULL until both its handshake and our manifest; knows what
				   * the peer has */
	struct choker_peer *cp;
	uint64_t last_recv, last_sent;
	uint64_t traded_at;       /* when a block last went either way, or it was added */
	size_t inlen;             /* bytes of a frame split across inputs, in IN */
	uint32_t slot;
	bool hs_got, got_bitfield;
	bool keyed;               /* KEY came from the env's peer_key */
	bool am_interested, am_choking, peer_interested, peer_choking;
	struct wire_span *rq;     /* its requests waiting for our upload: rq[rq_head..rq_end) */
	unsigned rq_head, rq_end, rq_cap;
	struct out_req *out;      /* our requests to it, oldest first: out[out_head..out_end) */
	unsigned out_head, out_end, out_cap;
	uint64_t dull_since;      /* interested but it has had nothing for us since; 0: no */
	uint64_t interest_at;     /* its BITFIELD, or its last INTERESTED or NOT_INTERESTED */
	uint64_t pid;             /* the picker's name for it: unique for the session's life */
	bool outgoing, hs_sent, sent_bitfield, has_manifest, no_manifest;
	uint8_t id[WIRE_PEER_ID_LEN];
	uint8_t key[SESSION_KEY_LEN]; /* who is behind it (env peer_key), else its id */
	uint8_t *in;
	size_t incap;
	uint8_t *early_bits;      /* its BITFIELD, kept raw while we lack the manifest */
	uint32_t early_len;
	uint32_t *early_haves, nearly, early_cap;
	unsigned mpending;        /* manifest pieces asked of it and not answered */
	bool mturn;               /* we are sending it the manifest: a turn (cfg.manifest_turns) */
	uint64_t mturn_at;        /* when its turn began */
	uint64_t mserved_at;      /* when it last asked us for a piece of the manifest */
	uint64_t mrest_until;     /* it refused us the manifest though it has it: not asked again
				   * before this */
	/* Super-seeding (session_seed.c): what it was shown, and the chunks reserved for it that
	 * it has not asked for yet. */
	struct bitfield *shown;
	uint32_t fresh[SEED_FRESH_MAX];
	unsigned nfresh;
	uint32_t serving;         /* the chunk of the last block we sent it; UINT32_MAX: none */
	bool ask_timing;          /* unchoked at UNCHOKED_AT and has not asked since */
	uint64_t unchoked_at;
	uint64_t asked_at;        /* its last REQUEST */
	uint32_t *early_lost;     /* its LOSTs while we lacked the manifest */
	uint32_t nearly_lost;
};

/* Senders and digests of a chunk's failed copy, kept until a good copy shows who lied. */
struct blame {
	uint32_t chunk, nblocks;
	uint64_t *sender;
	uint8_t *digest;
	struct blame *next;
};

/* A peer as the picker names it: what a ban needs to know of it after it is gone. */
struct pid_ident {
	uint8_t id[WIRE_PEER_ID_LEN];
	uint8_t key[SESSION_KEY_LEN];
};

/* What every message reads comes first: the env, then the clock and the peers, in the first
 * two cache lines (the session is allocated on a 128-byte boundary, and hardware fetches such
 * pairs of lines together). */
struct session {
	struct session_env env;
	uint64_t now;             /* the env's now() at the start of the current call */
	uint64_t choke_last;      /* when the choker last decided */
	uint64_t tick_next;       /* what the last session_tick() returned (0: none yet) */
	uint64_t last_push;       /* when a block last left for any peer */
	uint64_t done_at;         /* when our last chunk was verified (0: we started complete) */
	uint64_t lend_at;         /* when to see whether the uplink idles (0: no need) */
	uint64_t ask_us;          /* how soon a peer asks once unchoked (0: not seen yet) */
	struct peer *peers;       /* by slot, one array: walks over all peers run through memory in
				   * order, and a message finds its peer without a pointer chase */
	uint32_t nslots;          /* cfg.max_peers */
	uint32_t nchoker;         /* peers known to the choker (past their handshake) */
	struct picker *pk;
	struct choker *ch;
	uint32_t live;            /* peers in slots */
	struct bitfield *have;
	struct session_config cfg;
	const struct manifest *m;
	struct manifest *owned;   /* the fetched manifest */
	uint64_t next_pid;
	struct pid_ident *pids;   /* by picker id */
	uint8_t (*banned)[SESSION_KEY_LEN]; /* keys */
	uint32_t nbanned;
	struct blame *blames;
	struct seeding *sd;       /* super-seeding state; NULL when not (or no longer) */
	struct session_stats st;
	/* The manifest being fetched: all pieces from one source, in order. */
	struct peer *msrc;
	uint8_t *mbuf;
	uint32_t mtotal, mgot, mnext;
	uint64_t mwait;           /* how long the next peer to refuse the manifest rests */
	uint64_t mretry_at;       /* when to ask again after every source refused (0: no need) */
	uint8_t *frame;           /* WIRE_MAX_FRAME bytes for encoding */
	/* Withdrawals (session_withdraw.c): ours, and those peers told us of. */
	struct bitfield *withdrawn; /* chunks we no longer offer; NULL: none */
	struct bitfield *lost;      /* chunks some peer withdrew; NULL: none */
	uint64_t *lost_pids;        /* picker ids of the peers that withdrew any */
	uint32_t nlost_pids;
};

/* The peer in slot I, or NULL if the slot is free. */
static inline struct peer *sess_slot(const struct session *s, uint32_t i)
{
	return s->peers[i].used ? &s->peers[i] : NULL;
}

/* Calls run one way: session_dispatch.c -> session_exchange.c -> session_manifest.c and
 * session_seed.c; all of them -> session_peer.c, which calls none of them; session_dispatch.c
 * and session_exchange.c -> session_lend.c, which calls only the choker. */

/* session_peer.c */
void sess_log(struct session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sess_send(struct session *s, struct peer *p, const uint8_t *buf, size_t len);
/* Encode one frame with FN's writer into the session's frame buffer and send it. */
void sess_send_bare(struct session *s, struct peer *p, enum wire_type type);
void sess_send_span(struct session *s, struct peer *p, enum wire_type type, uint32_t chunk,
		    uint32_t offset, uint32_t length);
void sess_send_have(struct session *s, struct peer *p, uint32_t chunk);
void sess_peer_free(struct peer *p); /* free what P holds and clear its slot */

/* session_exchange.c. Ending a peer lives here because it unwinds the peer's trade. */
/* Forget P: its picker and choker state, the manifest fetch it served, its slot. */
void sess_forget(struct session *s, struct peer *p);
/* End P's connection for WHY: env->close() and forget it. */
void sess_drop(struct session *s, struct peer *p, enum session_close why);
/* Ban the peer with KEY (and wire id ID): remember the key, tell the env, end every
 * connection with that key. */
void sess_ban(struct session *s, const uint8_t *key, const uint8_t *id);
bool exch_banned(const struct session *s, const uint8_t *key);
/* Apply whatever the choker decides now; sess_choke_run() does it only when one is due. */
void exch_choke_now(struct session *s, uint64_t now);
void sess_choke_run(struct session *s, uint64_t now);
/* The manifest is ours: every peer past its handshake can now trade. Return 1 if CUR, the peer
 * whose message got us here, was ended on the way, else 0. */
int exch_ready_all(struct session *s, struct peer *cur);
int exch_peer_ready(struct session *s, struct peer *p);
int exch_bitfield(struct session *s, struct peer *p, const uint8_t *bits, uint32_t len);
int exch_have(struct session *s, struct peer *p, uint32_t chunk);
int exch_request(struct session *s, struct peer *p, const struct wire_span *sp);
int exch_cancel(struct session *s, struct peer *p, const struct wire_span *sp);
int exch_reject(struct session *s, struct peer *p, const struct wire_span *sp);
int exch_block(struct session *s, struct peer *p, const struct wire_block *b);
void exch_choked(struct session *s, struct peer *p, bool choked);
void exch_interested(struct session *s, struct peer *p, bool interested);
void exch_serve(struct session *s, struct peer *p);
void exch_fill_all(struct session *s);
/* Send NOT_INTERESTED to P if it has had nothing for us for the linger time. Return when to
 * look again, or UINT64_MAX. */
uint64_t exch_interest_timer(struct session *s, struct peer *p);
void exch_blames_free(struct session *s);

/* session_seed.c: super-seeding. seed_start() begins it (0, or -1 on no memory); the peer
 * hooks do nothing for a peer that was never shown a partial view (P->shown NULL). */
int seed_start(struct session *s);
void seed_free(struct session *s);
/* P is ready to trade: reserve what it will first be shown. Return 0, or -1 on no memory. */
int seed_peer_ready(struct session *s, struct peer *p);
/* The bitfield to send P: what it is shown, or everything. */
const struct bitfield *seed_shown(const struct session *s, const struct peer *p);
void seed_request(struct session *s, struct peer *p, uint32_t chunk);
void seed_sent(struct session *s, struct peer *p, uint32_t chunk); /* a block of it, to P */
void seed_choked(struct session *s, struct peer *p, bool choked);
void seed_dull(struct session *s, struct peer *p);  /* P is no longer interested */
void seed_have(struct session *s, uint32_t chunk);  /* some peer has CHUNK */
void seed_bitfield(struct session *s, const struct bitfield *bf);
void seed_peer_lost(struct session *s, struct peer *p);

/* session_lend.c. lend_arm: the uplink may go idle from now (a queue ran dry, a choked peer
 * became interested): plan a look. lend_asked: P asked for the first time since its UNCHOKE.
 * lend_check: at lend_at, lend a slot if the uplink is about to idle (its rate known) or idled
 * long enough; plan the next look. */
void lend_arm(struct session *s);
void lend_asked(struct session *s, struct peer *p);
void lend_check(struct session *s, uint64_t now);

/* session_withdraw.c. wd_lost: P sent LOST for CHUNK (0, or -1 for a protocol fault).
 * wd_refuse: reject SP if its chunk is withdrawn (return true then). wd_peer_ready: P is ready
 * to trade (bitfields exchanged): tell it what we withdrew, apply what it withdrew early.
 * wd_excused: a failed copy of CHUNK from picker peer PID is not a lie if that peer withdrew it. */
int wd_lost(struct session *s, struct peer *p, uint32_t chunk);
bool wd_refuse(struct session *s, struct peer *p, const struct wire_span *sp);
void wd_peer_ready(struct session *s, struct peer *p);
bool wd_excused(const struct session *s, uint64_t pid, uint32_t chunk);
void wd_free(struct session *s);


/* session_manifest.c. mf_tick(): ask for the manifest again if every source refused it and
 * one may be asked now; return when to look next (UINT64_MAX: no need). mf_piece() also
 * returns MF_READY (the manifest is accepted: ready every
 * peer) or MF_FORGED (its one source sent pieces that fail the content id: ban it, then
 * mf_restart()). */
#define MF_READY 2
#define MF_FORGED 3
/* Find a new source, if any peer can be one. */
void mf_restart(struct session *s);
uint64_t mf_tick(struct session *s, uint64_t now);
int mf_accept(struct session *s, struct manifest *owned, const struct manifest *m);
int mf_request(struct session *s, struct peer *p, uint32_t index);
int mf_piece(struct session *s, struct peer *p, const struct wire_manifest_piece *pc);
int mf_reject(struct session *s, struct peer *p, uint32_t index);
void mf_peer_ready(struct session *s, struct peer *p);
void mf_peer_lost(struct session *s, struct peer *p);

#endif
