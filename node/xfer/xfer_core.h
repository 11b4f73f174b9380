/* node/xfer/xfer_core.h: the inside of a transfer and of the manager (struct xfer, struct
 * xfer_mgr), and the bottom of the transfer files: a transfer's memory, life and running time.
 * Private to node/xfer/. Calls run one way, from the top down: xfer_fetch.c, xfer_resume.c ->
 * xfer.c (the manager, shares, runs, restarts) -> held.c, xfer_swarm.c (the session) ->
 * xfer_peers.c, xfer_place.c, xfer_changed.c, xfer_hashing.c -> xfer_core.c. The pool jobs
 * (hashjob.c, chunkjob.c, statejob.c) and the chunk buffers (chunkbuf.c) take explicit inputs
 * and know no struct xfer. Upward calls go only through function pointers: struct xfer_hooks,
 * and a transfer's HASHED callback. */
#ifndef NODE_XFER_CORE_H
#define NODE_XFER_CORE_H

#include "node/disk/hashpool.h"
#include "node/disk/storage.h"
#include "node/xfer/chunkbuf.h"
#include "node/xfer/chunkjob.h"
#include "node/xfer/randpool.h"
#include "node/xfer/uplink.h"
#include "node/xfer/xfer.h"
#include "node/xfer/xferstate.h"
#include "transfer/peerbook.h"
#include "transfer/session.h"

#define XFER_DEFAULT_TIMEOUT_S 30

struct xfer_watch {
	struct xfer_watch *prev, *next;
	struct xfer *x;
	xfer_watch_cb *cb;
	void *arg;
};

/* One DHT call in flight. The core cannot cancel calls, so a transfer that goes away only
 * forgets its tickets (X = NULL); the callback then frees the ticket and does nothing. */
struct dht_ticket {
	struct dht_ticket *prev, *next;
	struct xfer_mgr *m;
	struct xfer *x;
	bool announce;
};

/* What xfer_core.c calls above itself, set by the manager. */
struct xfer_hooks {
	void (*halt)(struct xfer *x);   /* stop the swarm: xfer_swarm.c */
	event_callback_fn house;        /* the housekeeping timer: xfer.c */
};

struct xfer_mgr {
	struct event_base *base;
	struct xfer_config cfg;
	char *data_dir;
	struct hashpool *pool;
	struct pnet *net;
	struct xfer *list;
	struct dht_ticket *tickets;
	uint8_t peer_id[WIRE_PEER_ID_LEN];
	uint8_t network[WIRE_NETWORK_ID_LEN];
	size_t low_water;        /* the session's send_low_water */
	struct uplink up;        /* the uplink as measured: sampled by every transfer's house timer */
	struct randpool rand;    /* the sessions' random numbers */
	bool closing;            /* shutting down: no new jobs */
	struct bufcache bufs;    /* chunk buffers kept for jobs, and the held chunks' budget */
	struct xfer_hooks hooks;
};

