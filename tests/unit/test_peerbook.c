/* The peer book on a fake clock: the dial back-off sequence and what each way a connection ends
 * costs, the bounds (ourselves, duplicates, max_known, max_conns), the lookup and announce pace,
 * and random event orders (fixed seeds) checked against a plain model of every address: the
 * book must dial exactly the address the model says is due (never dialled before first, then
 * oldest first), and no other. Also
 * the dial bounds: one host planted under many ports, and many hosts at once. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "dht/rng.h"
#include "transfer/peerbook.h"

#define S 1000000ull /* one second in microseconds */
#define NADDR 12     /* address 0 is ourselves */

static struct dht_addr addr(unsigned i)
{
	struct dht_addr a = { .family = 4, .ip = { 10, 0, 0, (uint8_t)i }, .port = 4000 };
	return a;
}

static struct peerbook *book(unsigned max_known, unsigned max_conns)
{
	struct peerbook_config c;
	peerbook_config_default(&c);
	c.self = addr(0);
	c.max_known = max_known;
	c.max_conns = max_conns;
	struct peerbook *pb = peerbook_new(&c);
	assert_non_null(pb);
	return pb;
}

static const struct peerbook_view seeking = { .seeking = true, .has_manifest = true };

/* Whether the book dials address I at NOW (and nothing else). */
static bool dials(struct peerbook *pb, unsigned i, uint64_t now)
{
	const struct dht_addr *a = peerbook_dial(pb, now, &seeking);
	struct dht_addr want = addr(i);
	return a != NULL && dht_addr_eq(a, &want);
}

static void test_backoff(void **state)
{
	(void)state;
	struct peerbook *pb = book(8, 8);
	struct dht_addr a = addr(1);
	assert_int_equal(peerbook_add(pb, &a), 1);
	peerbook_start(pb, 0);
	uint64_t t = 0;
	assert_true(dials(pb, 1, t));
	assert_null(peerbook_dial(pb, t, &seeking)); /* being dialled */
	static const uint64_t waits[] = { 4, 8, 16, 32, 60, 60, 60 };
	for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++) {
		peerbook_dropped(pb, &a, true, t);
		assert_null(peerbook_dial(pb, t + waits[i] * S - 1, &seeking));
		t += waits[i] * S;
		assert_true(dials(pb, 1, t));
	}
	/* A connection that came up forgives: the next failure waits 4 s again. */
	peerbook_up(pb, &a);
	peerbook_closed(pb, &a, SESSION_CLOSE_PROTOCOL, t);
	assert_null(peerbook_dial(pb, t + 4 * S - 1, &seeking));
	assert_true(dials(pb, 1, t + 4 * S));
	struct peerbook_stats st;
	peerbook_stats(pb, &st);
	assert_int_equal(st.dials, 9);
	assert_int_equal(st.failures, 8);
	assert_int_equal(st.redials, 8);
	assert_int_equal(st.min_redial_wait_us, 4 * S);
	peerbook_free(pb);
}

static void test_close_reasons(void **state)
{
	(void)state;
	struct peerbook *pb = book(8, 8);
	struct dht_addr a = addr(1), b = addr(2), c = addr(3);
	peerbook_add(pb, &a);
	peerbook_add(pb, &b);
	peerbook_add(pb, &c);
	assert_true(dials(pb, 1, 0));
	assert_true(dials(pb, 2, 0));
	assert_true(dials(pb, 3, 0));
	peerbook_up(pb, &a);
	peerbook_up(pb, &b);
	peerbook_up(pb, &c);
	/* A duplicate is a peer we already trade with: no failure, the shortest wait. */
	peerbook_closed(pb, &a, SESSION_CLOSE_DUPLICATE, 0);
	/* A finished pair has nothing left to trade for a minute. */
	peerbook_closed(pb, &b, SESSION_CLOSE_DONE, 0);
	/* A ban is for good. */
	peerbook_closed(pb, &c, SESSION_CLOSE_BANNED, 0);
	assert_null(peerbook_dial(pb, 2 * S - 1, &seeking));
	assert_true(dials(pb, 1, 2 * S));
	assert_null(peerbook_dial(pb, 60 * S - 1, &seeking));
	assert_true(dials(pb, 2, 60 * S));
	assert_null(peerbook_dial(pb, 3600 * S, &seeking));
	struct dht_addr good[8];
	assert_int_equal(peerbook_good(pb, good, 8), 2);
	assert_true(dht_addr_eq(&good[0], &a) && dht_addr_eq(&good[1], &b));
	assert_int_equal(peerbook_good(pb, good, 1), 1);
	struct peerbook_stats st;
	peerbook_stats(pb, &st);
	assert_int_equal(st.failures, 1);
	peerbook_free(pb);
}

