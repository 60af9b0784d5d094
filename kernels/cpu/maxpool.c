/* 2x2 max-pooling, stride 2, floor mode (torch.nn.MaxPool2d(2)). The winner
 * of each window is the first maximum in row-major order; a NaN wins, as in
 * PyTorch's CPU kernel ("val > max || isnan(val)"). */
#include <math.h>
#include <string.h>

#include "kernels/cpu/cpu.h"

int siam_cpu_maxpool2_forward(siam_ctx *ctx, float *out, int32_t *argmax, const float *in, int NC,
                              int H, int W)
{
    if (siam_check_maxpool2(&ctx->err, "maxpool2_forward", NC, H, W))
        return -1;
    if (NC && (!out || !argmax || !in))
        return siam_cpu_fail(ctx, "maxpool2_forward: NULL buffer");
    int OH = H / 2, OW = W / 2;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < NC; c++) {
        const float *x = in + (size_t)c * H * W;
        float *y = out + (size_t)c * OH * OW;
        int32_t *am = argmax + (size_t)c * OH * OW;
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int base = 2 * oh * W + 2 * ow;
                const int cand[4] = {base, base + 1, base + W, base + W + 1};
                int best = cand[0];
                float v = x[best];
                for (int k = 1; k < 4; k++) {
                    float t = x[cand[k]];
                    if (t > v || isnan(t)) {
                        v = t;
                        best = cand[k];
                    }
                }
                y[oh * OW + ow] = v;
                am[oh * OW + ow] = best;
            }
    }
    return 0;
}

int siam_cpu_maxpool2_backward(siam_ctx *ctx, float *din, const float *dout, const int32_t *argmax,
                               int NC, int H, int W)
{
    if (siam_check_maxpool2(&ctx->err, "maxpool2_backward", NC, H, W))
        return -1;
    if (NC && (!din || !argmax || !dout))
        return siam_cpu_fail(ctx, "maxpool2_backward: NULL buffer");
    int OH = H / 2, OW = W / 2;
    int bad = -1;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < NC; c++) {
        float *dx = din + (size_t)c * H * W;
        const float *g = dout + (size_t)c * OH * OW;
        const int32_t *am = argmax + (size_t)c * OH * OW;
        memset(dx, 0, (size_t)H * W * sizeof(float));
        for (int o = 0; o < OH * OW; o++) {
            int32_t a = am[o];
            if (a < 0 || a >= H * W) {
#pragma omp atomic write
                bad = c;
                continue;
            }
            /* Windows do not overlap at stride 2: += only for clarity. */
            dx[a] += g[o];
        }
    }
    if (bad >= 0)
        return siam_cpu_fail(ctx, "maxpool2_backward: argmax out of range in plane %d (H=%d W=%d)",
                             bad, H, W);
    return 0;
}
