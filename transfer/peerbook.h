/* transfer/peerbook.h: one transfer's peer-discovery policy as a pure core: which addresses it
 * knows, which to dial and when (back-off after failures, never a banned one), and when to ask
 * the DHT (look holders up, announce ourselves, re-announce). The driver (node/xfer/xfer_swarm.c
 * on the real clock, tools/swarmsim on a virtual one) makes the calls and connections the book
 * asks for and reports how they went; time is passed in. It needs no randomness: the DHT's
 * answer is where chance enters. peerbook_new() returns an object the caller frees; an address
 * it returns is the book's, valid until the next peerbook_add() or peerbook_found(). */
#ifndef TRANSFER_PEERBOOK_H
#define TRANSFER_PEERBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dht/msg.h"
#include "transfer/session.h"

struct peerbook_config {
	struct dht_addr self;         /* our own address: never kept, never dialled */
	unsigned max_known;           /* addresses remembered: 256 */
	unsigned max_conns;           /* dial only while fewer connections are open: 60 */
	/* Without the manifest, dial only while fewer of our own dials are open: 8. Every
	 * downloader is listed from its start, manifest or not; peers that all dialled each other
	 * before any had the manifest filled their slots with peers that could not serve it
	 * (swarmsim, 100 peers with 40 connections each: 60 of them never got a byte). Holders
	 * still dial us, and with the manifest we dial up to max_conns. */
	unsigned bare_dials;
	unsigned enough_conns;        /* with this many, look up at the slow pace: 30 */
	uint64_t dial_backoff_us;     /* wait before redialling: this, doubled per failure ... */
	uint64_t dial_backoff_max_us; /* ... up to this; a finished pair also waits this long */
	uint64_t retry_us;            /* a DHT call that failed or could not start: 2 s */
	/* Often enough that an announcement lost in ring churn (a key's owner restarted empty
	 * before the keys came back to it) is back within a minute, rarely enough to cost
	 * nothing: 60 s. */
	uint64_t announce_every_us;
	uint64_t lookup_every_us;     /* downloading with enough connections: 15 s */
	/* With fewer: peers announce once they have the manifest, and the sooner we meet them
	 * the sooner we trade: 3 s; and 1 s in the first 10 s of a run, when every peer of a new
	 * swarm is about to announce. */
	uint64_t lookup_few_us, lookup_early_us, early_us;
	/* In those first 10 s, while we hold no chunk and know fewer than empty_known addresses:
	 * 0.25 s. Peers that just announced are found only by those who look, and a first chunk
	 * is what we lack most; once we hold one, looking faster only ties us to other holders
	 * sooner. A handful of peers is enough to get a first chunk from: 10 (with 30, a swarm
	 * of 100 gave its last peers a first chunk later, as everyone piled onto the same first
	 * holders sooner). */
	uint64_t lookup_empty_us;
	unsigned empty_known;
	/* Without the manifest, looking for a first holder: 0.25 s, doubling up to 4 s. */
	uint64_t find_first_us, find_max_us;
	/* Dial bounds. Addresses come from the DHT, where anyone may plant any address: each
	 * host (an IPv4 address, an IPv6 /64, whatever the port) is dialled at most host_dials
	 * times per host_window_us (6 per 60 s), and all dials together keep to dial_rate a
	 * second after a burst of dial_burst (10/s, 40). */
	unsigned host_dials;
	uint64_t host_window_us;
	unsigned dial_rate, dial_burst;
};

/* The transfer as its driver sees it at the moment of a call. */
struct peerbook_view {
	bool seeking;       /* it lacks chunks or the manifest: dial, and look holders up */
	bool holding;       /* it holds a verified chunk */
	bool has_manifest;  /* without it, SEEKING looks for a first holder quickly */
	unsigned conns;     /* connections open, both ways */
};

enum peerbook_call { PEERBOOK_NONE, PEERBOOK_ANNOUNCE, PEERBOOK_LOOKUP };

