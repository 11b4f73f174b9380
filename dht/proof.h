/* dht/proof.h: node identities on the wire, inside the Chord core (struct dht, dht/core.h). A
 * node proves its id (dht/idproof.h) before another takes it as successor or predecessor for
 * the first time: the taker sends PROVE with a fresh nonce, the node answers PROOF with its
 * public key and its signature. Proven nodes are kept in a bounded table (address -> id, key),
 * so that a neighbour proves itself once, not per message; the ring forgets one that timed out
 * or left. A node that cannot prove the id it claims is refused, counted (ids_refused) and
 * logged. A client of rpc.c; ring.c and merge.c are its clients. Private to dht/. */
#ifndef DHT_PROOF_H
#define DHT_PROOF_H

#include "dht/core.h"

enum proof_result {
	PROOF_OK,      /* proven, and now known */
	PROOF_REFUSED, /* it answered, but could not prove its id: an impostor (counted) */
	PROOF_FAILED,  /* no answer, or not as a member: as good as dead */
};

/* What to do once a proof ends. DONE gets the node, and the TAG and TXID given to proof_ask(),
 * exactly once, from an answer or a timeout; never inside proof_ask(). A proof FOR_NOTICE (asked
 * because another node notified or joined us: it asks again) may instead give way, silently, to
 * a newer one from the same address or, when the table is full, to any other, oldest first: so
 * that neither many senders nor one with many ids keep our own proofs from being asked. */
struct proof_handler {
	void (*done)(struct dht *d, const struct dht_node *node, unsigned tag, uint32_t txid,
		     enum proof_result r);
	bool for_notice;
};

/* Set up (0) or free the table; -1 if memory runs out. */
int proof_init(struct dht *d);
void proof_free(struct dht *d);
/* Forget the proofs under way without calling back (the node leaves; rpc dropped them). */
void proof_drop_all(struct dht *d);

/* Has NODE (this id at this address) proven its id to us? This node itself always has. */
bool proof_known(struct dht *d, const struct dht_node *node);
/* Ask NODE to prove its id; H's done() follows. A proof of NODE for the same H and TAG already
 * under way is not asked again: it takes the new TXID (a request's retry). Return 0, or -1 if
 * NODE was refused in the last minute, the table is full of proofs not for notices, or memory
 * runs out (no callback then). */
int proof_ask(struct dht *d, const struct dht_node *node, const struct proof_handler *h,
	      unsigned tag, uint32_t txid);
/* NODE timed out or left: it proves itself again before it is taken again. */
void proof_forget(struct dht *d, const struct dht_node *node);
/* Answer a PROVE from FROM with our key and signature. */
void proof_answer(struct dht *d, const struct dht_msg *m, const struct dht_node *from);
/* Copy the key NODE proved into PK and return true, if it proved one. */
bool proof_key(struct dht *d, const struct dht_node *node, uint8_t pk[DHT_PROOF_PK_LEN]);

#endif