/* A peer with no room lets us up and ends the connection: due again 2 s on, but an address
 * learned meanwhile and never dialled goes first (oldest first, a late peer's dials all went
 * to the full first holders of a swarm of 100, 20 s long). */
static void test_untried_first(void **state)
{
	(void)state;
	struct peerbook *pb = book(8, 60);
	struct dht_addr a1 = addr(1), a2 = addr(2);
	peerbook_found(pb, true, &a1, 1, 0, &seeking);
	assert_true(dials(pb, 1, 0));
	peerbook_up(pb, &a1);
	peerbook_dropped(pb, &a1, false, 0);
	peerbook_found(pb, true, &a2, 1, S, &seeking);
	assert_true(dials(pb, 2, 3 * S));
	assert_true(dials(pb, 1, 3 * S));
	peerbook_free(pb);
}

static void test_bounds(void **state)
{
	(void)state;
	struct peerbook_config c;
	peerbook_config_default(&c);
	c.max_known = 0;
	assert_null(peerbook_new(&c));
	peerbook_free(NULL);
	struct peerbook *pb = book(3, 2);
	struct dht_addr self = addr(0), a[5];
	for (unsigned i = 0; i < 5; i++)
		a[i] = addr(i + 1);
	assert_int_equal(peerbook_add(pb, &self), 0);
	/* A flood of holders is cut at max_known. */
	peerbook_found(pb, true, a, 5, 0, &seeking);
	assert_int_equal(peerbook_add(pb, &a[0]), 0);
	assert_int_equal(peerbook_add(pb, &a[4]), -1);
	assert_int_equal(peerbook_peers_seen(pb), 5);
	struct peerbook_stats st;
	peerbook_stats(pb, &st);
	assert_int_equal(st.known, 3);
	/* No dial at max_conns, nor when nothing is sought. */
	struct peerbook_view full = seeking, done = seeking;
	full.conns = 2;
	done.seeking = false;
	assert_null(peerbook_dial(pb, 0, &full));
	assert_null(peerbook_dial(pb, 0, &done));
	assert_true(dials(pb, 1, 0));
	/* A stopped run dials nobody, so each address may be dialled again: those never dialled
	 * first. */
	peerbook_stop(pb);
	assert_true(dials(pb, 2, 0));
	assert_true(dials(pb, 3, 0));
	assert_true(dials(pb, 1, 0));
	assert_null(peerbook_dial(pb, 0, &seeking));
	peerbook_free(pb);
}

/* Answer the lookup due at *T after NEXT microseconds' wait, and check the wait. */
static void lookup_at(struct peerbook *pb, uint64_t *t, uint64_t wait,
		      const struct peerbook_view *v)
{
	assert_int_equal(peerbook_next_call(pb, v), *t + wait);
	*t += wait;
	assert_int_equal(peerbook_due(pb, *t - 1, v), PEERBOOK_NONE);
	assert_int_equal(peerbook_due(pb, *t, v), PEERBOOK_LOOKUP);
	assert_int_equal(peerbook_due(pb, *t, v), PEERBOOK_NONE); /* in flight */
	/* In flight: nothing is due, but a listed peer re-announces in a minute. */
	uint64_t next = peerbook_next_call(pb, v);
	bool listed = v->holding || v->seeking;
	assert_true(listed ? next > *t && next != UINT64_MAX : next == UINT64_MAX);
	peerbook_found(pb, true, NULL, 0, *t, v);
}

