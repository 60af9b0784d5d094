/* Fourier-domain conv2d (see conv2d_fft.h for the method). Layouts used
 * below, for a block of vb frequency columns v0..v0+vb of the half spectrum
 * (V = PW/2 + 1 columns in all), with Tp = T rounded up to a multiple of 8:
 *   spectrum S: [c][u][vv][Tp], c = 0 real / 1 imaginary, u < PH the row
 *     frequency, t the transform index (image*channels + channel, or
 *     co*Ci + ci for filters); so frequency f = u*vb + vv holds, for each
 *     part c, a contiguous T-vector that reads as an (N x C) matrix.
 *   per-thread row-pass buffer: [group][c][h][vv][8 lanes].
 * Why no wrap-around at transform size PH x PW >= H x W (circular indices,
 * 1-D, P >= H):
 * forward out[y] = sum_k in[y+k] w[k] reads y+k <= H-1 for every kept
 * y < H-KH+1; backward-filter dw[k] = sum_y in[y+k] dout[y] likewise;
 * backward-data din[x] = sum_k dout[x-k] w[k] wraps only to x-k+P >=
 * H-KH+1, where the zero-extended dout is zero. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv2d_fft.h"
#include "kernels/cpu/cpu.h"
#include "kernels/cpu/fft.h"

typedef struct fft_dims {
    int N, Ci, H, W, Co, KH, KW, OH, OW;
    int PH, PW; /* transform sizes: H and W padded to 7-smooth lengths */
    int V;      /* columns of the half spectrum, PW/2 + 1 */
} fft_dims;

/* Transforms are batched 8 at a time (one per SIMD lane), so every
 * transform count T is laid out padded to a multiple of 8. */
static size_t pad8(size_t t)
{
    return (t + 7) & ~(size_t)7;
}

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Row (length PW) and column (length PH) plans, and per-thread work: 4
 * lane rows (re, im and the Stockham ping-pong) of the longer length, then
 * one group's row-pass result (2 x H rows x V columns of lane vectors), so
 * that the two passes of a 2-D transform meet in cache, not in memory. */
typedef struct fft_plans {
    siam_fft_plan row, col;
    float *work;
    size_t work_floats; /* per thread */
} fft_plans;

/* Lane groups per job: up to 8 (so that the column pass writes 256
 * contiguous bytes of each spectrum row), as long as their row-pass
 * results fit in about 192 KiB (in L2 beside the FFT rows). */
static int groups_per_job(const fft_dims *d)
{
    size_t one = 2 * SIAM_FFT_LANES * (size_t)d->H * d->V * sizeof(float);
    size_t g = ((size_t)192 << 10) / one;
    return g < 1 ? 1 : g > 8 ? 8 : (int)g;
}

static size_t work_floats(const fft_dims *d)
{
    int P = d->PH > d->PW ? d->PH : d->PW;
    return 4 * SIAM_FFT_LANES * (size_t)P
           + 2 * SIAM_FFT_LANES * (size_t)d->H * d->V * groups_per_job(d);
}

static size_t plans_floats(const fft_dims *d)
{
    return pad8(siam_fft_plan_floats(d->PW)) + pad8(siam_fft_plan_floats(d->PH))
           + (size_t)max_threads() * work_floats(d);
}

static void plans_fill(fft_plans *p, float *mem, const fft_dims *d)
{
    /* Both lengths are 7-smooth by construction (siam_fft_size_fast). */
    siam_fft_plan_init(&p->row, d->PW, mem);
    mem += pad8(siam_fft_plan_floats(d->PW));
    siam_fft_plan_init(&p->col, d->PH, mem);
    mem += pad8(siam_fft_plan_floats(d->PH));
    p->work = mem;
    p->work_floats = work_floats(d);
}

