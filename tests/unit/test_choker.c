/* The choker with a fake clock and a seeded PRNG: who is unchoked at the 10 s and 30 s
 * boundaries, the rolling rate (over the time a late feeder has fed us), new peers three times as likely for the optimistic slot (over
 * many seeds), snubbing after 60 s of silence, equal service in seed mode, freed slots refilled
 * between periods, and invariants over random event orders (uninterested peers never hold a
 * slot, no slot idles while an interested peer waits, the change lists add up); the rounds
 * kept for the web view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "dht/rng.h"
#include "transfer/choker.h"

#define S 1000000ull /* one second in microseconds */
#define NP 16

static uint64_t rnd64(void *arg)
{
	return rng_next(arg);
}

struct fx {
	struct rng r;
	struct choker *c;
	struct choker_peer *p[NP];
	bool unchoked[NP]; /* what the changes told us */
};

/* OPT_US: the optimistic period, 0 for the default 30 s. */
static void fx_init(struct fx *f, uint64_t seed, unsigned slots, uint64_t opt_us)
{
	struct choker_config cfg;
	choker_config_default(&cfg);
	cfg.slots = slots;
	if (opt_us != 0)
		cfg.optimistic_us = opt_us;
	cfg.rand64 = rnd64;
	cfg.rand_arg = &f->r;
	memset(f, 0, sizeof *f);
	rng_seed(&f->r, seed);
	f->c = choker_new(&cfg, 0);
	assert_non_null(f->c);
}

static struct choker_peer *fx_add(struct fx *f, int i, uint64_t now, bool interested)
{
	f->p[i] = choker_peer_add(f->c, (void *)(uintptr_t)i, now);
	assert_non_null(f->p[i]);
	f->unchoked[i] = false;
	choker_peer_interested(f->c, f->p[i], interested, now);
	return f->p[i];
}

static size_t fx_tick(struct fx *f, uint64_t now)
{
	const struct choker_change *ch;
	size_t n = choker_tick(f->c, now, &ch);
	for (size_t k = 0; k < n; k++) {
		int i = (int)(uintptr_t)ch[k].user;
		assert_ptr_equal(ch[k].peer, f->p[i]);
		assert_int_equal(f->unchoked[i], ch[k].choke);
		f->unchoked[i] = !ch[k].choke;
	}
	for (int i = 0; i < NP; i++)
		if (f->p[i] != NULL)
			assert_int_equal(choker_peer_unchoked(f->p[i]), f->unchoked[i]);
	return n;
}

static bool regular(const struct fx *f, int i)
{
	return f->unchoked[i] && !choker_peer_optimistic(f->p[i]);
}

static int optimistic_index(const struct fx *f)
{
	int o = -1;
	for (int i = 0; i < NP; i++)
		if (f->p[i] != NULL && choker_peer_optimistic(f->p[i])) {
			assert_int_equal(o, -1);
			o = i;
		}
	return o;
}

static void test_config_and_rate_window(void **state)
{
	(void)state;
	struct choker_config cfg;
	choker_config_default(&cfg);
	assert_null(choker_new(&cfg, 0)); /* no rand64 */
	choker_free(NULL);
	struct fx f;
	fx_init(&f, 1, 4, 0);
	struct choker_peer *p = fx_add(&f, 0, 0, true);
	for (uint64_t t = 0; t < 40; t++)
		choker_peer_received(f.c, p, 1000, t * S);
	/* 20 s window, 2 s buckets: the 20 most recent seconds at 1000 B/s. */
	assert_int_equal(choker_peer_rate(f.c, p, 39 * S), 1000);
	assert_int_equal(choker_peer_rate(f.c, p, 51 * S), 400);
	assert_int_equal(choker_peer_rate(f.c, p, 80 * S), 0);
	choker_peer_sent(f.c, p, 123, 0);
	assert_int_equal(choker_peer_uploaded(p), 123);
	choker_free(f.c);
}

