/* Tit-for-tat choking for one torrent: decides which connected peers we upload to.
 *
 * The rule we start from (DESIGN.md): "it uploads to the 4 peers that feed it at the highest
 * rate, recomputed every 10 s, and every 30 s optimistically unchokes one more peer at random."
 * What the textbook skips, and we add:
 *   1. Only interested peers hold slots; a peer that loses interest frees its slot at once.
 *   2. The rate is a rolling window: bytes received in the last rate_window_us (20 s), counted
 *      in CHOKER_RATE_BUCKETS buckets, so it lags by at most one bucket (2 s).
 *   3. Peers connected for less than new_peer_us are new_peer_weight (3) times as likely to get
 *      the optimistic slot: they have nothing to trade until someone gives them a chunk.
 *   4. Anti-snubbing: a peer we are interested in that has sent nothing for snub_us (60 s) is
 *      not reciprocating: it ranks below every peer that is not snubbing us, so it keeps a
 *      regular slot only when nobody else wants one; the optimistic slot is its way back in.
 *   5. While the torrent is young (young_us) nearly every peer has nothing to trade, and one
 *      optimistic slot held for 30 s per uploader leaves some peers without a first chunk for
 *      tens of seconds (swarmsim: 10 of 100 peers still empty at 15 s). So a leecher moves its
 *      optimistic slot on as soon as the holder got optimistic_bytes from us: enough to have
 *      something to offer. A seed does not: its choking churn sends a super-seed's chunks
 *      twice (measured: slower whenever the seed's uplink is the bound).
 *   6. A seed has no download rate to reciprocate: its regular slots go to the interested peers
 *      it has uploaded the fewest bytes to, so the slots rotate and every leecher gets an equal
 *      share rather than the fastest few getting everything.
 *   7. Slots are a means, not an end: when our uplink sits idle (the session sees it: nothing
 *      queued, nothing sent for a while) while interested peers wait choked, the idle capacity
 *      is lent to one of them until the next recompute (choker_lend). Tit-for-tat decides who
 *      gets a busy uplink; an idle one given to nobody is lost to everyone. In a young swarm
 *      the slot holders often have nothing to ask of us yet (their chunks are coming from
 *      elsewhere), and in swarmsim holders sat idle for seconds beside choked peers wanting
 *      their chunks. A lent slot whose holder asks nothing of it moves on (choker_relend).
 * Between periods, a freed slot is refilled without disturbing the other holders.
 *
 * It does not send anything, measure time or count bytes on the wire: the caller feeds events
 * with the time and sends the CHOKE / UNCHOKE messages that choker_tick() lists. */
#include "transfer/choker.h"

#include <stdlib.h>
#include <string.h>

#define CHOKER_RATE_BUCKETS 10

/* A walk over all peers reads the flags of each: they, the ranking and what the optimistic
 * draw weighs fill the first cache line. */
struct choker_peer {
	bool interested, interesting, unchoked, regular, optimistic, lent;
	int8_t group;		/* sort scratch */
	uint64_t key, key2, tie;	/* sort scratch */
	uint64_t serial;	/* last tie-break: keeps sorting independent of addresses */
	uint64_t connected_us;
	uint64_t quiet_since;	/* start of the current silence while interesting */
	uint64_t uploaded;
	uint64_t opt_base;	/* uploaded when it got the optimistic slot */
	uint64_t received;	/* in total: ranks peers with equal recent rates */
	uint64_t feeding_since;	/* start of its current run of sending us data */
	uint64_t last_recv;	/* when it last sent us data (0 with received 0: never) */
	void *user;
	size_t at;		/* index in the choker's all[] */
	uint64_t bytes[CHOKER_RATE_BUCKETS];
	uint64_t epoch[CHOKER_RATE_BUCKETS];
};

struct choker {
	struct choker_config cfg;
	/* Oldest first; walked newest first. An array rather than a list: a walk over peers that
	 * are all cache misses then issues its loads at once instead of one after another. */
	struct choker_peer **all;
	size_t npeers, cap;
	size_t nregular;	/* peers with regular set: interest changes ask for it often */
	uint64_t serial;
	bool seed, dirty;
	uint64_t dirty_at, next_regular, next_optimistic;
	uint64_t young_until;	/* the optimistic slot may move early until then */
	struct choker_peer *opt;
	struct choker_peer **sorted;
	struct choker_change *changes;
	size_t nchanges;
	struct choker_round rounds[CHOKER_ROUNDS]; /* a ring: rounds[nrounds % CHOKER_ROUNDS] next */
	uint64_t nrounds;
};

