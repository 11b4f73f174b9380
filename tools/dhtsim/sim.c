/* The simulated world: nodes, their environment, the network, the periodic checks and lookups.
 * Each node is a real Chord core whose env sends real encoded datagrams, copied into a delivery
 * event after a random latency; timers are events too. Node i lives at 127.x.y.z:1, x.y.z
 * encoding i, so a delivery needs no table and a datagram to a dead index is simply dropped.
 * Ids are never reused within a run, not even a dead node's: a stale entry naming a dead node
 * by the id of a live one would blur what the checks mean by "that node".
 * Three PRNG streams, all derived from the seed: the network's, the cores', and the driver's
 * (ids, keys, who asks), so that measuring a run never changes it.
 * Scenarios (growth, churn, schedules) live in scen.c; this file only offers the moves.
 * Events: a non-NULL argument is always a datagram owned by its event. */
#include "tools/dhtsim/sim.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "dht/rng.h"
#include "dht/routing.h"
#include "tools/dhtsim/idset.h"
#include "tools/sim/evq.h"

#define MAX_INDEX (1u << 24)
#define LOG_LIMIT 20 /* violations and bad lookups printed per run */

enum { JOIN_NONE = -2, JOIN_WAITING = -1 };

struct snode {
	struct sim *s;
	struct dht *d;
	struct dht_id id;
	uint32_t index;
	uint64_t wake;  /* the latest deadline the core asked for */
	uint64_t armed; /* the tick event relied on to honour it */
	bool armed_pending, member;
	int join;
};

struct dgram {
	uint32_t from;
	uint16_t len;
	uint8_t buf[];
};

struct slot {
	struct sim *s;
	struct sim_lookup_stats *st;
	uint32_t origin;
	bool used, abandoned;
};

struct sim {
	struct sim_config cfg;
	struct dht_config dcfg;
	struct evq *q;
	struct rng net, core, drv;
	struct truth *truth;
	struct idset *ids;
	struct checker *checker;
	struct snode **node;
	size_t nnode, capnode, alive, joining;
	struct slot *slot;
	size_t *freeslot, nfree;
	uint64_t period, next_check;
	struct check_result last;
	uint64_t last_change, converge_us, acc_at;
	bool converged, oom;
	struct sim_totals tot;
	unsigned logged;
};

void sim_config_default(struct sim_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->bits = 160;
	cfg->succ_len = 8;
	cfg->seed = 1;
	cfg->latency_ms = 20;
	cfg->latency = SIM_LAT_UNIFORM;
	cfg->window = 64;
}

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
}

/* --- addresses and nodes ------------------------------------------------------------------- */

static struct dht_addr index_addr(uint32_t i)
{
	struct dht_addr a;
	memset(&a, 0, sizeof a);
	a.family = 4;
	a.ip[0] = 127;
	a.ip[1] = (uint8_t)(i >> 16);
	a.ip[2] = (uint8_t)(i >> 8);
	a.ip[3] = (uint8_t)i;
	a.port = 1;
	return a;
}

static long addr_index(const struct dht_addr *a)
{
	if (a->family != 4 || a->ip[0] != 127 || a->port != 1)
		return -1;
	return (long)a->ip[1] << 16 | (long)a->ip[2] << 8 | a->ip[3];
}

static struct snode *live(const struct sim *s, long i)
{
	return i >= 0 && (size_t)i < s->nnode ? s->node[i] : NULL;
}

void sim_logf(const struct sim *s, const char *fmt, ...)
{
	if (s->cfg.log == NULL)
		return;
	va_list ap;
	va_start(ap, fmt);
	fprintf(s->cfg.log, "%11.6f ", (double)evq_now(s->q) / 1e6);
	vfprintf(s->cfg.log, fmt, ap);
	fputc('\n', s->cfg.log);
	va_end(ap);
}

