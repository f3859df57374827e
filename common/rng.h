/* rng.h: the project's own PRNG (xoshiro256**, seeded through splitmix64),
 * so that generation is byte-identical on every machine and libc. */
#ifndef LCX_RNG_H
#define LCX_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct lcx_rng {
    uint64_t s[4];
} lcx_rng;

/* Seed from one 64-bit value. */
void lcx_rng_seed(lcx_rng *r, uint64_t seed);

/* Derive a seed from a base seed and a label, e.g. ("niah_single_1", 4096, 7). */
uint64_t lcx_seed_mix(uint64_t base, const char *label, uint64_t a, uint64_t b);

uint64_t lcx_rng_next(lcx_rng *r);

/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t lcx_rng_below(lcx_rng *r, uint64_t n);

/* Uniform integer in [lo, hi], inclusive. */
int64_t lcx_rng_range(lcx_rng *r, int64_t lo, int64_t hi);

/* Uniform double in [0, 1) with 53 random bits. */
double lcx_rng_double(lcx_rng *r);

/* Fisher-Yates shuffle of n elements of the given size. */
void lcx_rng_shuffle(lcx_rng *r, void *base, size_t n, size_t size);

/* Fill out[0..k) with k distinct integers drawn from [0, n) in random order
 * (k <= n). Uses O(k) extra memory via a partial Fisher-Yates on a virtual
 * array. Returns 0, or -1 when memory runs out. */
int lcx_rng_sample(lcx_rng *r, size_t n, size_t k, size_t *out);

#endif
