/* CUDA device memory: allocation (zero-filled, as the interface promises),
 * transfers ordered on the context's stream, fill and synchronisation.
 * Uploads and downloads wait for their copy, so the host buffer may be
 * reused or read as soon as they return; they do not report the faults
 * kernels record (synchronize and the other readbacks do). */
#include "kernels/cuda/cuda.h"

void *siam_cuda_mem_alloc(siam_ctx *ctx, size_t bytes)
{
    void *p = NULL;
    /* A zero-byte request still gets a distinct, freeable pointer. */
    size_t n = bytes ? bytes : 1;
    if (siam_cuda_check_rt(&ctx->err, cudaMalloc(&p, n), __FILE__, __LINE__, "cudaMalloc")) {
        siam_fail_wrap(&ctx->err, "cuda mem_alloc: cannot allocate %zu bytes", bytes);
        return NULL;
    }
    /* On the context's stream, so that every later operator sees zeros. */
    if (siam_cuda_check_rt(&ctx->err, cudaMemsetAsync(p, 0, n, ctx->stream), __FILE__,
                           __LINE__, "cudaMemsetAsync")) {
        cudaFree(p);
        return NULL;
    }
    return p;
}

void siam_cuda_mem_free(siam_ctx *ctx, void *p)
{
    if (p == NULL)
        return;
    /* Queued kernels may still use p. mem_free has no status to return; a
     * failure is left in ctx for the next caller that looks. */
    siam_cuda_check_rt(&ctx->err, cudaStreamSynchronize(ctx->stream), __FILE__, __LINE__,
                       "cudaStreamSynchronize");
    siam_cuda_check_rt(&ctx->err, cudaFree(p), __FILE__, __LINE__, "cudaFree");
}

int siam_cuda_upload(siam_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes == 0)
        return 0;
    if (!dst || !src)
        return siam_cuda_fail(ctx, "cuda upload: NULL pointer for %zu bytes", bytes);
    SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, ctx->stream));
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    return 0;
}

int siam_cuda_download(siam_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes == 0)
        return 0;
    if (!dst || !src)
        return siam_cuda_fail(ctx, "cuda download: NULL pointer for %zu bytes", bytes);
    SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, ctx->stream));
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    return 0;
}

int siam_cuda_copy(siam_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    if (bytes == 0)
        return 0;
    if (!dst || !src)
        return siam_cuda_fail(ctx, "cuda copy: NULL pointer for %zu bytes", bytes);
    SIAM_CUDA_CHECK(ctx,
                    cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, ctx->stream));
    return 0;
}

static __global__ void fill_kernel(float *x, float value, size_t n)
{
    SIAM_CUDA_FOR(i, n)
        x[i] = value;
}

int siam_cuda_fill(siam_ctx *ctx, float *x, float value, size_t n)
{
    if (n == 0)
        return 0;
    if (!x)
        return siam_cuda_fail(ctx, "cuda fill: NULL pointer for %zu values", n);
    fill_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(x, value, n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

/* Also the point where a fault a kernel recorded (a negative batch index)
 * is reported, as every readback does. */
int siam_cuda_synchronize(siam_ctx *ctx)
{
    if (siam_cuda_readback(ctx, sizeof(unsigned long long)))
        return -1;
    SIAM_CUDA_CHECK(ctx, cudaGetLastError());
    return 0;
}