/* One input channel: the forward product OUT = IN * conj(W) is rank one
 * per frequency, so it is formed inside the inverse, one spectrum column
 * of 8 output channels at a time, and the (images x Co) output spectrum
 * never goes through memory. Si (2, PH, vb, Tip) holds the images' spectra
 * and Sw (2, PH, vb, Twp) the filters'; needs Co % 8 == 0 so that a lane
 * group is one image and 8 consecutive channels. */
typedef struct rank1_src {
    const float *Si, *Sw;
    size_t Tip, Twp;
    int Co;
} rank1_src;

static int rank1_fused(const fft_dims *d)
{
    return d->Ci == 1 && d->Co % SIAM_FFT_LANES == 0;
}

typedef float v8f __attribute__((vector_size(32), aligned(4), may_alias));

/* re/im[u] (lane vectors, u < PH) = Si[u][vv][n] * conj(Sw[u][vv][co0..co0+7]). */
static void rank1_column(float *re, float *im, const rank1_src *r, int PH, int vb, int vv, int n,
                         int co0)
{
    size_t bi = (size_t)vb * r->Tip, bw = (size_t)vb * r->Twp;
    const float *ar = r->Si + (size_t)vv * r->Tip + n, *ai = ar + (size_t)PH * bi;
    const float *wr = r->Sw + (size_t)vv * r->Twp + co0, *wi = wr + (size_t)PH * bw;
    for (int u = 0; u < PH; u++) {
        v8f Wr = *(const v8f *)(wr + u * bw), Wi = *(const v8f *)(wi + u * bw);
        float sr = ar[u * bi], si = ai[u * bi];
        *(v8f *)(re + SIAM_FFT_LANES * u) = sr * Wr + si * Wi;
        *(v8f *)(im + SIAM_FFT_LANES * u) = si * Wr - sr * Wi;
    }
}

/* Row pass of lane group g (planes 8g..8g+7 of T, as in dft_forward) into
 * Y (2, Hin, vb) lane vectors: rows go two at a time through one complex
 * FFT (real and imaginary parts) and split into their half spectra. re,
 * im, w0, w1 are lane rows of length PW. */
static void row_pass_group(const fft_plans *pl, const fft_dims *d, int v0, int vb, float *Y,
                           const float *x, int T, int g, int Hin, int Win, int xs, int rs,
                           float *re, float *im, float *w0, float *w1)
{
    const int PW = d->PW, L = SIAM_FFT_LANES;
    size_t rowv = (size_t)L * vb, plane = Hin * rowv;
    for (int h0 = 0; h0 < Hin; h0 += 2) {
        int h1 = h0 + 1;
        const float *r0[SIAM_FFT_LANES], *r1[SIAM_FFT_LANES];
        for (int l = 0; l < L; l++) {
            size_t t = (size_t)g * L + l;
            r0[l] = t < (size_t)T ? x + t * xs + (size_t)h0 * rs : NULL;
            r1[l] = r0[l] && h1 < Hin ? r0[l] + rs : NULL;
        }
        siam_fft_lanes_load_rows(re, r0, Win, PW);
        siam_fft_lanes_load_rows(im, r1, Win, PW);
        siam_fft_lanes(&pl->row, 0, re, im, w0, w1);
        float *a = Y + h0 * rowv;
        siam_fft_lanes_split(PW, re, im, v0, vb, a, a + plane, h1 < Hin ? a + rowv : NULL,
                             h1 < Hin ? a + rowv + plane : NULL, L);
    }
}

/* S (2, PH, vb, Tp) = forward 2-D DFT, frequency columns v0..v0+vb, of T
 * real planes whose top-left Hin x Win corner is x + t*xs (row stride rs)
 * and whose other entries are zero; Tp = pad8(T), lanes t >= T are zero.
 * Per group of 8 planes: the row pass into the thread's buffer, then each
 * column is a complex FFT of length PH. */