static void id_hex(const struct sim *s, const struct dht_id *id, char out[ID_HEX_MAX])
{
	id_to_hex(id, s->cfg.bits, out);
	if (s->cfg.bits > 32)
		out[8] = '\0'; /* a prefix tells nodes apart in a log */
}

static void dump_node(const struct sim *s, const struct snode *n, const char *pre)
{
	struct dht_node buf[ROUTING_MAX_SUCC], pred;
	char line[1024], h[ID_HEX_MAX];
	id_hex(s, &n->id, h);
	int len = snprintf(line, sizeof line, "%sn%u %s pred ", pre, n->index, h);
	if (dht_predecessor(n->d, &pred) == 0)
		id_hex(s, &pred.id, h);
	else
		snprintf(h, sizeof h, "-");
	len += snprintf(line + len, sizeof line - (size_t)len, "%s succ", h);
	size_t k = dht_successors(n->d, buf, ROUTING_MAX_SUCC);
	/* Each entry as id:node, with a '+' for a dead node or one not in the ring. */
	for (size_t j = 0; j < k && len < (int)sizeof line - 64; j++) {
		long i = addr_index(&buf[j].addr);
		const struct snode *e = live(s, i);
		id_hex(s, &buf[j].id, h);
		len += snprintf(line + len, sizeof line - (size_t)len, " %s:n%ld%s", h, i,
				e && e->member && id_eq(&e->id, &buf[j].id) ? "" : "+");
	}
	sim_logf(s, "%s", line);
}

/* Integrate live nodes over time, for messages per node per second. */
static void account(struct sim *s)
{
	uint64_t now = evq_now(s->q);
	s->tot.node_seconds += (double)s->alive * (double)(now - s->acc_at) / 1e6;
	s->acc_at = now;
}

static void changed(struct sim *s)
{
	s->last_change = evq_now(s->q);
	s->converged = false;
}

/* --- the environment the cores see ------------------------------------------------------------ */

static uint64_t latency(struct sim *s)
{
	double mean = s->cfg.latency_ms * 1000;
	double v = mean;
	if (s->cfg.latency == SIM_LAT_UNIFORM)
		v = mean * (0.5 + rng_unit(&s->net));
	else if (s->cfg.latency == SIM_LAT_EXP)
		v = rng_exp(&s->net, mean);
	/* At least a microsecond: a reply never arrives at the instant its request left. */
	return v < 1 ? 1 : (uint64_t)v;
}

static void deliver(void *ctx, void *arg, uint64_t u)
{
	struct sim *s = ctx;
	struct dgram *g = arg;
	struct snode *n = live(s, (long)u);
	if (n) {
		struct dht_addr from = index_addr(g->from);
		s->tot.delivered++;
		dht_input(n->d, g->buf, g->len, &from);
	} else {
		s->tot.to_dead++;
	}
	free(g);
}

static void env_send(void *arg, const struct dht_addr *to, const uint8_t *buf, size_t len)
{
	struct snode *n = arg;
	struct sim *s = n->s;
	s->tot.sent++;
	if (s->cfg.loss > 0 && rng_unit(&s->net) < s->cfg.loss) {
		s->tot.lost++;
		return;
	}
	long dst = addr_index(to);
	if (dst < 0 || len > DHT_MSG_MAX) {
		s->tot.to_dead++;
		return;
	}
	struct dgram *g = malloc(sizeof *g + len);
	if (g == NULL) {
		s->oom = true;
		return;
	}
	g->from = n->index;
	g->len = (uint16_t)len;
	memcpy(g->buf, buf, len);
	if (evq_at(s->q, evq_now(s->q) + latency(s), deliver, g, (uint64_t)dst)) {
		free(g);
		s->oom = true;
	}
}

static void tick(void *ctx, void *arg, uint64_t u);

/* Keep one tick event we rely on, at the earliest time asked for. A later deadline does not
 * move it: when it fires early, it re-arms itself for the deadline then wanted. */