struct peerbook_stats {
	uint32_t known;             /* addresses kept */
	uint32_t lookups;           /* lookups answered */
	uint32_t learned_late;      /* addresses first learned from a run's second lookup or later */
	uint32_t dials;
	uint32_t failures;          /* attempts counted against their address */
	uint32_t redials;           /* dials of an address whose last attempt failed */
	uint32_t dials_held;        /* times a due dial waited for a dial bound */
	uint64_t min_redial_wait_us; /* shortest failure-to-redial wait; UINT64_MAX: none */
};

struct peerbook;

void peerbook_config_default(struct peerbook_config *cfg);
/* Return a book for CFG (copied), or NULL if a bound is zero or memory runs out. */
struct peerbook *peerbook_new(const struct peerbook_config *cfg);
void peerbook_free(struct peerbook *pb); /* accepts NULL */

/* A run starts at NOW: look up and announce at once, at the quick pace for a first holder. */
void peerbook_start(struct peerbook *pb, uint64_t now);
/* The run stops: calls in flight are forgotten, no address counts as being dialled. */
void peerbook_stop(struct peerbook *pb);

/* Remember A (a hint from an earlier run, or a holder). Return 1 if it is new, 0 if it was
 * known or is ours, -1 if the book is full. */
int peerbook_add(struct peerbook *pb, const struct dht_addr *a);
/* Write up to MAX addresses we reached and did not ban into OUT; return how many. */
uint32_t peerbook_good(const struct peerbook *pb, struct dht_addr *out, uint32_t max);
/* The most peers besides us one lookup of this book named (for a "not found" message); some
 * may be seekers without the manifest. */
uint32_t peerbook_peers_seen(const struct peerbook *pb);
void peerbook_stats(const struct peerbook *pb, struct peerbook_stats *out);

/* ---- the DHT ---- */

/* The DHT call to make at NOW, marked as in flight until its answer, or PEERBOOK_NONE. Call
 * again until NONE: an announce and a lookup may both be due. */
enum peerbook_call peerbook_due(struct peerbook *pb, uint64_t now, const struct peerbook_view *v);
/* When a DHT call is due next, or UINT64_MAX if none is wanted. */
uint64_t peerbook_next_call(const struct peerbook *pb, const struct peerbook_view *v);
/* Call C could not be started: try again after retry_us. */
void peerbook_call_failed(struct peerbook *pb, enum peerbook_call c, uint64_t now);
/* An announce was answered. Return true if it was the run's first to succeed. */
bool peerbook_announced(struct peerbook *pb, bool ok, uint64_t now);
/* A lookup was answered: if OK, with N holders in PEERS (each remembered). */
void peerbook_found(struct peerbook *pb, bool ok, const struct dht_addr *peers, size_t n,
		    uint64_t now, const struct peerbook_view *v);
/* We just got the manifest or a first chunk: if we have not announced in this run, do it at
 * once. */
void peerbook_kick(struct peerbook *pb, uint64_t now);

/* ---- dialling (outgoing connections only: an incoming one is not the book's) ---- */

/* The next known address to dial at NOW, marked as being dialled, or NULL: none is due, V has
 * enough connections, or V is not seeking. Each dial ends in peerbook_closed() or
 * peerbook_dropped(); peerbook_up() in between if it came up. */
const struct dht_addr *peerbook_dial(struct peerbook *pb, uint64_t now,
				     const struct peerbook_view *v);
/* Our connection to A is up: its failures are forgiven, and it counts as reached. */
void peerbook_up(struct peerbook *pb, const struct dht_addr *a);
/* The session ended our connection to A for WHY: a ban is for good; a duplicate or a finished
 * pair is no failure, and a finished pair waits dial_backoff_max_us. */
void peerbook_closed(struct peerbook *pb, const struct dht_addr *a, enum session_close why,
		     uint64_t now);
/* Our connection to A, or the attempt, ended on its own; FAILED: it never reached the session
 * (refused, unreachable), which counts against A. */
void peerbook_dropped(struct peerbook *pb, const struct dht_addr *a, bool failed, uint64_t now);

#endif
