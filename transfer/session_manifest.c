/* The peer-wire session core, part three: the manifest. A peer that knows only the content id
 * fetches the manifest in WIRE_MANIFEST_PIECE_SIZE pieces, all from one source at a time (a peer
 * that sent a BITFIELD, so it has the manifest), in order, and accepts it only if its hash is the
 * content id. One source per attempt means a manifest that fails the check convicts its sender;
 * when the source goes away or refuses, the attempt starts over with another. Any peer may
 * ask for the manifest (a newcomer needs it before it can trade), but every answer counts
 * against what the peer has left unread: an honest fetcher asks MF_WINDOW pieces at a time and
 * reads them, so a peer that keeps asking while far more than that waits unread is ended.
 * A source sends the manifest to cfg.manifest_turns peers at once and refuses a first piece to
 * others meanwhile: otherwise the seed of a new swarm, asked first by every newcomer, spent
 * its first seconds on manifests (100 peers, 16 KiB chunks: 2.5 s at 1 MiB/s) while the
 * chunks only it had waited. In swarmsim, 100 peers and seeds of 1/2/4 MiB/s: 64 MiB took
 * 1.18/1.11/1.09 x D_p2p without turns and 1.11/1.08/1.07 with 4, 16 MiB 1.42/1.28/1.23 and
 * 1.30/1.26/1.26; the lab's 16 peers with mixed uplinks 1.071 and 1.057. A refused fetcher
 * asks another source, and the same one again only after MF_WAIT_MIN_US, doubled each time
 * every source has refused, up to MF_WAIT_MAX_US. Nothing here touches chunks beyond setting
 * up the picker once the manifest is known. */
#include "transfer/session_int.h"

#include <stdlib.h>
#include <string.h>

/* Pieces asked of the source at once. */
#define MF_WINDOW 8
/* A turn with a peer that has asked nothing for this long is over (it left us, or is slow),
 * and any turn is over after MF_TURN_MAX_US: a peer that asks for a middle piece over and over
 * holds no turn for longer. Pieces past the first are served after a turn too. */
#define MF_TURN_IDLE_US 500000u
#define MF_TURN_MAX_US 2000000u
#define MF_WAIT_MIN_US 10000u
#define MF_WAIT_MAX_US 80000u
/* Bytes queued to a peer, unread, past which its manifest requests are a fault: twice the
 * window of pieces, on top of what else we queue it (a bitfield, blocks up to the low water). */
#define MF_UNREAD_MAX (2u * MF_WINDOW * (WIRE_MANIFEST_PIECE_SIZE + 16) + WIRE_MAX_FRAME)

static uint32_t npieces(uint32_t total)
{
	return (total + WIRE_MANIFEST_PIECE_SIZE - 1) / WIRE_MANIFEST_PIECE_SIZE;
}

/* Send P a MANIFEST_REQ or MANIFEST_REJECT for piece INDEX. */
static void mf_send_index(struct session *s, struct peer *p, enum wire_type type, uint32_t index)
{
	uint8_t buf[16];
	struct bwriter w;
	bw_init(&w, buf, sizeof buf);
	wire_put_piece_index(&w, type, index);
	sess_send(s, p, buf, w.len);
}

static void mf_ask(struct session *s, struct peer *p, uint32_t index)
{
	mf_send_index(s, p, WIRE_MANIFEST_REQ, index);
	p->mpending++;
}

static void mf_start(struct session *s, struct peer *p)
{
	free(s->mbuf);
	s->mbuf = NULL;
	s->mtotal = s->mgot = 0;
	s->mnext = 1;
	s->msrc = p;
	mf_ask(s, p, 0);
}

static uint64_t mf_wait(const struct session *s)
{
	return s->mwait ? s->mwait : MF_WAIT_MIN_US;
}

/* Whether Q refused us the manifest too recently to be asked again. */
static bool mf_resting(const struct session *s, const struct peer *q)
{
	return s->now < q->mrest_until;
}

void mf_restart(struct session *s)
{
	free(s->mbuf);
	s->mbuf = NULL;
	s->msrc = NULL;
	uint64_t retry = UINT64_MAX;
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *q = sess_slot(s, i);
		if (q == NULL || !q->got_bitfield || q->no_manifest || q->mpending != 0)
			continue;
		if (!mf_resting(s, q)) {
			mf_start(s, q);
			return;
		}
		if (q->mrest_until < retry)
			retry = q->mrest_until;
	}
	if (retry == UINT64_MAX)
		return; /* nobody to ask: a peer's BITFIELD starts the next attempt */
	s->mretry_at = retry;
	s->mwait = mf_wait(s) * 2 < MF_WAIT_MAX_US ? mf_wait(s) * 2 : MF_WAIT_MAX_US;
}

uint64_t mf_tick(struct session *s, uint64_t now)
{
	if (s->mretry_at != 0 && s->mretry_at <= now) {
		s->mretry_at = 0;
		if (s->m == NULL && s->msrc == NULL)
			mf_restart(s);
	}
	return s->mretry_at ? s->mretry_at : UINT64_MAX;
}

void mf_peer_ready(struct session *s, struct peer *p)
{
	if (s->m == NULL && s->msrc == NULL)
		mf_start(s, p);
}

