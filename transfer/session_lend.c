/* The peer-wire session core: lending an idle uplink. Tit-for-tat decides who gets
 * a busy uplink; an idle one given to nobody is lost to everyone. When an interested peer
 * waits choked and the uplink is about to idle, the choker lends it a slot (choker_lend) until
 * its next recompute. With our uplink's rate known, "about to" is foreseen: the work queued
 * for unchoked peers takes less time than a lent peer needs to ask (its round trip, as unchoked
 * peers took to ask), so its requests arrive as the queue runs dry. Waiting for the uplink to
 * idle first cost a round trip each time, and in a young swarm that is often: a peer holding a
 * chunk or two has served its slot holders within a round trip, and each slot it hands on
 * again idles it for one. In swarmsim (100 peers at 1 MiB/s, 16 MiB, seeds of 1, 2 and 4 MiB/s)
 * foreseeing took 1.25/1.19/1.20 x D_p2p to 1.23/1.16/1.16, and 16 peers like the lab's with
 * mixed uplinks (1 ms links) from 1.064 to 1.044. With the rate unknown, a slot is lent once no
 * block has left for twice that round trip. A lent slot its holder asks nothing of moves to
 * another waiting peer (lend_one). Nothing here allocates. */
#include "transfer/session_int.h"

#define LEND_MIN_US 5000

/* How long the uplink idles before a slot is lent, and a lent peer has to ask. Never less
 * than two blocks' time on a known uplink: a kernel-shaped link takes our blocks at once and
 * drains them at its rate, so pushes a block's time apart are a busy uplink, not an idle one. */
static uint64_t lend_wait(const struct session *s)
{
	uint64_t w = 2 * s->ask_us;
	if (s->ask_us == 0 || w > s->cfg.lend_idle_us)
		w = s->cfg.lend_idle_us;
	else if (w < LEND_MIN_US)
		w = LEND_MIN_US;
	uint64_t rate = s->cfg.upload_rate;
	uint64_t blocks = rate ? 2 * WIRE_BLOCK_SIZE * 1000000ull / rate : 0;
	return w > blocks ? w : blocks;
}

/* Whether the uplink's idling can be foreseen: its rate and the peers' round trip are known. */
static bool foreseeing(const struct session *s)
{
	return s->cfg.upload_rate != 0 && s->ask_us != 0;
}

/* Look at the uplink at once if its idling can be foreseen, else once it may have idled long
 * enough (lend_check). */
void lend_arm(struct session *s)
{
	if (s->cfg.lend_idle_us == 0 || s->cfg.no_upload)
		return;
	uint64_t at = s->now + (foreseeing(s) ? 0 : lend_wait(s));
	if (s->lend_at == 0 || at < s->lend_at)
		s->lend_at = at;
}

/* P asked for the first time since we unchoked it. The estimate follows a quicker ask at
 * once and a slower one by an eighth: a peer that had other sources to ask first is slow for
 * reasons that say nothing of the round trip. */
void lend_asked(struct session *s, struct peer *p)
{
	uint64_t t = s->now - p->unchoked_at;
	p->ask_timing = false;
	if (s->ask_us == 0 || t < s->ask_us)
		s->ask_us = t ? t : 1;
	else
		s->ask_us += (t - s->ask_us) / 8;
}

/* The work queued for unchoked peers, here or in the env, in bytes: each request counted as a
 * whole block (a few short ones only make us lend later). 0: the uplink has none. */
static uint64_t queued_bytes(const struct session *s)
{
	uint64_t bytes = 0;
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *p = sess_slot(s, i);
		if (p != NULL && !p->am_choking)
			bytes += (uint64_t)(p->rq_end - p->rq_head) * WIRE_BLOCK_SIZE +
				 s->env.backlog(s->env.arg, p->conn);
	}
	return bytes;
}

/* Lend a slot, or if as many are lent as may be, move one from a peer that has asked nothing
 * of it for twice the round trip (lend_wait() while that is unknown): lent to a peer that gets
 * its chunks elsewhere, a slot helps nobody (swarmsim, 100 peers at 1 MiB/s: in the first
 * seconds most lent slots' holders had nothing left to ask of us, beside scores of choked peers
 * that had). */
static bool lend_one(struct session *s, uint64_t now)
{
	if (choker_lend(s->ch, now))
		return true;
	uint64_t quiet = foreseeing(s) ? 2 * s->ask_us : lend_wait(s);
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *p = sess_slot(s, i);
		if (p == NULL || p->am_choking || !choker_peer_lent(p->cp) || p->rq_head < p->rq_end)
			continue;
		uint64_t last = p->asked_at > p->unchoked_at ? p->asked_at : p->unchoked_at;
		if (now - last >= quiet)
			return choker_relend(s->ch, p->cp, now);
	}
	return false;
}

/* Lend a slot once the queued work takes less than a peer needs to ask; look again when it
 * will (never sooner than LEND_MIN_US, which bounds the looks while a peer reads nothing). */
static void lend_foreseen(struct session *s, uint64_t now)
{
	uint64_t q = queued_bytes(s) * 1000000 / s->cfg.upload_rate; /* microseconds */
	if (q > s->ask_us) {
		uint64_t wait = q - s->ask_us;
		s->lend_at = now + (wait > LEND_MIN_US ? wait : LEND_MIN_US);
		return;
	}
	/* A lent peer gets the time to ask before the next is lent. */
	if (lend_one(s, now))
		s->lend_at = now + s->ask_us;
}

void lend_check(struct session *s, uint64_t now)
{
	s->lend_at = 0;
	if (foreseeing(s)) {
		lend_foreseen(s, now);
		return;
	}
	if (queued_bytes(s) != 0)
		return; /* lend_arm() runs again when the queues run dry */
	uint64_t wait = lend_wait(s);
	if (now < s->last_push + wait) {
		s->lend_at = s->last_push + wait;
		return;
	}
	/* A lent peer gets the time to ask before the next is lent. */
	if (lend_one(s, now))
		s->lend_at = now + wait;
}
