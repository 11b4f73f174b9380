/* What the simulated world shows: lookups issued from its nodes and checked against the truth,
 * their statistics, finger accuracy, nodes that lost every successor, dumps of the ring for the
 * log, and the summed counters. Nothing here changes the ring; lookups only ask it. */
#include <stdlib.h>
#include <string.h>

#include "dht/routing.h"
#include "tools/dhtsim/sim_impl.h"

/* --- statistics ------------------------------------------------------------------------------ */

double sim_stats_mean_hops(const struct sim_lookup_stats *st)
{
	uint64_t n = st->correct + st->wrong;
	return n ? (double)st->hops_sum / (double)n : 0;
}

unsigned sim_stats_hops_pct(const struct sim_lookup_stats *st, double q)
{
	uint64_t n = st->correct + st->wrong, cum = 0;
	for (unsigned h = 0; h <= SIM_HOPS_MAX; h++) {
		cum += st->hops[h];
		if (n && (double)cum >= q * (double)n)
			return h;
	}
	return 0;
}

static unsigned lat_bucket(uint64_t us)
{
	if (us < SIM_LAT_SUB)
		return (unsigned)us;
	unsigned e = 63 - (unsigned)__builtin_clzll(us); /* e >= 4 */
	unsigned b = SIM_LAT_SUB * (e - 3) + (unsigned)((us >> (e - 4)) - SIM_LAT_SUB);
	return b < SIM_LAT_BUCKETS ? b : SIM_LAT_BUCKETS - 1;
}

/* The largest latency bucket B holds. */
static uint64_t lat_top(unsigned b)
{
	if (b < SIM_LAT_SUB)
		return b;
	unsigned e = b / SIM_LAT_SUB + 3;
	return ((uint64_t)(SIM_LAT_SUB + b % SIM_LAT_SUB + 1) << (e - 4)) - 1;
}

uint64_t sim_stats_lat_pct(const struct sim_lookup_stats *st, double q)
{
	uint64_t n = st->correct + st->wrong, cum = 0;
	for (unsigned b = 0; b < SIM_LAT_BUCKETS; b++) {
		cum += st->lat[b];
		if (n && (double)cum >= q * (double)n)
			return lat_top(b) < st->latency_us_max ? lat_top(b) : st->latency_us_max;
	}
	return 0;
}

void sim_stats_sample(struct sim_lookup_stats *st, unsigned hops, unsigned timeouts,
		      uint64_t latency_us)
{
	st->hops[hops < SIM_HOPS_MAX ? hops : SIM_HOPS_MAX]++;
	st->hops_sum += hops;
	st->timeouts += timeouts;
	st->latency_us_sum += latency_us;
	st->lat[lat_bucket(latency_us)]++;
	if (latency_us > st->latency_us_max)
		st->latency_us_max = latency_us;
}

void sim_stats_add(struct sim_lookup_stats *to, const struct sim_lookup_stats *from)
{
	to->issued += from->issued;
	to->done += from->done;
	to->correct += from->correct;
	to->wrong += from->wrong;
	to->failed += from->failed;
	to->abandoned += from->abandoned;
	to->hops_sum += from->hops_sum;
	to->timeouts += from->timeouts;
	to->latency_us_sum += from->latency_us_sum;
	for (unsigned h = 0; h <= SIM_HOPS_MAX; h++)
		to->hops[h] += from->hops[h];
	for (unsigned b = 0; b < SIM_LAT_BUCKETS; b++)
		to->lat[b] += from->lat[b];
	if (from->latency_us_max > to->latency_us_max)
		to->latency_us_max = from->latency_us_max;
}

/* --- nodes that lost every successor ------------------------------------------------------ */

size_t sim_lost_all(const struct sim *s)
{
	size_t lost = 0;
	for (size_t pos = 0; pos < truth_size(s->truth); pos++)
		if (!sim_has_live_succ(s, sim_node(s, truth_index(s->truth, pos)), -1))
			lost++;
	return lost;
}

/* --- lookups ---------------------------------------------------------------------------------- */

static void log_lookup(struct sim *s, const struct dht_lookup_result *res, const char *what)
{
	if (s->logged++ >= LOG_LIMIT)
		return;
	char k[ID_HEX_MAX], o[ID_HEX_MAX], t[ID_HEX_MAX] = "-", path[256] = "";
	sim_id_hex(s, &res->key, k);
	sim_id_hex(s, &res->owner.id, o);
	if (truth_size(s->truth))
		sim_id_hex(s, truth_id(s->truth, truth_successor(s->truth, &res->key)), t);
	size_t len = 0;
	for (size_t j = 0; j < res->npath && len < sizeof path - 32; j++) {
		const struct dht_hop *h = &res->path[j];
		int w = h->answered ? snprintf(path + len, sizeof path - len, " n%ld:%.1fms",
					       sim_addr_index(&h->node.addr), (double)h->rtt_us / 1e3)
				    : snprintf(path + len, sizeof path - len, " n%ld:timeout",
					       sim_addr_index(&h->node.addr));
		len += w > 0 ? (size_t)w : 0;
	}
	sim_logf(s, "lookup %s: key %s owner %s true %s, %u hops, %u timeouts (%s); path%s", what,
		 k, o, t, res->hops, res->timeouts, dht_status_str(res->status), path);
}

