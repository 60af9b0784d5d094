/* Fourier-domain conv2d (see conv2d_fft.h for the method). Layouts used
 * below, for a block of vb frequency columns v0..v0+vb of the half spectrum
 * (V = W/2 + 1 columns in all):
 *   spectrum S: [c][u][vv][t], c = 0 real / 1 imaginary, u < H the row
 *     frequency, t the transform index (image*channels + channel, or
 *     co*Ci + ci for filters); so frequency f = u*vb + vv holds, for each
 *     part c, a contiguous T-vector that reads as an (N x C) matrix.
 *   row pass Y: [c][h][vv][t]; column pass Q (inverse): [c][y][vv][t].
 * Why no wrap-around at transform size H x W (circular indices, 1-D):
 * forward out[y] = sum_k in[y+k] w[k] reads y+k <= H-1 for every kept
 * y < H-KH+1; backward-filter dw[k] = sum_y in[y+k] dout[y] likewise;
 * backward-data din[x] = sum_k dout[x-k] w[k] wraps only to x-k+H >=
 * H-KH+1, where the zero-extended dout is zero. */
#include <math.h>
#include <string.h>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv2d_fft.h"
#include "kernels/cpu/cpu.h"

typedef struct fft_dims {
    int N, Ci, H, W, Co, KH, KW, OH, OW;
    int V; /* columns of the half spectrum */
} fft_dims;

/* DFT matrices. G[c] (V x W): row pass e^{-2 pi i v w / W}. Gi[c] (V x W):
 * inverse row pass with the Hermitian weights (1 for v = 0 and v = W/2,
 * else 2) and the 1/(H W) scale folded in. F (2H x 2H): forward column pass
 * on split planes, [[cos, sin], [-sin, cos]] so that X = F [Yre; Yim];
 * Fi (2H x 2H): inverse column pass, [[cos, -sin], [sin, cos]]. */
typedef struct dft_mats {
    float *G[2], *Gi[2], *F, *Fi;
} dft_mats;

static size_t dft_mats_floats(const fft_dims *d)
{
    return 4 * (size_t)d->V * d->W + 8 * (size_t)d->H * d->H;
}

static void dft_mats_fill(dft_mats *m, float *mem, const fft_dims *d)
{
    int H = d->H, W = d->W, V = d->V;
    size_t vw = (size_t)V * W;
    m->G[0] = mem;
    m->G[1] = mem + vw;
    m->Gi[0] = mem + 2 * vw;
    m->Gi[1] = mem + 3 * vw;
    m->F = mem + 4 * vw;
    m->Fi = m->F + 4 * (size_t)H * H;
    const double tau = 6.283185307179586476925286766559;
    double scale = 1.0 / ((double)H * W);
    for (int v = 0; v < V; v++) {
        double cv = (v == 0 || 2 * v == W) ? 1.0 : 2.0;
        for (int x = 0; x < W; x++) {
            /* The product is reduced mod W first so the angle stays exact. */
            double a = tau * (double)(((long)v * x) % W) / W;
            size_t i = (size_t)v * W + x;
            m->G[0][i] = (float)cos(a);
            m->G[1][i] = (float)-sin(a);
            m->Gi[0][i] = (float)(cv * scale * cos(a));
            m->Gi[1][i] = (float)(-cv * scale * sin(a));
        }
    }
    size_t n2 = 2 * (size_t)H;
    for (int u = 0; u < H; u++)
        for (int h = 0; h < H; h++) {
            double a = tau * (double)(((long)u * h) % H) / H;
            float c = (float)cos(a), s = (float)sin(a);
            m->F[u * n2 + h] = c;
            m->F[u * n2 + H + h] = s;
            m->F[(H + u) * n2 + h] = -s;
            m->F[(H + u) * n2 + H + h] = c;
            m->Fi[u * n2 + h] = c;
            m->Fi[u * n2 + H + h] = -s;
            m->Fi[(H + u) * n2 + h] = s;
            m->Fi[(H + u) * n2 + H + h] = c;
        }
}