/* Peer I sends RATE(I) bytes each second from T0 to T1. */
static void feed(struct fx *f, uint64_t t0, uint64_t t1, uint64_t (*rate)(int))
{
	for (uint64_t t = t0; t < t1; t += S)
		for (int i = 0; i < NP; i++)
			if (f->p[i] != NULL && rate(i) > 0)
				choker_peer_received(f->c, f->p[i], rate(i), t);
}

static uint64_t rate_rising(int i)
{
	return i < 8 ? (uint64_t)(i + 1) * 10000 : 0;
}

static uint64_t rate_low_four(int i)
{
	return i < 4 ? 1000000 : 0;
}

/* The 4 regular slots follow the 4 fastest senders among the peers not holding the optimistic
 * slot, and change only at 10 s boundaries. */
static void test_regular_slots_at_10s_boundaries(void **state)
{
	(void)state;
	for (uint64_t seed = 0; seed < 20; seed++) {
		struct fx f;
		fx_init(&f, seed, 4, 0);
		for (int i = 0; i < 8; i++)
			fx_add(&f, i, 0, true);
		fx_tick(&f, 0);
		assert_int_equal(choker_next_deadline(f.c), 10 * S);
		int opt = optimistic_index(&f);
		assert_true(opt >= 0);
		feed(&f, 0, 10 * S, rate_rising);
		assert_int_equal(fx_tick(&f, 9 * S), 0);
		fx_tick(&f, 10 * S);
		assert_int_equal(optimistic_index(&f), opt);
		int want = 4;
		for (int i = 7; i >= 0; i--) {
			if (i == opt)
				continue;
			assert_int_equal(regular(&f, i), want > 0);
			want--;
		}
		/* Peers 0..3 take over between 10 s and 20 s: nothing moves before 20 s. */
		feed(&f, 10 * S, 20 * S, rate_low_four);
		assert_int_equal(fx_tick(&f, 15 * S), 0);
		assert_int_equal(choker_next_deadline(f.c), 20 * S);
		fx_tick(&f, 20 * S);
		for (int i = 0; i < 4; i++)
			assert_true(regular(&f, i) || i == opt);
		choker_free(f.c);
	}
}

/* The optimistic slot holds for 30 s and is redrawn at each 30 s boundary, always an interested
 * peer outside the regular slots. */
static void test_optimistic_rotates_every_30s(void **state)
{
	(void)state;
	unsigned changed = 0;
	for (uint64_t seed = 0; seed < 50; seed++) {
		struct fx f;
		fx_init(&f, seed, 2, 0);
		for (int i = 0; i < 10; i++)
			fx_add(&f, i, 0, i != 9);
		int prev = -1;
		for (uint64_t t = 0; t <= 120 * S; t += 10 * S) {
			fx_tick(&f, t);
			int o = optimistic_index(&f);
			assert_true(o >= 0 && o != 9);
			assert_true(f.unchoked[o]);
			if (t % (30 * S) != 0)
				assert_int_equal(o, prev);
			else if (t > 0)
				changed += o != prev;
			prev = o;
		}
		choker_free(f.c);
	}
	/* Drawn from 7 or 8 peers each time: it moves at most boundaries. */
	assert_true(changed > 150);
}

/* While the torrent is young (its first 10 s) a leecher's optimistic slot moves on as soon as
 * its holder got 256 KiB from us, not before; later, and in a seed, it stays for its 30 s. */
static void test_young_optimistic_moves_after_a_chunk(void **state)
{
	(void)state;
	for (int seed_mode = 0; seed_mode < 2; seed_mode++)
		for (uint64_t start = 0; start <= 20 * S; start += 20 * S) {
			bool early = !seed_mode && start < 10 * S;
			struct fx f;
			fx_init(&f, 7 + start, 1, 0);
			choker_set_seed(f.c, seed_mode, 0);
			for (int i = 0; i < 8; i++)
				fx_add(&f, i, 0, true);
			fx_tick(&f, 0);
			/* Let the first optimistic period run out so that one starts at START. */
			if (start > 0)
				fx_tick(&f, start);
			int o = optimistic_index(&f);
			assert_true(o >= 0);
			uint64_t t = start + S;
			choker_peer_sent(f.c, f.p[o], 256 * 1024 - 1, t);
			assert_true(choker_next_deadline(f.c) > t);
			choker_peer_sent(f.c, f.p[o], 1, t);
			assert_int_equal(choker_next_deadline(f.c) <= t, early);
			fx_tick(&f, t);
			struct choker_round r;
			assert_int_equal(choker_rounds(f.c, &r, 1), 1);
			assert_int_equal(r.at_us == t && r.optimistic_due, early);
			assert_true(optimistic_index(&f) >= 0);
			choker_free(f.c);
		}
}

