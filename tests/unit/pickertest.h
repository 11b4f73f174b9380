/* tests/unit/pickertest.h: helpers shared by the piece picker's tests: a picker on a seeded
 * PRNG, peers that have everything or nothing, and request bookkeeping. Header-only (static
 * inline); include <cmocka.h> (and what it needs) first. */
#ifndef TESTS_PICKERTEST_H
#define TESTS_PICKERTEST_H

#include "dht/rng.h"
#include "transfer/picker.h"

#define BS PICKER_BLOCK
#define CH4 (4 * BS) /* a 4-block chunk keeps the cases small */

static inline uint64_t rnd64(void *arg)
{
	return rng_next(arg);
}

static inline struct picker *mk(struct rng *r, uint64_t seed, uint64_t total, uint32_t chunk,
				unsigned random_first)
{
	struct picker_config cfg;
	picker_config_default(&cfg);
	cfg.total_bytes = total;
	cfg.chunk_size = chunk;
	cfg.random_first = random_first;
	cfg.rand64 = rnd64;
	cfg.rand_arg = r;
	rng_seed(r, seed);
	struct picker *pk = picker_new(&cfg);
	assert_non_null(pk);
	return pk;
}

/* A peer that has everything, unchokes us and accepts a pipeline as deep as we like. */
static inline struct picker_peer *seeder(struct picker *pk, uint64_t id)
{
	struct picker_peer *pp = picker_peer_add(pk, id, (void *)(uintptr_t)id);
	assert_non_null(pp);
	picker_peer_have_all(pk, pp);
	picker_peer_choked(pk, pp, false);
	picker_peer_measure(pk, pp, 1000000000, 1000000);
	return pp;
}

static inline struct picker_peer *leecher(struct picker *pk, uint64_t id)
{
	struct picker_peer *pp = picker_peer_add(pk, id, (void *)(uintptr_t)id);
	assert_non_null(pp);
	picker_peer_choked(pk, pp, false);
	picker_peer_measure(pk, pp, 1000000000, 1000000);
	return pp;
}

static inline enum picker_block recv_req(struct picker *pk, const struct picker_req *q,
					 uint64_t now, struct picker_req *cancel, size_t *ncancel)
{
	return picker_block_received(pk, q->peer, q->chunk, q->offset, q->length, now, cancel,
				     ncancel);
}

static inline bool same_req(const struct picker_req *a, const struct picker_req *b)
{
	return a->peer == b->peer && a->chunk == b->chunk && a->offset == b->offset &&
	       a->length == b->length && a->user == b->user;
}


#endif
