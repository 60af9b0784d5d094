/* conv2d on the CPU: im2col + one SGEMM per chunk of images (as darknet and
 * Caffe), valid padding, stride 1. Chunks keep the column matrix within
 * SIAM_CPU_CONV_SCRATCH_BYTES; images of a chunk sit side by side in the
 * columns so small late layers still get wide GEMMs. */
#include <string.h>

#include "kernels/cpu/blas.h"

#include "kernels/cpu/cpu.h"

typedef struct conv_dims {
    int N, Ci, H, W, Co, KH, KW, OH, OW;
    int K;    /* rows of the column matrix: Ci*KH*KW */
    size_t P; /* output pixels per image: OH*OW */
} conv_dims;

void siam_cpu_conv2d_bias_grad(float *db, const float *dout, int N, int Co, size_t P)
{
#pragma omp parallel for schedule(static)
    for (int co = 0; co < Co; co++) {
        double s = 0.0;
        for (int n = 0; n < N; n++) {
            const float *g = dout + ((size_t)n * Co + co) * P;
            for (size_t p = 0; p < P; p++)
                s += g[p];
        }
        db[co] += (float)s;
    }
}

static int conv_check(siam_ctx *ctx, const char *fn, conv_dims *d, int N, int Ci, int H, int W,
                      int Co, int KH, int KW)
{
    if (siam_check_conv2d(&ctx->err, fn, N, Ci, H, W, Co, KH, KW))
        return -1;
    d->N = N, d->Ci = Ci, d->H = H, d->W = W, d->Co = Co, d->KH = KH, d->KW = KW;
    d->OH = H - KH + 1;
    d->OW = W - KW + 1;
    d->K = Ci * KH * KW;
    d->P = (size_t)d->OH * d->OW;
    return 0;
}

/* Images per chunk: the column matrix (K x P) plus the GEMM result or the
 * gathered output gradient (Co x P) per image must fit the budget. */
static int conv_chunk(const conv_dims *d)
{
    size_t per_image = ((size_t)d->K + d->Co) * d->P;
    size_t nb = SIAM_CPU_CONV_SCRATCH_BYTES / sizeof(float) / per_image;
    if (nb < 1)
        nb = 1;
    if (nb > (size_t)d->N)
        nb = (size_t)d->N;
    return (int)nb;
}

/* col (K, nb*P): row (ci,kh,kw), column (image j, oh, ow). */
static void im2col(float *col, const float *in, const conv_dims *d, int nb)
{
    size_t cols = (size_t)nb * d->P;
    int KK = d->KH * d->KW;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < d->K; r++) {
        int ci = r / KK, kh = (r % KK) / d->KW, kw = r % d->KW;
        float *dst = col + (size_t)r * cols;
        for (int j = 0; j < nb; j++) {
            const float *src = in + ((size_t)j * d->Ci + ci) * d->H * d->W
                               + (size_t)kh * d->W + kw;
            for (int oh = 0; oh < d->OH; oh++) {
                memcpy(dst, src + (size_t)oh * d->W, (size_t)d->OW * sizeof(float));
                dst += d->OW;
            }
        }
    }
}

/* din (nb, Ci, H, W) = sum of dcol entries over the windows that read each
 * pixel. One (image, channel) plane per iteration, so no two threads write
 * the same pixel. */
static void col2im(float *din, const float *dcol, const conv_dims *d, int nb)
{
    size_t cols = (size_t)nb * d->P;
    size_t plane = (size_t)d->H * d->W;
#pragma omp parallel for schedule(static)
    for (int jc = 0; jc < nb * d->Ci; jc++) {
        int j = jc / d->Ci, ci = jc % d->Ci;
        float *dst = din + (size_t)jc * plane;
        memset(dst, 0, plane * sizeof(float));
        for (int kh = 0; kh < d->KH; kh++)
            for (int kw = 0; kw < d->KW; kw++) {
                int r = (ci * d->KH + kh) * d->KW + kw;
                const float *src = dcol + (size_t)r * cols + (size_t)j * d->P;
                for (int oh = 0; oh < d->OH; oh++) {
                    float *row = dst + (size_t)(oh + kh) * d->W + kw;
                    const float *s = src + (size_t)oh * d->OW;
                    for (int ow = 0; ow < d->OW; ow++)
                        row[ow] += s[ow];
                }
            }
    }
}