static void dft_forward(const fft_plans *pl, const fft_dims *d, int v0, int vb, float *S,
                        const float *x, int T, int Hin, int Win, int xs, int rs)
{
    const int PW = d->PW, PH = d->PH, L = SIAM_FFT_LANES;
    size_t Tp = pad8(T), bt = (size_t)vb * Tp, rowv = (size_t)L * vb, plane = Hin * rowv;
    int groups = (int)(Tp / L), G = groups_per_job(d), jobs = (groups + G - 1) / G;
#pragma omp parallel for schedule(dynamic)
    for (int job = 0; job < jobs; job++) {
        float *re = pl->work + thread_id() * pl->work_floats;
        int P = PW > PH ? PW : PH, g0 = job * G, ng = groups - g0 < G ? groups - g0 : G;
        float *im = re + L * P, *w0 = im + L * P, *w1 = w0 + L * P, *Y = w1 + L * P;
        /* Y: [group][c][h][vv] lane vectors. */
        for (int gi = 0; gi < ng; gi++)
            row_pass_group(pl, d, v0, vb, Y + 2 * plane * gi, x, T, g0 + gi, Hin, Win, xs, rs, re,
                           im, w0, w1);
        for (int vv = 0; vv < vb; vv++)
            for (int gi = 0; gi < ng; gi++) {
                float *col = S + (size_t)vv * Tp + (size_t)(g0 + gi) * L;
                const float *Yg = Y + 2 * plane * gi;
                siam_fft_lanes_gather(re, Yg + (size_t)vv * L, rowv, Hin, PH);
                siam_fft_lanes_gather(im, Yg + plane + (size_t)vv * L, rowv, Hin, PH);
                siam_fft_lanes(&pl->col, 0, re, im, w0, w1);
                siam_fft_lanes_scatter(col, bt, re, PH);
                siam_fft_lanes_scatter(col + (size_t)PH * bt, bt, im, PH);
            }
    }
}

/* One input channel, filter gradient: Sdw (2, PH, vb, Twp) += sum over the
 * chunk's n images of conj(DOUT[n][co]) * IN[n], frequency by frequency,
 * where DOUT is the transform of the n*Co planes at x (laid out as for
 * dft_forward) and IN[n] is read from r->Si. The output-gradient spectrum
 * never goes through memory. A job owns 8 output channels and loops over
 * the images in order, so each accumulator has one writer and a fixed
 * summation order. */
static void dft_forward_rank1_acc(const fft_plans *pl, const fft_dims *d, int v0, int vb,
                                  float *Sdw, const rank1_src *r, const float *x, int n, int Hin,
                                  int Win, int xs, int rs)
{
    const int PW = d->PW, PH = d->PH, L = SIAM_FFT_LANES, cgs = r->Co / L;
    size_t rowv = (size_t)L * vb, plane = Hin * rowv;
    size_t bi = (size_t)vb * r->Tip, bw = (size_t)vb * r->Twp;
#pragma omp parallel for schedule(dynamic)
    for (int cg = 0; cg < cgs; cg++) {
        float *re = pl->work + thread_id() * pl->work_floats;
        int P = PW > PH ? PW : PH;
        float *im = re + L * P, *w0 = im + L * P, *w1 = w0 + L * P, *Y = w1 + L * P;
        for (int img = 0; img < n; img++) {
            row_pass_group(pl, d, v0, vb, Y, x, n * r->Co, img * cgs + cg, Hin, Win, xs, rs, re,
                           im, w0, w1);
            for (int vv = 0; vv < vb; vv++) {
                siam_fft_lanes_gather(re, Y + (size_t)vv * L, rowv, Hin, PH);
                siam_fft_lanes_gather(im, Y + plane + (size_t)vv * L, rowv, Hin, PH);
                siam_fft_lanes(&pl->col, 0, re, im, w0, w1);
                const float *ar = r->Si + (size_t)vv * r->Tip + img, *ai = ar + (size_t)PH * bi;
                float *zr = Sdw + (size_t)vv * r->Twp + (size_t)cg * L, *zi = zr + (size_t)PH * bw;
                for (int u = 0; u < PH; u++) {
                    /* conj(D) * S = (dr sr + di si) + i (dr si - di sr) */
                    v8f dr = *(const v8f *)(re + L * u), di = *(const v8f *)(im + L * u);
                    float sr = ar[u * bi], si = ai[u * bi];
                    *(v8f *)(zr + u * bw) += dr * sr + di * si;
                    *(v8f *)(zi + u * bw) += dr * si - di * sr;
                }
            }
        }
    }
}