static void test_lookup_pace(void **state)
{
	(void)state;
	struct peerbook *pb = book(8, 60);
	struct peerbook_view v = { .seeking = true };
	uint64_t t = 100 * S;
	peerbook_start(pb, t);
	assert_int_equal(peerbook_due(pb, t, &v), PEERBOOK_ANNOUNCE);
	peerbook_announced(pb, true, t);
	/* A first holder is looked for quickly: 0.25 s, doubling up to 4 s. */
	static const uint64_t find[] = { 0, 250000, 500000, 1000000, 2000000, 4000000, 4000000 };
	for (size_t i = 0; i < sizeof find / sizeof find[0]; i++)
		lookup_at(pb, &t, find[i], &v);
	/* With the manifest and no chunk, a new run looks every 0.25 s for ten seconds, then
	 * every 3 s. */
	v.has_manifest = true;
	peerbook_start(pb, t);
	assert_int_equal(peerbook_due(pb, t, &v), PEERBOOK_ANNOUNCE);
	peerbook_announced(pb, true, t);
	lookup_at(pb, &t, 0, &v);
	for (int i = 0; i < 40; i++)
		lookup_at(pb, &t, S / 4, &v);
	lookup_at(pb, &t, 3 * S, &v);
	/* A first chunk: from the next answer on, the pace of a holder. It was announced with
	 * the manifest already. */
	peerbook_start(pb, t);
	assert_int_equal(peerbook_due(pb, t, &v), PEERBOOK_ANNOUNCE);
	peerbook_announced(pb, true, t);
	lookup_at(pb, &t, 0, &v);
	v.holding = true;
	peerbook_kick(pb, t);
	assert_int_equal(peerbook_due(pb, t, &v), PEERBOOK_NONE);
	lookup_at(pb, &t, S / 4, &v);
	lookup_at(pb, &t, S, &v);
	/* Holding, a new run looks every second for ten seconds, then every 3 s, and every 15 s
	 * once it has enough connections. */
	peerbook_start(pb, t);
	assert_int_equal(peerbook_due(pb, t, &v), PEERBOOK_ANNOUNCE);
	peerbook_announced(pb, true, t);
	uint64_t announced = t;
	lookup_at(pb, &t, 0, &v);
	for (int i = 0; i < 10; i++)
		lookup_at(pb, &t, S, &v);
	lookup_at(pb, &t, 3 * S, &v);
	v.conns = 30;
	lookup_at(pb, &t, 3 * S, &v);
	lookup_at(pb, &t, 15 * S, &v);
	/* A call that could not start, or failed, is tried again after 2 s. */
	assert_int_equal(peerbook_due(pb, t + 15 * S, &v), PEERBOOK_LOOKUP);
	t += 15 * S;
	peerbook_call_failed(pb, PEERBOOK_LOOKUP, t);
	lookup_at(pb, &t, 2 * S, &v);
	/* The minute's re-announcement falls before the next lookup. */
	assert_int_equal(peerbook_next_call(pb, &v), announced + 60 * S);
	assert_int_equal(peerbook_due(pb, announced + 60 * S, &v), PEERBOOK_ANNOUNCE);
	peerbook_announced(pb, true, announced + 60 * S);
	assert_int_equal(peerbook_due(pb, t + 15 * S, &v), PEERBOOK_LOOKUP);
	t += 15 * S;
	peerbook_found(pb, false, NULL, 0, t, &v);
	assert_int_equal(peerbook_next_call(pb, &v), t + 15 * S);
	/* Nothing to seek or offer: no call. */
	v.seeking = false;
	v.holding = false;
	assert_int_equal(peerbook_next_call(pb, &v), UINT64_MAX);
	assert_int_equal(peerbook_due(pb, UINT64_MAX, &v), PEERBOOK_NONE);
	peerbook_free(pb);
}

/* Holding nothing, a book that already knows empty_known (10) addresses looks at a holder's
 * pace: the quick one is for finding a few peers at all. */
static void test_empty_pace_knowing_enough(void **state)
{
	(void)state;
	struct peerbook *pb = book(64, 60);
	struct peerbook_view v = { .seeking = true, .has_manifest = true };
	struct dht_addr many[10];
	for (unsigned i = 0; i < 10; i++)
		many[i] = (struct dht_addr){ .family = 4, .ip = { 10, 0, 1, (uint8_t)i }, .port = 4000 };
	uint64_t t = 100 * S;
	peerbook_start(pb, t);
	assert_int_equal(peerbook_due(pb, t, &v), PEERBOOK_ANNOUNCE);
	peerbook_announced(pb, true, t);
	assert_int_equal(peerbook_due(pb, t, &v), PEERBOOK_LOOKUP);
	peerbook_found(pb, true, many, 9, t, &v);
	lookup_at(pb, &t, S / 4, &v);
	assert_int_equal(peerbook_due(pb, t + S / 4, &v), PEERBOOK_LOOKUP);
	t += S / 4;
	peerbook_found(pb, true, many, 10, t, &v);
	lookup_at(pb, &t, S, &v);
	lookup_at(pb, &t, S, &v);
	peerbook_free(pb);
}

