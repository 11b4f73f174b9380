/* dht/findserve.h: the answering side of lookups: what a node says to FIND (SELF, OWNER, NEXT or
 * PRED) from its own routing state, to a remote asker or to its own lookups (lookup.c). Nothing
 * here allocates: answers are written into the caller's message. Private to dht/. */
#ifndef DHT_FINDSERVE_H
#define DHT_FINDSERVE_H

#include "dht/core.h"

/* Write into OUT our FOUND answer for KEY, asked with FLAGS (DHT_FIND_*) by an asker that found
 * the NDEAD nodes of DEAD dead. Tell the ring (the suspect hook) to check our predecessor or
 * first successor now if DEAD names it. */
void findserve_answer(struct dht *d, const struct dht_id *key, uint8_t flags,
		      const struct dht_id *dead, size_t ndead, struct dht_msg *out);
/* Answer the FIND REQ from our own state, to FROM (an error while we are not in a ring). */
void findserve_reply(struct dht *d, const struct dht_msg *req, const struct dht_addr *from);

#endif
