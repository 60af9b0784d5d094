/* The batch-hard triplet loss with the cosine distance, and its gradient,
 * on the CPU (kernels/ops.h); kernels/cuda/triplet.cu is the twin. Each
 * anchor's search and loss are computed in double; a batch holds a few
 * dozen to a few hundred rows, so the N^2 D dot products cost little
 * beside the tower. */
#include <math.h>

#include "kernels/cpu/cpu.h"

static double dist(const float *a, const float *b, int D)
{
    double s = 0.0;
    for (int d = 0; d < D; d++)
        s += (double)a[d] * b[d];
    return 1.0 - s;
}

/* softplus(x) = log(1 + e^x), without overflow for large x. */
static double softplus(double x)
{
    return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

int siam_cpu_triplet_hard_forward(siam_ctx *ctx, float *loss_host, int32_t *hard, const float *e,
                                  const int32_t *labels, int N, int D, float margin, int soft)
{
    if (siam_check_triplet(&ctx->err, "triplet_hard_forward", N, D, margin, soft))
        return -1;
    if (!loss_host || (N && (!hard || !e || !labels)))
        return siam_cpu_fail(ctx, "triplet_hard_forward: NULL buffer");
    double sum = 0.0;
    int valid = 0;
    for (int a = 0; a < N; a++) {
        const float *ea = e + (size_t)a * D;
        int p = -1, n = -1;
        double dp = 0.0, dn = 0.0;
        for (int j = 0; j < N; j++) {
            if (j == a)
                continue;
            double d = dist(ea, e + (size_t)j * D, D);
            if (labels[j] == labels[a]) {
                if (p < 0 || d > dp)
                    p = j, dp = d;
            } else if (n < 0 || d < dn) {
                n = j, dn = d;
            }
        }
        hard[2 * a] = p >= 0 && n >= 0 ? p : -1;
        hard[2 * a + 1] = p >= 0 && n >= 0 ? n : -1;
        if (p < 0 || n < 0)
            continue;
        double x = dp - dn + margin;
        sum += soft ? softplus(x) : fmax(x, 0.0);
        valid++;
    }
    *loss_host = valid ? (float)(sum / valid) : 0.0f;
    return 0;
}

int siam_cpu_triplet_hard_backward(siam_ctx *ctx, float *de, const int32_t *hard, const float *e,
                                   int N, int D, float margin, int soft, float dloss)
{
    if (siam_check_triplet(&ctx->err, "triplet_hard_backward", N, D, margin, soft))
        return -1;
    if (N && (!de || !hard || !e))
        return siam_cpu_fail(ctx, "triplet_hard_backward: NULL buffer");
    int valid = 0;
    for (int a = 0; a < N; a++) {
        int p = hard[2 * a], n = hard[2 * a + 1];
        if (p >= N || n >= N)
            return siam_cpu_fail(ctx, "triplet_hard_backward: hard[%d] = (%d, %d) outside "
                                      "0..%d", a, p, n, N - 1);
        valid += p >= 0 && n >= 0;
    }
    /* Anchor by anchor in order: an anchor's rows are also others'
     * partners, so the additions are serial, as on the GPU's one thread
     * per row (kernels/cuda/triplet.cu sums each row's terms in the same
     * order). */
    for (int a = 0; a < N && valid; a++) {
        int p = hard[2 * a], n = hard[2 * a + 1];
        if (p < 0 || n < 0)
            continue;
        const float *ea = e + (size_t)a * D, *ep = e + (size_t)p * D, *en = e + (size_t)n * D;
        double x = dist(ea, ep, D) - dist(ea, en, D) + margin;
        double g = soft ? 1.0 / (1.0 + exp(-x)) : x > 0.0 ? 1.0 : 0.0;
        double s = (double)dloss * g / valid;
        if (s == 0.0)
            continue;
        /* d(d_ap)/d(e_a) = -e_p, d(d_ap)/d(e_p) = -e_a; the negative's
         * distance enters with the opposite sign. */
        float *ga = de + (size_t)a * D, *gp = de + (size_t)p * D, *gn = de + (size_t)n * D;
        for (int d = 0; d < D; d++) {
            double va = ea[d];
            ga[d] += (float)(s * ((double)en[d] - ep[d]));
            gp[d] -= (float)(s * va);
            gn[d] += (float)(s * va);
        }
    }
    return 0;
}