static void record(struct sim *s, struct sim_lookup_stats *st, const struct dht_lookup_result *res)
{
	st->done++;
	if (res->status != DHT_OK) {
		st->failed++;
		log_lookup(s, res, "failed");
		return;
	}
	sim_stats_sample(st, res->hops, res->timeouts, res->elapsed_us);
	bool ok = false;
	if (truth_size(s->truth)) {
		size_t p = truth_successor(s->truth, &res->key);
		ok = id_eq(&res->owner.id, truth_id(s->truth, p)) &&
		     sim_addr_index(&res->owner.addr) == (long)truth_index(s->truth, p);
	}
	if (ok) {
		st->correct++;
		return;
	}
	st->wrong++;
	log_lookup(s, res, "wrong");
}

static void lookup_cb(void *arg, const struct dht_lookup_result *res)
{
	struct slot *sl = arg;
	if (!sl->used)
		return;
	if (!sl->abandoned)
		record(sl->s, sl->st, res);
	sim_slot_release(sl->s, sl);
}

/* Lookups one virtual instant may issue, in windows. Refilling the window a few times over at
 * one instant is normal (keys the asker owns are answered at its next tick, at the same time);
 * without a bound, a ring of one that answers everything at once would keep the clock still. */
#define WINDOWS_PER_INSTANT 4

/* Count a lookup against the current instant's share; false if the share is used up. */
static bool instant_share(struct sim *s)
{
	uint64_t now = sim_now(s);
	if (now != s->lookup_instant) {
		s->lookup_instant = now;
		s->lookups_at_instant = 0;
	}
	if (s->lookups_at_instant >= WINDOWS_PER_INSTANT * (size_t)s->cfg.window)
		return false;
	s->lookups_at_instant++;
	return true;
}

int sim_lookup(struct sim *s, uint32_t origin, const struct dht_id *key,
	       struct sim_lookup_stats *st)
{
	struct snode *n = sim_node(s, origin);
	if (n == NULL || s->nfree == 0 || !instant_share(s))
		return -1;
	struct slot *sl = &s->slot[s->freeslot[--s->nfree]];
	*sl = (struct slot){ s, st, origin, true, false };
	st->issued++;
	if (dht_lookup(n->d, key, lookup_cb, sl) != 0) {
		sim_slot_release(s, sl);
		st->done++;
		st->failed++;
	}
	return 0;
}

size_t sim_inflight(const struct sim *s)
{
	return s->cfg.window - s->nfree;
}

size_t sim_window(const struct sim *s)
{
	return s->cfg.window;
}

void sim_abandon_lookups(struct sim *s)
{
	for (size_t k = 0; k < s->cfg.window; k++)
		if (s->slot[k].used && !s->slot[k].abandoned) {
			s->slot[k].abandoned = true;
			s->slot[k].st->abandoned++;
		}
}

double sim_finger_accuracy(const struct sim *s, size_t sample)
{
	size_t m = truth_size(s->truth), good = 0, total = 0;
	size_t step = m > sample ? m / sample : 1;
	struct dht_node f[ID_MAX_BITS];
	unsigned idx[ID_MAX_BITS];
	for (size_t pos = 0; pos < m; pos += step) {
		const struct snode *n = sim_node(s, truth_index(s->truth, pos));
		size_t k = dht_fingers(n->d, f, idx, ID_MAX_BITS);
		for (size_t j = 0; j < k; j++) {
			struct dht_id start;
			id_add_pow2(&start, &n->id, idx[j], s->cfg.bits);
			size_t p = truth_successor(s->truth, &start);
			good += id_eq(&f[j].id, truth_id(s->truth, p));
			total++;
		}
	}
	return total ? (double)good / (double)total : 1.0;
}

void sim_dump(const struct sim *s)
{
	if (s->cfg.log == NULL)
		return;
	for (size_t pos = 0; pos < truth_size(s->truth); pos++)
		sim_dump_node(s, sim_node(s, truth_index(s->truth, pos)), "  ");
}

void sim_totals(struct sim *s, struct sim_totals *out)
{
	sim_account(s);
	*out = s->tot;
	for (size_t i = 0; i < s->nnode; i++)
		if (s->node[i])
			sim_add_core_stats(out, dht_get_stats(s->node[i]->d));
}
