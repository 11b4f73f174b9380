/* The peer-wire session core, withdrawals: chunks that stop being true. A share is made from a
 * file that its owner may change in place; the node that notices (transfer's env) withdraws the
 * chunks of that file, and from then on this session neither shows nor serves them, and tells its
 * peers with LOST. A peer that hears LOST drops the chunk from what that peer holds and asks
 * elsewhere; a copy of the chunk that peer sent and that fails its hash is then the file's
 * change, not a lie, and bans nobody. Also here: which missing chunk nobody connected holds any
 * more, so that the env can give up a download that cannot finish rather than wait forever.
 * It does no I/O and keeps no clock, like the rest of the session. */
#include "transfer/session_int.h"

#include <stdlib.h>
#include <string.h>

static void send_lost(struct session *s, struct peer *p, uint32_t chunk)
{
	uint8_t buf[16];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	wire_put_lost(&w, chunk);
	sess_send(s, p, buf, w.len);
}

/* Answer P's queued requests for CHUNK with REJECT, keeping the others in order. */
static void reject_queued(struct session *s, struct peer *p, uint32_t chunk)
{
	unsigned kept = p->rq_head;
	for (unsigned i = p->rq_head; i < p->rq_end; i++) {
		const struct wire_span *q = &p->rq[i];
		if (q->chunk == chunk)
			sess_send_span(s, p, WIRE_REJECT, q->chunk, q->offset, q->length);
		else
			p->rq[kept++] = *q;
	}
	p->rq_end = kept;
	if (p->rq_head == p->rq_end)
		p->rq_head = p->rq_end = 0;
}

int session_withdraw(struct session *s, uint32_t chunk)
{
	if (s->have == NULL || chunk >= bitfield_size(s->have) || !bitfield_test(s->have, chunk))
		return -1;
	if (s->withdrawn == NULL && (s->withdrawn = bitfield_new(bitfield_size(s->have))) == NULL)
		return -1;
	if (bitfield_test(s->withdrawn, chunk))
		return 0;
	s->now = s->env.now(s->env.arg);
	bitfield_set(s->withdrawn, chunk);
	sess_log(s, "withdrew chunk %u", chunk);
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *p = sess_slot(s, i);
		if (p == NULL)
			continue;
		reject_queued(s, p, chunk);
		/* A peer not yet shown our bitfield hears of it right after (wd_peer_ready). */
		if (p->sent_bitfield)
			send_lost(s, p, chunk);
	}
	return 0;
}

bool session_withdrawn(const struct session *s, uint32_t chunk)
{
	return s->withdrawn != NULL && chunk < bitfield_size(s->withdrawn) &&
	       bitfield_test(s->withdrawn, chunk);
}

bool wd_refuse(struct session *s, struct peer *p, const struct wire_span *sp)
{
	if (!session_withdrawn(s, sp->chunk))
		return false;
	/* It may have asked before our LOST reached it: a refusal, not a fault. */
	sess_send_span(s, p, WIRE_REJECT, sp->chunk, sp->offset, sp->length);
	return true;
}

static int remember_lost_pid(struct session *s, uint64_t pid)
{
	for (uint32_t i = 0; i < s->nlost_pids; i++)
		if (s->lost_pids[i] == pid)
			return 0;
	uint64_t *n = realloc(s->lost_pids, (s->nlost_pids + 1) * sizeof *n);
	if (n == NULL)
		return -1;
	s->lost_pids = n;
	s->lost_pids[s->nlost_pids++] = pid;
	return 0;
}

/* P, ready to trade, no longer has CHUNK. */
static void lost_apply(struct session *s, struct peer *p, uint32_t chunk)
{
	if (s->lost == NULL && (s->lost = bitfield_new(manifest_chunk_count(s->m))) == NULL)
		return;
	if (remember_lost_pid(s, p->pid) < 0)
		return;
	bitfield_set(s->lost, chunk);
	picker_peer_lost(s->pk, p->pp, chunk);
	sess_log(s, "peer %u withdrew chunk %u", p->slot, chunk);
}

/* Kept until we know the chunk count and the peer's bitfield is applied (wd_peer_ready). */
static int lost_keep(struct peer *p, uint32_t chunk)
{
	if (chunk >= BITFIELD_MAX_BITS || p->nearly_lost >= BITFIELD_MAX_BITS)
		return -1;
	uint32_t k = p->nearly_lost;
	if (k == 0 || (k >= 8 && (k & (k - 1)) == 0)) { /* full: 8, then doubling */
		uint32_t *n = realloc(p->early_lost, (k ? 2 * (size_t)k : 8) * sizeof *n);
		if (n == NULL)
			return -1;
		p->early_lost = n;
	}
	p->early_lost[p->nearly_lost++] = chunk;
	return 0;
}

int wd_lost(struct session *s, struct peer *p, uint32_t chunk)
{
	if (!p->got_bitfield)
		return -1;
	if (s->m == NULL || p->pp == NULL)
		return lost_keep(p, chunk);
	if (chunk >= manifest_chunk_count(s->m))
		return -1;
	lost_apply(s, p, chunk);
	return 0;
}

/* Our bitfield still shows withdrawn chunks, as the picker's and the super-seed's views do:
 * LOST right after it says that they are gone and why, so that the peer does not wait for
 * them here. */
void wd_peer_ready(struct session *s, struct peer *p)
{
	for (uint32_t c = s->withdrawn ? bitfield_next_set(s->withdrawn, 0) : BITFIELD_NONE;
	     c != BITFIELD_NONE; c = bitfield_next_set(s->withdrawn, c + 1))
		send_lost(s, p, c);
	for (uint32_t i = 0; i < p->nearly_lost; i++)
		if (p->early_lost[i] < manifest_chunk_count(s->m))
			lost_apply(s, p, p->early_lost[i]);
	free(p->early_lost);
	p->early_lost = NULL;
	p->nearly_lost = 0;
}

bool wd_excused(const struct session *s, uint64_t pid, uint32_t chunk)
{
	if (s->lost == NULL || !bitfield_test(s->lost, chunk))
		return false;
	for (uint32_t i = 0; i < s->nlost_pids; i++)
		if (s->lost_pids[i] == pid)
			return true;
	return false;
}

uint32_t session_orphan(const struct session *s, bool *withdrawn)
{
	*withdrawn = false;
	if (s->pk == NULL)
		return UINT32_MAX;
	uint32_t n = picker_nchunks(s->pk);
	for (uint32_t c = 0; c < n; c++) {
		if (picker_have(s->pk, c) || picker_chunk_peers(s->pk, c) > 0)
			continue;
		*withdrawn = s->lost != NULL && bitfield_test(s->lost, c);
		return c;
	}
	return UINT32_MAX;
}

void wd_free(struct session *s)
{
	bitfield_free(s->withdrawn);
	bitfield_free(s->lost);
	free(s->lost_pids);
}