/* Three old peers and one that connected 10 s ago compete for the optimistic slot: the new one
 * should win 3/6 of the draws, each old one 1/6. */
static void test_new_peers_three_times_as_likely(void **state)
{
	(void)state;
	unsigned wins_new = 0, wins_old = 0, trials = 3000;
	for (uint64_t seed = 0; seed < trials; seed++) {
		struct fx f;
		fx_init(&f, seed, 1, 0);
		struct choker_peer *fast = fx_add(&f, 0, 0, true);
		for (int i = 1; i <= 3; i++)
			fx_add(&f, i, 0, true);
		fx_add(&f, 4, 90 * S, true);
		choker_peer_received(f.c, fast, 100000, 95 * S);
		fx_tick(&f, 100 * S);
		assert_true(regular(&f, 0));
		int o = optimistic_index(&f);
		assert_true(o >= 1 && o <= 4);
		if (o == 4)
			wins_new++;
		else
			wins_old++;
		choker_free(f.c);
	}
	/* ratio = P(new) / P(one old) = 3 * wins_new / wins_old; loose bound [2.5, 3.5]. */
	assert_true(wins_new * 3 * 10 >= wins_old * 25);
	assert_true(wins_new * 3 * 10 <= wins_old * 35);
}

/* A peer we want data from that sends nothing for 60 s loses its regular slot to a peer that is
 * not snubbing us, even one with no rate at all, and wins it back by sending again. The
 * optimistic period is 100 s here so that only snubbing can move the regular slots. */
static void test_snubbed_peer_replaced(void **state)
{
	(void)state;
	for (uint64_t seed = 0; seed < 20; seed++) {
		struct fx f;
		fx_init(&f, seed, 2, 100 * S);
		struct choker_peer *a = fx_add(&f, 0, 0, true), *b = fx_add(&f, 1, 0, true);
		fx_add(&f, 2, 0, false);
		fx_add(&f, 3, 0, false);
		choker_peer_interesting(f.c, a, true, 0);
		choker_peer_interesting(f.c, b, true, 0);
		for (uint64_t t = 0; t <= 140 * S; t += S) {
			choker_peer_received(f.c, b, 1000, t);
			if (t < 10 * S)
				choker_peer_received(f.c, a, 5000, t);
			if (t == 15 * S) {
				choker_peer_interested(f.c, f.p[2], true, t);
				choker_peer_interested(f.c, f.p[3], true, t);
			}
			if (t == 68 * S || t == 69 * S) {
				assert_int_equal(choker_peer_snubbed(f.c, a, t), t == 69 * S);
				assert_false(choker_peer_snubbed(f.c, b, t));
			}
			if (t % (5 * S) == 0)
				fx_tick(&f, t);
			if (t % (10 * S) != 0)
				continue;
			/* Silent since 9 s: still holding its slot at 60 s, replaced from 70 s. */
			assert_int_equal(regular(&f, 0), t <= 60 * S);
			assert_true(regular(&f, 1));
		}
		/* Not being interested in a silent peer means it cannot snub us. */
		choker_peer_interesting(f.c, a, false, 140 * S);
		assert_false(choker_peer_snubbed(f.c, a, 141 * S));
		choker_peer_interesting(f.c, a, true, 141 * S);
		choker_peer_received(f.c, a, 500000, 145 * S);
		fx_tick(&f, 150 * S);
		assert_true(regular(&f, 0) || choker_peer_optimistic(a));
		assert_true(f.unchoked[0]);
		choker_free(f.c);
	}
}

