/* node/xfer.h: the node's transfers: sharing files and fetching them, one session core per
 * content id, with peers found through the DHT (announce and get_peers under the content id's
 * key), connections over peerconn, hashing on the worker pool, data on disk through storage and
 * progress remembered in the data directory so that a restarted node resumes. The manager owns
 * every transfer; struct xfer pointers stay valid until the transfer is removed, which watchers
 * learn through XFER_EV_GONE. Strings in struct xfer_info point into the transfer. */
#ifndef NODE_XFER_H
#define NODE_XFER_H

#include <event2/event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/chord.h"
#include "node/disk/scan.h"
#include "node/net/peerconn.h"
#include "transfer/manifest.h"

#define XFER_ERR_MAX 512

struct xfer_config {
	const char *data_dir;      /* transfers are remembered under DATA_DIR/transfers */
	struct dht *d;             /* the node's core, for announce and get_peers */
	struct dht_addr self;      /* what we announce: the node's address (TCP, same port) */
	uint64_t up_rate, down_rate; /* bytes per second for the whole node, 0: no cap */
	bool debug_corrupt;        /* for tests: flip the bits of every block we upload */
	unsigned hash_threads;     /* 0: one per CPU */
};

/* XFER_CHANGED: seeding, but a shared file changed since it was hashed, so its chunks are no
 * longer offered (xfer_info.changed names it). */
enum xfer_state {
	XFER_HASHING, XFER_FINDING, XFER_MANIFEST, XFER_DOWNLOADING, XFER_SEEDING, XFER_STOPPED,
	XFER_FAILED, XFER_CHANGED,
};

enum xfer_err { XFER_OK, XFER_E_USAGE, XFER_E_NOT_FOUND, XFER_E_IO, XFER_E_BAD_MANIFEST,
		XFER_E_INTERNAL };

struct xfer_mgr;
struct xfer;

/* Return the manager, or NULL if threads or memory cannot be had. */
struct xfer_mgr *xfer_mgr_new(struct event_base *base, const struct xfer_config *cfg);
/* Stop everything (state on disk stays as last saved) and free it. Accepts NULL. */
void xfer_mgr_free(struct xfer_mgr *m);
/* Resume every transfer remembered in the data directory. */
void xfer_mgr_resume(struct xfer_mgr *m);
/* The peer network, whose pnet_accept takes inbound peer-wire connections. */
struct pnet *xfer_mgr_net(struct xfer_mgr *m);
/* The node's uplink in bytes/s as measured while data waited to go (node/xfer/uplink.h), 0
 * until known; --up-rate does not enter it. */
uint64_t xfer_mgr_uplink(const struct xfer_mgr *m);

/* Share PATH (absolute, a file or a directory) in chunks of CHUNK_SIZE bytes (0: default).
 * Return the transfer (hashing, or already seeding if PATH is shared unchanged), or NULL with
 * *CODE and ERR set. */
struct xfer *xfer_share(struct xfer_mgr *m, const char *path, uint32_t chunk_size,
			enum xfer_err *code, char *err, size_t errcap);
/* A verified copy of content this node holds complete, made into the directory another fetch
 * asked for (xfer_fetch). It frees itself when it ends, right after telling its watcher. */
struct xfer_copy;
enum xfer_copy_event { XFER_COPY_PROGRESS, XFER_COPY_DONE, XFER_COPY_FAILED };
typedef void xfer_copy_cb(void *arg, const struct xfer_copy *c, enum xfer_copy_event ev);
/* Tell CB about C from now on (one watcher; CB NULL: nobody). */
void xfer_copy_watch(struct xfer_copy *c, xfer_copy_cb *cb, void *arg);
struct xfer_copy_info {
	const char *cid_hex, *path;    /* path: where the copy is (once done) */
	uint64_t bytes_done, bytes_total;
	double seconds;                /* since the copy started */
	uint64_t rate;                 /* bytes per second */
	enum xfer_err code;            /* when failed */
	const char *error;
};
void xfer_copy_get_info(const struct xfer_copy *c, struct xfer_copy_info *out);

