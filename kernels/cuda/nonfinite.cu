/* Counting non-finite values (NaN, +-Inf) over float buffers on the GPU;
 * kernels/cpu/nonfinite.c is the twin. Every buffer of a call counts into
 * its own slot of the scalars' header (cuda.h), and the slots come back in
 * one copy: one round trip per call. step_report queues the same counts
 * with a step's other results. */
#include <stddef.h>

#include "kernels/cuda/cuda.h"

/* Grid-stride count, reduced per warp; a warp adds to the counter only when
 * it saw a non-finite value, so a clean buffer costs no atomics. Every
 * thread of a block reaches the shuffle (the loop has no early exit) and
 * blocks are whole warps. */
static __global__ void nonfinite_kernel(unsigned long long *count, const float *x, size_t n)
{
    unsigned long long c = 0;
    SIAM_CUDA_FOR(i, n)
        c += !isfinite(x[i]);
    for (int off = 16; off > 0; off /= 2)
        c += __shfl_down_sync(0xffffffffu, c, off);
    if ((threadIdx.x & 31u) == 0 && c != 0)
        atomicAdd(count, c);
}

int siam_cuda_check_buffers(siam_ctx *ctx, const char *fn, const float *const *bufs,
                            const size_t *lens, int k, int kmin)
{
    if (k < kmin || k > SIAM_NONFINITE_MAX)
        return siam_cuda_fail(ctx, "%s: %d buffers, expected %d..%d", fn, k, kmin,
                              SIAM_NONFINITE_MAX);
    if (k > 0 && (!bufs || !lens))
        return siam_cuda_fail(ctx, "%s: NULL argument", fn);
    for (int j = 0; j < k; j++)
        if (lens[j] && !bufs[j])
            return siam_cuda_fail(ctx, "%s: buffer %d is NULL (%zu values)", fn, j, lens[j]);
    return 0;
}

int siam_cuda_nonfinite_queue(siam_ctx *ctx, const float *const *bufs, const size_t *lens, int k)
{
    siam_cuda_scalars *d = (siam_cuda_scalars *)ctx->dev_scalars;
    SIAM_CUDA_CHECK(ctx, cudaMemsetAsync(d->counts, 0, sizeof d->counts, ctx->stream));
    for (int j = 0; j < k; j++) {
        if (lens[j] == 0)
            continue;
        nonfinite_kernel<<<siam_cuda_blocks(lens[j]), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
            d->counts + j, bufs[j], lens[j]);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
    }
    return 0;
}

int siam_cuda_nonfinite_count(siam_ctx *ctx, size_t *counts_host, const float *const *bufs,
                              const size_t *lens, int k)
{
    if (!counts_host)
        return siam_cuda_fail(ctx, "nonfinite_count: NULL argument");
    if (siam_cuda_check_buffers(ctx, "nonfinite_count", bufs, lens, k, 1)
        || siam_cuda_nonfinite_queue(ctx, bufs, lens, k)
        || siam_cuda_readback(ctx, sizeof(siam_cuda_scalars)))
        return -1;
    const siam_cuda_scalars *h = (const siam_cuda_scalars *)ctx->host_scalars;
    for (int j = 0; j < k; j++)
        counts_host[j] = (size_t)h->counts[j];
    return 0;
}
