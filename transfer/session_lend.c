/* The peer-wire session core: lending an idle uplink. Tit-for-tat decides who gets
 * a busy uplink; an idle one given to nobody is lost to everyone. When no block is queued for an
 * unchoked peer, none has left for a while, and an interested peer waits choked, the choker
 * lends it a slot (choker_lend) until its next recompute. The while is twice the time unchoked
 * peers take to ask (their round trip as we see it), so that a lent peer gets the time to ask
 * before the next is lent. Nothing here allocates. */
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

/* Look at the uplink once it may have idled long enough (lend_check). */
void lend_arm(struct session *s)
{
	if (s->cfg.lend_idle_us == 0 || s->cfg.no_upload)
		return;
	uint64_t at = s->now + lend_wait(s);
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

/* Blocks wait for some peer we unchoked, here or in the env: the uplink has work. */
static bool uplink_busy(const struct session *s)
{
	for (uint32_t i = 0; i < s->nslots; i++) {
		struct peer *p = sess_slot(s, i);
		if (p != NULL && !p->am_choking &&
		    (p->rq_head < p->rq_end || s->env.backlog(s->env.arg, p->conn) > 0))
			return true;
	}
	return false;
}

void lend_check(struct session *s, uint64_t now)
{
	s->lend_at = 0;
	if (uplink_busy(s))
		return; /* lend_arm() runs again when the queues run dry */
	uint64_t wait = lend_wait(s);
	if (now < s->last_push + wait) {
		s->lend_at = s->last_push + wait;
		return;
	}
	/* A lent peer gets the time to ask before the next is lent. */
	if (choker_lend(s->ch, now))
		s->lend_at = now + wait;
}