static uint64_t rate_by_index(int i)
{
	return (uint64_t)(i + 1) * 200000;
}

/* With no recent rate anywhere, the slot goes to the peer that sent us data in the past, not to
 * one that never did (a free rider), whatever the seed. */
static void test_idle_slot_prefers_past_senders(void **state)
{
	(void)state;
	for (uint64_t seed = 0; seed < 50; seed++) {
		struct fx f;
		fx_init(&f, seed, 1, 0);
		for (int i = 0; i < 6; i++)
			fx_add(&f, i, 0, true);
		choker_peer_received(f.c, f.p[4], 1000000, 0);
		for (uint64_t t = 0; t <= 60 * S; t += 10 * S)
			fx_tick(&f, t);
		assert_int_equal(choker_peer_rate(f.c, f.p[4], 60 * S), 0);
		assert_true(regular(&f, 4) || choker_peer_optimistic(f.p[4]));
		choker_free(f.c);
	}
}

/* Tick at every deadline until END; each second every unchoked peer takes PER_S bytes from us
 * and peer i sends us rate_by_index(i). */
static void run_upload(struct fx *f, uint64_t end, uint64_t per_s)
{
	uint64_t t = 0;
	while (t < end) {
		uint64_t next = choker_next_deadline(f->c);
		if (t >= next)
			fx_tick(f, t);
		for (int i = 0; i < NP; i++) {
			if (f->p[i] == NULL)
				continue;
			choker_peer_received(f->c, f->p[i], rate_by_index(i), t);
			if (f->unchoked[i])
				choker_peer_sent(f->c, f->p[i], per_s, t);
		}
		t += S;
	}
}

/* A seed serves 12 leechers of very different download rates: after 10 minutes each got about
 * the same number of bytes (within one optimistic period's worth), not the fastest few. */
static void test_seed_round_robin_equal_service(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 7, 4, 0);
	choker_set_seed(f.c, true, 0);
	for (int i = 0; i < 12; i++)
		fx_add(&f, i, 0, true);
	run_upload(&f, 600 * S, 100000);
	uint64_t lo = UINT64_MAX, hi = 0, sum = 0;
	for (int i = 0; i < 12; i++) {
		uint64_t u = choker_peer_uploaded(f.p[i]);
		lo = u < lo ? u : lo;
		hi = u > hi ? u : hi;
		sum += u;
	}
	assert_true(sum >= 5 * 600 * 100000ull * 9 / 10);
	assert_true(hi - lo <= 30 * 100000ull);
	choker_free(f.c);
	/* The same swarm as a leecher serves the fastest senders. */
	fx_init(&f, 7, 4, 0);
	for (int i = 0; i < 12; i++)
		fx_add(&f, i, 0, true);
	run_upload(&f, 600 * S, 100000);
	/* The 4 fastest hold the regular slots from the first recompute on. */
	for (int i = 8; i < 12; i++)
		assert_true(choker_peer_uploaded(f.p[i]) >= 590 * 100000ull);
	assert_true(choker_peer_uploaded(f.p[0]) < 200 * 100000ull);
	choker_free(f.c);
}

/* A slot holder leaving or losing interest is replaced at the next tick, before the period ends,
 * and the other holders stay. */
static void test_freed_slot_refilled_at_once(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 3, 2, 0);
	for (int i = 0; i < 6; i++)
		fx_add(&f, i, 0, true);
	for (int i = 0; i < 6; i++)
		choker_peer_received(f.c, f.p[i], (uint64_t)(i + 1) * 1000, 0);
	fx_tick(&f, 0);
	fx_tick(&f, 10 * S);
	int opt = optimistic_index(&f);
	int holders[2], n = 0;
	for (int i = 0; i < 6; i++)
		if (regular(&f, i))
			holders[n++] = i;
	assert_int_equal(n, 2);
	choker_peer_interested(f.c, f.p[holders[0]], false, 12 * S);
	assert_int_equal(choker_next_deadline(f.c), 12 * S);
	fx_tick(&f, 12 * S);
	assert_false(f.unchoked[holders[0]]);
	assert_true(regular(&f, holders[1]));
	assert_int_equal(optimistic_index(&f), opt);
	choker_peer_remove(f.c, f.p[holders[1]]);
	f.p[holders[1]] = NULL;
	assert_int_equal(choker_next_deadline(f.c), 0);
	fx_tick(&f, 13 * S);
	n = 0;
	for (int i = 0; i < 6; i++)
		n += f.p[i] != NULL && regular(&f, i);
	assert_int_equal(n, 2);
	assert_int_equal(choker_next_deadline(f.c), 20 * S);
	choker_free(f.c);
}