static void env_set_timer(void *arg, uint64_t at)
{
	struct snode *n = arg;
	struct sim *s = n->s;
	uint64_t now = evq_now(s->q);
	if (at < now)
		at = now;
	n->wake = at;
	if (at == UINT64_MAX || (n->armed_pending && n->armed <= at))
		return;
	n->armed = at;
	n->armed_pending = true;
	if (evq_at(s->q, at, tick, NULL, n->index))
		s->oom = true;
}

static void tick(void *ctx, void *arg, uint64_t u)
{
	struct sim *s = ctx;
	struct snode *n = live(s, (long)u);
	uint64_t now = evq_now(s->q);
	(void)arg;
	/* Events superseded by an earlier request that has fired since are stale. */
	if (n == NULL || !n->armed_pending || n->armed != now)
		return;
	n->armed_pending = false;
	if (n->wake > now) {
		env_set_timer(n, n->wake);
		return;
	}
	env_set_timer(n, dht_tick(n->d));
}

static uint64_t env_now(void *arg)
{
	struct snode *n = arg;
	return evq_now(n->s->q);
}

static void env_random(void *arg, void *buf, size_t len)
{
	struct snode *n = arg;
	rng_bytes(&n->s->core, buf, len);
}

static void env_log(void *arg, enum dht_log_level level, const char *msg)
{
	struct snode *n = arg;
	static const char *names[] = { "error", "warn", "info", "debug" };
	sim_logf(n->s, "n%u %s: %s", n->index, names[level], msg);
}

/* --- the world -------------------------------------------------------------------------------- */

struct sim *sim_new(const struct sim_config *cfg)
{
	if (!id_bits_valid(cfg->bits) || cfg->succ_len < 2 || cfg->succ_len > ROUTING_MAX_SUCC ||
	    cfg->window == 0 || !(cfg->loss >= 0 && cfg->loss < 1) || !(cfg->latency_ms >= 0))
		return NULL;
	struct sim *s = calloc(1, sizeof *s);
	if (s == NULL)
		return NULL;
	s->cfg = *cfg;
	dht_config_default(&s->dcfg);
	s->dcfg.bits = cfg->bits;
	s->dcfg.succ_len = cfg->succ_len;
	rng_seed(&s->drv, cfg->seed);
	rng_seed(&s->net, rng_next(&s->drv));
	rng_seed(&s->core, rng_next(&s->drv));
	s->q = evq_new(s);
	s->truth = truth_new();
	s->ids = idset_new();
	s->checker = checker_new();
	s->slot = calloc(cfg->window, sizeof *s->slot);
	s->freeslot = calloc(cfg->window, sizeof *s->freeslot);
	if (!s->q || !s->truth || !s->ids || !s->checker || !s->slot || !s->freeslot) {
		sim_free(s);
		return NULL;
	}
	for (size_t k = 0; k < cfg->window; k++)
		s->freeslot[s->nfree++] = cfg->window - 1 - k;
	s->period = s->dcfg.stabilize_us;
	s->next_check = s->period;
	s->last.ring_correct = true;
	return s;
}

static bool drop_all(void *ctx, void *arg, uint64_t u)
{
	(void)ctx;
	(void)u;
	free(arg);
	return true;
}

void sim_free(struct sim *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->nnode; i++)
		if (s->node[i]) {
			dht_free(s->node[i]->d);
			free(s->node[i]);
		}
	if (s->q)
		evq_filter(s->q, drop_all);
	evq_free(s->q);
	truth_free(s->truth);
	idset_free(s->ids);
	checker_free(s->checker);
	free(s->node);
	free(s->slot);
	free(s->freeslot);
	free(s);
}

uint64_t sim_now(const struct sim *s)
{
	return evq_now(s->q);
}

uint64_t sim_period(const struct sim *s)
{
	return s->period;
}

bool sim_failed(const struct sim *s)
{
	return s->oom;
}

