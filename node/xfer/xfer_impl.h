/* node/xfer_impl.h: the inside of the transfer manager, shared by xfer.c (the manager, a
 * transfer's life, watchers, share and fetch requests), xfer_swarm.c (the session core's env,
 * peers, DHT announce and lookups, timers) and xfer_jobs.c (work on the pool: hashing, checking,
 * saving, finishing). Private to node/xfer*.c. */
#ifndef NODE_XFER_IMPL_H
#define NODE_XFER_IMPL_H

#include "node/disk/hashpool.h"
#include "node/disk/storage.h"
#include "node/xfer/xfer.h"
#include "node/xfer/xferstate.h"
#include "transfer/peerbook.h"
#include "transfer/session.h"

#define XFER_DEFAULT_TIMEOUT_S 30

#define XFER_MAX_BUFS 16

/* A chunk buffer kept for the next job: glibc serves such sizes with fresh mmaps, whose page
 * faults would cost as much as the hashing. */
struct jobbuf {
	uint8_t *p;
	size_t cap;
};

/* A chunk being received, kept in memory until it is complete: the loop thread only copies
 * blocks in, and the worker that verifies the chunk writes it to disk first (pwrite into the
 * page cache costs the loop thread more than all else it does per block). */
struct cbuf {
	uint32_t chunk;
	uint8_t *data;
	size_t cap;
	uint8_t *mask;  /* one bit per block held here; blocks written to disk directly are not */
};

#define XFER_CBUF_BYTES (64u << 20) /* memory for chunks being received, node-wide */

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
	bool closing;            /* shutting down: no new jobs */
	size_t cbuf_bytes;       /* held in struct cbuf buffers */
	struct jobbuf bufs[XFER_MAX_BUFS]; /* chunk buffers kept for jobs */
	unsigned nbufs;
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
	struct cbuf *cbufs;
	unsigned ncbufs, capcbufs;
	struct event *tick_ev, *house_ev, *dht_ev, *kick_ev;
	uint64_t active_us;      /* time run before the current run (xfer_time.c) */
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
	struct bitfield *rechecked; /* chunks read back and hashed since the share started */
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
	uint8_t upbuf[WIRE_BLOCK_SIZE];
	const uint8_t *mapped;   /* what read() last returned from a file map, for send() */
	struct fmap *mapped_map;
};

/* xfer.c */
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
/* Run a stopped or failed transfer again, or a resumed one for the first time. Return the
 * transfer to report (another one if a changed share had to be hashed anew), or NULL if it
 * was dropped (its data is gone). */
struct xfer *xfer_restart(struct xfer *x);
/* Whether a share's (or a finished download's) files differ from those it recorded. */
bool xfer_files_changed(struct xfer *x);
/* The fetch is complete and its data in place: record, announce, notify, maybe leave. */
void xfer_completed(struct xfer *x);
int xfer_set_cid(struct xfer *x, const uint8_t cid[MANIFEST_ID_LEN]);
/* Ready to trade: make the session, start timers and DHT work. Return 0, or -1 (X failed). */
int xfer_run(struct xfer *x);
/* Results of jobs (xfer_jobs.c), applied on the loop thread. */
void xfer_share_hashed(struct xfer *x);
void xfer_check_done(struct xfer *x);
void xfer_saved(struct xfer *x, bool with_manifest, int rc, const char *err);
/* The download is synced and in place (RC 0), with its files' sizes and times (taken). */
void xfer_finished(struct xfer *x, int rc, const char *err, uint64_t *size, int64_t *mtime_ns,
		   uint32_t n);
/* The state file's text for X (malloc'd), or NULL on no memory. */
char *xfer_state_text(struct xfer *x);

/* held.c */
/* Copy X's content (complete under SRC) into OUT/NAME, verifying every chunk. Return the copy
 * (under way), or NULL with *CODE and ERR set. */
struct xfer_copy *held_copy_start(struct xfer *x, const char *src, const char *out,
				  const char *name, enum xfer_err *code, char *err, size_t errcap);

/* xfer_time.c */
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

/* xfer_swarm.c */
void swarm_on_tick(evutil_socket_t fd, short what, void *arg);
void swarm_on_dht(evutil_socket_t fd, short what, void *arg);
int swarm_start(struct xfer *x);
/* Close every connection and free the session. Not from inside the session core. */
void swarm_halt(struct xfer *x);
void swarm_house(struct xfer *x, uint64_t now);
void swarm_dht_kick(struct xfer *x);
void swarm_tickets_free(struct xfer_mgr *m);
/* Write up to MAX addresses of peers we reached into OUT; return how many. */
uint32_t swarm_good_peers(const struct xfer *x, struct dht_addr *out, uint32_t max);
/* Remember A as a peer to call (a hint from the state file, or the DHT). */
void swarm_known_add(struct xfer *x, const struct dht_addr *a);
int swarm_route(void *arg, const uint8_t cid[WIRE_CONTENT_ID_LEN], const struct pconn_ops **ops,
		void **owner);
/* Set the name, the final and the partial root from the manifest. Return 0 or -1 (memory). */
int swarm_names(struct xfer *x);
/* The manifest is known (given, resumed, or fetched): storage and names. Return 0, or -1
 * with X failed (or about to fail, when called from inside the session core). */
int swarm_manifest_ready(struct xfer *x);
/* A verify job's answer for CHUNK. */
void swarm_chunk_checked(struct xfer *x, uint32_t chunk, bool ok, const uint8_t *digests);

/* xfer_changed.c */
/* Whether CHUNK may be served: its files are still those hashed. If not, their chunks are
 * withdrawn from the session right after the current call (it may not be re-entered). */
bool changed_check(struct xfer *x, uint32_t chunk);
/* Remember the files' identities as recorded in X->scan, for changed_check(). */
void changed_record(struct xfer *x);
/* A download none of whose peers holds some chunk it lacks, for the transfer's time-out: fail
 * it, saying why. Return whether it failed. */
bool changed_stalled(struct xfer *x, uint64_t now);

/* xfer_jobs.c */
uint8_t *jobs_buf_get(struct xfer_mgr *m, size_t size, size_t *cap);
void jobs_buf_put(struct xfer_mgr *m, uint8_t *buf, size_t cap);
void jobs_bufs_free(struct xfer_mgr *m);
/* Keep LEN bytes of CHUNK at OFFSET in memory until the chunk is verified. Return 0, or -1 if
 * there is no room (write them to disk at once instead). */
int jobs_keep_block(struct xfer *x, uint32_t chunk, uint32_t offset, const uint8_t *data,
		    size_t len);
/* Drop the chunks held in memory (their data is unverified and will be fetched again). */
void jobs_cbufs_free(struct xfer *x);
/* Hash the next ranges of a share being hashed (keeps a few jobs in flight). */
void jobs_hash_more(struct xfer *x);
/* Hash chunks of a resumed download that were written but not recorded as verified. */
int jobs_check(struct xfer *x);
int jobs_verify(struct xfer *x, uint32_t chunk, bool want_digests);
int jobs_save(struct xfer *x);
int jobs_finalize(struct xfer *x);
/* On a worker: rename PART (synced, in the directory PARENT) to FINAL, which must not exist,
 * and sync PARENT. Return 0, or -1 with ERR set. */
int jobs_into_place(const char *parent, const char *part, const char *final, char *err,
		    size_t errcap);

#endif
