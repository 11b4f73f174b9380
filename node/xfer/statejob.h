/* node/xfer/statejob.h: a transfer's writes that must be durable, on the pool: saving its state
 * file (and manifest), and finishing a download (sync every file, give the tree its
 * directories, modes and times, record the state, rename the partial root into place). Jobs
 * own their inputs; DONE's result lives only during the call unless it says it is taken. */
#ifndef NODE_STATEJOB_H
#define NODE_STATEJOB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "node/disk/hashpool.h"
#include "node/disk/spanio.h"
#include "node/disk/treemeta.h"

struct savejob_result {
	bool ran;
	bool with_manifest;
	int rc;
	const char *err;
};
typedef void savejob_done_fn(void *arg, const struct savejob_result *res);

/* Write TEXT as the state file in DIR, after MAN (MANLEN bytes; NULL: none) as its manifest.
 * All are copied. Return 0, or -1 on no memory (DONE is then never called). */
int savejob_submit(struct hashpool *pool, const char *dir, const char *text, const uint8_t *man,
		   size_t manlen, savejob_done_fn *done, void *arg);

struct finishjob_req {
	struct span_list files;  /* every file's full path (taken, even on failure) */
	struct tree_meta *meta;  /* directories, modes and times to give the tree (taken) */
	const char *parent, *part, *final, *statedir, *state; /* copied */
	bool in_place;           /* the files already lie under their final name */
};

struct finishjob_result {
	bool ran;
	int rc;
	const char *err;
	uint32_t n;
	uint64_t *size;          /* each file's size and time as finished; the receiver may take */
	int64_t *mtime_ns;       /* them (set the pointers in the result to NULL) */
};
typedef void finishjob_done_fn(void *arg, struct finishjob_result *res);

/* Queue the finish. Return 0, or -1 on no memory (DONE is then never called). */
int finishjob_submit(struct hashpool *pool, struct finishjob_req *req, finishjob_done_fn *done,
		     void *arg);

/* On a worker: rename PART (synced, in the directory PARENT) to FINAL, which must not exist,
 * and sync PARENT. Return 0, or -1 with ERR set. */
int rename_into_place(const char *parent, const char *part, const char *final, char *err,
		      size_t errcap);

#endif