const struct sim_config *sim_config(const struct sim *s)
{
	return &s->cfg;
}

static int fresh_id(struct sim *s, struct dht_id *out)
{
	uint8_t b[ID_BYTES];
	for (int tries = 0; tries < 10000; tries++) {
		rng_bytes(&s->drv, b, sizeof b);
		id_from_bytes(out, b, s->cfg.bits);
		if (!idset_has(s->ids, out))
			return 0;
	}
	return -1;
}

static const struct dht_env sim_env = {
	.send = env_send,
	.set_timer = env_set_timer,
	.now = env_now,
	.random = env_random,
	.log = env_log,
};

static int add_node(struct sim *s, struct snode *n)
{
	if (s->nnode == s->capnode) {
		size_t cap = s->capnode ? 2 * s->capnode : 256;
		struct snode **a = realloc(s->node, cap * sizeof *a);
		if (a == NULL)
			return -1;
		s->node = a;
		s->capnode = cap;
	}
	if (idset_add(s->ids, &n->id))
		return -1;
	s->node[s->nnode++] = n;
	account(s);
	s->alive++;
	return 0;
}

long sim_spawn(struct sim *s, const struct dht_id *id)
{
	struct dht_id fresh;
	if (s->nnode >= MAX_INDEX || (id == NULL && fresh_id(s, &fresh)))
		return -1;
	struct snode *n = calloc(1, sizeof *n);
	if (n == NULL)
		goto oom;
	n->s = s;
	n->index = (uint32_t)s->nnode;
	n->id = id ? *id : fresh;
	n->join = JOIN_NONE;
	struct dht_config cfg = s->dcfg;
	cfg.self.id = n->id;
	cfg.self.addr = index_addr(n->index);
	n->d = dht_new(&cfg, &sim_env, n);
	if (n->d == NULL || add_node(s, n))
		goto oom;
	return n->index;
oom:
	if (n)
		dht_free(n->d);
	free(n);
	s->oom = true;
	return -1;
}

static void make_member(struct sim *s, struct snode *n)
{
	if (truth_add(s->truth, &n->id, n->index)) {
		/* Only a core bug lets two members share an id: it would break the truth itself. */
		char h[ID_HEX_MAX];
		id_hex(s, &n->id, h);
		sim_logf(s, "n%u joined with id %s, which a member already has", n->index, h);
		s->oom = true;
		return;
	}
	n->member = true;
	changed(s);
}

void sim_create(struct sim *s, uint32_t i)
{
	struct snode *n = live(s, i);
	if (n == NULL || n->member)
		return;
	dht_create(n->d);
	make_member(s, n);
}

static void join_cb(void *arg, enum dht_status status)
{
	struct snode *n = arg;
	struct sim *s = n->s;
	if (n->join != JOIN_WAITING)
		return;
	s->joining--;
	n->join = (int)status;
	if (status == DHT_OK) {
		s->tot.joins_ok++;
		make_member(s, n);
		return;
	}
	if (status == DHT_ERR_ID_TAKEN)
		s->tot.joins_refused++;
	else
		s->tot.joins_failed++;
	sim_logf(s, "n%u join failed: %s", n->index, dht_status_str(status));
}

/* N is counted as joining already. */
static int start_join(struct sim *s, struct snode *n, uint32_t via)
{
	struct dht_addr a = index_addr(via);
	if (dht_join(n->d, &a, join_cb, n) == 0)
		return 0;
	if (n->join == JOIN_WAITING) {
		s->joining--;
		n->join = DHT_ERR_NOT_JOINED;
		s->tot.joins_failed++;
	}
	return -1;
}

int sim_join(struct sim *s, uint32_t i, uint32_t via)
{
	struct snode *n = live(s, i);
	if (n == NULL || n->member || n->join == JOIN_WAITING)
		return -1;
	n->join = JOIN_WAITING;
	s->joining++;
	return start_join(s, n, via);
}

