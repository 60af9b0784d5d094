/* Binary cross-entropy on probabilities, mean reduction
 * (torch.nn.BCELoss: each log clamped at -100; backward denominator clamped
 * at 1e-12, ATen's binary_cross_entropy_backward). */
#include <math.h>

#include "kernels/cpu/cpu.h"

int siam_cpu_bce_loss(siam_ctx *ctx, const char *fn, float *loss, const float *p,
                      const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double pi = p[i], yi = y[i];
        if (!(pi >= 0.0 && pi <= 1.0))
            return siam_cpu_fail(ctx, "%s: probability %zu is %g, outside [0, 1]", fn, i, pi);
        double lp = fmax(log(pi), -100.0);
        double lq = fmax(log1p(-pi), -100.0);
        s -= yi * lp + (1.0 - yi) * lq;
    }
    *loss = (float)(s / (double)n);
    return 0;
}

int siam_cpu_bce_forward(siam_ctx *ctx, float *loss_host, const float *p, const float *y,
                         size_t n)
{
    if (n == 0)
        return siam_cpu_fail(ctx, "bce_forward: empty batch (n = 0)");
    if (!loss_host || !p || !y)
        return siam_cpu_fail(ctx, "bce_forward: NULL buffer");
    return siam_cpu_bce_loss(ctx, "bce_forward", loss_host, p, y, n);
}

int siam_cpu_bce_backward(siam_ctx *ctx, float *dp, const float *p, const float *y, size_t n,
                          float dloss)
{
    if (n == 0)
        return siam_cpu_fail(ctx, "bce_backward: empty batch (n = 0)");
    if (!dp || !p || !y)
        return siam_cpu_fail(ctx, "bce_backward: NULL buffer");
    for (size_t i = 0; i < n; i++) {
        double pi = p[i];
        double den = fmax(pi * (1.0 - pi), 1e-12);
        dp[i] = (float)((double)dloss * (pi - y[i]) / den / (double)n);
    }
    return 0;
}