/* y[t] (top-left Hx x Wx corner, plane stride ys, row stride rs) += the
 * part of the inverse 2-D DFT of S (2, PH, vb, Tp) that comes from
 * frequency columns v0..v0+vb (the Hermitian half: each column stands for
 * itself and its mirror). Summing the calls over all blocks gives the
 * inverse. The same per-group order as dft_forward, backwards. With r1,
 * S is not read: the spectrum is the rank-one product that r1 describes. */
static void dft_inverse_add(const fft_plans *pl, const fft_dims *d, int v0, int vb, float *y,
                            int ys, int rs, const float *S, const rank1_src *r1, int T, int Hx,
                            int Wx)
{
    const int PW = d->PW, PH = d->PH, L = SIAM_FFT_LANES;
    size_t Tp = pad8(T), bt = (size_t)vb * Tp, rowv = (size_t)L * vb, plane = Hx * rowv;
    int groups = (int)(Tp / L), G = groups_per_job(d), jobs = (groups + G - 1) / G;
    const float scale = (float)(1.0 / ((double)PH * PW));
#pragma omp parallel for schedule(dynamic)
    for (int job = 0; job < jobs; job++) {
        float *re = pl->work + thread_id() * pl->work_floats;
        int P = PW > PH ? PW : PH, g0 = job * G, ng = groups - g0 < G ? groups - g0 : G;
        float *im = re + L * P, *w0 = im + L * P, *w1 = w0 + L * P, *Q = w1 + L * P;
        /* Q: [group][c][y][vv] lane vectors. */
        for (int vv = 0; vv < vb; vv++)
            for (int gi = 0; gi < ng; gi++) {
                float *Qg = Q + 2 * plane * gi;
                if (r1) {
                    int t0 = (g0 + gi) * L;
                    rank1_column(re, im, r1, PH, vb, vv, t0 / r1->Co, t0 % r1->Co);
                } else {
                    const float *col = S + (size_t)vv * Tp + (size_t)(g0 + gi) * L;
                    siam_fft_lanes_gather(re, col, bt, PH, PH);
                    siam_fft_lanes_gather(im, col + (size_t)PH * bt, bt, PH, PH);
                }
                siam_fft_lanes(&pl->col, 1, re, im, w0, w1);
                siam_fft_lanes_scatter(Qg + (size_t)vv * L, rowv, re, Hx);
                siam_fft_lanes_scatter(Qg + plane + (size_t)vv * L, rowv, im, Hx);
            }
        for (int gi = 0; gi < ng; gi++) {
            const float *Qg = Q + 2 * plane * gi;
            for (int y0 = 0; y0 < Hx; y0 += 2) {
                int y1 = y0 + 1;
                const float *a = Qg + y0 * rowv;
                siam_fft_lanes_merge(PW, re, im, v0, vb, a, a + plane,
                                     y1 < Hx ? a + rowv : NULL, y1 < Hx ? a + rowv + plane : NULL,
                                     L);
                siam_fft_lanes(&pl->row, 1, re, im, w0, w1);
                float *r0[SIAM_FFT_LANES], *r1[SIAM_FFT_LANES];
                for (int l = 0; l < L; l++) {
                    size_t t = (size_t)(g0 + gi) * L + l;
                    r0[l] = t < (size_t)T ? y + t * ys + (size_t)y0 * rs : NULL;
                    r1[l] = r0[l] && y1 < Hx ? r0[l] + rs : NULL;
                }
                siam_fft_lanes_add_rows(r0, re, Wx, scale);
                siam_fft_lanes_add_rows(r1, im, Wx, scale);
            }
        }
    }
}