static void join_event(void *ctx, void *arg, uint64_t u)
{
	struct sim *s = ctx;
	struct snode *n = live(s, (long)u);
	(void)arg;
	if (n == NULL || n->join != JOIN_WAITING)
		return;
	if (truth_size(s->truth) == 0) {
		s->joining--;
		n->join = DHT_ERR_NOT_JOINED;
		s->tot.joins_failed++;
		return;
	}
	start_join(s, n, sim_random_member(s));
}

int sim_join_at(struct sim *s, uint32_t i, uint64_t at)
{
	struct snode *n = live(s, i);
	if (n == NULL || n->member || n->join == JOIN_WAITING)
		return -1;
	if (evq_at(s->q, at, join_event, NULL, i)) {
		s->oom = true;
		return -1;
	}
	n->join = JOIN_WAITING;
	s->joining++;
	return 0;
}

int sim_join_status(const struct sim *s, uint32_t i)
{
	struct snode *n = live(s, i);
	return n ? n->join : JOIN_NONE;
}

static void release(struct sim *s, struct slot *sl)
{
	if (!sl->used)
		return;
	sl->used = false;
	s->freeslot[s->nfree++] = (size_t)(sl - s->slot);
}

static void abandon_from(struct sim *s, uint32_t origin)
{
	for (size_t k = 0; k < s->cfg.window; k++)
		if (s->slot[k].used && s->slot[k].origin == origin && !s->slot[k].abandoned) {
			s->slot[k].abandoned = true;
			s->slot[k].st->abandoned++;
		}
}

static void add_core_stats(struct sim_totals *t, const struct dht_stats *st)
{
	t->received += st->received;
	t->timeouts += st->timeouts;
	t->unsolicited += st->dropped_unsolicited;
	for (int k = 0; k < DHT_DECODE_NRESULTS; k++)
		t->decode_dropped[k] += st->dropped[k];
}

/* Take node N out of the world for good. */
static void bury(struct sim *s, struct snode *n)
{
	abandon_from(s, n->index);
	if (n->member) {
		truth_del(s->truth, &n->id);
		changed(s);
	}
	if (n->join == JOIN_WAITING)
		s->joining--;
	add_core_stats(&s->tot, dht_get_stats(n->d));
	account(s);
	s->alive--;
	dht_free(n->d);
	for (size_t k = 0; k < s->cfg.window; k++)
		if (s->slot[k].used && s->slot[k].origin == n->index)
			release(s, &s->slot[k]);
	s->node[n->index] = NULL;
	free(n);
}

int sim_crash(struct sim *s, uint32_t i)
{
	struct snode *n = live(s, i);
	if (n == NULL)
		return -1;
	s->tot.crashes++;
	sim_logf(s, "n%u crashes", i);
	bury(s, n);
	return 0;
}

int sim_leave(struct sim *s, uint32_t i)
{
	struct snode *n = live(s, i);
	if (n == NULL)
		return -1;
	s->tot.leaves++;
	sim_logf(s, "n%u leaves", i);
	abandon_from(s, i);
	dht_leave(n->d);
	bury(s, n);
	return 0;
}

void sim_reap(struct sim *s)
{
	for (size_t i = 0; i < s->nnode; i++) {
		struct snode *n = s->node[i];
		if (n && !n->member && n->join >= 0)
			bury(s, n);
	}
}

/* Does LIST hold a live node other than VICTIM? */
static bool list_has_live(const struct sim *s, const struct dht_node *list, size_t k, long victim)
{
	for (size_t j = 0; j < k; j++) {
		long i = addr_index(&list[j].addr);
		struct snode *m = live(s, i);
		if (m && i != victim && id_eq(&m->id, &list[j].id))
			return true;
	}
	return false;
}

static bool has_live_succ(const struct sim *s, const struct snode *n, long victim)
{
	struct dht_node buf[ROUTING_MAX_SUCC];
	return list_has_live(s, buf, dht_successors(n->d, buf, ROUTING_MAX_SUCC), victim);
}

