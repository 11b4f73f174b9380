/* The peer book: whom one transfer knows and when it acts. Addresses are kept in the order they
 * were learned, so dialling walks them oldest first (those never dialled before the others) and
 * a driver that replays the same events gets the same dials. A failed address waits
 * dial_backoff_us doubled per failure (capped), a banned one is never dialled again, and the
 * book stops growing at max_known: what the DHT sends is hostile, and a flood of holders costs
 * nothing past the bound. For the same reason dials are bounded per host and in total: an
 * address planted in many lookups' answers, under many ports, costs its host a few connection
 * attempts a minute. DHT calls are paced by what the transfer needs: a first holder quickly,
 * new holders quickly while we hold nothing and know few, then more peers while it has few.
 * We are listed from the start of a download, before we hold the manifest, as a tracker lists
 * a leecher: peers that meet before the manifest and the first chunks reach them pass both on
 * at once, and a newcomer asks for the manifest only peers that show they have it (a
 * BITFIELD). Listed only once each held a chunk, a swarm of 100 left its uplinks idle for its
 * first seconds; listed once each had the manifest, newcomers waited a lookup (0.35 s at 40 ms
 * a hop) for every wave of new manifest holders. In swarmsim (100 peers at 1 MiB/s, seeds of
 * 1, 2 and 4 MiB/s), 16 MiB took 1.30/1.26/1.26 x D_p2p listed with the manifest and
 * 1.25/1.19/1.20 listed from the start, 64 MiB 1.11/1.08/1.07 and 1.08/1.06/1.06. So a
 * listed peer may lack the manifest as we do, and while we lack it we keep only bare_dials of
 * our own dials open: peers that had all dialled one another filled their slots with peers
 * that could not serve it (see peerbook.h). It makes
 * no call and opens no connection; it only says which to make. */
#include "transfer/peerbook.h"

#include <stdlib.h>
#include <string.h>

/* Failures counted per address, and doublings of the back-off: 2 s << 5 > 60 s anyway. */
#define FAILS_MAX 16
#define DOUBLINGS_MAX 5
#define HOST_DIALS_MAX 16 /* the most host_dials may be: the dial times kept per host */
#define HOST_KEY_LEN 9    /* family, then 4 bytes of IPv4 or the 8 of an IPv6 /64 */

/* A host and when it was last dialled, in a ring of the last host_dials dial times. */
struct host {
	uint8_t key[HOST_KEY_LEN];
	uint64_t at[HOST_DIALS_MAX];
	unsigned next;
};

struct known {
	struct dht_addr addr;
	uint64_t next_try;
	uint64_t failed_at;  /* when the last attempt failed, if it did */
	unsigned fails;
	bool failed_last;
	bool dialled;        /* a connection to it is open or being opened */
	bool banned;
	bool reached;        /* a connection to it came up once */
	bool tried;          /* dialled once */
	unsigned host;       /* index into the book's hosts */
};

struct peerbook {
	struct peerbook_config cfg;
	struct known *k;
	unsigned n;
	struct host *h;      /* at most one per known address */
	unsigned nh;
	uint64_t tokens_at;  /* the dial bucket: when it was last refilled ... */
	uint64_t spent;      /* ... and how far below full it was, in millionths of a dial */
	uint64_t run_us, next_lookup, next_announce, find_wait;
	bool lookup_busy, announce_busy, announced;
	uint32_t peers_seen;
	uint32_t run_lookups;    /* lookups answered in this run */
	struct peerbook_stats st;
};

void peerbook_config_default(struct peerbook_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->max_known = 256;
	cfg->max_conns = 60;
	cfg->bare_dials = 8;
	cfg->enough_conns = 30;
	cfg->dial_backoff_us = 2000000;
	cfg->dial_backoff_max_us = 60000000;
	cfg->retry_us = 2000000;
	cfg->announce_every_us = 60000000;
	cfg->lookup_every_us = 15000000;
	cfg->lookup_few_us = 3000000;
	cfg->lookup_early_us = 1000000;
	cfg->lookup_empty_us = 250000;
	cfg->empty_known = 10;
	cfg->early_us = 10000000;
	cfg->find_first_us = 250000;
	cfg->find_max_us = 4000000;
	cfg->host_dials = 6;
	cfg->host_window_us = 60000000;
	cfg->dial_rate = 10;
	cfg->dial_burst = 40;
}