/* S (2, H, vb, T) = forward DFT, frequency columns v0..v0+vb, of T real
 * planes whose top-left Hin x Win corner is x + t*xs (row stride rs) and
 * whose remaining entries are zero. Y is scratch of 2*Hin*vb*T floats. */
static void dft_forward(const dft_mats *m, const fft_dims *d, int v0, int vb, float *S, float *Y,
                        const float *x, int T, int Hin, int Win, int xs, int rs)
{
    int H = d->H;
    size_t bt = (size_t)vb * T;
#pragma omp parallel for schedule(dynamic)
    for (int ch = 0; ch < 2 * Hin; ch++) {
        int c = ch / Hin, h = ch % Hin;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, vb, T, Win, 1.0f,
                    m->G[c] + (size_t)v0 * d->W, d->W, x + (size_t)h * rs, xs, 0.0f,
                    Y + ((size_t)c * Hin + h) * bt, T);
    }
#pragma omp parallel for schedule(dynamic)
    for (int vv = 0; vv < vb; vv++)
        for (int c = 0; c < 2; c++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 2 * H, T, Hin, 1.0f,
                        m->F + (size_t)c * H, 2 * H, Y + (size_t)c * Hin * bt + (size_t)vv * T,
                        (int)bt, c ? 1.0f : 0.0f, S + (size_t)vv * T, (int)bt);
}

/* y[t] (top-left Hx x Wx corner, plane stride ys, row stride rs) += the
 * part of the inverse DFT of S (2, H, vb, T) that comes from frequency
 * columns v0..v0+vb. Summing the calls over all blocks gives the inverse.
 * Q is scratch of 2*Hx*vb*T floats. */
static void dft_inverse_add(const dft_mats *m, const fft_dims *d, int v0, int vb, float *y,
                            int ys, int rs, const float *S, float *Q, int T, int Hx, int Wx)
{
    int H = d->H;
    size_t bt = (size_t)vb * T;
#pragma omp parallel for schedule(dynamic)
    for (int vc = 0; vc < 2 * vb; vc++) {
        int vv = vc / 2, c = vc % 2;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Hx, T, 2 * H, 1.0f,
                    m->Fi + (size_t)c * H * 2 * H, 2 * H, S + (size_t)vv * T, (int)bt, 0.0f,
                    Q + (size_t)c * Hx * bt + (size_t)vv * T, (int)bt);
    }
#pragma omp parallel for schedule(dynamic)
    for (int yy = 0; yy < Hx; yy++)
        for (int c = 0; c < 2; c++)
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, Wx, vb, 1.0f,
                        Q + ((size_t)c * Hx + yy) * bt, T, m->Gi[c] + (size_t)v0 * d->W, d->W,
                        1.0f, y + (size_t)yy * rs, ys);
}

/* One complex matrix product per frequency on split planes: for each of the
 * nf frequencies, Z (M x Nn) = op(A) (M x K) * op(B) (K x Nn) with
 *   mode 0 (forward):         Z = A * B^H,  A (M x K), B (Nn x K)
 *   mode 1 (backward data):   Z = A * B,    A (M x K), B (K x Nn)
 *   mode 2 (backward filter): Z = A^H * B,  A (K x M), B (K x Nn)
 * Each operand's real plane is followed, nf*T floats later, by its
 * imaginary plane. */
typedef struct cprod {
    int mode, M, Nn, K;
} cprod;