/* A node whose first successor is VICTIM may be about to adopt VICTIM's list from a reply
 * already in flight (stabilize copies it, cut where it would jump over the node): would that
 * list hold a live node? */
static bool adoption_has_live(const struct sim *s, const struct snode *n, const struct snode *victim)
{
	struct dht_node mine, theirs[ROUTING_MAX_SUCC];
	if (dht_successors(n->d, &mine, 1) == 0 || addr_index(&mine.addr) != (long)victim->index)
		return true;
	size_t k = dht_successors(victim->d, theirs, s->cfg.succ_len - 1);
	const struct dht_id *prev = &victim->id;
	size_t j = 0;
	while (j < k && !id_in_oo(&n->id, prev, &theirs[j].id))
		prev = &theirs[j++].id;
	return list_has_live(s, theirs, j, victim->index);
}

bool sim_crash_is_safe(const struct sim *s, uint32_t i)
{
	const struct snode *v = live(s, i);
	for (size_t k = 0; v && k < s->nnode; k++) {
		const struct snode *n = s->node[k];
		if (n && k != i && dht_get_state(n->d) != DHT_IDLE &&
		    (!has_live_succ(s, n, (long)i) || !adoption_has_live(s, n, v)))
			return false;
	}
	return true;
}

size_t sim_lost_all(const struct sim *s)
{
	size_t lost = 0;
	for (size_t pos = 0; pos < truth_size(s->truth); pos++)
		if (!has_live_succ(s, live(s, truth_index(s->truth, pos)), -1))
			lost++;
	return lost;
}

bool sim_alive(const struct sim *s, uint32_t i)
{
	return live(s, i) != NULL;
}

struct dht *sim_core(struct sim *s, uint32_t i)
{
	struct snode *n = live(s, i);
	return n ? n->d : NULL;
}

const struct truth *sim_truth(const struct sim *s)
{
	return s->truth;
}

size_t sim_members(const struct sim *s)
{
	return truth_size(s->truth);
}

size_t sim_joining(const struct sim *s)
{
	return s->joining;
}

size_t sim_nindex(const struct sim *s)
{
	return s->nnode;
}

uint32_t sim_random_member(struct sim *s)
{
	return truth_index(s->truth, rng_below(&s->drv, truth_size(s->truth)));
}

void sim_random_key(struct sim *s, struct dht_id *out)
{
	uint8_t b[ID_BYTES];
	rng_bytes(&s->drv, b, sizeof b);
	id_from_bytes(out, b, s->cfg.bits);
}

uint64_t sim_rand_below(struct sim *s, uint64_t n)
{
	return rng_below(&s->drv, n);
}

double sim_rand_unit(struct sim *s)
{
	return rng_unit(&s->drv);
}

double sim_rand_exp(struct sim *s, double mean)
{
	return rng_exp(&s->drv, mean);
}

/* --- checks and time ------------------------------------------------------------------------ */

static size_t ops_succ(void *ctx, uint32_t index, struct dht_node *out, size_t max)
{
	struct snode *n = live(ctx, index);
	return n ? dht_successors(n->d, out, max) : 0;
}

static long ops_index_of(void *ctx, const struct dht_node *node)
{
	long i = addr_index(&node->addr);
	struct snode *n = live(ctx, i);
	return n && id_eq(&n->id, &node->id) ? i : -1;
}

static void ops_report(void *ctx, uint32_t index, const char *what)
{
	struct sim *s = ctx;
	if (s->logged++ >= LOG_LIMIT)
		return;
	sim_logf(s, "invariant violated at n%u: %s", index, what);
	dump_node(s, live(s, index), "  ");
}

static const struct check_ops sim_check_ops = { ops_succ, ops_index_of, ops_report };

