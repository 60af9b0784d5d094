/* Philox-4x32-10 counter-based random numbers (Salmon et al., "Parallel
 * random numbers: as easy as 1, 2, 3", SC 2011). Header-only and usable from
 * CUDA device code, so that the CPU and GPU produce the same stream: value i
 * of stream s under seed k depends on (k, s, i) alone, never on call order or
 * thread count. */
#ifndef SIAM_PHILOX_H
#define SIAM_PHILOX_H

#include <stdint.h>

#ifdef __CUDACC__
#define SIAM_HD __host__ __device__ __forceinline__
#else
#define SIAM_HD static inline
#endif

typedef struct siam_u32x4 {
    uint32_t v[4];
} siam_u32x4;

SIAM_HD uint32_t siam_mulhilo32(uint32_t a, uint32_t b, uint32_t *hi)
{
    uint64_t p = (uint64_t)a * (uint64_t)b;
    *hi = (uint32_t)(p >> 32);
    return (uint32_t)p;
}

/* One block: 4 words of counter, 2 words of key, 10 rounds (the Random123
 * default, the variant with published known-answer vectors). */
SIAM_HD siam_u32x4 siam_philox4x32_10(siam_u32x4 ctr, uint32_t k0, uint32_t k1)
{
    for (int r = 0; r < 10; r++) {
        uint32_t hi0, hi1;
        uint32_t lo0 = siam_mulhilo32(0xD2511F53u, ctr.v[0], &hi0);
        uint32_t lo1 = siam_mulhilo32(0xCD9E8D57u, ctr.v[2], &hi1);
        siam_u32x4 n;
        n.v[0] = hi1 ^ ctr.v[1] ^ k0;
        n.v[1] = lo1;
        n.v[2] = hi0 ^ ctr.v[3] ^ k1;
        n.v[3] = lo0;
        ctr = n;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return ctr;
}

/* Word `index` of stream `stream` under `seed`: the counter is
 * (index/4 as 64 bits, stream as 64 bits), the key is the 64-bit seed. */
SIAM_HD uint32_t siam_philox_u32(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t block = index >> 2;
    siam_u32x4 c;
    c.v[0] = (uint32_t)block;
    c.v[1] = (uint32_t)(block >> 32);
    c.v[2] = (uint32_t)stream;
    c.v[3] = (uint32_t)(stream >> 32);
    siam_u32x4 r = siam_philox4x32_10(c, (uint32_t)seed, (uint32_t)(seed >> 32));
    return r.v[index & 3];
}

/* Uniform float in [0, 1) from the top 24 bits: exactly representable, so
 * CPU and GPU agree bit for bit. */
SIAM_HD float siam_u32_to_unit(uint32_t x)
{
    return (float)(x >> 8) * (1.0f / 16777216.0f);
}

SIAM_HD float siam_philox_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    return siam_u32_to_unit(siam_philox_u32(seed, stream, index));
}

/* Streams reserved for each use of randomness, so that for example adding
 * augmentation does not shift the dropout masks of a seeded run. */
enum {
    SIAM_STREAM_INIT = 1,
    SIAM_STREAM_DROPOUT = 2,
    SIAM_STREAM_SHUFFLE = 3,
    SIAM_STREAM_AUGMENT = 4,
    SIAM_STREAM_SPLIT = 5,
    SIAM_STREAM_SYNTH = 6,
    SIAM_STREAM_PAIRS = 7,
    SIAM_STREAM_IDENTITY = 8,
    SIAM_STREAM_HEAD = 9 /* an identity head's class weights (host/identity_head.h) */
};

#endif