/* Random event orders: after every tick, only interested peers are unchoked, at most one is
 * optimistic, and exactly min(slots + 1, interested) peers are unchoked. */
/* The index of the fixture's peer the choker calls SERIAL. */
static int by_serial(const struct fx *f, uint64_t serial)
{
	for (int i = 0; i < NP; i++)
		if (f->p[i] != NULL && choker_peer_serial(f->p[i]) == serial)
			return i;
	fail_msg("no peer has serial %llu", (unsigned long long)serial);
	return -1;
}

/* The rounds kept for the web view say who holds each slot and why: the fastest senders "rate"
 * with their rate, the optimistic one "optimistic", holders kept while a freed slot is
 * refilled "kept", a seed's holders "seed"; newest first, at most CHOKER_ROUNDS, and a tick
 * that decides nothing adds no round. */
static void test_rounds_say_who_and_why(void **state)
{
	(void)state;
	struct choker_round r[CHOKER_ROUNDS + 2];
	struct fx f;
	fx_init(&f, 7, 4, 0);
	assert_int_equal(choker_rounds(f.c, r, CHOKER_ROUNDS), 0);
	for (int i = 0; i < 8; i++)
		fx_add(&f, i, 0, true);
	fx_tick(&f, 0);
	feed(&f, 0, 10 * S, rate_rising);
	assert_int_equal(fx_tick(&f, 9 * S), 0);
	assert_int_equal(choker_rounds(f.c, r, CHOKER_ROUNDS), 1); /* nothing due at 9 s */
	fx_tick(&f, 10 * S);
	assert_int_equal(choker_rounds(f.c, r, CHOKER_ROUNDS), 2);
	assert_int_equal(r[0].at_us, 10 * S);
	assert_true(r[0].regular_due && !r[0].optimistic_due);
	assert_true(r[1].regular_due && r[1].optimistic_due && r[1].at_us == 0);
	assert_int_equal(r[0].npeers, 5);
	int opt = optimistic_index(&f), nrate = 0;
	for (uint32_t k = 0; k < r[0].npeers; k++) {
		int i = by_serial(&f, r[0].peers[k].serial);
		assert_true(f.unchoked[i]);
		if (i == opt) {
			assert_int_equal(r[0].peers[k].why, CHOKER_WHY_OPTIMISTIC);
			continue;
		}
		assert_int_equal(r[0].peers[k].why, CHOKER_WHY_RATE);
		assert_int_equal(r[0].peers[k].rate, choker_peer_rate(f.c, f.p[i], 10 * S));
		assert_true(r[0].peers[k].rate > 0);
		nrate++;
	}
	assert_int_equal(nrate, 4);
	assert_string_equal(choker_why_str(CHOKER_WHY_RATE), "rate");
	/* A holder leaves: its slot is refilled at once; the others keep theirs ("kept"). */
	int gone = r[0].peers[0].serial == choker_peer_serial(f.p[opt]) ? 1 : 0;
	int left = by_serial(&f, r[0].peers[gone].serial);
	choker_peer_remove(f.c, f.p[left]);
	f.p[left] = NULL;
	fx_tick(&f, 11 * S);
	assert_int_equal(choker_rounds(f.c, r, CHOKER_ROUNDS), 3);
	unsigned kept = 0;
	for (uint32_t k = 0; k < r[0].npeers; k++)
		kept += r[0].peers[k].why == CHOKER_WHY_KEPT;
	assert_int_equal(kept, 3);
	assert_true(r[0].changes >= 1);
	/* As a seed, the regular slots are "seed"; and only the last CHOKER_ROUNDS stay. */
	choker_set_seed(f.c, true, 12 * S);
	for (uint64_t t = 20; t < 20 + 10 * (CHOKER_ROUNDS + 2); t += 10)
		fx_tick(&f, t * S);
	assert_int_equal(choker_rounds(f.c, r, CHOKER_ROUNDS + 2), CHOKER_ROUNDS);
	for (size_t k = 1; k < CHOKER_ROUNDS; k++)
		assert_true(r[k - 1].at_us > r[k].at_us);
	for (uint32_t k = 0; k < r[0].npeers; k++)
		assert_true(r[0].peers[k].why == CHOKER_WHY_SEED ||
			    r[0].peers[k].why == CHOKER_WHY_OPTIMISTIC);
	choker_free(f.c);
}