struct peerbook *peerbook_new(const struct peerbook_config *cfg)
{
	if (cfg->max_known == 0 || cfg->max_conns == 0 || cfg->bare_dials == 0 ||
	    cfg->find_first_us == 0 || cfg->host_dials == 0 || cfg->host_dials > HOST_DIALS_MAX ||
	    cfg->dial_rate == 0 || cfg->dial_burst == 0)
		return NULL;
	struct peerbook *pb = calloc(1, sizeof *pb);
	if (pb == NULL)
		return NULL;
	pb->cfg = *cfg;
	pb->k = calloc(cfg->max_known, sizeof *pb->k);
	pb->h = calloc(cfg->max_known, sizeof *pb->h);
	if (pb->k == NULL || pb->h == NULL) {
		peerbook_free(pb);
		return NULL;
	}
	pb->find_wait = cfg->find_first_us;
	pb->st.min_redial_wait_us = UINT64_MAX;
	return pb;
}

void peerbook_free(struct peerbook *pb)
{
	if (pb == NULL)
		return;
	free(pb->k);
	free(pb->h);
	free(pb);
}

void peerbook_start(struct peerbook *pb, uint64_t now)
{
	pb->next_lookup = pb->next_announce = now;
	pb->find_wait = pb->cfg.find_first_us;
	pb->run_us = now;
	pb->announced = false;
	pb->run_lookups = 0;
}

void peerbook_stop(struct peerbook *pb)
{
	pb->lookup_busy = pb->announce_busy = false;
	for (unsigned i = 0; i < pb->n; i++)
		pb->k[i].dialled = false;
}

static struct known *find(struct peerbook *pb, const struct dht_addr *a)
{
	for (unsigned i = 0; i < pb->n; i++)
		if (dht_addr_eq(&pb->k[i].addr, a))
			return &pb->k[i];
	return NULL;
}

static void host_key(const struct dht_addr *a, uint8_t key[HOST_KEY_LEN])
{
	memset(key, 0, HOST_KEY_LEN);
	key[0] = a->family;
	memcpy(key + 1, a->ip, a->family == 4 ? 4 : 8);
}

static unsigned host_of(struct peerbook *pb, const struct dht_addr *a)
{
	uint8_t key[HOST_KEY_LEN];
	host_key(a, key);
	for (unsigned i = 0; i < pb->nh; i++)
		if (memcmp(pb->h[i].key, key, HOST_KEY_LEN) == 0)
			return i;
	memset(&pb->h[pb->nh], 0, sizeof pb->h[pb->nh]);
	memcpy(pb->h[pb->nh].key, key, HOST_KEY_LEN);
	return pb->nh++;
}

int peerbook_add(struct peerbook *pb, const struct dht_addr *a)
{
	if (dht_addr_eq(a, &pb->cfg.self) || find(pb, a) != NULL)
		return 0;
	if (pb->n == pb->cfg.max_known)
		return -1;
	pb->k[pb->n++] = (struct known){ .addr = *a, .host = host_of(pb, a) };
	return 1;
}

uint32_t peerbook_good(const struct peerbook *pb, struct dht_addr *out, uint32_t max)
{
	uint32_t n = 0;
	for (unsigned i = 0; i < pb->n && n < max; i++)
		if (pb->k[i].reached && !pb->k[i].banned)
			out[n++] = pb->k[i].addr;
	return n;
}

uint32_t peerbook_peers_seen(const struct peerbook *pb)
{
	return pb->peers_seen;
}

void peerbook_stats(const struct peerbook *pb, struct peerbook_stats *out)
{
	*out = pb->st;
	out->known = pb->n;
}

/* ---- the DHT ---- */

static bool announce_wanted(const struct peerbook *pb, const struct peerbook_view *v)
{
	return (v->holding || v->seeking) && !pb->announce_busy;
}

