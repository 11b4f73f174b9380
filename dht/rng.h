/* dht/rng.h: a small seeded PRNG (xoshiro256**) for simulators and tests, where the same seed
 * must give the same run bit for bit. Not for keys or anything secret: real nodes take their
 * randomness from libsodium through their environment. The state is a plain value. */
#ifndef DHT_RNG_H
#define DHT_RNG_H

#include <stddef.h>
#include <stdint.h>

struct rng {
	uint64_t s[4];
};

void rng_seed(struct rng *r, uint64_t seed);
uint64_t rng_next(struct rng *r);
/* A uniform integer in [0, n); n must be > 0. */
uint64_t rng_below(struct rng *r, uint64_t n);
/* A uniform double in [0, 1). */
double rng_unit(struct rng *r);
/* An exponentially distributed value with the given mean. */
double rng_exp(struct rng *r, double mean);
void rng_bytes(struct rng *r, void *out, size_t n);

#endif