/* Whether cfg.manifest_turns other peers are being sent the manifest, or one behind the same
 * key (host) is, so that P, asking for a first piece, must wait its turn. A host that opens
 * connections anew holds one turn at most. */
static bool mf_busy(const struct session *s, const struct peer *p)
{
	if (s->cfg.manifest_turns == 0)
		return false;
	unsigned n = 0;
	for (uint32_t i = 0; i < s->nslots; i++) {
		const struct peer *q = sess_slot(s, i);
		if (q == NULL || q == p || !q->mturn || s->now - q->mserved_at >= MF_TURN_IDLE_US ||
		    s->now - q->mturn_at >= MF_TURN_MAX_US)
			continue;
		if (++n >= s->cfg.manifest_turns || memcmp(q->key, p->key, SESSION_KEY_LEN) == 0)
			return true;
	}
	return false;
}

void mf_peer_lost(struct session *s, struct peer *p)
{
	if (s->m == NULL && s->msrc == p) {
		s->msrc = NULL;
		mf_restart(s);
	}
}

int mf_request(struct session *s, struct peer *p, uint32_t index)
{
	struct bwriter w;
	if (s->env.backlog(s->env.arg, p->conn) > MF_UNREAD_MAX + s->cfg.send_low_water) {
		sess_log(s, "peer %u: asks for the manifest and leaves our answers unread", p->slot);
		return -1;
	}
	if (s->m == NULL || (index == 0 && mf_busy(s, p))) {
		mf_send_index(s, p, WIRE_MANIFEST_REJECT, index);
		return 0;
	}
	size_t total;
	const uint8_t *bytes = manifest_bytes(s->m, &total);
	uint32_t n = npieces((uint32_t)total);
	if (index >= n)
		return -1;
	if (index == 0)
		p->mturn_at = s->now;
	p->mturn = index + 1 < n;
	p->mserved_at = s->now;
	size_t off = (size_t)index * WIRE_MANIFEST_PIECE_SIZE;
	size_t len = total - off < WIRE_MANIFEST_PIECE_SIZE ? total - off : WIRE_MANIFEST_PIECE_SIZE;
	bw_init(&w, s->frame, WIRE_MAX_FRAME);
	if (wire_put_manifest_piece(&w, index, (uint32_t)total, bytes + off, (uint32_t)len) < 0)
		return -1;
	sess_send(s, p, s->frame, w.len);
	return 0;
}

int mf_accept(struct session *s, struct manifest *owned, const struct manifest *m)
{
	struct picker_config pc;
	picker_config_default(&pc);
	pc.total_bytes = manifest_total_size(m);
	pc.chunk_size = manifest_chunk_size(m);
	pc.max_depth = s->cfg.max_depth;
	pc.rand64 = s->env.rand64;
	pc.rand_arg = s->env.arg;
	s->have = bitfield_new(manifest_chunk_count(m));
	s->pk = s->have ? picker_new(&pc) : NULL;
	if (s->pk == NULL) {
		bitfield_free(s->have);
		s->have = NULL;
		return -1;
	}
	s->m = m;
	s->owned = owned;
	free(s->mbuf);
	s->mbuf = NULL;
	s->msrc = NULL;
	if (owned && s->env.manifest)
		s->env.manifest(s->env.arg, m);
	return 0;
}

static int mf_finish(struct session *s)
{
	struct manifest *m = manifest_verify(s->mbuf, s->mtotal, s->cfg.content);
	if (m == NULL) {
		s->msrc = NULL;
		return MF_FORGED;
	}
	if (mf_accept(s, m, m) < 0) {
		manifest_free(m);
		mf_restart(s);
		return 0;
	}
	return MF_READY;
}

int mf_piece(struct session *s, struct peer *p, const struct wire_manifest_piece *pc)
{
	if (p->mpending == 0)
		return -1;
	p->mpending--;
	/* A piece from a source we gave up on is late, not wrong. */
	if (s->m || p != s->msrc)
		return 0;
	if (pc->index != s->mgot || (s->mgot > 0 && pc->total != s->mtotal))
		return -1;
	if (s->mgot == 0) {
		s->mbuf = malloc(pc->total);
		if (s->mbuf == NULL)
			return -1;
		s->mtotal = pc->total;
	}
	memcpy(s->mbuf + (size_t)pc->index * WIRE_MANIFEST_PIECE_SIZE, pc->data, pc->len);
	s->mgot++;
	uint32_t n = npieces(s->mtotal);
	if (s->mgot == n)
		return mf_finish(s);
	while (s->mnext < n && p->mpending < MF_WINDOW)
		mf_ask(s, p, s->mnext++);
	return 0;
}

int mf_reject(struct session *s, struct peer *p, uint32_t index)
{
	(void)index;
	if (p->mpending == 0)
		return -1;
	p->mpending--;
	if (s->m || p != s->msrc)
		return 0;
	/* One that sent a BITFIELD has the manifest: it is busy, not without. */
	if (p->got_bitfield)
		p->mrest_until = s->now + mf_wait(s);
	else
		p->no_manifest = true;
	mf_restart(s);
	return 0;
}