void choker_config_default(struct choker_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->slots = 4;
	cfg->recompute_us = 10000000;
	cfg->optimistic_us = 30000000;
	cfg->young_us = 10000000;
	cfg->optimistic_bytes = 256 * 1024;
	cfg->rate_window_us = 20000000;
	cfg->snub_us = 60000000;
	cfg->new_peer_us = 60000000;
	cfg->new_peer_weight = 3;
}

struct choker *choker_new(const struct choker_config *cfg, uint64_t now_us)
{
	if (cfg->slots == 0 || cfg->recompute_us == 0 || cfg->optimistic_us == 0 ||
	    cfg->rate_window_us < CHOKER_RATE_BUCKETS || cfg->rand64 == NULL)
		return NULL;
	struct choker *c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->cfg = *cfg;
	c->next_regular = now_us;
	c->next_optimistic = now_us;
	c->young_until = now_us + cfg->young_us;
	return c;
}

void choker_set_slots(struct choker *c, unsigned slots)
{
	c->cfg.slots = slots ? slots : 1;
}

void choker_free(struct choker *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < c->npeers; i++)
		free(c->all[i]);
	free(c->all);
	free(c->sorted);
	free(c->changes);
	free(c);
}

static void mark_dirty(struct choker *c, uint64_t now_us)
{
	if (!c->dirty || now_us < c->dirty_at)
		c->dirty_at = now_us;
	c->dirty = true;
}

/* choker_tick() must never fail, so its scratch arrays grow here, with the peer count. */
static int reserve(struct choker *c, size_t n)
{
	if (n <= c->cap)
		return 0;
	size_t cap = c->cap * 2 + 16;
	struct choker_peer **a = realloc(c->all, cap * sizeof *a);
	if (a == NULL)
		return -1;
	c->all = a;
	struct choker_peer **s = realloc(c->sorted, cap * sizeof *s);
	if (s == NULL)
		return -1;
	c->sorted = s;
	struct choker_change *ch = realloc(c->changes, cap * sizeof *ch);
	if (ch == NULL)
		return -1;
	c->changes = ch;
	c->cap = cap;
	return 0;
}

struct choker_peer *choker_peer_add(struct choker *c, void *user, uint64_t now_us)
{
	if (reserve(c, c->npeers + 1) < 0)
		return NULL;
	struct choker_peer *p = calloc(1, sizeof *p);
	if (p == NULL)
		return NULL;
	p->user = user;
	p->serial = c->serial++;
	p->connected_us = now_us;
	p->quiet_since = now_us;
	p->at = c->npeers;
	c->all[c->npeers++] = p;
	return p;
}

void choker_peer_remove(struct choker *c, struct choker_peer *p)
{
	if (p == NULL)
		return;
	/* No clock here: a deadline of 0 means the freed slot is refilled at the next tick. */
	if (p->regular || p->optimistic || p->lent)
		mark_dirty(c, 0);
	c->nregular -= p->regular;
	if (c->opt == p)
		c->opt = NULL;
	/* O(peers), but peers rarely leave; keeping the order keeps walks in joining order. */
	memmove(c->all + p->at, c->all + p->at + 1, (c->npeers - p->at - 1) * sizeof c->all[0]);
	c->npeers--;
	for (size_t i = p->at; i < c->npeers; i++)
		c->all[i]->at = i;
	free(p);
}

void choker_peer_interested(struct choker *c, struct choker_peer *p, bool interested,
			    uint64_t now_us)
{
	if (p->interested == interested)
		return;
	p->interested = interested;
	if (!interested && (p->regular || p->optimistic || p->lent)) {
		p->lent = false;
		if (c->opt == p) {
			c->opt = NULL;
			p->optimistic = false;
		}
		mark_dirty(c, now_us);
	} else if (interested && (c->opt == NULL || c->nregular < c->cfg.slots)) {
		mark_dirty(c, now_us);
	}
}

