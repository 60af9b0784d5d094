/* Elementwise activations on the GPU: ReLU and the logistic sigmoid, the
 * same formulas as kernels/cpu/activation.c. Backward passes read the
 * forward output, so in-place use (out == in, din == dout) is fine. */
#include "kernels/cuda/cuda.h"

static __global__ void relu_forward_kernel(float *out, const float *in, size_t n)
{
    SIAM_CUDA_FOR(i, n)
        out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

static __global__ void relu_backward_kernel(float *din, const float *dout, const float *out,
                                            size_t n)
{
    SIAM_CUDA_FOR(i, n)
        din[i] = out[i] > 0.0f ? dout[i] : 0.0f;
}

static __global__ void sigmoid_forward_kernel(float *out, const float *in, size_t n)
{
    SIAM_CUDA_FOR(i, n) {
        /* exp of a non-positive argument only: no overflow for large |x|. */
        float x = in[i];
        if (x >= 0.0f) {
            out[i] = 1.0f / (1.0f + expf(-x));
        } else {
            float e = expf(x);
            out[i] = e / (1.0f + e);
        }
    }
}

static __global__ void sigmoid_backward_kernel(float *din, const float *dout, const float *out,
                                               size_t n)
{
    SIAM_CUDA_FOR(i, n)
        din[i] = dout[i] * out[i] * (1.0f - out[i]);
}

int siam_cuda_relu_forward(siam_ctx *ctx, float *out, const float *in, size_t n)
{
    if (n == 0)
        return 0;
    if (!out || !in)
        return siam_cuda_fail(ctx, "relu_forward: NULL buffer");
    relu_forward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(out, in, n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_relu_backward(siam_ctx *ctx, float *din, const float *dout, const float *out,
                            size_t n)
{
    if (n == 0)
        return 0;
    if (!din || !dout || !out)
        return siam_cuda_fail(ctx, "relu_backward: NULL buffer");
    relu_backward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(din, dout,
                                                                                    out, n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_sigmoid_forward(siam_ctx *ctx, float *out, const float *in, size_t n)
{
    if (n == 0)
        return 0;
    if (!out || !in)
        return siam_cuda_fail(ctx, "sigmoid_forward: NULL buffer");
    sigmoid_forward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(out, in,
                                                                                      n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_sigmoid_backward(siam_ctx *ctx, float *din, const float *dout, const float *out,
                               size_t n)
{
    if (n == 0)
        return 0;
    if (!din || !dout || !out)
        return siam_cuda_fail(ctx, "sigmoid_backward: NULL buffer");
    sigmoid_backward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        din, dout, out, n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