/* One complex matrix product per frequency on split planes: for each of the
 * nf frequencies, Z (M x Nn) (+)= op(A) (M x K) * op(B) (K x Nn) with
 *   mode 0 (forward):         Z = A * B^H,  A (M x K), B (Nn x K)
 *   mode 1 (backward data):   Z = A * B,    A (M x K), B (K x Nn)
 *   mode 2 (backward filter): Z = A^H * B,  A (K x M), B (K x Nn)
 * Frequency f of an operand with T = rows*cols entries starts at f*pad8(T);
 * its imaginary plane follows nf*pad8(T) floats after the real one. acc:
 * add into Z instead of overwriting it. */
typedef struct cprod {
    int mode, M, Nn, K, acc;
} cprod;

/* Per-thread temporaries of cprod_run for chunks of nc images: the sums
 * of operand planes that Gauss's trick multiplies (at most one A-sized and
 * two B-sized) and one Z-sized product, whatever the mode. */
static size_t cprod_tmp_floats(const fft_dims *d, int nc)
{
    size_t a = (size_t)nc * d->Ci, b = (size_t)d->Co * d->Ci, c = (size_t)nc * d->Co;
    return pad8(2 * (a + b + c));
}

/* Gauss's three-multiplication complex product (Knuth, TAOCP vol. 2,
 * 4.6.4): with X = Ar + i Xi and Y = Br + i Yi,
 *   k1 = (Ar + Xi) Br, k2 = Ar (Yi - Br), k3 = Xi (Br + Yi),
 *   Re XY = k1 - k3, Im XY = k1 + k2,
 * which holds for matrices as well (only products of X parts with Y parts
 * appear, never reordered): 3 real GEMMs instead of 4, for some elementwise
 * sums. tmp holds cprod_tmp_floats floats per thread. */
static void cprod_run(const cprod *p, int nf, float *Z, const float *A, const float *B,
                      float *tmp, size_t tmp_floats)
{
    size_t nz = (size_t)p->M * p->Nn, na = (size_t)p->M * p->K, nb = (size_t)p->K * p->Nn;
    size_t tz = pad8(nz), ta = pad8(na), tb = pad8(nb);
    size_t oz = nf * tz, oa = nf * ta, ob = nf * tb;
    CBLAS_TRANSPOSE opa = p->mode == 2 ? CblasTrans : CblasNoTrans;
    CBLAS_TRANSPOSE opb = p->mode == 0 ? CblasTrans : CblasNoTrans;
    int lda = p->mode == 2 ? p->M : p->K;
    int ldb = p->mode == 0 ? p->K : p->Nn;
    /* Xi = sa Ai and Yi = sb Bi: sa = -1 conjugates A, sb = -1 conjugates
     * B. */
    float sa = p->mode == 2 ? -1.0f : 1.0f, sb = p->mode == 0 ? -1.0f : 1.0f;
#pragma omp parallel for schedule(dynamic)
    for (int f = 0; f < nf; f++) {
        const float *ar = A + f * ta, *ai = ar + oa, *br = B + f * tb, *bi = br + ob;
        float *zr = Z + f * tz, *zi = zr + oz;
        if (p->K == 1) {
            /* Rank-one products (one input channel) are cheaper as loops. */
            for (int i = 0; i < p->M; i++) {
                float xr = ar[i], xi = sa * ai[i];
                float *zri = zr + (size_t)i * p->Nn, *zii = zi + (size_t)i * p->Nn;
                /* Z is not read when overwriting: it may hold anything,
                 * NaN included, and 0 * NaN is NaN. */
                if (p->acc) {
#pragma omp simd
                    for (int j = 0; j < p->Nn; j++) {
                        float yr = br[j], yi = sb * bi[j];
                        zri[j] += xr * yr - xi * yi;
                        zii[j] += xr * yi + xi * yr;
                    }
                } else {
#pragma omp simd
                    for (int j = 0; j < p->Nn; j++) {
                        float yr = br[j], yi = sb * bi[j];
                        zri[j] = xr * yr - xi * yi;
                        zii[j] = xr * yi + xi * yr;
                    }
                }
            }
            continue;
        }
        float *ap = tmp + thread_id() * tmp_floats, *bm = ap + na, *bp = bm + nb, *k1 = bp + nb;
#pragma omp simd
        for (size_t i = 0; i < na; i++)
            ap[i] = ar[i] + sa * ai[i];
#pragma omp simd
        for (size_t i = 0; i < nb; i++) {
            bm[i] = sb * bi[i] - br[i];
            bp[i] = br[i] + sb * bi[i];
        }
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, 1.0f, ap, lda, br, ldb, 0.0f, k1,
                    p->Nn);
        if (p->acc) {
#pragma omp simd
            for (size_t i = 0; i < nz; i++) {
                zr[i] += k1[i];
                zi[i] += k1[i];
            }
        } else {
            memcpy(zr, k1, nz * sizeof(float));
            memcpy(zi, k1, nz * sizeof(float));
        }
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, 1.0f, ar, lda, bm, ldb, 1.0f, zi,
                    p->Nn);
        cblas_sgemm(CblasRowMajor, opa, opb, p->M, p->Nn, p->K, -sa, ai, lda, bp, ldb, 1.0f, zr,
                    p->Nn);
    }
}