void choker_peer_interesting(struct choker *c, struct choker_peer *p, bool interesting,
			     uint64_t now_us)
{
	(void)c;
	if (interesting && !p->interesting)
		p->quiet_since = now_us;
	p->interesting = interesting;
}

static uint64_t bucket_width(const struct choker *c)
{
	return c->cfg.rate_window_us / CHOKER_RATE_BUCKETS;
}

void choker_peer_received(struct choker *c, struct choker_peer *p, uint64_t bytes, uint64_t now_us)
{
	uint64_t e = now_us / bucket_width(c);
	unsigned i = (unsigned)(e % CHOKER_RATE_BUCKETS);
	if (p->epoch[i] != e) {
		p->epoch[i] = e;
		p->bytes[i] = 0;
	}
	p->bytes[i] += bytes;
	if (bytes > 0) {
		/* Silent for a whole window: what it sends now starts a new run. */
		if (p->received == 0 || now_us - p->last_recv >= c->cfg.rate_window_us)
			p->feeding_since = now_us;
		p->last_recv = now_us;
		p->quiet_since = now_us;
	}
	p->received += bytes;
}

void choker_peer_sent(struct choker *c, struct choker_peer *p, uint64_t bytes, uint64_t now_us)
{
	p->uploaded += bytes;
	if (p->optimistic && !c->seed && c->cfg.optimistic_bytes > 0 && now_us < c->young_until &&
	    p->uploaded - p->opt_base >= c->cfg.optimistic_bytes && c->next_optimistic > now_us)
		c->next_optimistic = now_us;
}

/* Bytes over the window, or over the time since it began sending if that is shorter (but at
 * least one bucket): a peer that began feeding us 5 s ago at the same pace as one that has fed
 * us for the whole window has the same rate. Dividing by the whole window ranked every newcomer
 * below the incumbents at the next recompute, so a peer that reciprocated late never got a
 * regular slot and fell behind the swarm. */
uint64_t choker_peer_rate(const struct choker *c, const struct choker_peer *p, uint64_t now_us)
{
	uint64_t e = now_us / bucket_width(c), sum = 0;
	for (unsigned i = 0; i < CHOKER_RATE_BUCKETS; i++)
		if (p->epoch[i] + CHOKER_RATE_BUCKETS > e && p->epoch[i] <= e)
			sum += p->bytes[i];
	uint64_t span = c->cfg.rate_window_us;
	if (sum > 0 && now_us >= p->feeding_since && now_us - p->feeding_since < span) {
		span = now_us - p->feeding_since;
		if (span < bucket_width(c))
			span = bucket_width(c);
	}
	return sum * 1000000 / span;
}

bool choker_peer_snubbed(const struct choker *c, const struct choker_peer *p, uint64_t now_us)
{
	return p->interesting && now_us >= p->quiet_since + c->cfg.snub_us;
}

void choker_set_seed(struct choker *c, bool seed, uint64_t now_us)
{
	if (c->seed == seed)
		return;
	c->seed = seed;
	/* The old ranking means nothing in the new mode: recompute everything now. */
	c->next_regular = now_us;
}

bool choker_peer_unchoked(const struct choker_peer *p)
{
	return p->unchoked;
}

bool choker_peer_optimistic(const struct choker_peer *p)
{
	return p->optimistic;
}

uint64_t choker_peer_uploaded(const struct choker_peer *p)
{
	return p->uploaded;
}

uint64_t choker_next_deadline(const struct choker *c)
{
	uint64_t t = c->next_regular < c->next_optimistic ? c->next_regular : c->next_optimistic;
	return c->dirty && c->dirty_at < t ? c->dirty_at : t;
}

/* Rank order: group ascending, then key and key2 descending, then tie, then serial. */
static int rank_cmp(const void *a, const void *b)
{
	const struct choker_peer *p = *(struct choker_peer *const *)a;
	const struct choker_peer *q = *(struct choker_peer *const *)b;
	if (p->group != q->group)
		return p->group < q->group ? -1 : 1;
	if (p->key != q->key)
		return p->key > q->key ? -1 : 1;
	if (p->key2 != q->key2)
		return p->key2 > q->key2 ? -1 : 1;
	if (p->tie != q->tie)
		return p->tie < q->tie ? -1 : 1;
	return p->serial < q->serial ? -1 : p->serial > q->serial;
}

