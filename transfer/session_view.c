/* What a running session looks like from outside: a copy of its peers' states, the chunk map
 * and the choker's rounds, for the web view. Read-only: it walks the session's arrays and asks
 * the picker and choker through their accessors; it decides nothing. O(peers * chunks) for the
 * peers' chunk counts, which is fine at the pace a person reloads a page. */
#include "transfer/session_view.h"

#include <string.h>

#include "transfer/session_int.h"

static uint32_t peer_has(const struct session *s, const struct peer *p)
{
	uint32_t n = 0, chunks = s->have != NULL ? bitfield_size(s->have) : 0;
	if (p->pp == NULL)
		return 0;
	for (uint32_t i = 0; i < chunks; i++)
		n += picker_peer_has(s->pk, p->pp, i);
	return n;
}

static void view_peer(const struct session *s, const struct peer *p, uint64_t now,
		      struct session_peer_view *v)
{
	memset(v, 0, sizeof *v);
	v->slot = p->slot;
	v->conn = p->conn;
	v->handshaken = p->hs_got;
	v->am_choking = p->am_choking;
	v->am_interested = p->am_interested;
	v->peer_choking = p->peer_choking;
	v->peer_interested = p->peer_interested;
	v->has = peer_has(s, p);
	for (unsigned k = p->out_head; k < p->out_end; k++)
		v->requests += !p->out[k].answered;
	if (p->cp == NULL)
		return;
	v->optimistic = choker_peer_optimistic(p->cp);
	v->snubbed = choker_peer_snubbed(s->ch, p->cp, now);
	v->rate_down = choker_peer_rate(s->ch, p->cp, now);
	v->received = choker_peer_received_total(p->cp);
	v->uploaded = choker_peer_uploaded(p->cp);
}

size_t session_view_peers(const struct session *s, uint64_t now_us, struct session_peer_view *out,
			  size_t max)
{
	size_t n = 0;
	for (uint32_t i = 0; i < s->nslots && n < max; i++) {
		const struct peer *p = sess_slot(s, i);
		if (p != NULL)
			view_peer(s, p, now_us, &out[n++]);
	}
	return n;
}

uint32_t session_view_chunks(const struct session *s, uint8_t *state, uint32_t *peers,
			     uint32_t n)
{
	if (s->m == NULL || s->pk == NULL || s->have == NULL)
		return 0;
	uint32_t chunks = bitfield_size(s->have);
	if (n > chunks)
		n = chunks;
	for (uint32_t i = 0; i < n; i++) {
		state[i] = bitfield_test(s->have, i) ? SESSION_CHUNK_HELD : SESSION_CHUNK_MISSING;
		peers[i] = picker_chunk_peers(s->pk, i);
	}
	for (uint32_t i = 0; i < s->nslots; i++) {
		const struct peer *p = sess_slot(s, i);
		for (unsigned k = p != NULL ? p->out_head : 0; p != NULL && k < p->out_end; k++) {
			uint32_t c = p->out[k].chunk;
			if (c < n && !p->out[k].answered && state[c] == SESSION_CHUNK_MISSING)
				state[c] = SESSION_CHUNK_FLIGHT;
		}
	}
	return chunks;
}

/* The slot of the peer the choker calls SERIAL, or -1 if it has gone. */
static int32_t slot_of(const struct session *s, uint64_t serial)
{
	for (uint32_t i = 0; i < s->nslots; i++) {
		const struct peer *p = sess_slot(s, i);
		if (p != NULL && p->cp != NULL && choker_peer_serial(p->cp) == serial)
			return (int32_t)i;
	}
	return -1;
}

size_t session_view_rounds(const struct session *s, struct choker_round *out, int32_t *slots,
			   size_t max)
{
	size_t n = choker_rounds(s->ch, out, max);
	for (size_t r = 0; r < n; r++)
		for (uint32_t k = 0; k < out[r].npeers; k++)
			slots[r * CHOKER_ROUND_PEERS + k] = slot_of(s, out[r].peers[k].serial);
	return n;
}
