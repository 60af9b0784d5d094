/* Sequential random generator over Philox: a (seed, stream, offset) triple
 * that advances by one 32-bit word per draw. The whole state is three
 * integers, so it is saved in checkpoints and restored bit-exactly. */
#ifndef SIAM_RNG_H
#define SIAM_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct siam_rng {
    uint64_t seed;
    uint64_t stream;
    uint64_t offset; /* index of the next 32-bit word */
} siam_rng;

void siam_rng_init(siam_rng *r, uint64_t seed, uint64_t stream);
uint32_t siam_rng_u32(siam_rng *r);
/* Uniform in [0, 1), 24-bit resolution. */
float siam_rng_uniform(siam_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t siam_rng_below(siam_rng *r, uint32_t n);
/* Standard normal (Box-Muller in double, two words per draw). */
double siam_rng_normal(siam_rng *r);
/* Fisher-Yates shuffle of n int32 values. */
void siam_rng_shuffle_i32(siam_rng *r, int32_t *v, size_t n);

#endif