/* Give P its place in the ranking for the regular slots, or return false if it cannot hold one.
 * Group 0: holders kept between periods; 1: reciprocating (leecher: by rate, then by all it
 * ever sent us, so that a slot no recent sender claims goes to a past one before a peer that
 * never gave anything; seed: fewest bytes uploaded first); 2: snubbing us, only when nobody in
 * group 1 is left. Ties go to peers already unchoked (no needless churn), then at random. */
static bool rank_peer(struct choker *c, struct choker_peer *p, bool keep, uint64_t now)
{
	if (!p->interested || p->optimistic)
		return false;
	p->tie = (p->unchoked ? 0 : 1ull << 63) | (c->cfg.rand64(c->cfg.rand_arg) >> 1);
	p->key = 0;
	p->key2 = 0;
	p->group = 1;
	if (keep && p->regular)
		p->group = 0;
	else if (c->seed)
		p->key = UINT64_MAX - p->uploaded;
	else if (choker_peer_snubbed(c, p, now))
		p->group = 2;
	else {
		p->key = choker_peer_rate(c, p, now);
		p->key2 = p->received;
	}
	return true;
}

static void recompute_regular(struct choker *c, bool keep, uint64_t now)
{
	size_t n = 0;
	for (size_t i = c->npeers; i-- > 0;) {
		struct choker_peer *p = c->all[i];
		bool ranked = rank_peer(c, p, keep, now);
		p->regular = false;
		p->lent = p->lent && keep;
		if (ranked)
			c->sorted[n++] = p;
	}
	/* Only the first few places matter: select them, O(peers * slots), rather than sort all. */
	c->nregular = n < c->cfg.slots ? n : c->cfg.slots;
	for (size_t i = 0; i < c->nregular; i++) {
		size_t best = i;
		for (size_t j = i + 1; j < n; j++)
			if (rank_cmp(&c->sorted[j], &c->sorted[best]) < 0)
				best = j;
		struct choker_peer *t = c->sorted[i];
		c->sorted[i] = c->sorted[best];
		c->sorted[best] = t;
		c->sorted[i]->regular = true;
	}
}

static unsigned opt_weight(const struct choker *c, const struct choker_peer *p, uint64_t now)
{
	if (!p->interested || p->regular || p->lent)
		return 0;
	return now - p->connected_us < c->cfg.new_peer_us ? c->cfg.new_peer_weight : 1;
}

/* A choked, interested peer at random, new ones weighted up (NULL: none). */
static struct choker_peer *draw_peer(struct choker *c, uint64_t now)
{
	uint64_t total = 0;
	for (size_t i = c->npeers; i-- > 0;)
		total += c->all[i]->optimistic ? 0 : opt_weight(c, c->all[i], now);
	if (total == 0)
		return NULL;
	uint64_t r = c->cfg.rand64(c->cfg.rand_arg) % total;
	for (size_t i = c->npeers; i-- > 0;) {
		struct choker_peer *p = c->all[i];
		uint64_t w = p->optimistic ? 0 : opt_weight(c, p, now);
		if (r < w)
			return p;
		r -= w;
	}
	return NULL;
}

static void pick_optimistic(struct choker *c, uint64_t now)
{
	struct choker_peer *p = draw_peer(c, now);
	if (p == NULL)
		return;
	p->optimistic = true;
	p->opt_base = p->uploaded;
	c->opt = p;
}

bool choker_lend(struct choker *c, uint64_t now_us)
{
	unsigned lent = 0;
	for (size_t i = 0; i < c->npeers; i++)
		lent += c->all[i]->lent;
	struct choker_peer *p = lent < c->cfg.slots ? draw_peer(c, now_us) : NULL;
	if (p == NULL)
		return false;
	p->lent = true;
	mark_dirty(c, now_us);
	return true;
}

