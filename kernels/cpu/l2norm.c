/* Row-wise L2 normalisation and its gradient on the CPU (kernels/ops.h);
 * kernels/cuda/l2norm.cu is the twin. Norms and dot products are summed in
 * double, as the pair features' cosine is. */
#include <math.h>

#include "kernels/cpu/cpu.h"

static double norm_of(const float *x, int D)
{
    double s = 0.0;
    for (int d = 0; d < D; d++)
        s += (double)x[d] * x[d];
    return sqrt(s);
}

int siam_cpu_l2_normalize_forward(siam_ctx *ctx, float *out, const float *x, int N, int D,
                                  float eps)
{
    if (siam_check_l2_normalize(&ctx->err, "l2_normalize_forward", N, D, eps))
        return -1;
    if (N && (!out || !x))
        return siam_cpu_fail(ctx, "l2_normalize_forward: NULL buffer");
    for (int i = 0; i < N; i++) {
        const float *r = x + (size_t)i * D;
        double inv = 1.0 / fmax(norm_of(r, D), (double)eps);
        for (int d = 0; d < D; d++)
            out[(size_t)i * D + d] = (float)(r[d] * inv);
    }
    return 0;
}

int siam_cpu_l2_normalize_backward(siam_ctx *ctx, float *dx, const float *dout, const float *x,
                                   int N, int D, float eps)
{
    if (siam_check_l2_normalize(&ctx->err, "l2_normalize_backward", N, D, eps))
        return -1;
    if (N && (!dx || !dout || !x))
        return siam_cpu_fail(ctx, "l2_normalize_backward: NULL buffer");
    for (int i = 0; i < N; i++) {
        const float *r = x + (size_t)i * D, *g = dout + (size_t)i * D;
        float *o = dx + (size_t)i * D;
        double n = norm_of(r, D);
        if (!(n > eps)) {
            for (int d = 0; d < D; d++)
                o[d] = (float)(g[d] / (double)eps);
            continue;
        }
        /* y = x / n: dx = (g - y (y . g)) / n */
        double yg = 0.0;
        for (int d = 0; d < D; d++)
            yg += r[d] / n * g[d];
        for (int d = 0; d < D; d++)
            o[d] = (float)((g[d] - r[d] / n * yg) / n);
    }
    return 0;
}
