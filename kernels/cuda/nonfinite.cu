/* Counting non-finite values (NaN, +-Inf) over float buffers on the GPU;
 * kernels/cpu/nonfinite.c is the twin. Every buffer of a call counts into
 * its own slot of ctx->dev_scalars, and the slots come back in one copy:
 * one round trip per call, which is what the training loop pays per step. */
#include "kernels/cuda/cuda.h"

static_assert(SIAM_NONFINITE_MAX * sizeof(unsigned long long) <= SIAM_CUDA_SCALAR_BYTES,
              "the counters of one call must fit in ctx->dev_scalars");

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

int siam_cuda_nonfinite_count(siam_ctx *ctx, size_t *counts_host, const float *const *bufs,
                              const size_t *lens, int k)
{
    if (k < 1 || k > SIAM_NONFINITE_MAX)
        return siam_cuda_fail(ctx, "nonfinite_count: %d buffers, expected 1..%d", k,
                              SIAM_NONFINITE_MAX);
    if (!counts_host || !bufs || !lens)
        return siam_cuda_fail(ctx, "nonfinite_count: NULL argument");
    for (int j = 0; j < k; j++)
        if (lens[j] && !bufs[j])
            return siam_cuda_fail(ctx, "nonfinite_count: buffer %d is NULL (%zu values)", j,
                                  lens[j]);
    unsigned long long *dcount = (unsigned long long *)ctx->dev_scalars;
    unsigned long long *hcount = (unsigned long long *)ctx->host_scalars;
    size_t bytes = (size_t)k * sizeof *dcount;
    SIAM_CUDA_CHECK(ctx, cudaMemsetAsync(dcount, 0, bytes, ctx->stream));
    for (int j = 0; j < k; j++) {
        if (lens[j] == 0)
            continue;
        nonfinite_kernel<<<siam_cuda_blocks(lens[j]), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
            dcount + j, bufs[j], lens[j]);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
    }
    SIAM_CUDA_CHECK(ctx,
                    cudaMemcpyAsync(hcount, dcount, bytes, cudaMemcpyDeviceToHost, ctx->stream));
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    for (int j = 0; j < k; j++)
        counts_host[j] = (size_t)hcount[j];
    return 0;
}
