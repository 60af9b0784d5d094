/* The fused tail of a conv block on the CPU: batch norm, ReLU and 2x2
 * max-pool in one pass, so the full-size normalised map is never stored
 * (for conv1 at batch 32 that map is 144 MiB). The arithmetic is that of
 * batchnorm.c, activation.c and maxpool.c value for value, so the results
 * are bit-identical to running the three ops one after the other; the
 * separate ops stay the reference (tests/test_ops_fused.c). */
#include <math.h>
#include <string.h>

#include "kernels/cpu/bn_stats.h"
#include "kernels/cpu/cpu.h"

static int fused_check(siam_ctx *ctx, const char *fn, int N, int C, int H, int W)
{
    if (N < 1 || C < 1 || H < 2 || W < 2)
        return siam_cpu_fail(ctx, "%s: bad sizes N=%d C=%d H=%d W=%d", fn, N, C, H, W);
    return 0;
}

/* The normalised, rectified value of one input: batchnorm's
 * (float)((x - mean) * a + beta) followed by ReLU's "x > 0 ? x : 0". */
static inline float bn_relu(float x, double mean, double a, float beta)
{
    float y = (float)((x - mean) * a + beta);
    return y > 0.0f ? y : 0.0f;
}

/* Pools rows 2oh, 2oh+1 of one plane (x points at row 2oh): both rows are
 * normalised and rectified into t (2W floats), then each window keeps its
 * first maximum in row-major order, as maxpool.c. maxpool.c also lets a
 * NaN win; ReLU has already mapped NaN to 0 here, so no NaN can occur.
 * win may be NULL. */
static void pool_rows(float *y, uint8_t *win, const float *x, float *t, int W, int OW,
                      double mean, double a, float beta)
{
#pragma omp simd
    for (int i = 0; i < 2 * W; i++)
        t[i] = bn_relu(x[i], mean, a, beta);
    const float *t0 = t, *t1 = t + W;
#pragma omp simd
    for (int ow = 0; ow < OW; ow++) {
        float v = t0[2 * ow], c1 = t0[2 * ow + 1], c2 = t1[2 * ow], c3 = t1[2 * ow + 1];
        int best = 0;
        if (c1 > v) {
            v = c1;
            best = 1;
        }
        if (c2 > v) {
            v = c2;
            best = 2;
        }
        if (c3 > v) {
            v = c3;
            best = 3;
        }
        y[ow] = v;
        if (win)
            win[ow] = (uint8_t)best;
    }
}

/* Eval mode needs no window index, and with a != 0 the normalise-and-
 * rectify map f is monotone in x (non-decreasing for a > 0, non-increasing
 * for a < 0: each step, in double and the final rounding to float, keeps
 * the order), so the window's largest f is f of its largest (a > 0) or
 * smallest (a < 0) input: one evaluation per window instead of four. The
 * smallest input is minus the largest of the negated ones (negation is
 * exact). The search starts from -inf, and a NaN input, which f sends to
 * 0, its least value, never wins a comparison; ReLU gives +0 for both
 * zeros, so the choice between -0 and +0 never shows. a == 0 (and a NaN)
 * is not monotone with infinite inputs (inf * 0) and takes pool_rows.
 * Bit-identical to pool_rows (tests/test_ops_fused.c). */
static void pool_rows_monotone(float *y, const float *x, int W, int OW, double mean, double a,
                               float beta)
{
    const float *x0 = x, *x1 = x + W;
    const float s = a > 0.0 ? 1.0f : -1.0f;
#pragma omp simd
    for (int ow = 0; ow < OW; ow++) {
        float m = -INFINITY, c0 = s * x0[2 * ow], c1 = s * x0[2 * ow + 1], c2 = s * x1[2 * ow],
              c3 = s * x1[2 * ow + 1];
        m = c0 > m ? c0 : m;
        m = c1 > m ? c1 : m;
        m = c2 > m ? c2 : m;
        m = c3 > m ? c3 : m;
        y[ow] = bn_relu(s * m, mean, a, beta);
    }
}

