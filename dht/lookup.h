/* dht/lookup.h: iterative lookups inside the Chord core (struct dht, dht/core.h), the asking
 * side: a lookup contacts every hop itself. The core owns every lookup; a result and its path
 * are lent to the callback only for the call. ring.c, merge.c and kv.c start lookups through it;
 * findserve.c answers FIND. Private to dht/. */
#ifndef DHT_LOOKUP_H
#define DHT_LOOKUP_H

#include "dht/core.h"

/* Start a lookup of KEY. With BOOT (a join), the first hop is that address, whose id we do not
 * know, and the lookup gets twice the attempts. CB gets the result once. With DEFER, the lookup
 * starts at the next dht_tick(), so CB never runs before this returns (what every entry point
 * that takes a callback promises); without, CB may run before this returns (a key we own
 * ourselves), which only the core's own callers may accept. Return 0, or -1 on no memory (no
 * callback then). */
int lookup_start(struct dht *d, const struct dht_id *key, const struct dht_addr *boot,
		 bool defer, dht_lookup_cb *cb, void *cb_arg);
/* The same for a read (kv.c's gets): it may also end at an owner not yet confirmed, one that
 * owns the key only if nodes that did not answer in time are dead (the result says
 * unconfirmed). Such an owner holds their replicas; it must not take writes. */
int lookup_start_read(struct dht *d, const struct dht_id *key, bool defer, dht_lookup_cb *cb,
		      void *cb_arg);
/* End every lookup with STATUS, calling back. */
void lookup_fail_all(struct dht *d, enum dht_status status);
/* Free every lookup without calling back (the core is freed). */
void lookup_drop_all(struct dht *d);
/* Start the attempts that are due at NOW, deferred first attempts included. */
void lookup_run_due(struct dht *d, uint64_t now);
/* When lookup_run_due() has work next: now if a start is deferred; UINT64_MAX if never. */
uint64_t lookup_next_deadline(const struct dht *d);

#endif