/* A downloader is listed from the start, before it has the manifest, as a tracker lists a
 * leecher: peers that meet early pass the manifest and the first chunks on at once. Its own
 * address in a lookup's answer is no other peer. */
static void test_listed_while_seeking(void **state)
{
	(void)state;
	struct peerbook *pb = book(8, 60);
	struct peerbook_view v = { .seeking = true };
	struct dht_addr self = addr(0), other = addr(1);
	peerbook_start(pb, 0);
	assert_int_equal(peerbook_due(pb, 0, &v), PEERBOOK_ANNOUNCE);
	assert_int_equal(peerbook_due(pb, 0, &v), PEERBOOK_LOOKUP);
	assert_true(peerbook_announced(pb, true, 0));
	peerbook_found(pb, true, &self, 1, 0, &v);
	assert_int_equal(peerbook_peers_seen(pb), 0);
	assert_int_equal(peerbook_next_call(pb, &v), S / 4); /* a first holder, quickly */
	/* The manifest, then a first chunk: listed already, nothing to announce anew. */
	v.has_manifest = true;
	peerbook_kick(pb, S / 8);
	assert_int_equal(peerbook_due(pb, S / 8, &v), PEERBOOK_NONE);
	v.holding = true;
	peerbook_kick(pb, S / 4);
	assert_int_equal(peerbook_due(pb, S / 4, &v), PEERBOOK_LOOKUP);
	assert_int_equal(peerbook_due(pb, S / 4, &v), PEERBOOK_NONE);
	struct dht_addr both[2] = { self, other };
	peerbook_found(pb, true, both, 2, S / 4, &v);
	assert_int_equal(peerbook_peers_seen(pb), 1);
	/* Holding, it looks each second early in a run, and re-announces a minute after the
	 * first. */
	assert_int_equal(peerbook_next_call(pb, &v), S / 4 + S);
	assert_int_equal(peerbook_due(pb, 60 * S, &v), PEERBOOK_ANNOUNCE);
	peerbook_free(pb);
}

/* Without the manifest we keep at most bare_dials (8) dials of our own open: listed peers may
 * lack the manifest as we do. With it, we dial on up to max_conns. */
static void test_bare_dials(void **state)
{
	(void)state;
	struct peerbook *pb = book(16, 60);
	struct peerbook_view v = { .seeking = true };
	for (unsigned i = 1; i <= 10; i++) {
		struct dht_addr a = addr(i);
		assert_int_equal(peerbook_add(pb, &a), 1);
	}
	peerbook_start(pb, 0);
	for (unsigned i = 1; i <= 8; i++)
		assert_non_null(peerbook_dial(pb, 0, &v));
	assert_null(peerbook_dial(pb, 0, &v));
	struct dht_addr first = addr(1);
	peerbook_dropped(pb, &first, false, 0); /* one of ours ended: room for one more */
	struct dht_addr ninth = addr(9), tenth = addr(10);
	const struct dht_addr *a = peerbook_dial(pb, 0, &v);
	assert_true(a != NULL && dht_addr_eq(a, &ninth));
	assert_null(peerbook_dial(pb, 0, &v));
	v.has_manifest = true;
	a = peerbook_dial(pb, 0, &v);
	assert_true(a != NULL && dht_addr_eq(a, &tenth));
	peerbook_free(pb);
}

