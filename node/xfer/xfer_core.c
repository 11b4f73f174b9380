/* The bottom of a transfer: its memory and life (made, failed, removed, freed with its last
 * reference), its watchers, its failure reasons, its state file's text and how much of it is
 * verified. A transfer is freed only when its last job is back from the pool, so a job never
 * finds its transfer gone; a transfer taken out of the list is merely marked removed until
 * then. Its running time (hashing a share, or downloading) is summed over stops and restarts of
 * the transfer and of the node; time spent stopped, failed, seeding or with the node down is
 * not in it. Stopping its swarm and its housekeeping timer belong to the files above: they are
 * reached through the manager's hooks (struct xfer_hooks), never called by name from here. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "node/log.h"
#include "node/net/udp.h"
#include "node/xfer/xfer_core.h"

#define HOUSE_MS 250              /* rates, progress (so at most 4 lines a second), saves */

static void fail_now(struct xfer *x)
{
	x->fail_pending = false;
	x->state = XFER_FAILED;
	x->gen++;
	xtime_stop(x, false);
	log_warn("transfer %s: %s", x->has_cid ? x->hex : x->path, x->error);
	x->m->hooks.halt(x);
	xfer_notify(x, XFER_EV_FAILED);
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct xfer *x = arg;
	(void)fd;
	(void)what;
	if (x->fail_pending && x->state != XFER_FAILED)
		fail_now(x);
}

static void free_events(struct xfer *x)
{
	struct event **evs[] = { &x->house_ev, &x->kick_ev, &x->tick_ev, &x->dht_ev };
	for (size_t i = 0; i < sizeof evs / sizeof evs[0]; i++)
		if (*evs[i]) {
			event_free(*evs[i]);
			*evs[i] = NULL;
		}
}

void xfer_unref(struct xfer *x)
{
	if (--x->refs > 0)
		return;
	free_events(x);
	session_free(x->s);
	manifest_free(x->man);
	storage_free(x->sto);
	bitfield_free(x->verified);
	share_scan_free(&x->scan);
	while (x->watches)
		xfer_unwatch(x->watches);
	free(x->statedir);
	free(x->path);
	free(x->name);
	free(x->final_root);
	free(x->part_root);
	free(x->changed);
	bitfield_free(x->served_ok);
	bitfield_free(x->checking);
	heldchunks_clear(&x->held, &x->m->bufs);
	free(x->conns);
	peerbook_free(x->book);
	free(x->digests);
	free(x);
}

void xfer_remove(struct xfer *x)
{
	xfer_notify(x, XFER_EV_GONE);
	struct xfer **pp = &x->m->list;
	while (*pp && *pp != x)
		pp = &(*pp)->next;
	if (*pp)
		*pp = x->next;
	x->removed = true;
	x->gen++;
	x->m->hooks.halt(x);
	free_events(x);
	if (x->forget && !x->saving && x->statedir)
		xstate_remove(x->statedir);
	xfer_unref(x);
}

struct xfer_watch *xfer_watch(struct xfer *x, xfer_watch_cb *cb, void *arg)
{
	struct xfer_watch *w = calloc(1, sizeof *w);
	if (w == NULL)
		return NULL;
	w->x = x;
	w->cb = cb;
	w->arg = arg;
	w->next = x->watches;
	if (x->watches)
		x->watches->prev = w;
	x->watches = w;
	return w;
}

void xfer_unwatch(struct xfer_watch *w)
{
	if (w == NULL)
		return;
	if (w->prev)
		w->prev->next = w->next;
	else
		w->x->watches = w->next;
	if (w->next)
		w->next->prev = w->prev;
	free(w);
}

void xfer_notify(struct xfer *x, enum xfer_event ev)
{
	for (struct xfer_watch *w = x->watches, *next; w; w = next) {
		next = w->next;
		w->cb(w->arg, x, ev);
	}
}

static void set_error(struct xfer *x, enum xfer_err code, const char *fmt, va_list ap)
{
	x->code = code;
	vsnprintf(x->error, sizeof x->error, fmt, ap);
}

void xfer_fail(struct xfer *x, enum xfer_err code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_error(x, code, fmt, ap);
	va_end(ap);
	fail_now(x);
}

void xfer_fail_later(struct xfer *x, enum xfer_err code, const char *fmt, ...)
{
	if (x->fail_pending || x->state == XFER_FAILED)
		return; /* the first reason is the one reported */
	va_list ap;
	va_start(ap, fmt);
	set_error(x, code, fmt, ap);
	va_end(ap);
	x->fail_pending = true;
	event_active(x->kick_ev, EV_TIMEOUT, 0);
}

void xfer_mark_dirty(struct xfer *x)
{
	x->dirty = true;
}

void xfer_saved(struct xfer *x, bool with_manifest, int rc, const char *err)
{
	x->saving = false;
	if (rc == 0 && with_manifest)
		x->manifest_saved = true;
	if (rc != 0)
		x->dirty = true; /* try again */
	if (rc != 0 && err)
		log_warn("transfer %s: cannot save its state: %s", x->hex, err);
	if (x->forget && x->statedir)
		xstate_remove(x->statedir);
}

static int wire_have(const struct bitfield *bf, struct xstate *s)
{
	s->have_len = bitfield_wire_len(bitfield_size(bf));
	s->have = malloc(s->have_len);
	if (s->have == NULL)
		return -1;
	struct bwriter w;
	bw_init(&w, s->have, s->have_len);
	return bitfield_encode(bf, &w);
}