int siam_cpu_bn_relu_pool_forward_train(siam_ctx *ctx, float *out, uint8_t *win,
                                        float *save_mean, float *save_invstd,
                                        float *running_mean, float *running_var, const float *in,
                                        const float *gamma, const float *beta, int N, int C,
                                        int H, int W, float momentum, float eps)
{
    if (fused_check(ctx, "bn_relu_pool_forward_train", N, C, H, W))
        return -1;
    if (!out || !win || !save_mean || !save_invstd || !running_mean || !running_var || !in
        || !gamma || !beta)
        return siam_cpu_fail(ctx, "bn_relu_pool_forward_train: NULL buffer");
    size_t HW = (size_t)H * W, M = (size_t)N * HW;
    int OH = H / 2, OW = W / 2;
    float *rows = siam_cpu_scratch(ctx, (size_t)C * 2 * W); /* two rows per channel */
    if (!rows)
        return -1;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        /* The same statistics, bit for bit, as batchnorm_forward_train. */
        double mean, ss;
        siam_cpu_bn_channel_stats(in, N, C, HW, c, &mean, &ss);
        double invstd = 1.0 / sqrt(ss / (double)M + (double)eps);
        double a = gamma[c] * invstd;
        for (int n = 0; n < N; n++) {
            size_t plane = (size_t)n * C + c;
            const float *x = in + plane * HW;
            float *y = out + plane * OH * OW;
            uint8_t *wn = win + plane * OH * OW;
            for (int oh = 0; oh < OH; oh++)
                pool_rows(y + (size_t)oh * OW, wn + (size_t)oh * OW, x + (size_t)2 * oh * W,
                          rows + (size_t)c * 2 * W, W, OW, mean, a, beta[c]);
        }
        siam_cpu_bn_record(save_mean, save_invstd, running_mean, running_var, c, mean, invstd, ss,
                           M, momentum);
    }
    return 0;
}

int siam_cpu_bn_relu_pool_forward_eval(siam_ctx *ctx, float *out, const float *in,
                                       const float *running_mean, const float *running_var,
                                       const float *gamma, const float *beta, int N, int C, int H,
                                       int W, float eps)
{
    if (fused_check(ctx, "bn_relu_pool_forward_eval", N, C, H, W))
        return -1;
    if (!out || !in || !running_mean || !running_var || !gamma || !beta)
        return siam_cpu_fail(ctx, "bn_relu_pool_forward_eval: NULL buffer");
    int OH = H / 2, OW = W / 2;
    float *rows = siam_cpu_scratch(ctx, (size_t)C * 2 * W);
    if (!rows)
        return -1;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double invstd = 1.0 / sqrt((double)running_var[c] + (double)eps);
        double a = gamma[c] * invstd, mean = running_mean[c];
        for (int n = 0; n < N; n++) {
            size_t plane = (size_t)n * C + c;
            const float *x = in + plane * H * W;
            float *y = out + plane * OH * OW;
            for (int oh = 0; oh < OH; oh++) {
                const float *xr = x + (size_t)2 * oh * W;
                if (a > 0.0 || a < 0.0)
                    pool_rows_monotone(y + (size_t)oh * OW, xr, W, OW, mean, a, beta[c]);
                else
                    pool_rows(y + (size_t)oh * OW, NULL, xr, rows + (size_t)c * 2 * W, W, OW,
                              mean, a, beta[c]);
            }
        }
    }
    return 0;
}

/* The gradient reaching the normalised map: nonzero only at window
 * winners, where it is dout if the pooled output (the winner's ReLU
 * output) is positive. That is ReLU' at the winner: exact. */
static inline float winner_grad(float dout, float out)
{
    return out > 0.0f ? dout : 0.0f;
}