static void test_announce_pace(void **state)
{
	(void)state;
	struct peerbook *pb = book(8, 60);
	struct peerbook_view v = { .has_manifest = true };
	peerbook_start(pb, 0);
	assert_int_equal(peerbook_due(pb, 0, &v), PEERBOOK_NONE); /* nothing to offer yet */
	/* The first verified chunk: announce at once, though the schedule said so already. */
	peerbook_kick(pb, 5 * S);
	v.holding = true;
	assert_int_equal(peerbook_next_call(pb, &v), 5 * S);
	assert_int_equal(peerbook_due(pb, 5 * S, &v), PEERBOOK_ANNOUNCE);
	assert_false(peerbook_announced(pb, false, 5 * S));
	assert_int_equal(peerbook_next_call(pb, &v), 7 * S);
	assert_int_equal(peerbook_due(pb, 7 * S, &v), PEERBOOK_ANNOUNCE);
	assert_true(peerbook_announced(pb, true, 7 * S));
	assert_int_equal(peerbook_next_call(pb, &v), 67 * S);
	peerbook_kick(pb, 8 * S); /* announced already: nothing changes */
	assert_int_equal(peerbook_next_call(pb, &v), 67 * S);
	assert_int_equal(peerbook_due(pb, 67 * S, &v), PEERBOOK_ANNOUNCE);
	assert_false(peerbook_announced(pb, true, 67 * S));
	/* Announce and lookup may both be due: one at a time, the announce first. */
	v.seeking = true;
	assert_int_equal(peerbook_due(pb, 200 * S, &v), PEERBOOK_ANNOUNCE);
	assert_int_equal(peerbook_due(pb, 200 * S, &v), PEERBOOK_LOOKUP);
	assert_int_equal(peerbook_due(pb, 200 * S, &v), PEERBOOK_NONE);
	/* A stop forgets calls in flight; a new run announces and looks up at once. */
	peerbook_stop(pb);
	peerbook_start(pb, 300 * S);
	assert_int_equal(peerbook_due(pb, 300 * S, &v), PEERBOOK_ANNOUNCE);
	assert_true(peerbook_announced(pb, true, 300 * S));
	peerbook_free(pb);
}

/* ---- random orders against a model ---- */

struct maddr {
	bool known, dialled, up, banned, reached, tried;
	unsigned fails;
	uint64_t next_try;
};

struct model {
	struct maddr a[NADDR];
	unsigned order[NADDR], n; /* known addresses, oldest first */
	unsigned max_known;
};

static void m_add(struct model *m, unsigned i)
{
	if (i == 0 || m->a[i].known || m->n == m->max_known)
		return;
	m->a[i].known = true;
	m->order[m->n++] = i;
}

static int m_due(const struct model *m, uint64_t now)
{
	for (int tried = 0; tried < 2; tried++)
		for (unsigned j = 0; j < m->n; j++) {
			const struct maddr *x = &m->a[m->order[j]];
			if (!x->dialled && !x->banned && x->next_try <= now && x->tried == tried)
				return (int)m->order[j];
		}
	return -1;
}

static void m_end(struct maddr *x, bool failed, uint64_t wait, uint64_t now)
{
	x->dialled = x->up = false;
	if (failed && x->fails < 16)
		x->fails++;
	uint64_t backoff = 2 * S << (x->fails < 5 ? x->fails : 5);
	backoff = backoff > 60 * S ? 60 * S : backoff;
	x->next_try = now + (wait > backoff ? wait : backoff);
}

/* Pick a random address in state DIALLED, or -1. */
static int pick_dialled(struct rng *r, const struct model *m, bool up)
{
	int c[NADDR], n = 0;
	for (unsigned i = 1; i < NADDR; i++)
		if (m->a[i].dialled && m->a[i].up == up)
			c[n++] = (int)i;
	return n ? c[rng_below(r, (uint64_t)n)] : -1;
}

static void random_step(struct rng *r, struct peerbook *pb, struct model *m, uint64_t *now)
{
	struct dht_addr a;
	int i;
	switch (rng_below(r, 6)) {
	case 0: /* a lookup answers with a few addresses, ourselves perhaps among them */
		i = (int)rng_below(r, NADDR);
		a = addr((unsigned)i);
		peerbook_found(pb, true, &a, 1, *now, &seeking);
		m_add(m, (unsigned)i);
		break;
	case 1: /* dial whatever is due */
		i = m_due(m, *now);
		if (i < 0) {
			assert_null(peerbook_dial(pb, *now, &seeking));
			break;
		}
		assert_true(dials(pb, (unsigned)i, *now));
		m->a[i].dialled = m->a[i].tried = true;
		break;
	case 2: /* a dial comes up */
		if ((i = pick_dialled(r, m, false)) < 0)
			break;
		a = addr((unsigned)i);
		peerbook_up(pb, &a);
		m->a[i].up = m->a[i].reached = true;
		m->a[i].fails = 0;
		break;
	case 3: { /* the session closes a connection that is up */
		static const enum session_close whys[] = {
			SESSION_CLOSE_PROTOCOL, SESSION_CLOSE_BANNED, SESSION_CLOSE_DUPLICATE,
			SESSION_CLOSE_TIMEOUT, SESSION_CLOSE_DONE, SESSION_CLOSE_FULL,
		};
		enum session_close why = whys[rng_below(r, 6)];
		if ((i = pick_dialled(r, m, true)) < 0)
			break;
		a = addr((unsigned)i);
		peerbook_closed(pb, &a, why, *now);
		m->a[i].banned |= why == SESSION_CLOSE_BANNED;
		m_end(&m->a[i], why != SESSION_CLOSE_DUPLICATE && why != SESSION_CLOSE_DONE,
		      why == SESSION_CLOSE_DONE ? 60 * S : 0, *now);
		break;
	}
	case 4: { /* a dial or connection dies on its own */
		bool up = rng_below(r, 2);
		if ((i = pick_dialled(r, m, up)) < 0)
			break;
		a = addr((unsigned)i);
		peerbook_dropped(pb, &a, !up, *now);
		m_end(&m->a[i], !up, 0, *now);
		break;
	}
	default:
		*now += rng_below(r, 20 * S);
	}
}