static int count_unchoked(const struct fx *f, int n)
{
	int k = 0;
	for (int i = 0; i < n; i++)
		k += f->unchoked[i];
	return k;
}

/* An idle uplink lends slots: one choked, interested peer per choker_lend(), at most `slots`
 * at once, never an uninterested one; a lent peer that loses interest is choked, and the next
 * regular recompute takes every lent slot back. */
static void test_idle_uplink_lends_slots(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 41, 2, 0);
	for (int i = 0; i < 8; i++)
		fx_add(&f, i, 0, i != 7);
	fx_tick(&f, 0);
	assert_int_equal(count_unchoked(&f, 8), 3); /* two regular, one optimistic */
	assert_true(choker_lend(f.c, 1 * S));
	assert_int_equal(fx_tick(&f, 1 * S), 1);
	assert_int_equal(count_unchoked(&f, 8), 4);
	struct choker_round r[1];
	assert_int_equal(choker_rounds(f.c, r, 1), 1);
	unsigned lent = 0;
	for (uint32_t k = 0; k < r[0].npeers; k++)
		lent += r[0].peers[k].why == CHOKER_WHY_LENT;
	assert_int_equal(lent, 1);
	assert_true(choker_lend(f.c, 1 * S));
	assert_false(choker_lend(f.c, 1 * S)); /* two lent: as many as the slots */
	fx_tick(&f, 1 * S);
	assert_int_equal(count_unchoked(&f, 8), 5);
	assert_false(f.unchoked[7]);
	/* The regular recompute at 10 s keeps two regular slots and the optimistic one only. */
	fx_tick(&f, 10 * S);
	assert_int_equal(count_unchoked(&f, 8), 3);
	assert_true(choker_lend(f.c, 11 * S));
	fx_tick(&f, 11 * S);
	assert_int_equal(count_unchoked(&f, 8), 4);
	/* Serials follow the order of adding, so a round names the lent peer by index. */
	assert_int_equal(choker_rounds(f.c, r, 1), 1);
	int lent_one = -1;
	for (uint32_t k = 0; k < r[0].npeers; k++)
		if (r[0].peers[k].why == CHOKER_WHY_LENT)
			lent_one = (int)r[0].peers[k].serial;
	assert_true(lent_one >= 0 && f.unchoked[lent_one]);
	choker_peer_interested(f.c, f.p[lent_one], false, 12 * S);
	fx_tick(&f, 12 * S);
	assert_false(f.unchoked[lent_one]);
	assert_int_equal(count_unchoked(&f, 8), 3); /* a lent slot is not refilled */
	choker_free(f.c);
}

