/* Sequential draws over the counter-based Philox stream (kernels/philox.h):
 * the generator state is only the (seed, stream, offset) triple. */
#include "kernels/rng.h"

#include <math.h>

#include "kernels/philox.h"

void siam_rng_init(siam_rng *r, uint64_t seed, uint64_t stream)
{
    r->seed = seed;
    r->stream = stream;
    r->offset = 0;
}

uint32_t siam_rng_u32(siam_rng *r)
{
    return siam_philox_u32(r->seed, r->stream, r->offset++);
}

float siam_rng_uniform(siam_rng *r)
{
    return siam_u32_to_unit(siam_rng_u32(r));
}

uint32_t siam_rng_below(siam_rng *r, uint32_t n)
{
    /* Rejection sampling: 2^32 mod n words at the bottom of the range would
     * make small results more likely, so they are drawn again. The threshold
     * (2^32 - n) mod n equals 2^32 mod n in 32-bit unsigned arithmetic. */
    uint32_t threshold = (uint32_t)(-n) % n;
    for (;;) {
        uint32_t x = siam_rng_u32(r);
        if (x >= threshold)
            return x % n;
    }
}

double siam_rng_normal(siam_rng *r)
{
    /* Box-Muller (1958). u1 lies in (0, 1] so that log(u1) is finite. */
    double u1 = ((double)siam_rng_u32(r) + 1.0) / 4294967296.0;
    double u2 = (double)siam_rng_u32(r) / 4294967296.0;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

void siam_rng_shuffle_i32(siam_rng *r, int32_t *v, size_t n)
{
    /* Fisher-Yates / Durstenfeld, from the back: each of the n! orders is
     * equally likely when siam_rng_below is unbiased. */
    for (size_t i = n; i > 1; i--) {
        size_t j = siam_rng_below(r, (uint32_t)i);
        int32_t t = v[i - 1];
        v[i - 1] = v[j];
        v[j] = t;
    }
}
