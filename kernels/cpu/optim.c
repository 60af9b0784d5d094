/* Optimiser steps over one flat parameter buffer, following the
 * single-tensor loops of torch.optim.Adam / AdamW / SGD (PyTorch 1.13
 * docs, "Algorithm" boxes): Kingma & Ba 2015 with bias correction;
 * Loshchilov & Hutter 2019 for the decoupled weight decay. */
#include <math.h>
#ifdef __AVX__
#include <immintrin.h>
#endif

#include "kernels/cpu/cpu.h"

/* Adam's per-element constants. */
typedef struct adam_k {
    float beta1, beta2, omb1, omb2, step_size, bc2_sqrt, eps, decay, l2;
} adam_k;

/* Elements [lo, hi). The AVX lanes do the scalar loop's float operations in
 * the same order (no FMA: -std=c11 does not contract the scalar code), so
 * each element gets the same bits either way. The compiler cannot
 * vectorise the scalar loop itself: sqrtf must keep errno. */
static void adam_range(float *param, const float *grad, float *m, float *v, size_t lo,
                       size_t hi, const adam_k *k)
{
    size_t i = lo;
#ifdef __AVX__
    const __m256 b1 = _mm256_set1_ps(k->beta1), b2 = _mm256_set1_ps(k->beta2);
    const __m256 omb1 = _mm256_set1_ps(k->omb1), omb2 = _mm256_set1_ps(k->omb2);
    const __m256 ss = _mm256_set1_ps(k->step_size), bc = _mm256_set1_ps(k->bc2_sqrt);
    const __m256 eps = _mm256_set1_ps(k->eps), decay = _mm256_set1_ps(k->decay);
    const __m256 l2 = _mm256_set1_ps(k->l2);
    for (; i + 8 <= hi; i += 8) {
        __m256 pr = _mm256_loadu_ps(param + i);
        __m256 p = _mm256_mul_ps(pr, decay);
        __m256 g = _mm256_add_ps(_mm256_loadu_ps(grad + i), _mm256_mul_ps(l2, pr));
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)),
                                  _mm256_mul_ps(omb1, g));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
                                  _mm256_mul_ps(_mm256_mul_ps(omb2, g), g));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        __m256 den = _mm256_add_ps(_mm256_div_ps(_mm256_sqrt_ps(vi), bc), eps);
        _mm256_storeu_ps(param + i, _mm256_sub_ps(p, _mm256_mul_ps(ss, _mm256_div_ps(mi, den))));
    }
#endif
    for (; i < hi; i++) {
        float p = param[i] * k->decay;
        float g = grad[i] + k->l2 * param[i];
        float mi = k->beta1 * m[i] + k->omb1 * g;
        float vi = k->beta2 * v[i] + k->omb2 * g * g;
        m[i] = mi;
        v[i] = vi;
        /* addcdiv order, as torch: p + (-step_size) * (m / denom). */
        param[i] = p - k->step_size * (mi / (sqrtf(vi) / k->bc2_sqrt + k->eps));
    }
}

int siam_cpu_adam_step(siam_ctx *ctx, float *param, const float *grad, float *m, float *v,
                       size_t n, float lr, float beta1, float beta2, float eps, float weight_decay,
                       int decoupled, long step)
{
    if (siam_check_adam(&ctx->err, step, beta1, beta2))
        return -1;
    if (n && (!param || !grad || !m || !v))
        return siam_cpu_fail(ctx, "adam_step: NULL buffer");
    double bc1 = 1.0 - pow(beta1, (double)step);
    double bc2 = 1.0 - pow(beta2, (double)step);
    float decoupled_decay = decoupled ? 1.0f - lr * weight_decay : 1.0f;
    const adam_k k = { .beta1 = beta1, .beta2 = beta2, .omb1 = 1.0f - beta1,
                       .omb2 = 1.0f - beta2, .step_size = (float)(lr / bc1),
                       .bc2_sqrt = (float)sqrt(bc2), .eps = eps, .decay = decoupled_decay,
                       .l2 = decoupled ? 0.0f : weight_decay };
    /* Blocks of 64 Ki elements: whole AVX vectors, and few enough barriers. */
    const size_t block = (size_t)1 << 16;
    size_t nblocks = (n + block - 1) / block;
#pragma omp parallel for schedule(static) if (nblocks > 1)
    for (size_t b = 0; b < nblocks; b++) {
        size_t lo = b * block, hi = lo + block < n ? lo + block : n;
        adam_range(param, grad, m, v, lo, hi, &k);
    }
    return 0;
}

int siam_cpu_sgd_step(siam_ctx *ctx, float *param, const float *grad, float *buf, size_t n,
                      float lr, float momentum, float weight_decay, int nesterov, int first_step)
{
    if (siam_check_sgd(&ctx->err, momentum, nesterov))
        return -1;
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
