/* The identity heads' loss on the CPU (siam_ops.margin_softmax: softmax,
 * CosFace, ArcFace; kernels/margin.h has the logit rule);
 * kernels/cuda/margin_softmax.cu is the twin. The three products with
 * C x D class weights are SGEMMs; norms, log-sum-exp and the loss are in
 * double, one row at a time, so the result does not depend on the thread
 * count. */
#include <math.h>

#include "kernels/cpu/blas.h"

#include "kernels/cpu/cpu.h"

/* The scratch of one call, carved from the context's: the doubles first
 * (the scratch is 64-byte aligned), then float blocks of whole cache lines. */
typedef struct margin_scratch {
    double *row_loss, *enorm, *wnorm; /* (N), (N), (C) */
    float *ehat, *what, *z;           /* (N,D), (C,D), (N,C) */
    float *dehat, *dwhat;             /* (N,D), (C,D) */
} margin_scratch;

static size_t lines(size_t floats)
{
    return (floats + 15) / 16 * 16;
}

static int scratch_of(siam_ctx *ctx, margin_scratch *sc, int N, int D, int C, int normed)
{
    size_t n = (size_t)N, d = (size_t)D, c = (size_t)C;
    size_t doubles = lines(2 * (2 * n + c)), nd = normed ? lines(n * d) : 0,
           cd = normed ? lines(c * d) : 0, nc = lines(n * c);
    float *p = siam_cpu_scratch(ctx, doubles + 2 * nd + 2 * cd + nc);
    if (p == NULL)
        return -1;
    sc->row_loss = (double *)(void *)p;
    sc->enorm = sc->row_loss + n;
    sc->wnorm = sc->enorm + n;
    p += doubles;
    sc->z = p;
    p += nc;
    sc->ehat = p;
    sc->dehat = p + nd;
    p += 2 * nd;
    sc->what = p;
    sc->dwhat = p + cd;
    return 0;
}

/* xhat (rows,D) = x / max(|x|, eps) per row, norm[r] = |x_r|. */
static void normalize_rows(float *xhat, double *norm, const float *x, int rows, int D)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * D;
        double s2 = 0.0;
        for (int k = 0; k < D; k++)
            s2 += (double)xr[k] * xr[k];
        norm[r] = sqrt(s2);
        double inv = 1.0 / fmax(norm[r], SIAM_MARGIN_NORM_EPS);
        float *o = xhat + (size_t)r * D;
        for (int k = 0; k < D; k++)
            o[k] = (float)(xr[k] * inv);
    }
}

/* dx (rows,D) += the gradient through x / max(|x|, eps) of dxhat:
 * (dxhat - xhat (xhat . dxhat)) / |x|, or dxhat / eps where the floor acts
 * (the norm is then a constant, as in torch.nn.functional.normalize). */
static void normalize_backward(float *dx, const float *dxhat, const float *xhat,
                               const double *norm, int rows, int D)
{
#pragma omp parallel for schedule(static)
    for (int r = 0; r < rows; r++) {
        const float *g = dxhat + (size_t)r * D, *u = xhat + (size_t)r * D;
        float *o = dx + (size_t)r * D;
        int floored = !(norm[r] > SIAM_MARGIN_NORM_EPS);
        double dot = 0.0;
        if (!floored)
            for (int k = 0; k < D; k++)
                dot += (double)u[k] * g[k];
        double inv = 1.0 / fmax(norm[r], SIAM_MARGIN_NORM_EPS);
        for (int k = 0; k < D; k++)
            o[k] += (float)(inv * (g[k] - dot * u[k]));
    }
}

/* Row i of z (N,C) holds cosines (raw logits for softmax) on entry and
 * d loss / d z-input on return: g_j = dloss/N (p_j - [j = y]) dlogit_j/dz_j. */
static void softmax_rows(double *row_loss, float *z, const int32_t *labels, int N, int C,
                         int kind, double s, double m, double dloss)
{
    double scale = dloss / N;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < N; i++) {
        float *zr = z + (size_t)i * C;
        int y = labels[i];
        double dzy, zy = siam_margin_target(kind, s, m, zr[y], &dzy);
        double mx = zy;
        for (int j = 0; j < C; j++)
            if (j != y)
                mx = fmax(mx, siam_margin_other(kind, s, zr[j]));
        double sum = 0.0;
        for (int j = 0; j < C; j++)
            sum += exp((j == y ? zy : siam_margin_other(kind, s, zr[j])) - mx);
        double lse = mx + log(sum);
        row_loss[i] = lse - zy;
        double ds = kind == SIAM_MARGIN_SOFTMAX ? 1.0 : s;
        for (int j = 0; j < C; j++) {
            if (j == y)
                zr[j] = (float)(scale * (exp(zy - lse) - 1.0) * dzy);
            else
                zr[j] = (float)(scale * exp(siam_margin_other(kind, s, zr[j]) - lse) * ds);
        }
    }
}

int siam_cpu_margin_softmax(siam_ctx *ctx, float *loss_host, float *dE, float *dW,
                            const float *E, const int32_t *labels, const float *W, int N, int D,
                            int C, int kind, float s, float m, float dloss)
{
    if (siam_check_margin_softmax(&ctx->err, N, D, C, kind, s, m))
        return -1;
    if (!loss_host || !E || !labels || !W)
        return siam_cpu_fail(ctx, "margin_softmax: NULL buffer");
    for (int i = 0; i < N; i++)
        if (labels[i] < 0 || labels[i] >= C)
            return siam_fail_margin_label(&ctx->err, i, labels[i], C);
    int normed = kind != SIAM_MARGIN_SOFTMAX;
    margin_scratch sc;
    if (scratch_of(ctx, &sc, N, D, C, normed))
        return -1;
    const float *e = E, *w = W;
    if (normed) {
        normalize_rows(sc.ehat, sc.enorm, E, N, D);
        normalize_rows(sc.what, sc.wnorm, W, C, D);
        e = sc.ehat;
        w = sc.what;
    }
    siam_cpu_blas_threads(ctx, 0);
    /* z (N,C) = e (N,D) * w^T (D,C): cosines, or the raw logits. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, C, D, 1.0f, e, D, w, D, 0.0f, sc.z,
                C);
    softmax_rows(sc.row_loss, sc.z, labels, N, C, kind, s, m, dloss);
    double total = 0.0;
    for (int i = 0; i < N; i++)
        total += sc.row_loss[i];
    *loss_host = (float)(total / N);
    /* Softmax: dE (N,D) += g (N,C) * W (C,D) and dW (C,D) += g^T (C,N) * E
     * (N,D). Margins: the same products into dehat and dwhat (overwritten),
     * then back through the normalisations into dE and dW. */
    float beta = normed ? 0.0f : 1.0f;
    if (dE)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, D, C, 1.0f, sc.z, C, w, D,
                    beta, normed ? sc.dehat : dE, D);
    if (dW)
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, C, D, N, 1.0f, sc.z, C, e, D, beta,
                    normed ? sc.dwhat : dW, D);
    if (normed && dE)
        normalize_backward(dE, sc.dehat, sc.ehat, sc.enorm, N, D);
    if (normed && dW)
        normalize_backward(dW, sc.dwhat, sc.what, sc.wnorm, C, D);
    return 0;
}