/* Fetch content CID into the directory OUT (which must exist and be writable). LEAVE: stop
 * once complete instead of seeding. TIMEOUT_S bounds the search for a holder (0: 30 s).
 * An existing transfer of CID whose data is (or goes) in OUT is returned, resumed if it was
 * stopped or had failed. Content held here complete elsewhere is copied into OUT: then NULL is
 * returned with *COPY set. NULL with *COPY NULL and *CODE and ERR set on failure, also when a
 * download of CID into another directory is under way or stopped half way. */
struct xfer *xfer_fetch(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN], const char *out,
			bool leave, uint32_t timeout_s, struct xfer_copy **copy,
			enum xfer_err *code, char *err, size_t errcap);
/* Stop a transfer (connections closed, state kept on disk). Return 0, or -1 if unknown. */
int xfer_stop(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN]);
/* Forget a stopped or failed transfer: it leaves the list, and what the data directory
 * remembers of it goes; its files (shared, fetched or partial) stay. Return XFER_OK, or
 * XFER_E_NOT_FOUND, or XFER_E_USAGE (it runs: stop it first), with ERR set. */
enum xfer_err xfer_forget(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN], char *err,
			  size_t errcap);
struct xfer *xfer_find(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN]);
/* Resolve HEX, a content id or a prefix of at least 4 of its hex digits (node/xfer/prefix.h),
 * into OUT. A full id is taken as it is (it may name content not known here); a prefix must
 * belong to exactly one transfer. Return XFER_OK, or XFER_E_NOT_FOUND (no transfer has it) or
 * XFER_E_USAGE (several have it: ERR lists them) with ERR set. */
enum xfer_err xfer_resolve(struct xfer_mgr *m, const char *hex, uint8_t out[MANIFEST_ID_LEN],
			   char *err, size_t errcap);
/* Walk the transfers: xfer_first(), then xfer_next() until NULL. */
struct xfer *xfer_first(struct xfer_mgr *m);
struct xfer *xfer_next(struct xfer *x);

struct xfer_info {
	const char *cid_hex;       /* "" while hashing */
	const char *name;
	bool seed;
	enum xfer_state state;
	uint64_t bytes_done, bytes_total;
	uint64_t rate_down, rate_up; /* whole bytes per second, recent; 0 unless moving data */
	uint32_t peers;
	const char *path;          /* where the data is (or will be, once complete) */
	const char *error;         /* when failed */
	enum xfer_err code;
	uint64_t downloaded, uploaded; /* payload bytes this node run */
	uint32_t bans;
	uint32_t chunks, files;
	double active_s;           /* how long it ran (hashing, downloading), over all runs */
	int64_t finished;          /* when it completed (Unix seconds), or 0 */
	double eta_s;              /* -1 if unknown */
	const char *changed;       /* XFER_CHANGED: the file that changed; else NULL */
	/* A share: what its scan left out (known only in the run that hashed it). */
	const struct scan_skip *skip;
	uint32_t nskip, skipped;
};
void xfer_get_info(const struct xfer *x, struct xfer_info *out);
const char *xfer_state_name(enum xfer_state s);
/* The content id, or NULL while hashing. */
const uint8_t *xfer_cid(const struct xfer *x);

/* Watching a transfer: progress at most 4 times a second while someone watches, and the
 * moments that matter. XFER_EV_READY: the content id is known (a share finished hashing; X may
 * then be another, older transfer of the same content). DONE: a fetch completed. GONE: X is
 * about to be freed. A watcher may call xfer_unwatch() from its callback. */
enum xfer_event { XFER_EV_PROGRESS, XFER_EV_READY, XFER_EV_DONE, XFER_EV_FAILED,
		  XFER_EV_STOPPED, XFER_EV_GONE };
typedef void xfer_watch_cb(void *arg, struct xfer *x, enum xfer_event ev);
struct xfer_watch;
/* Return the watch (freed by xfer_unwatch or when X goes), or NULL on no memory. */
struct xfer_watch *xfer_watch(struct xfer *x, xfer_watch_cb *cb, void *arg);
void xfer_unwatch(struct xfer_watch *w); /* accepts NULL */

#endif
