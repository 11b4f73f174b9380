/* transfer/session_view.h: a read-only look into a running session for people watching a node
 * (the web view and its metrics): each peer's state and rates, the chunk map (held, in
 * flight, missing, and how many peers hold each chunk), the choker's last rounds. Nothing
 * here changes the session; the caller owns every output array. */
#ifndef TRANSFER_SESSION_VIEW_H
#define TRANSFER_SESSION_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "transfer/choker.h"
#include "transfer/session.h"

struct session_peer_view {
	uint32_t slot;
	void *conn;                 /* the env's handle, as given to session_peer_add */
	bool handshaken;            /* past its handshake (the rest is zero before) */
	bool am_choking, am_interested, peer_choking, peer_interested;
	bool optimistic;            /* holds our optimistic unchoke */
	bool snubbed;               /* we want its data, it has sent none for a while */
	uint64_t rate_down;         /* bytes/s it fed us over the choker's window */
	uint64_t received, uploaded; /* payload bytes from it and to it */
	uint32_t has;               /* chunks it holds (0 until we know the manifest) */
	uint32_t requests;          /* our requests to it not yet answered */
};

/* Copy up to MAX peers into OUT, by slot; return how many. NOW_US is the env's clock. */
size_t session_view_peers(const struct session *s, uint64_t now_us, struct session_peer_view *out,
			  size_t max);

enum session_chunk_state { SESSION_CHUNK_MISSING, SESSION_CHUNK_FLIGHT, SESSION_CHUNK_HELD };
/* Fill STATE[i] and PEERS[i] (how many connected peers hold chunk i) for the first N chunks.
 * Return how many chunks the session has (0 before the manifest; then nothing is filled). */
uint32_t session_view_chunks(const struct session *s, uint8_t *state, uint32_t *peers,
			     uint32_t n);

/* Copy up to MAX of the choker's last rounds into OUT, newest first, and for each holder the
 * slot of the peer it names in SLOTS[round * CHOKER_ROUND_PEERS + k] (-1: gone since). Return
 * how many rounds. */
size_t session_view_rounds(const struct session *s, struct choker_round *out, int32_t *slots,
			   size_t max);

#endif