static void cprod_run(const cprod *p, int nf, float *Z, const float *A, const float *B)
{
    size_t tz = (size_t)p->M * p->Nn, ta = (size_t)p->M * p->K, tb = (size_t)p->K * p->Nn;
    size_t oz = nf * tz, oa = nf * ta, ob = nf * tb;
    CBLAS_TRANSPOSE opa = p->mode == 2 ? CblasTrans : CblasNoTrans;
    CBLAS_TRANSPOSE opb = p->mode == 0 ? CblasTrans : CblasNoTrans;
    int lda = p->mode == 2 ? p->M : p->K;
    int ldb = p->mode == 0 ? p->K : p->Nn;
    /* (ar + i ai)(br + i bi) with the conjugated operand's imaginary sign
     * flipped: sa = -1 conjugates A, sb = -1 conjugates B. */
    float sa = p->mode == 2 ? -1.0f : 1.0f, sb = p->mode == 0 ? -1.0f : 1.0f;
#pragma omp parallel for schedule(dynamic)
    for (int f = 0; f < nf; f++) {
        const float *ar = A + f * ta, *ai = ar + oa, *br = B + f * tb, *bi = br + ob;
        float *zr = Z + f * tz, *zi = zr + oz;
        if (p->K == 1) {
            /* Rank-one products (one input channel) are cheaper as loops. */
            for (int i = 0; i < p->M; i++)
                for (int j = 0; j < p->Nn; j++) {
                    float xr = ar[i], xi = sa * ai[i], yr = br[j], yi = sb * bi[j];
                    zr[(size_t)i * p->Nn + j] = xr * yr - xi * yi;
                    zi[(size_t)i * p->Nn + j] = xr * yi + xi * yr;
                }
            continue;
        }
        /* zr = ar br - (sa ai)(sb bi); zi = ar (sb bi) + (sa ai) br. */
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, 1.0f, ar, lda, br, ldb, 0.0f, zr,
                    p->Nn);
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, -sa * sb, ai, lda, bi, ldb, 1.0f,
                    zr, p->Nn);
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, sb, ar, lda, bi, ldb, 0.0f, zi,
                    p->Nn);
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, sa, ai, lda, br, ldb, 1.0f, zi,
                    p->Nn);
    }
}

static int fft_check(siam_ctx *ctx, const char *fn, fft_dims *d, int N, int Ci, int H, int W,
                     int Co, int KH, int KW)
{
    if (siam_cpu_conv2d_check_sizes(ctx, fn, N, Ci, H, W, Co, KH, KW))
        return -1;
    d->N = N, d->Ci = Ci, d->H = H, d->W = W, d->Co = Co, d->KH = KH, d->KW = KW;
    d->OH = H - KH + 1;
    d->OW = W - KW + 1;
    d->V = W / 2 + 1;
    return 0;
}

/* Frequency columns per block: as many as SIAM_CPU_FFT_SCRATCH_BYTES allows
 * for `per_v` floats per column, at least one, at most vb_max when > 0. */
static int fft_block(const fft_dims *d, size_t per_v, int vb_max)
{
    size_t budget = SIAM_CPU_FFT_SCRATCH_BYTES / sizeof(float);
    size_t fixed = dft_mats_floats(d);
    size_t vb = budget > fixed ? (budget - fixed) / per_v : 1;
    if (vb < 1)
        vb = 1;
    if (vb > (size_t)d->V)
        vb = (size_t)d->V;
    if (vb_max > 0 && vb > (size_t)vb_max)
        vb = (size_t)vb_max;
    return (int)vb;
}

static size_t max3(size_t a, size_t b, size_t c)
{
    size_t m = a > b ? a : b;
    return m > c ? m : c;
}

/* Scratch floats per frequency column for a chunk of nc images. */
static size_t fwd_per_v(const fft_dims *d, int nc)
{
    size_t Ti = (size_t)nc * d->Ci, Tw = (size_t)d->Co * d->Ci, To = (size_t)nc * d->Co;
    return 2 * (size_t)d->H * (Ti + Tw + To)
           + 2 * max3((size_t)d->H * Ti, (size_t)d->KH * Tw, (size_t)d->OH * To);
}

static size_t bwd_per_v(const fft_dims *d, int nc, int has_din)
{
    size_t Ti = (size_t)nc * d->Ci, Tw = (size_t)d->Co * d->Ci, To = (size_t)nc * d->Co;
    size_t tx = has_din && Ti > Tw ? Ti : Tw;
    return 2 * (size_t)d->H * (Ti + (has_din ? Tw : 0) + To + tx)
           + 2 * max3((size_t)d->H * Ti, (size_t)d->KH * Tw, (size_t)d->OH * To);
}