/* The column passes touch every spectrum at a stride of vb*Tp floats, one
 * 4 KiB page per row, far more pages than the TLB holds; ask for huge pages
 * (Linux with transparent huge pages in "madvise" mode). Only pages not yet
 * touched are affected; failure is harmless. */
static void advise_huge_pages(float *p, size_t floats)
{
#ifdef MADV_HUGEPAGE
    uintptr_t a = ((uintptr_t)p + 4095) & ~(uintptr_t)4095;
    uintptr_t e = (uintptr_t)(p + floats) & ~(uintptr_t)4095;
    if (e > a)
        (void)madvise((void *)a, e - a, MADV_HUGEPAGE);
#else
    (void)p, (void)floats;
#endif
}

static int fft_check(siam_ctx *ctx, const char *fn, fft_dims *d, int N, int Ci, int H, int W,
                     int Co, int KH, int KW)
{
    if (siam_cpu_conv2d_check_sizes(ctx, fn, N, Ci, H, W, Co, KH, KW))
        return -1;
    d->N = N, d->Ci = Ci, d->H = H, d->W = W, d->Co = Co, d->KH = KH, d->KW = KW;
    d->OH = H - KH + 1;
    d->OW = W - KW + 1;
    d->PH = siam_fft_size_fast(H);
    d->PW = siam_fft_size_fast(W);
    d->V = d->PW / 2 + 1;
    return 0;
}

/* Frequency columns per block: as many as SIAM_CPU_FFT_SCRATCH_BYTES allows
 * for `per_v` floats per column, at least one, at most vb_max when > 0. */
static int fft_block(const fft_dims *d, size_t per_v, int vb_max)
{
    size_t budget = SIAM_CPU_FFT_SCRATCH_BYTES / sizeof(float);
    size_t fixed = plans_floats(d);
    size_t vb = budget > fixed ? (budget - fixed) / per_v : 1;
    if (vb < 1)
        vb = 1;
    if (vb > (size_t)d->V)
        vb = (size_t)d->V;
    if (vb_max > 0 && vb > (size_t)vb_max)
        vb = (size_t)vb_max;
    return (int)vb;
}

/* Scratch floats per frequency column for a chunk of nc images: the
 * spectra (PH rows each). */
