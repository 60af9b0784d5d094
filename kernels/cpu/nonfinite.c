/* Counting non-finite values (NaN, +-Inf) over float buffers: the training
 * loop's check of every step's gradients and parameters (docs/training.md,
 * "Non-finite values"). kernels/cuda/nonfinite.cu is the twin. */
#include <math.h>
#ifdef __AVX__
#include <immintrin.h>
#endif

#include "kernels/cpu/cpu.h"

/* Non-finite values in x[lo, hi). Almost every block is clean, so the AVX
 * lanes only OR together "not |x| < inf" (true for Inf and, being
 * unordered, for NaN) and the block is counted one value at a time only
 * when that OR is set: the common case is one load, and, compare and or
 * per 8 values, at memory speed. */
static size_t count_range(const float *x, size_t lo, size_t hi)
{
    size_t i = lo;
#ifdef __AVX__
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    const __m256 inf = _mm256_set1_ps(INFINITY);
    __m256 any = _mm256_setzero_ps();
    for (; i + 8 <= hi; i += 8) {
        __m256 a = _mm256_and_ps(_mm256_loadu_ps(x + i), absmask);
        any = _mm256_or_ps(any, _mm256_cmp_ps(a, inf, _CMP_NLT_UQ));
    }
    if (_mm256_movemask_ps(any) == 0) {
        size_t c = 0;
        for (; i < hi; i++)
            c += !isfinite(x[i]);
        return c;
    }
    i = lo;
#endif
    size_t c = 0;
    for (; i < hi; i++)
        c += !isfinite(x[i]);
    return c;
}

static size_t count_buffer(const float *x, size_t n)
{
    /* Blocks of 64 Ki values: whole AVX vectors, and few enough for the
     * threads to share a 40-million-value gradient evenly. */
    const size_t block = (size_t)1 << 16;
    size_t nblocks = (n + block - 1) / block, c = 0;
#pragma omp parallel for schedule(static) reduction(+ : c) if (nblocks > 1)
    for (size_t b = 0; b < nblocks; b++) {
        size_t lo = b * block, hi = lo + block < n ? lo + block : n;
        c += count_range(x, lo, hi);
    }
    return c;
}

int siam_cpu_nonfinite_count(siam_ctx *ctx, size_t *counts_host, const float *const *bufs,
                             const size_t *lens, int k)
{
    if (k < 1 || k > SIAM_NONFINITE_MAX)
        return siam_cpu_fail(ctx, "nonfinite_count: %d buffers, expected 1..%d", k,
                             SIAM_NONFINITE_MAX);
    if (!counts_host || !bufs || !lens)
        return siam_cpu_fail(ctx, "nonfinite_count: NULL argument");
    for (int j = 0; j < k; j++)
        if (lens[j] && !bufs[j])
            return siam_cpu_fail(ctx, "nonfinite_count: buffer %d is NULL (%zu values)", j,
                                 lens[j]);
    for (int j = 0; j < k; j++)
        counts_host[j] = lens[j] ? count_buffer(bufs[j], lens[j]) : 0;
    return 0;
}