static void test_invariants_over_event_orders(void **state)
{
	(void)state;
	for (uint64_t seed = 0; seed < 200; seed++) {
		struct fx f;
		struct rng t;
		rng_seed(&t, seed + 77);
		unsigned slots = 1 + (unsigned)(seed % 4);
		fx_init(&f, seed, slots, 0);
		bool interested[NP] = { 0 };
		uint64_t now = 0;
		for (int step = 0; step < 400; step++) {
			now += rng_below(&t, 4 * S);
			int i = (int)rng_below(&t, NP);
			unsigned ev = (unsigned)rng_below(&t, 10);
			if (f.p[i] == NULL) {
				interested[i] = rng_below(&t, 2);
				fx_add(&f, i, now, interested[i]);
			} else if (ev < 3) {
				interested[i] = !interested[i];
				choker_peer_interested(f.c, f.p[i], interested[i], now);
			} else if (ev < 6) {
				choker_peer_received(f.c, f.p[i], rng_below(&t, 100000), now);
			} else if (ev == 6) {
				choker_peer_interesting(f.c, f.p[i], rng_below(&t, 2), now);
			} else if (ev == 7 && rng_below(&t, 4) == 0) {
				choker_peer_remove(f.c, f.p[i]);
				f.p[i] = NULL;
			} else if (ev == 8 && rng_below(&t, 8) == 0) {
				choker_set_seed(f.c, rng_below(&t, 2), now);
			}
			if (choker_next_deadline(f.c) > now)
				continue;
			fx_tick(&f, now);
			assert_true(choker_next_deadline(f.c) > now);
			unsigned nint = 0, nun = 0;
			for (int k = 0; k < NP; k++) {
				if (f.p[k] == NULL)
					continue;
				nint += interested[k];
				nun += f.unchoked[k];
				assert_true(!f.unchoked[k] || interested[k]);
			}
			assert_int_equal(nun, nint < slots + 1 ? nint : slots + 1);
			optimistic_index(&f);
		}
		choker_free(f.c);
	}
}

/* A peer that began feeding us late is measured over the time it has fed us, not the whole
 * window: 2,000 B/s from 16 s to 20 s (10,000 bytes in 4 s) outranks 1,000 B/s for the whole
 * window, and takes the one slot at the next recompute (over the whole window it would be
 * 500 B/s and lose). */
static void test_rate_of_a_late_feeder(void **state)
{
	(void)state;
	struct fx f;
	fx_init(&f, 7, 1, 0);
	fx_add(&f, 0, 0, true);
	fx_add(&f, 1, 0, true);
	for (uint64_t t = 1; t <= 20; t++) {
		choker_peer_received(f.c, f.p[0], 1000, t * S);
		if (t > 15)
			choker_peer_received(f.c, f.p[1], 2000, t * S);
	}
	assert_int_equal(choker_peer_rate(f.c, f.p[0], 20 * S), 1000);
	assert_int_equal(choker_peer_rate(f.c, f.p[1], 20 * S), 2500);
	/* Less than a bucket of history counts as a bucket: one block is no rate of its own. */
	fx_add(&f, 2, 0, true);
	choker_peer_received(f.c, f.p[2], 1000, 20 * S);
	assert_int_equal(choker_peer_rate(f.c, f.p[2], 20 * S + 1000), 500);
	fx_tick(&f, 20 * S);
	assert_true(regular(&f, 1));
	/* After a window of silence the next run is measured from its own start. */
	choker_peer_received(f.c, f.p[0], 4000, 60 * S);
	assert_int_equal(choker_peer_rate(f.c, f.p[0], 62 * S), 2000);
	choker_free(f.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_config_and_rate_window),
		cmocka_unit_test(test_rate_of_a_late_feeder),
		cmocka_unit_test(test_regular_slots_at_10s_boundaries),
		cmocka_unit_test(test_optimistic_rotates_every_30s),
		cmocka_unit_test(test_young_optimistic_moves_after_a_chunk),
		cmocka_unit_test(test_new_peers_three_times_as_likely),
		cmocka_unit_test(test_snubbed_peer_replaced),
		cmocka_unit_test(test_idle_slot_prefers_past_senders),
		cmocka_unit_test(test_seed_round_robin_equal_service),
		cmocka_unit_test(test_freed_slot_refilled_at_once),
		cmocka_unit_test(test_idle_uplink_lends_slots),
		cmocka_unit_test(test_invariants_over_event_orders),
		cmocka_unit_test(test_rounds_say_who_and_why),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