static void run_check(struct sim *s)
{
	if (checker_run(s->checker, s->truth, s->nnode, s->cfg.succ_len, &sim_check_ops, s,
			&s->last)) {
		s->oom = true;
		return;
	}
	s->tot.checks++;
	s->tot.violations += s->last.violations;
	if (s->last.ring_correct && !s->converged) {
		s->converged = true;
		s->converge_us = evq_now(s->q) - s->last_change;
	}
}

bool sim_step(struct sim *s, uint64_t limit)
{
	uint64_t until = limit < s->next_check ? limit : s->next_check;
	if (evq_step(s->q, until)) {
		if (s->cfg.check_every_event)
			run_check(s);
		return true;
	}
	evq_run_until(s->q, until);
	if (until < s->next_check)
		return false;
	s->next_check += s->period;
	if (!s->cfg.check_every_event)
		run_check(s);
	return true;
}

void sim_run_until(struct sim *s, uint64_t t)
{
	while (sim_step(s, t))
		;
}

const struct check_result *sim_last_check(const struct sim *s)
{
	return &s->last;
}

bool sim_converged(const struct sim *s)
{
	return s->converged;
}

uint64_t sim_converge_us(const struct sim *s)
{
	return s->converge_us;
}

uint64_t sim_last_change(const struct sim *s)
{
	return s->last_change;
}

uint64_t sim_checks(const struct sim *s)
{
	return s->tot.checks;
}

/* --- lookups ---------------------------------------------------------------------------------- */

static void log_lookup(struct sim *s, const struct dht_lookup_result *res, const char *what)
{
	if (s->logged++ >= LOG_LIMIT)
		return;
	char k[ID_HEX_MAX], o[ID_HEX_MAX], t[ID_HEX_MAX] = "-", path[256] = "";
	id_hex(s, &res->key, k);
	id_hex(s, &res->owner.id, o);
	if (truth_size(s->truth))
		id_hex(s, truth_id(s->truth, truth_successor(s->truth, &res->key)), t);
	size_t len = 0;
	for (size_t j = 0; j < res->npath && len < sizeof path - 32; j++) {
		const struct dht_hop *h = &res->path[j];
		int w = h->answered ? snprintf(path + len, sizeof path - len, " n%ld:%.1fms",
					       addr_index(&h->node.addr), (double)h->rtt_us / 1e3)
				    : snprintf(path + len, sizeof path - len, " n%ld:timeout",
					       addr_index(&h->node.addr));
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
	st->hops[res->hops < SIM_HOPS_MAX ? res->hops : SIM_HOPS_MAX]++;
	st->hops_sum += res->hops;
	st->timeouts += res->timeouts;
	st->latency_us_sum += res->elapsed_us;
	bool ok = false;
	if (truth_size(s->truth)) {
		size_t p = truth_successor(s->truth, &res->key);
		ok = id_eq(&res->owner.id, truth_id(s->truth, p)) &&
		     addr_index(&res->owner.addr) == (long)truth_index(s->truth, p);
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
	release(sl->s, sl);
}

int sim_lookup(struct sim *s, uint32_t origin, const struct dht_id *key,
	       struct sim_lookup_stats *st)
{
	struct snode *n = live(s, origin);
	if (n == NULL || s->nfree == 0)
		return -1;
	struct slot *sl = &s->slot[s->freeslot[--s->nfree]];
	*sl = (struct slot){ s, st, origin, true, false };
	st->issued++;
	if (dht_lookup(n->d, key, lookup_cb, sl) != 0) {
		release(s, sl);
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
		const struct snode *n = live(s, truth_index(s->truth, pos));
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
		dump_node(s, live(s, truth_index(s->truth, pos)), "  ");
}

void sim_totals(struct sim *s, struct sim_totals *out)
{
	account(s);
	*out = s->tot;
	for (size_t i = 0; i < s->nnode; i++)
		if (s->node[i])
			add_core_stats(out, dht_get_stats(s->node[i]->d));
}
