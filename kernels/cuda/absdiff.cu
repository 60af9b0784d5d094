/* The Siamese distance |a - b| and its gradient on the GPU (sign(0) = 0, as
 * the derivative torch.abs uses); kernels/cpu/absdiff.c is the twin. */
#include "kernels/cuda/cuda.h"

static __global__ void absdiff_forward_kernel(float *out, const float *a, const float *b,
                                              size_t n)
{
    SIAM_CUDA_FOR(i, n)
        out[i] = fabsf(a[i] - b[i]);
}

static __global__ void absdiff_backward_kernel(float *da, float *db, const float *dout,
                                               const float *a, const float *b, size_t n)
{
    SIAM_CUDA_FOR(i, n) {
        float d = a[i] - b[i];
        float g = d > 0.0f ? dout[i] : d < 0.0f ? -dout[i] : 0.0f;
        if (da)
            da[i] = g;
        if (db)
            db[i] = -g;
    }
}

int siam_cuda_absdiff_forward(siam_ctx *ctx, float *out, const float *a, const float *b,
                              size_t n)
{
    if (n == 0)
        return 0;
    if (!out || !a || !b)
        return siam_cuda_fail(ctx, "absdiff_forward: NULL buffer");
    absdiff_forward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(out, a, b,
                                                                                      n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_absdiff_backward(siam_ctx *ctx, float *da, float *db, const float *dout,
                               const float *a, const float *b, size_t n)
{
    if (n == 0)
        return 0;
    if (!dout || !a || !b)
        return siam_cuda_fail(ctx, "absdiff_backward: NULL buffer");
    /* da or db may be NULL when that side needs no gradient. */
    absdiff_backward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        da, db, dout, a, b, n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
