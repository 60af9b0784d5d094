/* Rich Siamese head features (|a-b|, (a-b)^2, a*b, cosine; kernels/ops.h)
 * and their gradient on the CPU; kernels/cuda/pair_features.cu is the twin.
 * Row statistics are accumulated in double so that the cosine of long
 * embeddings (4096 values) keeps float precision. */
#include <math.h>

#include "kernels/cpu/cpu.h"

typedef struct row_stats {
    double dot, na, nb; /* a.b, |a|, |b| */
} row_stats;

static row_stats stats_of(const float *a, const float *b, int U)
{
    double dot = 0.0, a2 = 0.0, b2 = 0.0;
    for (int u = 0; u < U; u++) {
        dot += (double)a[u] * b[u];
        a2 += (double)a[u] * a[u];
        b2 += (double)b[u] * b[u];
    }
    row_stats s = { dot, sqrt(a2), sqrt(b2) };
    return s;
}

int siam_cpu_pair_features_forward(siam_ctx *ctx, float *out, const float *a, const float *b,
                                   int B, int U, unsigned mask)
{
    if (B < 0 || U <= 0 || (mask & ~SIAM_PAIRFEAT_ALL) || mask == 0)
        return siam_cpu_fail(ctx, "pair_features_forward: B %d, U %d, mask 0x%x invalid", B, U,
                             mask);
    if (B && (!out || !a || !b))
        return siam_cpu_fail(ctx, "pair_features_forward: NULL buffer");
    int F = siam_pairfeat_width(mask, U);
    for (int r = 0; r < B; r++) {
        const float *ar = a + (size_t)r * U, *br = b + (size_t)r * U;
        float *o = out + (size_t)r * F;
        if (mask & SIAM_PAIRFEAT_ABS) {
            for (int u = 0; u < U; u++)
                o[u] = fabsf(ar[u] - br[u]);
            o += U;
        }
        if (mask & SIAM_PAIRFEAT_SQ) {
            for (int u = 0; u < U; u++) {
                float d = ar[u] - br[u];
                o[u] = d * d;
            }
            o += U;
        }
        if (mask & SIAM_PAIRFEAT_PROD) {
            for (int u = 0; u < U; u++)
                o[u] = ar[u] * br[u];
            o += U;
        }
        if (mask & SIAM_PAIRFEAT_COS) {
            row_stats s = stats_of(ar, br, U);
            o[0] = (float)(s.dot / fmax(s.na * s.nb, SIAM_PAIRFEAT_EPS));
        }
    }
    return 0;
}

int siam_cpu_pair_features_backward(siam_ctx *ctx, float *da, float *db, const float *dout,
                                    const float *a, const float *b, int B, int U, unsigned mask)
{
    if (B < 0 || U <= 0 || (mask & ~SIAM_PAIRFEAT_ALL) || mask == 0)
        return siam_cpu_fail(ctx, "pair_features_backward: B %d, U %d, mask 0x%x invalid", B,
                             U, mask);
    if (B && (!da || !db || !dout || !a || !b))
        return siam_cpu_fail(ctx, "pair_features_backward: NULL buffer");
    int F = siam_pairfeat_width(mask, U);
    for (int r = 0; r < B; r++) {
        const float *ar = a + (size_t)r * U, *br = b + (size_t)r * U;
        const float *g = dout + (size_t)r * F;
        float *ga = da + (size_t)r * U, *gb = db + (size_t)r * U;
        for (int u = 0; u < U; u++)
            ga[u] = gb[u] = 0.0f;
        if (mask & SIAM_PAIRFEAT_ABS) {
            for (int u = 0; u < U; u++) {
                float d = ar[u] - br[u];
                float v = d > 0.0f ? g[u] : d < 0.0f ? -g[u] : 0.0f;
                ga[u] += v;
                gb[u] -= v;
            }
            g += U;
        }
        if (mask & SIAM_PAIRFEAT_SQ) {
            for (int u = 0; u < U; u++) {
                float v = 2.0f * (ar[u] - br[u]) * g[u];
                ga[u] += v;
                gb[u] -= v;
            }
            g += U;
        }
        if (mask & SIAM_PAIRFEAT_PROD) {
            for (int u = 0; u < U; u++) {
                ga[u] += br[u] * g[u];
                gb[u] += ar[u] * g[u];
            }
            g += U;
        }
        if (mask & SIAM_PAIRFEAT_COS) {
            row_stats s = stats_of(ar, br, U);
            double den = s.na * s.nb, gc = g[0];
            int clamped = !(den > SIAM_PAIRFEAT_EPS);
            double inv = 1.0 / (clamped ? SIAM_PAIRFEAT_EPS : den);
            double cs = s.dot * inv;
            double ka = clamped ? 0.0 : cs / (s.na * s.na);
            double kb = clamped ? 0.0 : cs / (s.nb * s.nb);
            for (int u = 0; u < U; u++) {
                ga[u] += (float)(gc * (br[u] * inv - ka * ar[u]));
                gb[u] += (float)(gc * (ar[u] * inv - kb * br[u]));
            }
        }
    }
    return 0;
}

int siam_cpu_lerp(siam_ctx *ctx, float *y, const float *x, size_t n, float w)
{
    if (n && (!y || !x))
        return siam_cpu_fail(ctx, "lerp: NULL buffer");
    if (siam_check_lerp(&ctx->err, w))
        return -1;
    for (size_t i = 0; i < n; i++)
        y[i] = (1.0f - w) * y[i] + w * x[i];
    return 0;
}
