/* Rich Siamese head features (|a-b|, (a-b)^2, a*b, cosine; kernels/ops.h)
 * and their gradient on the GPU; kernels/cpu/pair_features.c is the twin.
 * One block per pair row: the row's a.b, |a|^2 and |b|^2 are reduced in
 * shared memory (double, as the CPU does), then the threads stride over U. */
#include "kernels/cuda/cuda.h"

#define ROW_THREADS 256

/* Leaves dot, |a|, |b| of row (a, b) in s[0..2] for every thread. */
static __device__ void row_stats(double *s, double *red, const float *a, const float *b, int U)
{
    double dot = 0.0, a2 = 0.0, b2 = 0.0;
    for (int u = threadIdx.x; u < U; u += blockDim.x) {
        dot += (double)a[u] * b[u];
        a2 += (double)a[u] * a[u];
        b2 += (double)b[u] * b[u];
    }
    red[threadIdx.x] = dot;
    red[ROW_THREADS + threadIdx.x] = a2;
    red[2 * ROW_THREADS + threadIdx.x] = b2;
    __syncthreads();
    for (int half = ROW_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half)
            for (int k = 0; k < 3; k++)
                red[k * ROW_THREADS + threadIdx.x] += red[k * ROW_THREADS + threadIdx.x + half];
        __syncthreads();
    }
    s[0] = red[0];
    s[1] = sqrt(red[ROW_THREADS]);
    s[2] = sqrt(red[2 * ROW_THREADS]);
}

static __global__ void pair_features_forward_kernel(float *out, const float *a, const float *b,
                                                    int U, int F, unsigned mask)
{
    __shared__ double red[3 * ROW_THREADS];
    size_t r = blockIdx.x;
    const float *ar = a + r * U, *br = b + r * U;
    float *o = out + r * F;
    if (mask & SIAM_PAIRFEAT_ABS) {
        for (int u = threadIdx.x; u < U; u += blockDim.x)
            o[u] = fabsf(ar[u] - br[u]);
        o += U;
    }
    if (mask & SIAM_PAIRFEAT_SQ) {
        for (int u = threadIdx.x; u < U; u += blockDim.x) {
            float d = ar[u] - br[u];
            o[u] = d * d;
        }
        o += U;
    }
    if (mask & SIAM_PAIRFEAT_PROD) {
        for (int u = threadIdx.x; u < U; u += blockDim.x)
            o[u] = ar[u] * br[u];
        o += U;
    }
    if (mask & SIAM_PAIRFEAT_COS) {
        double s[3];
        row_stats(s, red, ar, br, U);
        if (threadIdx.x == 0)
            o[0] = (float)(s[0] / fmax(s[1] * s[2], (double)SIAM_PAIRFEAT_EPS));
    }
}

static __global__ void pair_features_backward_kernel(float *da, float *db, const float *dout,
                                                     const float *a, const float *b, int U,
                                                     int F, unsigned mask)
{
    __shared__ double red[3 * ROW_THREADS];
    size_t r = blockIdx.x;
    const float *ar = a + r * U, *br = b + r * U, *g = dout + r * F;
    float *ga = da + r * U, *gb = db + r * U;
    double inv = 0.0, ka = 0.0, kb = 0.0, gc = 0.0;
    if (mask & SIAM_PAIRFEAT_COS) {
        double s[3];
        row_stats(s, red, ar, br, U);
        double den = s[1] * s[2];
        int clamped = !(den > (double)SIAM_PAIRFEAT_EPS);
        inv = 1.0 / (clamped ? (double)SIAM_PAIRFEAT_EPS : den);
        double cs = s[0] * inv;
        ka = clamped ? 0.0 : cs / (s[1] * s[1]);
        kb = clamped ? 0.0 : cs / (s[2] * s[2]);
        gc = g[F - 1];
    }
    int has_abs = (mask & SIAM_PAIRFEAT_ABS) != 0, has_sq = (mask & SIAM_PAIRFEAT_SQ) != 0;
    int has_prod = (mask & SIAM_PAIRFEAT_PROD) != 0;
    for (int u = threadIdx.x; u < U; u += blockDim.x) {
        float d = ar[u] - br[u], va = 0.0f, vb = 0.0f;
        int off = 0;
        if (has_abs) {
            float v = d > 0.0f ? g[u] : d < 0.0f ? -g[u] : 0.0f;
            va += v;
            vb -= v;
            off += U;
        }
        if (has_sq) {
            float v = 2.0f * d * g[off + u];
            va += v;
            vb -= v;
            off += U;
        }
        if (has_prod) {
            va += br[u] * g[off + u];
            vb += ar[u] * g[off + u];
        }
        if (mask & SIAM_PAIRFEAT_COS) {
            va += (float)(gc * (br[u] * inv - ka * ar[u]));
            vb += (float)(gc * (ar[u] * inv - kb * br[u]));
        }
        ga[u] = va;
        gb[u] = vb;
    }
}

static __global__ void lerp_kernel(float *y, const float *x, size_t n, float w)
{
    SIAM_CUDA_FOR(i, n)
        y[i] = (1.0f - w) * y[i] + w * x[i];
}

static int check_args(siam_ctx *ctx, const char *what, int B, int U, unsigned mask)
{
    if (B < 0 || U <= 0 || (mask & ~SIAM_PAIRFEAT_ALL) || mask == 0)
        return siam_cuda_fail(ctx, "%s: B %d, U %d, mask 0x%x invalid", what, B, U, mask);
    return 0;
}

int siam_cuda_pair_features_forward(siam_ctx *ctx, float *out, const float *a, const float *b,
                                    int B, int U, unsigned mask)
{
    if (check_args(ctx, "pair_features_forward", B, U, mask))
        return -1;
    if (B == 0)
        return 0;
    if (!out || !a || !b)
        return siam_cuda_fail(ctx, "pair_features_forward: NULL buffer");
    pair_features_forward_kernel<<<B, ROW_THREADS, 0, ctx->stream>>>(
        out, a, b, U, siam_pairfeat_width(mask, U), mask);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_pair_features_backward(siam_ctx *ctx, float *da, float *db, const float *dout,
                                     const float *a, const float *b, int B, int U,
                                     unsigned mask)
{
    if (check_args(ctx, "pair_features_backward", B, U, mask))
        return -1;
    if (B == 0)
        return 0;
    if (!da || !db || !dout || !a || !b)
        return siam_cuda_fail(ctx, "pair_features_backward: NULL buffer");
    pair_features_backward_kernel<<<B, ROW_THREADS, 0, ctx->stream>>>(
        da, db, dout, a, b, U, siam_pairfeat_width(mask, U), mask);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_lerp(siam_ctx *ctx, float *y, const float *x, size_t n, float w)
{
    if (siam_check_lerp(&ctx->err, w))
        return -1;
    if (n == 0)
        return 0;
    if (!y || !x)
        return siam_cuda_fail(ctx, "lerp: NULL buffer");
    lerp_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(y, x, n, w);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
