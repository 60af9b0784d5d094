/* The double-precision tower (tests/support/ref_tower.h). */
#include "tests/support/ref_tower.h"

#include <math.h>
#include <string.h>

/* out (N,Co,H-K+1,W-K+1) = conv(in (N,Ci,H,W), w (Co,Ci,K,K)) + bias */
static void ref_conv(double *out, const double *in, const double *w, const double *bias, int N,
                     int Ci, int H, int W, int Co, int K)
{
    int oh = H - K + 1, ow = W - K + 1;
    for (int n = 0; n < N; n++)
        for (int co = 0; co < Co; co++)
            for (int y = 0; y < oh; y++)
                for (int x = 0; x < ow; x++) {
                    double s = bias[co];
                    for (int ci = 0; ci < Ci; ci++)
                        for (int ky = 0; ky < K; ky++)
                            for (int kx = 0; kx < K; kx++)
                                s += w[((co * Ci + ci) * K + ky) * K + kx] *
                                     in[((size_t)(n * Ci + ci) * H + y + ky) * W + x + kx];
                    out[((size_t)(n * Co + co) * oh + y) * ow + x] = s;
                }
}

/* Training-mode batch norm (biased variance) then ReLU, in place. */
static void ref_bn_relu(double *x, const double *gamma, const double *beta, int N, int C, int HW,
                        double eps)
{
    for (int c = 0; c < C; c++) {
        double mean = 0.0, var = 0.0;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++)
                mean += x[((size_t)n * C + c) * HW + i];
        mean /= (double)N * HW;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                double d = x[((size_t)n * C + c) * HW + i] - mean;
                var += d * d;
            }
        var /= (double)N * HW;
        for (int n = 0; n < N; n++)
            for (int i = 0; i < HW; i++) {
                double *v = &x[((size_t)n * C + c) * HW + i];
                double y = gamma[c] * (*v - mean) / sqrt(var + eps) + beta[c];
                *v = y > 0.0 ? y : 0.0;
            }
    }
}

static void ref_pool(double *out, const double *in, int NC, int H, int W)
{
    int oh = H / 2, ow = W / 2;
    for (int p = 0; p < NC; p++)
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                const double *r = in + ((size_t)p * H + 2 * y) * W + 2 * x;
                out[((size_t)p * oh + y) * ow + x] = fmax(fmax(r[0], r[1]), fmax(r[W], r[W + 1]));
            }
}

size_t siam_ref_embed_scratch(const siam_model *m, int N)
{
    const siam_model_config *c = siam_model_config_of(m);
    size_t most = (size_t)c->in_h * c->in_w > (size_t)c->fc_units ? (size_t)c->in_h * c->in_w
                                                                   : (size_t)c->fc_units;
    int h = c->in_h, w = c->in_w;
    for (int k = 0; k < 4; k++) {
        h -= c->kernels[k] - 1;
        w -= c->kernels[k] - 1;
        size_t n = (size_t)c->channels[k] * h * w;
        most = n > most ? n : most;
        h /= 2;
        w /= 2;
    }
    return most * (size_t)N;
}

double *siam_ref_embed(const siam_model *m, const float *x, int N, const double *pd, double *a,
                       double *b)
{
    const siam_model_config *c = siam_model_config_of(m);
#define RP(j) (pd + siam_model_param(m, j)->offset)
    int h = c->in_h, w = c->in_w, cin = 1;
    for (size_t i = 0; i < (size_t)N * h * w; i++)
        a[i] = x[i];
    for (int k = 0; k < 4; k++) {
        int K = c->kernels[k], co = c->channels[k], oh = h - K + 1, ow = w - K + 1;
        ref_conv(b, a, RP(4 * k), RP(4 * k + 1), N, cin, h, w, co, K);
        ref_bn_relu(b, RP(4 * k + 2), RP(4 * k + 3), N, co, oh * ow, c->bn_eps);
        if (k < 3) {
            ref_pool(a, b, N * co, oh, ow);
            h = oh / 2;
            w = ow / 2;
        } else {
            memcpy(a, b, (size_t)N * co * oh * ow * sizeof(double));
            h = oh;
            w = ow;
        }
        cin = co;
    }
    int I = cin * h * w, U = c->fc_units;
    double *e = b;
    for (int n = 0; n < N; n++)
        for (int u = 0; u < U; u++) {
            double s = RP(17)[u];
            for (int i = 0; i < I; i++)
                s += RP(16)[(size_t)u * I + i] * a[(size_t)n * I + i];
            e[n * U + u] = c->embed_act == SIAM_EMBED_SIGMOID ? 1.0 / (1.0 + exp(-s))
                         : c->embed_act == SIAM_EMBED_RELU    ? fmax(s, 0.0)
                                                              : s;
        }
#undef RP
    return e;
}