bool choker_relend(struct choker *c, struct choker_peer *from, uint64_t now_us)
{
	if (!from->lent)
		return false;
	struct choker_peer *p = draw_peer(c, now_us); /* FROM, lent, is not drawn */
	if (p == NULL)
		return false;
	from->lent = false;
	p->lent = true;
	mark_dirty(c, now_us);
	return true;
}

bool choker_peer_lent(const struct choker_peer *p)
{
	return p->lent;
}

static void apply_changes(struct choker *c)
{
	c->nchanges = 0;
	for (size_t i = c->npeers; i-- > 0;) {
		struct choker_peer *p = c->all[i];
		bool want = p->regular || p->optimistic || p->lent;
		if (want == p->unchoked)
			continue;
		p->unchoked = want;
		c->changes[c->nchanges++] = (struct choker_change){ p, p->user, !want };
	}
}

/* Remember who holds a slot now and why (rank_peer's group still says it). */
static void record_round(struct choker *c, uint64_t now, bool reg_due, bool opt_due)
{
	struct choker_round *r = &c->rounds[c->nrounds++ % CHOKER_ROUNDS];
	r->at_us = now;
	r->regular_due = reg_due;
	r->optimistic_due = opt_due;
	r->changes = (uint32_t)c->nchanges;
	r->npeers = 0;
	for (size_t i = 0; i < c->npeers && r->npeers < CHOKER_ROUND_PEERS; i++) {
		const struct choker_peer *p = c->all[i];
		if (!p->regular && !p->optimistic && !p->lent)
			continue;
		enum choker_why why = p->optimistic ? CHOKER_WHY_OPTIMISTIC
				      : p->lent && !p->regular ? CHOKER_WHY_LENT
				      : p->group == 0 ? CHOKER_WHY_KEPT
				      : p->group == 2 ? CHOKER_WHY_SNUBBED
				      : c->seed	      ? CHOKER_WHY_SEED
							      : CHOKER_WHY_RATE;
		r->peers[r->npeers].serial = p->serial;
		r->peers[r->npeers].why = why;
		r->peers[r->npeers].rate = choker_peer_rate(c, p, now);
		r->npeers++;
	}
}

size_t choker_rounds(const struct choker *c, struct choker_round *out, size_t max)
{
	size_t n = 0;
	for (uint64_t k = c->nrounds; k-- > 0 && n < max && n < CHOKER_ROUNDS;)
		out[n++] = c->rounds[k % CHOKER_ROUNDS];
	return n;
}

const char *choker_why_str(enum choker_why why)
{
	static const char *const names[] = {
		[CHOKER_WHY_RATE] = "rate", [CHOKER_WHY_SEED] = "seed",
		[CHOKER_WHY_KEPT] = "kept", [CHOKER_WHY_SNUBBED] = "snubbed",
		[CHOKER_WHY_OPTIMISTIC] = "optimistic", [CHOKER_WHY_LENT] = "lent",
	};
	return (unsigned)why < sizeof names / sizeof names[0] ? names[why] : "?";
}

uint64_t choker_peer_received_total(const struct choker_peer *p)
{
	return p->received;
}

uint64_t choker_peer_serial(const struct choker_peer *p)
{
	return p->serial;
}

size_t choker_tick(struct choker *c, uint64_t now_us, const struct choker_change **out)
{
	bool opt_due = now_us >= c->next_optimistic;
	bool reg_due = now_us >= c->next_regular;
	*out = c->changes;
	c->nchanges = 0;
	if (!opt_due && !reg_due && !c->dirty)
		return 0;
	if (opt_due && c->opt != NULL) {
		/* The outgoing optimistic peer competes for a regular slot like anyone else. */
		c->opt->optimistic = false;
		c->opt = NULL;
	}
	recompute_regular(c, !opt_due && !reg_due, now_us);
	if (c->opt == NULL)
		pick_optimistic(c, now_us);
	apply_changes(c);
	if (opt_due)
		c->next_optimistic = now_us + c->cfg.optimistic_us;
	if (reg_due)
		c->next_regular = now_us + c->cfg.recompute_us;
	c->dirty = false;
	if (opt_due || reg_due || c->nchanges > 0)
		record_round(c, now_us, reg_due, opt_due);
	return c->nchanges;
}