int siam_cpu_conv2d_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                            const float *b, int N, int Ci, int H, int W, int Co, int KH, int KW)
{
    conv_dims d;
    if (conv_check(ctx, "conv2d_forward", &d, N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!out || !in || !w || !b)
        return siam_cpu_fail(ctx, "conv2d_forward: NULL buffer");
    int nb = conv_chunk(&d);
    size_t col_floats = (size_t)d.K * nb * d.P;
    float *scratch = siam_cpu_scratch(ctx, col_floats + (nb > 1 ? (size_t)Co * nb * d.P : 0));
    if (scratch == NULL)
        return siam_fail_wrap(&ctx->err, "conv2d_forward");
    siam_cpu_blas_threads(ctx, 0);
    for (int n0 = 0; n0 < N; n0 += nb) {
        int m = N - n0 < nb ? N - n0 : nb;
        int cols = (int)((size_t)m * d.P);
        float *col = scratch;
        float *res = m > 1 ? scratch + col_floats : out + (size_t)n0 * Co * d.P;
        im2col(col, in + (size_t)n0 * Ci * H * W, &d, m);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Co, cols, d.K, 1.0f, w, d.K, col,
                    cols, 0.0f, res, cols);
        /* res is (Co, m*P); out wants (m, Co, P) plus the bias. */
#pragma omp parallel for schedule(static)
        for (int jc = 0; jc < m * Co; jc++) {
            int j = jc / Co, co = jc % Co;
            float *dst = out + ((size_t)(n0 + j) * Co + co) * d.P;
            const float *src = res + (size_t)co * cols + (size_t)j * d.P;
            for (size_t p = 0; p < d.P; p++)
                dst[p] = src[p] + b[co];
        }
    }
    return 0;
}

int siam_cpu_conv2d_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                             const float *in, const float *w, int N, int Ci, int H, int W, int Co,
                             int KH, int KW)
{
    conv_dims d;
    if (conv_check(ctx, "conv2d_backward", &d, N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!dw || !db || !dout || !in || !w)
        return siam_cpu_fail(ctx, "conv2d_backward: NULL buffer");

    siam_cpu_conv2d_bias_grad(db, dout, N, Co, d.P);

    int nb = conv_chunk(&d);
    size_t col_floats = (size_t)d.K * nb * d.P;
    float *scratch = siam_cpu_scratch(ctx, col_floats + (nb > 1 ? (size_t)Co * nb * d.P : 0));
    if (scratch == NULL)
        return siam_fail_wrap(&ctx->err, "conv2d_backward");
    siam_cpu_blas_threads(ctx, 0);
    for (int n0 = 0; n0 < N; n0 += nb) {
        int m = N - n0 < nb ? N - n0 : nb;
        int cols = (int)((size_t)m * d.P);
        float *col = scratch;
        const float *g = dout + (size_t)n0 * Co * d.P;
        if (m > 1) {
            /* Gather dout (m, Co, P) into the column order (Co, m*P). */
            float *gc = scratch + col_floats;
#pragma omp parallel for schedule(static)
            for (int jc = 0; jc < m * Co; jc++) {
                int j = jc / Co, co = jc % Co;
                memcpy(gc + (size_t)co * cols + (size_t)j * d.P, g + (size_t)jc * d.P,
                       d.P * sizeof(float));
            }
            g = gc;
        }
        im2col(col, in + (size_t)n0 * Ci * H * W, &d, m);
        /* dW (Co, K) += dout (Co, cols) * col^T (cols, K). */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Co, d.K, cols, 1.0f, g, cols, col,
                    cols, 1.0f, dw, d.K);
        if (din) {
            /* dcol (K, cols) = W^T (K, Co) * dout (Co, cols), written over col. */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, d.K, cols, Co, 1.0f, w, d.K, g,
                        cols, 0.0f, col, cols);
            col2im(din + (size_t)n0 * Ci * H * W, col, &d, m);
        }
    }
    return 0;
}