static size_t fwd_per_v(const fft_dims *d, int nc)
{
    size_t Ti = pad8((size_t)nc * d->Ci), Tw = pad8((size_t)d->Co * d->Ci);
    size_t To = rank1_fused(d) ? 0 : pad8((size_t)nc * d->Co);
    return 2 * (size_t)d->PH * (Ti + Tw + To);
}

/* Backward: input, output-gradient and filter-gradient spectra (the last
 * one accumulates over image chunks), plus, when din is wanted, the filter
 * spectrum and the input-gradient product. */
static size_t bwd_per_v(const fft_dims *d, int nc, int has_din)
{
    size_t Ti = pad8((size_t)nc * d->Ci), Tw = pad8((size_t)d->Co * d->Ci);
    size_t To = pad8((size_t)nc * d->Co);
    if (rank1_fused(d) && !has_din)
        return 2 * (size_t)d->PH * (Ti + Tw);
    return 2 * (size_t)d->PH * (Ti + To + Tw + (has_din ? Tw + Ti : 0));
}

/* Images per chunk. A block that is not the whole half spectrum costs a
 * full row transform per block for every input and output plane, while a
 * small chunk makes the channel products thin matrix products (their speed
 * needs rows) and recomputes nothing. So: the fewest blocks that the budget
 * allows with at least SIAM_FFT_MIN_IMAGES images per chunk (or one image
 * when Ci = 1: rank-one products), then the largest chunk with that many
 * blocks. images_max > 0 caps the chunk. */
