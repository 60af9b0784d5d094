/* Inverted dropout on the GPU. Element i draws
 * siam_philox_uniform(seed, SIAM_STREAM_DROPOUT, offset + i), the same
 * function kernels/cpu/dropout.c calls, so both backends keep exactly the
 * same elements: the uniform is a 24-bit fraction and the comparison with p
 * is exact on either side. */
#include "kernels/cuda/cuda.h"

static __global__ void dropout_forward_kernel(float *out, float *mask, const float *in, size_t n,
                                              float p, float scale, uint64_t seed,
                                              uint64_t offset)
{
    SIAM_CUDA_FOR(i, n) {
        float m;
        if (p == 0.0f)
            m = 1.0f;
        else
            m = siam_philox_uniform(seed, SIAM_STREAM_DROPOUT, offset + i) >= p ? scale : 0.0f;
        mask[i] = m;
        out[i] = in[i] * m;
    }
}

static __global__ void dropout_backward_kernel(float *din, const float *dout, const float *mask,
                                               size_t n)
{
    SIAM_CUDA_FOR(i, n)
        din[i] = dout[i] * mask[i];
}

int siam_cuda_dropout_forward(siam_ctx *ctx, float *out, float *mask, const float *in, size_t n,
                              float p, uint64_t seed, uint64_t offset)
{
    if (siam_check_dropout(&ctx->err, p))
        return -1;
    if (n == 0)
        return 0;
    if (!out || !mask || !in)
        return siam_cuda_fail(ctx, "dropout_forward: NULL buffer");
    /* p == 1 drops everything (PyTorch returns zeros rather than 0 * inf);
     * the scale is computed on the host, as on the CPU, so it is the same
     * float on both backends. */
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
    dropout_forward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        out, mask, in, n, p, scale, seed, offset);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_dropout_backward(siam_ctx *ctx, float *din, const float *dout, const float *mask,
                               size_t n)
{
    if (n == 0)
        return 0;
    if (!din || !dout || !mask)
        return siam_cuda_fail(ctx, "dropout_backward: NULL buffer");
    dropout_backward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        din, dout, mask, n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
