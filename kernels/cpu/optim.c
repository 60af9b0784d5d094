/* Optimiser steps over one flat parameter buffer, following the
 * single-tensor loops of torch.optim.Adam / AdamW / SGD (PyTorch 1.13
 * docs, "Algorithm" boxes): Kingma & Ba 2015 with bias correction;
 * Loshchilov & Hutter 2019 for the decoupled weight decay. */
#include <math.h>

#include "kernels/cpu/cpu.h"

int siam_cpu_adam_step(siam_ctx *ctx, float *param, const float *grad, float *m, float *v,
                       size_t n, float lr, float beta1, float beta2, float eps, float weight_decay,
                       int decoupled, long step)
{
    if (step < 1)
        return siam_cpu_fail(ctx, "adam_step: step counts from 1, got %ld", step);
    if (!(beta1 >= 0.0f && beta1 < 1.0f && beta2 >= 0.0f && beta2 < 1.0f))
        return siam_cpu_fail(ctx, "adam_step: betas must be in [0, 1), got %g, %g",
                             (double)beta1, (double)beta2);
    if (n && (!param || !grad || !m || !v))
        return siam_cpu_fail(ctx, "adam_step: NULL buffer");
    double bc1 = 1.0 - pow(beta1, (double)step);
    double bc2 = 1.0 - pow(beta2, (double)step);
    float step_size = (float)(lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float decay = decoupled ? 1.0f - lr * weight_decay : 1.0f;
    float l2 = decoupled ? 0.0f : weight_decay;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float p = param[i] * decay;
        float g = grad[i] + l2 * param[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        /* addcdiv order, as torch: p + (-step_size) * (m / denom). */
        param[i] = p - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
    }
    return 0;
}

int siam_cpu_sgd_step(siam_ctx *ctx, float *param, const float *grad, float *buf, size_t n,
                      float lr, float momentum, float weight_decay, int nesterov, int first_step)
{
    if (nesterov && momentum <= 0.0f)
        return siam_cpu_fail(ctx, "sgd_step: nesterov needs momentum > 0, got %g",
                             (double)momentum);
    if (n && (!param || !grad || (momentum != 0.0f && !buf)))
        return siam_cpu_fail(ctx, "sgd_step: NULL buffer");
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float g = grad[i] + weight_decay * param[i];
        if (momentum != 0.0f) {
            float b = first_step ? g : momentum * buf[i] + g;
            buf[i] = b;
            g = nesterov ? g + momentum * b : b;
        }
        param[i] -= lr * g;
    }
    return 0;
}