char *xfer_state_text(struct xfer *x)
{
	struct xstate s = { 0 };
	memcpy(s.cid, x->cid, sizeof s.cid);
	s.seed = x->seed;
	s.path = x->path;
	s.chunk_size = x->chunk_size;
	s.leave_when_done = x->leave;
	s.stopped = x->state == XFER_STOPPED;
	s.complete = x->complete;
	s.active_ms = xtime_active_ms(x);
	s.finished = x->finished;
	if (x->seed || x->complete) {
		s.nfiles = x->scan.n;
		s.size = x->scan.size;
		s.mtime_ns = x->scan.mtime_ns;
	}
	struct dht_addr peers[XSTATE_MAX_PEERS];
	s.peers = peers;
	s.npeers = x->book ? peerbook_good(x->book, peers, XSTATE_MAX_PEERS) : 0;
	char *text = NULL;
	if (x->seed || x->verified == NULL || wire_have(x->verified, &s) == 0)
		text = xstate_encode(&s);
	free(s.have);
	return text;
}

uint64_t xfer_bytes_verified(const struct xfer *x)
{
	if (x->man == NULL)
		return x->state == XFER_HASHING ? x->bytes_hashed : 0;
	if (x->seed || x->complete)
		return manifest_total_size(x->man);
	if (x->state == XFER_HASHING)
		return x->bytes_hashed;
	if (x->verified == NULL)
		return 0;
	uint32_t n = manifest_chunk_count(x->man), have = bitfield_count(x->verified);
	uint64_t bytes = (uint64_t)have * x->chunk_size;
	if (bitfield_test(x->verified, n - 1))
		bytes -= x->chunk_size - manifest_chunk_len(x->man, n - 1);
	return bytes;
}

struct xfer *xfer_find(struct xfer_mgr *m, const uint8_t cid[MANIFEST_ID_LEN])
{
	for (struct xfer *x = m->list; x; x = x->next)
		if (x->has_cid && memcmp(x->cid, cid, MANIFEST_ID_LEN) == 0)
			return x;
	return NULL;
}

struct xfer *xfer_new(struct xfer_mgr *m)
{
	static const struct timeval house = { .tv_usec = HOUSE_MS * 1000 };
	struct xfer *x = calloc(1, sizeof *x);
	if (x == NULL)
		return NULL;
	x->m = m;
	x->refs = 1;
	x->house_ev = event_new(m->base, -1, EV_PERSIST, m->hooks.house, x);
	x->kick_ev = event_new(m->base, -1, 0, on_kick, x);
	if (x->house_ev == NULL || x->kick_ev == NULL || event_add(x->house_ev, &house) != 0) {
		x->removed = true;
		xfer_unref(x);
		return NULL;
	}
	x->next = m->list;
	m->list = x;
	return x;
}

/* ---- jobs ---- */

int xfer_chunk_job(struct xfer *x, uint32_t chunk, struct chunkjob_req *req,
		   chunkjob_done_fn *done)
{
	req->chunk = chunk;
	req->len = manifest_chunk_len(x->man, chunk);
	memcpy(req->expect, manifest_chunk_hash(x->man, chunk), MANIFEST_HASH_LEN);
	struct xfer_ticket *t = malloc(sizeof *t);
	if (t == NULL ||
	    storage_spans(x->sto, (uint64_t)chunk * x->chunk_size, req->len, &req->spans) != 0) {
		free(t);
		if (req->held.data)
			heldchunk_release(&req->held, &x->m->bufs);
		return -1;
	}
	*t = (struct xfer_ticket){ x, x->gen };
	if (chunkjob_submit(x->m->pool, &x->m->bufs, req, done, t) != 0) {
		free(t);
		return -1;
	}
	x->refs++;
	return 0;
}

/* ---- the session's tick ---- */

#define TICK_MIN_US 5000
#define TICK_MAX_US 200000

void xfer_tick_arm(struct xfer *x, uint64_t at)
{
	uint64_t now = mono_now_us();
	uint64_t wait = at > now ? at - now : 0;
	wait = wait < TICK_MIN_US ? TICK_MIN_US : wait > TICK_MAX_US ? TICK_MAX_US : wait;
	struct timeval tv = { .tv_sec = 0, .tv_usec = (suseconds_t)wait };
	x->tick_at = now + wait;
	evtimer_add(x->tick_ev, &tv);
}

void xfer_tick_sooner(struct xfer *x)
{
	if (x->s == NULL || x->tick_ev == NULL)
		return;
	uint64_t due = session_deadline(x->s);
	if (due < x->tick_at)
		xfer_tick_arm(x, due);
}

/* ---- running time ---- */

void xtime_start(struct xfer *x)
{
	if (x->active_since_us == 0)
		x->active_since_us = mono_now_us();
}

void xtime_stop(struct xfer *x, bool completed)
{
	if (x->active_since_us != 0)
		x->active_us += mono_now_us() - x->active_since_us;
	x->active_since_us = 0;
	if (completed)
		x->finished = (int64_t)time(NULL);
}

uint64_t xtime_active_ms(const struct xfer *x)
{
	uint64_t us = x->active_us;
	if (x->active_since_us != 0)
		us += mono_now_us() - x->active_since_us;
	return us / 1000;
}