#define SIAM_FFT_MIN_IMAGES 16
static int fft_images(const fft_dims *d, int has_din, int backward, int images_max)
{
    size_t budget = SIAM_CPU_FFT_SCRATCH_BYTES / sizeof(float), fixed = plans_floats(d);
    int top = images_max > 0 && images_max < d->N ? images_max : d->N;
    int floor_nc = d->Ci > 1 ? SIAM_FFT_MIN_IMAGES : 1;
    int best = top, best_blocks = 0;
    for (int nc = top;; nc = (nc + 1) / 2) {
        size_t pv = backward ? bwd_per_v(d, nc, has_din) : fwd_per_v(d, nc);
        size_t vb = budget > fixed + pv ? (budget - fixed) / pv : 1;
        int blocks = vb >= (size_t)d->V ? 1 : (int)((d->V + vb - 1) / vb);
        if (best_blocks == 0 || blocks < best_blocks)
            best = nc, best_blocks = blocks;
        if (nc <= floor_nc || nc == 1 || blocks == 1)
            break;
    }
    return best;
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
    size_t tmpf = cprod_tmp_floats(&d, nc);
    size_t need = plans_floats(&d) + per_v * vb + max_threads() * tmpf;
    float *mem = siam_cpu_scratch(ctx, need);
    if (mem == NULL)
        return siam_fail_wrap(&ctx->err, "conv2d_fft_forward");
    advise_huge_pages(mem, need);
    fft_plans pl;
    plans_fill(&pl, mem, &d);
    int Tw = Co * Ci;
    size_t h2 = 2 * (size_t)d.PH, plane = (size_t)d.OH * d.OW;
    float *Si = mem + plans_floats(&d);
    float *Sw = Si + h2 * vb * pad8((size_t)nc * Ci), *So = Sw + h2 * vb * pad8(Tw);
    float *tmp = So + (rank1_fused(&d) ? 0 : h2 * vb * pad8((size_t)nc * Co));

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
        dft_forward(&pl, &d, v0, nb, Sw, w, Tw, KH, KW, KH * KW, KW);
        for (int n0 = 0; n0 < N; n0 += nc) {
            int n = N - n0 < nc ? N - n0 : nc;
            cprod pf = {0, n, Co, Ci, 0};
            dft_forward(&pl, &d, v0, nb, Si, in + (size_t)n0 * Ci * H * W, n * Ci, H, W,
                        H * W, W);
            rank1_src r1 = {Si, Sw, pad8((size_t)n), pad8((size_t)Tw), Co};
            if (!rank1_fused(&d))
                cprod_run(&pf, d.PH * nb, So, Si, Sw, tmp, tmpf);
            dft_inverse_add(&pl, &d, v0, nb, out + (size_t)n0 * Co * plane, (int)plane, d.OW,
                            So, rank1_fused(&d) ? &r1 : NULL, n * Co, d.OH, d.OW);
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
    size_t tmpf = cprod_tmp_floats(&d, nc);
    size_t need = plans_floats(&d) + per_v * vb + max_threads() * tmpf;
    float *mem = siam_cpu_scratch(ctx, need);
    if (mem == NULL)
        return siam_fail_wrap(&ctx->err, "conv2d_fft_backward");
    advise_huge_pages(mem, need);
    fft_plans pl;
    plans_fill(&pl, mem, &d);
    int Tw = Co * Ci;
    size_t h2 = 2 * (size_t)d.PH, Tim = pad8((size_t)nc * Ci), Tom = pad8((size_t)nc * Co);
    float *Si = mem + plans_floats(&d);
    int fused = rank1_fused(&d) && !has_din;
    float *Sd = Si + h2 * vb * Tim, *Sdw = Sd + (fused ? 0 : h2 * vb * Tom);
    float *Sw = Sdw + h2 * vb * pad8(Tw);
    float *Sx = Sw + (has_din ? h2 * vb * pad8(Tw) : 0);
    float *tmp = Sx + (has_din ? h2 * vb * Tim : 0);

    if (din)
        memset(din, 0, (size_t)N * Ci * H * W * sizeof(float));
    openblas_set_num_threads(1); /* as in the forward */
    for (int v0 = 0; v0 < d.V; v0 += vb) {
        int nb = d.V - v0 < vb ? d.V - v0 : vb;
        if (din)
            dft_forward(&pl, &d, v0, nb, Sw, w, Tw, KH, KW, KH * KW, KW);
        for (int n0 = 0; n0 < N; n0 += nc) {
            int n = N - n0 < nc ? N - n0 : nc, Ti = n * Ci, To = n * Co;
            /* The filter gradient sums over images: its spectrum adds up
             * over the chunks and is inverted once per block. */
            cprod pw = {2, Co, Ci, n, n0 > 0}, pd = {1, n, Ci, Co, 0};
            if (fused) {
                rank1_src r1 = {Si, NULL, pad8((size_t)n), pad8((size_t)Tw), Co};
                if (n0 == 0)
                    memset(Sdw, 0, sizeof(float) * h2 * nb * pad8((size_t)Tw));
                dft_forward(&pl, &d, v0, nb, Si, in + (size_t)n0 * H * W, n, H, W, H * W, W);
                dft_forward_rank1_acc(&pl, &d, v0, nb, Sdw, &r1, dout + (size_t)n0 * Co * plane,
                                      n, d.OH, d.OW, (int)plane, d.OW);
                continue;
            }
            dft_forward(&pl, &d, v0, nb, Sd, dout + (size_t)n0 * Co * plane, To, d.OH, d.OW,
                        (int)plane, d.OW);
            dft_forward(&pl, &d, v0, nb, Si, in + (size_t)n0 * Ci * H * W, Ti, H, W, H * W, W);
            cprod_run(&pw, d.PH * nb, Sdw, Sd, Si, tmp, tmpf);
            if (din) {
                cprod_run(&pd, d.PH * nb, Sx, Sd, Sw, tmp, tmpf);
                dft_inverse_add(&pl, &d, v0, nb, din + (size_t)n0 * Ci * H * W, H * W, W, Sx,
                                NULL, Ti, H, W);
            }
        }
        dft_inverse_add(&pl, &d, v0, nb, dw, KH * KW, KW, Sdw, NULL, Tw, KH, KW);
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