/* Images per chunk: the whole batch when a block of SIAM_FFT_MIN_BLOCK
 * frequency columns fits the budget, else halved until it does (or one
 * image). Narrow blocks make the last inverse pass a GEMM with a tiny inner
 * dimension, which is bound by memory traffic on the output; recomputing
 * the filter spectrum per chunk is cheaper. images_max > 0 caps it. */
#define SIAM_FFT_MIN_BLOCK 8
static int fft_images(const fft_dims *d, int has_din, int backward, int images_max)
{
    size_t budget = SIAM_CPU_FFT_SCRATCH_BYTES / sizeof(float), fixed = dft_mats_floats(d);
    size_t want = (size_t)(d->V < SIAM_FFT_MIN_BLOCK ? d->V : SIAM_FFT_MIN_BLOCK);
    int nc = images_max > 0 && images_max < d->N ? images_max : d->N;
    while (nc > 1) {
        size_t pv = backward ? bwd_per_v(d, nc, has_din) : fwd_per_v(d, nc);
        if (fixed + pv * want <= budget)
            break;
        nc = (nc + 1) / 2;
    }
    return nc;
}

int siam_cpu_conv2d_fft_forward_blocks(siam_ctx *ctx, float *out, const float *in,
                                       const float *w, const float *b, int N, int Ci, int H, int W,
                                       int Co, int KH, int KW, int vb_max, int images_max)
{
    fft_dims d;
    if (fft_check(ctx, "conv2d_fft_forward", &d, N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!out || !in || !w || !b)
        return siam_cpu_fail(ctx, "conv2d_fft_forward: NULL buffer");
    int nc = fft_images(&d, 0, 0, images_max);
    size_t per_v = fwd_per_v(&d, nc);
    int vb = fft_block(&d, per_v, vb_max);
    float *mem = siam_cpu_scratch(ctx, dft_mats_floats(&d) + per_v * vb);
    if (mem == NULL)
        return siam_fail_wrap(&ctx->err, "conv2d_fft_forward");
    dft_mats m;
    dft_mats_fill(&m, mem, &d);
    int Tw = Co * Ci;
    size_t h2 = 2 * (size_t)H, plane = (size_t)d.OH * d.OW;
    float *Si = mem + dft_mats_floats(&d);
    float *Sw = Si + h2 * vb * nc * Ci, *So = Sw + h2 * vb * Tw, *Y = So + h2 * vb * nc * Co;
    float *Q = Y; /* the row-pass scratch is free again by the inverse */

#pragma omp parallel for schedule(static)
    for (int t = 0; t < N * Co; t++)
        for (size_t p = 0; p < plane; p++)
            out[(size_t)t * plane + p] = b[t % Co];

    /* Thousands of small GEMMs: OpenMP splits the loops around them and each
     * call runs on its calling thread. OpenBLAS's own workers, woken per
     * call, spent their time spinning and yielding (docs/perf.md). The
     * context's thread count is restored before returning. */
    openblas_set_num_threads(1);
    /* Blocks outside, image chunks inside: the filter spectrum of a block is
     * computed once for all chunks. */
    for (int v0 = 0; v0 < d.V; v0 += vb) {
        int nb = d.V - v0 < vb ? d.V - v0 : vb;
        dft_forward(&m, &d, v0, nb, Sw, Y, w, Tw, KH, KW, KH * KW, KW);
        for (int n0 = 0; n0 < N; n0 += nc) {
            int n = N - n0 < nc ? N - n0 : nc;
            cprod pf = {0, n, Co, Ci};
            dft_forward(&m, &d, v0, nb, Si, Y, in + (size_t)n0 * Ci * H * W, n * Ci, H, W,
                        H * W, W);
            cprod_run(&pf, H * nb, So, Si, Sw);
            dft_inverse_add(&m, &d, v0, nb, out + (size_t)n0 * Co * plane, (int)plane, d.OW,
                            So, Q, n * Co, d.OH, d.OW);
        }
    }
    openblas_set_num_threads(ctx->threads);
    return 0;
}

int siam_cpu_conv2d_fft_backward_blocks(siam_ctx *ctx, float *din, float *dw, float *db,
                                        const float *dout, const float *in, const float *w, int N,
                                        int Ci, int H, int W, int Co, int KH, int KW, int vb_max,
                                        int images_max)
{
    fft_dims d;
    if (fft_check(ctx, "conv2d_fft_backward", &d, N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!dw || !db || !dout || !in || !w)
        return siam_cpu_fail(ctx, "conv2d_fft_backward: NULL buffer");
    size_t plane = (size_t)d.OH * d.OW;

    siam_cpu_conv2d_bias_grad(db, dout, N, Co, plane);

    int has_din = din != NULL;
    int nc = fft_images(&d, has_din, 1, images_max);
    size_t per_v = bwd_per_v(&d, nc, has_din);
    int vb = fft_block(&d, per_v, vb_max);
    float *mem = siam_cpu_scratch(ctx, dft_mats_floats(&d) + per_v * vb);
    if (mem == NULL)
        return siam_fail_wrap(&ctx->err, "conv2d_fft_backward");
    dft_mats m;
    dft_mats_fill(&m, mem, &d);
    int Tw = Co * Ci;
    size_t h2 = 2 * (size_t)H, Tim = (size_t)nc * Ci;
    size_t tx = has_din && Tim > (size_t)Tw ? Tim : (size_t)Tw;
    float *Si = mem + dft_mats_floats(&d);
    float *Sd = Si + h2 * vb * Tim, *Sx = Sd + h2 * vb * nc * Co, *Sw = Sx + h2 * vb * tx;
    float *Y = Sw + (has_din ? h2 * vb * Tw : 0);
    float *Q = Y;

    if (din)
        memset(din, 0, (size_t)N * Ci * H * W * sizeof(float));
    openblas_set_num_threads(1); /* as in the forward */
    for (int v0 = 0; v0 < d.V; v0 += vb) {
        int nb = d.V - v0 < vb ? d.V - v0 : vb;
        if (din)
            dft_forward(&m, &d, v0, nb, Sw, Y, w, Tw, KH, KW, KH * KW, KW);
        for (int n0 = 0; n0 < N; n0 += nc) {
            int n = N - n0 < nc ? N - n0 : nc, Ti = n * Ci, To = n * Co;
            cprod pw = {2, Co, Ci, n}, pd = {1, n, Ci, Co};
            dft_forward(&m, &d, v0, nb, Sd, Y, dout + (size_t)n0 * Co * plane, To, d.OH, d.OW,
                        (int)plane, d.OW);
            dft_forward(&m, &d, v0, nb, Si, Y, in + (size_t)n0 * Ci * H * W, Ti, H, W, H * W, W);
            cprod_run(&pw, H * nb, Sx, Sd, Si);
            dft_inverse_add(&m, &d, v0, nb, dw, KH * KW, KW, Sx, Q, Tw, KH, KW);
            if (din) {
                cprod_run(&pd, H * nb, Sx, Sd, Sw);
                dft_inverse_add(&m, &d, v0, nb, din + (size_t)n0 * Ci * H * W, H * W, W, Sx, Q,
                                Ti, H, W);
            }
        }
    }
    openblas_set_num_threads(ctx->threads);
    return 0;
}

int siam_cpu_conv2d_fft_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                                const float *b, int N, int Ci, int H, int W, int Co, int KH,
                                int KW)
{
    return siam_cpu_conv2d_fft_forward_blocks(ctx, out, in, w, b, N, Ci, H, W, Co, KH, KW, 0, 0);
}

int siam_cpu_conv2d_fft_backward(siam_ctx *ctx, float *din, float *dw, float *db,
                                 const float *dout, const float *in, const float *w, int N, int Ci,
                                 int H, int W, int Co, int KH, int KW)
{
    return siam_cpu_conv2d_fft_backward_blocks(ctx, din, dw, db, dout, in, w, N, Ci, H, W, Co, KH,
                                               KW, 0, 0);
}