static bool lookup_wanted(const struct peerbook *pb, const struct peerbook_view *v)
{
	return v->seeking && !pb->lookup_busy;
}

enum peerbook_call peerbook_due(struct peerbook *pb, uint64_t now, const struct peerbook_view *v)
{
	if (announce_wanted(pb, v) && pb->next_announce <= now) {
		pb->announce_busy = true;
		return PEERBOOK_ANNOUNCE;
	}
	if (lookup_wanted(pb, v) && pb->next_lookup <= now) {
		pb->lookup_busy = true;
		return PEERBOOK_LOOKUP;
	}
	return PEERBOOK_NONE;
}

uint64_t peerbook_next_call(const struct peerbook *pb, const struct peerbook_view *v)
{
	uint64_t next = UINT64_MAX;
	if (announce_wanted(pb, v))
		next = pb->next_announce;
	if (lookup_wanted(pb, v) && pb->next_lookup < next)
		next = pb->next_lookup;
	return next;
}

void peerbook_call_failed(struct peerbook *pb, enum peerbook_call c, uint64_t now)
{
	if (c == PEERBOOK_ANNOUNCE) {
		pb->announce_busy = false;
		pb->next_announce = now + pb->cfg.retry_us;
	} else if (c == PEERBOOK_LOOKUP) {
		pb->lookup_busy = false;
		pb->next_lookup = now + pb->cfg.retry_us;
	}
}

bool peerbook_announced(struct peerbook *pb, bool ok, uint64_t now)
{
	pb->announce_busy = false;
	if (!ok) {
		pb->next_announce = now + pb->cfg.retry_us;
		return false;
	}
	bool first = !pb->announced;
	pb->announced = true;
	pb->next_announce = now + pb->cfg.announce_every_us;
	return first;
}

static void lookup_schedule(struct peerbook *pb, uint64_t now, const struct peerbook_view *v)
{
	const struct peerbook_config *c = &pb->cfg;
	if (!v->has_manifest) {
		pb->next_lookup = now + pb->find_wait;
		if (pb->find_wait < c->find_max_us)
			pb->find_wait *= 2;
		return;
	}
	bool early = now - pb->run_us < c->early_us;
	bool unseen = !v->holding && pb->n < c->empty_known;
	uint64_t wait = v->conns >= c->enough_conns ? c->lookup_every_us
			: !early                     ? c->lookup_few_us
			: unseen                     ? c->lookup_empty_us
						     : c->lookup_early_us;
	pb->next_lookup = now + wait;
}

void peerbook_found(struct peerbook *pb, bool ok, const struct dht_addr *peers, size_t n,
		    uint64_t now, const struct peerbook_view *v)
{
	pb->lookup_busy = false;
	if (ok) {
		uint32_t others = 0; /* we are listed too */
		for (size_t i = 0; i < n; i++) {
			others += !dht_addr_eq(&peers[i], &pb->cfg.self);
			if (peerbook_add(pb, &peers[i]) == 1 && pb->run_lookups > 0)
				pb->st.learned_late++;
		}
		if (others > pb->peers_seen)
			pb->peers_seen = others;
		pb->run_lookups++;
		pb->st.lookups++;
	}
	lookup_schedule(pb, now, v);
}

void peerbook_kick(struct peerbook *pb, uint64_t now)
{
	if (!pb->announced)
		pb->next_announce = now;
}

/* ---- dialling ---- */

/* May H be dialled at NOW: were its last host_dials dials all before the window? */
static bool host_may_dial(const struct peerbook *pb, const struct host *h, uint64_t now)
{
	uint64_t oldest = h->at[h->next];
	return oldest == 0 || now + 1 - oldest >= pb->cfg.host_window_us;
}

/* Dial times are kept plus one, so that 0 means "no dial" even for a dial at time 0. */
static void host_dialled(const struct peerbook *pb, struct host *h, uint64_t now)
{
	h->at[h->next] = now + 1;
	h->next = (h->next + 1) % pb->cfg.host_dials;
}