struct xfer {
	struct xfer_mgr *m;
	struct xfer *next;
	unsigned refs;           /* the manager's list, plus one per job in flight */
	bool removed;            /* out of the list: freed when the last job is done */
	uint8_t cid[MANIFEST_ID_LEN];
	bool has_cid;
	char hex[2 * MANIFEST_ID_LEN + 1];
	char *statedir;
	bool seed, leave, complete, in_place;
	enum xfer_state state;
	enum xfer_err code;
	char error[XFER_ERR_MAX];
	char *path;              /* seed: the shared path; fetch: the output directory */
	char *name;
	char *final_root, *part_root;
	uint32_t chunk_size, timeout_s;
	struct manifest *man;
	struct storage *sto;
	struct bitfield *verified; /* what the state file records (and a bit more, until saved) */
	struct session *s;
	struct pconn **conns;
	unsigned nconns, capconns;
	struct peerbook *book;   /* whom to dial, when to ask the DHT; NULL until needed */
	struct heldchunks held;  /* chunks being received */
	struct event *tick_ev, *house_ev, *dht_ev, *kick_ev;
	uint64_t tick_at;        /* when tick_ev fires (xfer_tick_arm) */
	uint64_t active_us;      /* time run before the current run (xfer_core.c) */
	uint64_t active_since_us; /* when the current run started, 0 while not running */
	int64_t finished;        /* when it completed (Unix seconds), or 0 */
	uint64_t run_us;         /* when the session last started */
	uint64_t deadline_us, last_save_us;
	bool dirty, saving, manifest_saved, finalizing, fail_pending;
	bool forget;             /* remove the state directory once no save is running */
	bool finalize_wanted;    /* complete, waiting for a save to end before finishing */
	uint64_t gen;            /* bumped whenever work restarts: stale job results are dropped */
	/* Files that change under a share (xfer_changed.c). */
	uint32_t checked_chunk;  /* 1 + the chunk whose files were last found unchanged; 0: none */
	char *changed;           /* the first file found changed, for list; NULL: none */
	struct bitfield *served_ok; /* chunks read back and found as hashed in this run */
	struct bitfield *checking;  /* chunks being read back and hashed */
	unsigned checks_out;        /* bits set in CHECKING */
	uint64_t orphan_since_us; /* since when a chunk we lack has no holder among our peers */
	struct xfer_watch *watches;
	uint64_t acc_down, acc_up, prev_down, prev_up, prev_us;
	uint32_t acc_bans;
	double rate_down, rate_up;
	/* A share being hashed: the scan, one digest per chunk, the jobs' progress. */
	struct share_scan scan;
	uint8_t *digests;
	uint32_t nchunks, next_chunk, chunks_hashed, jobs_out;
	uint64_t bytes_hashed;
	void (*hashed)(struct xfer *x); /* every chunk is hashed (xfer_hashing.c) */
	uint8_t upbuf[WIRE_BLOCK_SIZE];
	const uint8_t *mapped;   /* what read() last returned from a file map, for send() */
	struct fmap *mapped_map;
};

/* A job's claim on its transfer: the transfer and its generation when the job was made, so
 * that an answer for an earlier run is recognised. */
struct xfer_ticket {
	struct xfer *x;
	uint64_t gen;
};

/* xfer_core.c */
/* Check CHUNK on the pool: fill REQ's chunk, length, expected digest and spans (its other
 * fields are the caller's; REQ->held is taken), and submit it. DONE gets a malloc'd struct
 * xfer_ticket to free, and must drop the reference on X taken here. Return 0, or -1 on no
 * memory. */
int xfer_chunk_job(struct xfer *x, uint32_t chunk, struct chunkjob_req *req,
		   chunkjob_done_fn *done);
struct xfer *xfer_new(struct xfer_mgr *m);
/* Take X out of the manager (watchers get GONE); its memory goes with its last job. */
void xfer_remove(struct xfer *x);
void xfer_notify(struct xfer *x, enum xfer_event ev);
/* Fail X with CODE and a message; the session and connections go (deferred if asked from
 * inside the session core, where freeing it is not allowed). */
void xfer_fail(struct xfer *x, enum xfer_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void xfer_fail_later(struct xfer *x, enum xfer_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Schedule a state save (batched: at most one every half second). */
void xfer_mark_dirty(struct xfer *x);
void xfer_unref(struct xfer *x);
uint64_t xfer_bytes_verified(const struct xfer *x);
/* A state save ended (RC 0, or -1 with ERR if known). */
void xfer_saved(struct xfer *x, bool with_manifest, int rc, const char *err);
/* The state file's text for X (malloc'd), or NULL on no memory. */
char *xfer_state_text(struct xfer *x);

/* Have the session's tick run at AT (monotonic us), kept between 5 ms and 200 ms from now. */
void xfer_tick_arm(struct xfer *x, uint64_t at);
/* After feeding the session: bring its tick forward if it is due sooner than planned (a peer
 * became interested while an upload slot is free: unchoke it now, not at the next tick). */
void xfer_tick_sooner(struct xfer *x);

/* Count X's running time from now on (nothing if it already counts). */
void xtime_start(struct xfer *x);
/* Stop counting; COMPLETED: X is complete now (noted as its finish time). */
void xtime_stop(struct xfer *x, bool completed);
/* Milliseconds X has run, summed over its runs. */
uint64_t xtime_active_ms(const struct xfer *x);

/* "s" after a count that is not 1, for log lines and messages: "1 file", "2 files". */
static inline const char *plural(uint64_t n)
{
	return n == 1 ? "" : "s";
}

#endif