static void test_random_orders(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 300; seed++) {
		struct rng r;
		rng_seed(&r, seed);
		struct model m = { .max_known = 1 + (unsigned)rng_below(&r, NADDR) };
		struct peerbook *pb = book(m.max_known, 64);
		uint64_t now = rng_below(&r, 1000 * S);
		for (int step = 0; step < 400; step++)
			random_step(&r, pb, &m, &now);
		struct dht_addr good[NADDR];
		uint32_t n = peerbook_good(pb, good, NADDR), want = 0;
		for (unsigned j = 0; j < m.n; j++) {
			const struct maddr *x = &m.a[m.order[j]];
			if (!x->reached || x->banned)
				continue;
			struct dht_addr e = addr(m.order[j]);
			assert_true(want < n && dht_addr_eq(&good[want], &e));
			want++;
		}
		assert_int_equal(n, want);
		peerbook_free(pb);
	}
}

/* Dials at each 100 ms step from FROM to TO (seconds) of whatever is due, each attempt failing
 * at once; return how many. */
static unsigned dial_storm(struct peerbook *pb, uint64_t from, uint64_t to)
{
	unsigned n = 0;
	for (uint64_t t = from * S; t < to * S; t += S / 10) {
		const struct dht_addr *a;
		while ((a = peerbook_dial(pb, t, &seeking)) != NULL) {
			struct dht_addr copy = *a;
			n++;
			peerbook_dropped(pb, &copy, false, t);
		}
	}
	return n;
}

/* An address planted under 200 ports of one host (the victim) costs it host_dials attempts a
 * minute, however the book learned them. */
static void test_host_dial_bound(void **state)
{
	(void)state;
	struct peerbook *pb = book(256, 256);
	for (unsigned port = 1; port <= 200; port++) {
		struct dht_addr a = addr(5);
		a.port = (uint16_t)port;
		assert_int_equal(peerbook_add(pb, &a), 1);
	}
	peerbook_start(pb, 0);
	assert_int_equal(dial_storm(pb, 0, 60), 6);
	assert_int_equal(dial_storm(pb, 60, 120), 6);
	struct peerbook_stats st;
	peerbook_stats(pb, &st);
	assert_true(st.dials_held > 0);
	peerbook_free(pb);
}

/* Many hosts at once: a burst of dial_burst, then dial_rate a second. */
static void test_total_dial_bound(void **state)
{
	(void)state;
	struct peerbook *pb = book(256, 256);
	for (unsigned i = 0; i < 200; i++) {
		struct dht_addr a = { .family = 4, .ip = { 10, 1, (uint8_t)(i / 250), (uint8_t)i },
				      .port = 4000 };
		assert_int_equal(peerbook_add(pb, &a), 1);
	}
	peerbook_start(pb, 0);
	unsigned n = 0;
	while (peerbook_dial(pb, 0, &seeking) != NULL)
		n++;
	assert_int_equal(n, 40);
	n = 0;
	while (peerbook_dial(pb, S, &seeking) != NULL)
		n++;
	assert_int_equal(n, 10);
	peerbook_free(pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_close_reasons),
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_untried_first),
		cmocka_unit_test(test_lookup_pace),
		cmocka_unit_test(test_empty_pace_knowing_enough),
		cmocka_unit_test(test_listed_while_seeking),
		cmocka_unit_test(test_bare_dials),
		cmocka_unit_test(test_announce_pace),
		cmocka_unit_test(test_random_orders),
		cmocka_unit_test(test_host_dial_bound),
		cmocka_unit_test(test_total_dial_bound),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