/* Take a dial from the bucket at NOW (dial_rate a second, dial_burst at most), or false. */
static bool bucket_take(struct peerbook *pb, uint64_t now)
{
	const uint64_t unit = 1000000, cap = (uint64_t)pb->cfg.dial_burst * unit;
	uint64_t refill = now > pb->tokens_at ? (now - pb->tokens_at) * pb->cfg.dial_rate : 0;
	pb->spent = refill >= pb->spent ? 0 : pb->spent - refill;
	if (now > pb->tokens_at)
		pb->tokens_at = now;
	if (pb->spent + unit > cap)
		return false;
	pb->spent += unit;
	return true;
}

/* Connections of our own dialling, open or being opened. */
static unsigned dialled(const struct peerbook *pb)
{
	unsigned n = 0;
	for (unsigned i = 0; i < pb->n; i++)
		n += pb->k[i].dialled;
	return n;
}

const struct dht_addr *peerbook_dial(struct peerbook *pb, uint64_t now,
				     const struct peerbook_view *v)
{
	if (!v->seeking || v->conns >= pb->cfg.max_conns)
		return NULL;
	if (!v->has_manifest && dialled(pb) >= pb->cfg.bare_dials)
		return NULL;
	/* Addresses never dialled go first. A peer with no room lets our connection up and ends
	 * it at once, which is no failure (it may have room soon), so it is due again 2 s later:
	 * taken oldest first, the first holders of a swarm, all full, would take every dial the
	 * bounds allow and keep a late peer from ever reaching the newer holders it learned. */
	for (unsigned i = 0; i < 2 * pb->n; i++) {
		struct known *k = &pb->k[i % pb->n];
		if (k->dialled || k->banned || k->next_try > now || k->tried != (i >= pb->n))
			continue;
		if (!host_may_dial(pb, &pb->h[k->host], now)) {
			pb->st.dials_held++;
			continue;
		}
		if (!bucket_take(pb, now)) {
			pb->st.dials_held++;
			return NULL;
		}
		host_dialled(pb, &pb->h[k->host], now);
		k->dialled = k->tried = true;
		pb->st.dials++;
		if (k->failed_last) {
			pb->st.redials++;
			if (now - k->failed_at < pb->st.min_redial_wait_us)
				pb->st.min_redial_wait_us = now - k->failed_at;
		}
		return &k->addr;
	}
	return NULL;
}

void peerbook_up(struct peerbook *pb, const struct dht_addr *a)
{
	struct known *k = find(pb, a);
	if (k == NULL)
		return;
	k->fails = 0;
	k->failed_last = false;
	k->reached = true;
}

/* An attempt or connection to K ended; FAILED: count it against K. Wait at least WAIT_US. */
static void ended(struct peerbook *pb, struct known *k, bool failed, uint64_t wait_us,
		  uint64_t now)
{
	k->dialled = false;
	k->failed_last = failed;
	if (failed) {
		if (k->fails < FAILS_MAX)
			k->fails++;
		k->failed_at = now;
		pb->st.failures++;
	}
	uint64_t backoff = pb->cfg.dial_backoff_us
			   << (k->fails < DOUBLINGS_MAX ? k->fails : DOUBLINGS_MAX);
	if (backoff > pb->cfg.dial_backoff_max_us)
		backoff = pb->cfg.dial_backoff_max_us;
	k->next_try = now + (wait_us > backoff ? wait_us : backoff);
}

void peerbook_closed(struct peerbook *pb, const struct dht_addr *a, enum session_close why,
		     uint64_t now)
{
	struct known *k = find(pb, a);
	if (k == NULL)
		return;
	if (why == SESSION_CLOSE_BANNED)
		k->banned = true;
	ended(pb, k, why != SESSION_CLOSE_DUPLICATE && why != SESSION_CLOSE_DONE,
	      why == SESSION_CLOSE_DONE ? pb->cfg.dial_backoff_max_us : 0, now);
}

void peerbook_dropped(struct peerbook *pb, const struct dht_addr *a, bool failed, uint64_t now)
{
	struct known *k = find(pb, a);
	if (k != NULL)
		ended(pb, k, failed, 0, now);
}