int siam_cpu_bn_relu_pool_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                                   const float *dout, const float *out, const uint8_t *win,
                                   const float *in, const float *save_mean,
                                   const float *save_invstd, const float *gamma, int N, int C,
                                   int H, int W)
{
    if (fused_check(ctx, "bn_relu_pool_backward", N, C, H, W))
        return -1;
    if (!dgamma || !dbeta || !dout || !out || !win || !in || !save_mean || !save_invstd
        || !gamma)
        return siam_cpu_fail(ctx, "bn_relu_pool_backward: NULL buffer");
    size_t HW = (size_t)H * W, M = (size_t)N * HW;
    int OH = H / 2, OW = W / 2;
    /* Per channel: two rows of the dense gradient (2W floats), then the
     * winners' terms of one row pair in row-major order (4 OW doubles). */
    size_t per = 6 * (size_t)W;
    float *scratch = siam_cpu_scratch(ctx, (size_t)C * per);
    if (!scratch)
        return -1;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double mean = save_mean[c], invstd = save_invstd[c];
        float *grow = scratch + (size_t)c * per;
        double *top_g = (double *)(grow + 2 * W), *top_x = top_g + OW;
        double *bot_g = top_x + OW, *bot_x = bot_g + OW;
        /* batchnorm_backward's sums over the dense gradient, in its
         * row-major order, but only the winners' terms: the others are
         * zeros, and adding +-0 to a sum that started at +0 leaves it
         * unchanged (0 * xhat is +-0 for finite xhat; a non-finite input
         * makes the mean, hence every winner's xhat, non-finite, so the
         * NaN still reaches both sums). */
        double sg = 0.0, sgx = 0.0;
        for (int n = 0; n < N; n++) {
            size_t plane = (size_t)n * C + c;
            const float *x = in + plane * HW;
            const float *g = dout + plane * OH * OW, *y = out + plane * OH * OW;
            const uint8_t *wn = win + plane * OH * OW;
            for (int oh = 0; oh < OH; oh++) {
                /* Winners of the top row, then of the bottom row, each
                 * left to right: sorted without a branch per window. */
                int nt = 0, nb = 0;
                for (int ow = 0; ow < OW; ow++) {
                    int o = oh * OW + ow, bottom = wn[o] >> 1;
                    double gv = winner_grad(g[o], y[o]);
                    double xhat = (x[(size_t)(2 * oh + bottom) * W + 2 * ow + (wn[o] & 1)]
                                   - mean) * invstd;
                    top_g[nt] = bot_g[nb] = gv;
                    top_x[nt] = bot_x[nb] = gv * xhat;
                    nt += !bottom;
                    nb += bottom;
                }
                for (int j = 0; j < nt; j++) {
                    sg += top_g[j];
                    sgx += top_x[j];
                }
                for (int j = 0; j < nb; j++) {
                    sg += bot_g[j];
                    sgx += bot_x[j];
                }
            }
        }
        dbeta[c] += (float)sg;
        dgamma[c] += (float)sgx;
        if (din == NULL)
            continue;
        /* dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)), two
         * rows at a time from the dense gradient rows (an odd last row has
         * none); each value is read before it is written, so din may be
         * in. */
        double k = gamma[c] * invstd;
        double mg = sg / (double)M, mgx = sgx / (double)M;
        for (int n = 0; n < N; n++) {
            size_t plane = (size_t)n * C + c;
            const float *g = dout + plane * OH * OW, *y = out + plane * OH * OW;
            const uint8_t *wn = win + plane * OH * OW;
            for (int r = 0; r < H; r += 2) {
                int len = r + 1 < H ? 2 * W : W;
                memset(grow, 0, (size_t)len * sizeof(float));
                if (r < 2 * OH)
                    for (int ow = 0; ow < OW; ow++) {
                        int o = (r / 2) * OW + ow;
                        grow[(wn[o] >> 1) * W + 2 * ow + (wn[o] & 1)] = winner_grad(g[o], y[o]);
                    }
                const float *x = in + plane * HW + (size_t)r * W;
                float *dx = din + plane * HW + (size_t)r * W;
#pragma omp simd
                for (int i = 0; i < len; i++) {
                    double xhat = (x[i] - mean) * invstd;
                    dx[i] = (float)(k * (grow[i] - mg - xhat * mgx));
                }
            }
        }
    }
    return 0;
}
