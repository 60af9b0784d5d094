/* Fused optimiser steps on the GPU, one thread per parameter: the
 * single-tensor loops of torch.optim.Adam / AdamW / SGD (PyTorch 1.13 docs,
 * "Algorithm" boxes; Kingma & Ba 2015; Loshchilov & Hutter 2019), as in
 * kernels/cpu/optim.c. The products and sums use the _rn intrinsics so nvcc
 * does not fuse them into FMAs: the C build does not contract either, and
 * the two backends then take bit-identical steps from identical gradients. */
#include <math.h>

#include "kernels/cuda/cuda.h"

static __global__ void adam_kernel(float *param, const float *grad, float *m, float *v, size_t n,
                                   float beta1, float beta2, float eps, float l2, float decay,
                                   float step_size, float bc2_sqrt)
{
    SIAM_CUDA_FOR(i, n) {
        float p = __fmul_rn(param[i], decay);
        float g = __fadd_rn(grad[i], __fmul_rn(l2, param[i]));
        float mi = __fadd_rn(__fmul_rn(beta1, m[i]), __fmul_rn(1.0f - beta1, g));
        float vi = __fadd_rn(__fmul_rn(beta2, v[i]), __fmul_rn(__fmul_rn(1.0f - beta2, g), g));
        m[i] = mi;
        v[i] = vi;
        /* addcdiv order, as torch and the CPU: p + (-step_size) * (m / denom). */
        float denom = __fadd_rn(__fdiv_rn(__fsqrt_rn(vi), bc2_sqrt), eps);
        param[i] = __fsub_rn(p, __fmul_rn(step_size, __fdiv_rn(mi, denom)));
    }
}

static __global__ void sgd_kernel(float *param, const float *grad, float *buf, size_t n, float lr,
                                  float momentum, float weight_decay, int nesterov, int first_step)
{
    SIAM_CUDA_FOR(i, n) {
        float g = __fadd_rn(grad[i], __fmul_rn(weight_decay, param[i]));
        if (momentum != 0.0f) {
            float b = first_step ? g : __fadd_rn(__fmul_rn(momentum, buf[i]), g);
            buf[i] = b;
            g = nesterov ? __fadd_rn(g, __fmul_rn(momentum, b)) : b;
        }
        param[i] = __fsub_rn(param[i], __fmul_rn(lr, g));
    }
}

int siam_cuda_adam_step(siam_ctx *ctx, float *param, const float *grad, float *m, float *v,
                        size_t n, float lr, float beta1, float beta2, float eps,
                        float weight_decay, int decoupled, long step)
{
    if (siam_check_adam(&ctx->err, step, beta1, beta2))
        return -1;
    if (n == 0)
        return 0;
    if (!param || !grad || !m || !v)
        return siam_cuda_fail(ctx, "adam_step: NULL buffer");
    /* Bias corrections in double on the host, as torch.optim computes them
     * in Python floats, then rounded once to float. */
    double bc1 = 1.0 - pow(beta1, (double)step);
    double bc2 = 1.0 - pow(beta2, (double)step);
    float step_size = (float)(lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float decay = decoupled ? 1.0f - lr * weight_decay : 1.0f;
    float l2 = decoupled ? 0.0f : weight_decay;
    adam_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        param, grad, m, v, n, beta1, beta2, eps, l2, decay, step_size, bc2_sqrt);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_sgd_step(siam_ctx *ctx, float *param, const float *grad, float *buf, size_t n,
                       float lr, float momentum, float weight_decay, int nesterov,
                       int first_step)
{
    if (siam_check_sgd(&ctx->err, momentum, nesterov))
        return -1;
    if (n == 0)
        return 0;
    if (!param || !grad || (momentum != 0.0f && !buf))
        return siam_cuda_fail(ctx, "sgd_step: NULL buffer");
    sgd_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        param, grad, buf, n, lr, momentum, weight_decay, nesterov, first_step);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
