/* The 2-D real transforms of the Fourier-domain conv2d over one block of
 * frequency columns: forward, forward fused with the one-input-channel
 * filter-gradient product, and the inverse added into its destination
 * (optionally fused with the one-input-channel forward product); and the
 * plans and per-thread work they run in. Contracts and layouts:
 * conv2d_fft_priv.h; the drivers that chain them: conv2d_fft.c. */
#include <stddef.h>

#include "kernels/cpu/conv2d_fft_priv.h"
#include "kernels/cpu/fft.h"

/* Lane groups per job: up to 8 (so that the column pass writes 256
 * contiguous bytes of each spectrum row), as long as their row-pass
 * results fit in about 192 KiB (in L2 beside the FFT rows). */
static int groups_per_job(const siam_cpu_fft_dims *d)
{
    size_t one = 2 * SIAM_FFT_LANES * (size_t)d->H * d->V * sizeof(float);
    size_t g = ((size_t)192 << 10) / one;
    return g < 1 ? 1 : g > 8 ? 8 : (int)g;
}

/* Per thread: 4 lane rows of the longer length, then the row-pass
 * results of one job's groups (see siam_cpu_fft_plans). */
static size_t work_floats(const siam_cpu_fft_dims *d)
{
    int P = d->PH > d->PW ? d->PH : d->PW;
    return 4 * SIAM_FFT_LANES * (size_t)P
           + 2 * SIAM_FFT_LANES * (size_t)d->H * d->V * groups_per_job(d);
}

size_t siam_cpu_fft_plans_floats(const siam_cpu_fft_dims *d)
{
    return siam_cpu_fft_pad8(siam_fft_plan_floats(d->PW))
           + siam_cpu_fft_pad8(siam_fft_plan_floats(d->PH))
           + (size_t)siam_cpu_fft_max_threads() * work_floats(d);
}

void siam_cpu_fft_plans_fill(siam_cpu_fft_plans *p, float *mem, const siam_cpu_fft_dims *d)
{
    /* Both lengths are 7-smooth by construction (siam_fft_size_fast). */
    siam_fft_plan_init(&p->row, d->PW, mem);
    mem += siam_cpu_fft_pad8(siam_fft_plan_floats(d->PW));
    siam_fft_plan_init(&p->col, d->PH, mem);
    mem += siam_cpu_fft_pad8(siam_fft_plan_floats(d->PH));
    p->work = mem;
    p->work_floats = work_floats(d);
}

/* The calling thread's slice of the plans' work (work_floats): re, im and
 * the Stockham ping-pong w0, w1, lane rows of the longer transform length,
 * then buf, the row-pass results of one job's groups. */
typedef struct lane_work {
    float *re, *im, *w0, *w1, *buf;
} lane_work;

static lane_work thread_work(const siam_cpu_fft_plans *pl, const siam_cpu_fft_dims *d)
{
    const int L = SIAM_FFT_LANES, P = d->PW > d->PH ? d->PW : d->PH;
    lane_work t;
    t.re = pl->work + siam_cpu_fft_thread_id() * pl->work_floats;
    t.im = t.re + L * P;
    t.w0 = t.im + L * P;
    t.w1 = t.w0 + L * P;
    t.buf = t.w1 + L * P;
    return t;
}

typedef float v8f __attribute__((vector_size(32), aligned(4), may_alias));

/* re/im[u] (lane vectors, u < PH) = Si[u][vv][n] * conj(Sw[u][vv][co0..co0+7]). */
static void rank1_column(float *re, float *im, const siam_cpu_fft_rank1 *r, int PH, int vb, int vv,
                         int n, int co0)
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

/* Row pass of lane group g (planes 8g..8g+7 of T, as in
 * siam_cpu_fft_forward) into Y (2, Hin, vb) lane vectors: rows go two at a
 * time through one complex FFT (real and imaginary parts) and split into
 * their half spectra, in lw's lane rows (not its buf). */
static void row_pass_group(const siam_cpu_fft_plans *pl, const siam_cpu_fft_dims *d, int v0, int vb,
                           float *Y, const float *x, int T, int g, int Hin, int Win, int xs, int rs,
                           const lane_work *lw)
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
        siam_fft_lanes_load_rows(lw->re, r0, Win, PW);
        siam_fft_lanes_load_rows(lw->im, r1, Win, PW);
        siam_fft_lanes(&pl->row, 0, lw->re, lw->im, lw->w0, lw->w1);
        float *a = Y + h0 * rowv;
        siam_fft_lanes_split(PW, lw->re, lw->im, v0, vb, a, a + plane, h1 < Hin ? a + rowv : NULL,
                             h1 < Hin ? a + rowv + plane : NULL, L);
    }
}

/* Per group of 8 planes: the row pass into the thread's buffer, then each
 * column is a complex FFT of length PH. A job is up to groups_per_job
 * groups, so that the column pass writes whole 256-byte runs of S. */
void siam_cpu_fft_forward(const siam_cpu_fft_plans *pl, const siam_cpu_fft_dims *d, int v0, int vb,
                          float *S, const float *x, int T, int Hin, int Win, int xs, int rs)
{
    const int PH = d->PH, L = SIAM_FFT_LANES;
    size_t Tp = siam_cpu_fft_pad8(T), bt = (size_t)vb * Tp, rowv = (size_t)L * vb,
           plane = Hin * rowv;
    int groups = (int)(Tp / L), G = groups_per_job(d), jobs = (groups + G - 1) / G;
#pragma omp parallel for schedule(dynamic)
    for (int job = 0; job < jobs; job++) {
        lane_work lw = thread_work(pl, d);
        int g0 = job * G, ng = groups - g0 < G ? groups - g0 : G;
        /* lw.buf: [group][c][h][vv] lane vectors. */
        for (int gi = 0; gi < ng; gi++)
            row_pass_group(pl, d, v0, vb, lw.buf + 2 * plane * gi, x, T, g0 + gi, Hin, Win, xs, rs,
                           &lw);
        for (int vv = 0; vv < vb; vv++)
            for (int gi = 0; gi < ng; gi++) {
                float *col = S + (size_t)vv * Tp + (size_t)(g0 + gi) * L;
                const float *Yg = lw.buf + 2 * plane * gi;
                siam_fft_lanes_gather(lw.re, Yg + (size_t)vv * L, rowv, Hin, PH);
                siam_fft_lanes_gather(lw.im, Yg + plane + (size_t)vv * L, rowv, Hin, PH);
                siam_fft_lanes(&pl->col, 0, lw.re, lw.im, lw.w0, lw.w1);
                siam_fft_lanes_scatter(col, bt, lw.re, PH);
                siam_fft_lanes_scatter(col + (size_t)PH * bt, bt, lw.im, PH);
            }
    }
}

/* The output-gradient spectrum never goes through memory: each of its
 * columns is multiplied into Sdw as soon as its column FFT is done. A job
 * owns 8 output channels and loops over the images in order, so each
 * accumulator has one writer and a fixed summation order. */
void siam_cpu_fft_forward_rank1_acc(const siam_cpu_fft_plans *pl, const siam_cpu_fft_dims *d,
                                    int v0, int vb, float *Sdw, const siam_cpu_fft_rank1 *r,
                                    const float *x, int n, int Hin, int Win, int xs, int rs)
{
    const int PH = d->PH, L = SIAM_FFT_LANES, cgs = r->Co / L;
    size_t rowv = (size_t)L * vb, plane = Hin * rowv;
    size_t bi = (size_t)vb * r->Tip, bw = (size_t)vb * r->Twp;
#pragma omp parallel for schedule(dynamic)
    for (int cg = 0; cg < cgs; cg++) {
        lane_work lw = thread_work(pl, d);
        float *Y = lw.buf;
        for (int img = 0; img < n; img++) {
            row_pass_group(pl, d, v0, vb, Y, x, n * r->Co, img * cgs + cg, Hin, Win, xs, rs, &lw);
            for (int vv = 0; vv < vb; vv++) {
                siam_fft_lanes_gather(lw.re, Y + (size_t)vv * L, rowv, Hin, PH);
                siam_fft_lanes_gather(lw.im, Y + plane + (size_t)vv * L, rowv, Hin, PH);
                siam_fft_lanes(&pl->col, 0, lw.re, lw.im, lw.w0, lw.w1);
                const float *ar = r->Si + (size_t)vv * r->Tip + img, *ai = ar + (size_t)PH * bi;
                float *zr = Sdw + (size_t)vv * r->Twp + (size_t)cg * L, *zi = zr + (size_t)PH * bw;
                for (int u = 0; u < PH; u++) {
                    /* conj(D) * S = (dr sr + di si) + i (dr si - di sr) */
                    v8f dr = *(const v8f *)(lw.re + L * u), di = *(const v8f *)(lw.im + L * u);
                    float sr = ar[u * bi], si = ai[u * bi];
                    *(v8f *)(zr + u * bw) += dr * sr + di * si;
                    *(v8f *)(zi + u * bw) += dr * si - di * sr;
                }
            }
        }
    }
}

/* The half spectrum's columns each stand for themselves and their mirror
 * (Hermitian extension in siam_fft_lanes_merge). The same per-group order
 * as siam_cpu_fft_forward, backwards: column FFTs into the thread's
 * buffer, then the rows in pairs, added into y. */
void siam_cpu_fft_inverse_add(const siam_cpu_fft_plans *pl, const siam_cpu_fft_dims *d, int v0,
                              int vb, float *y, int ys, int rs, const float *S,
                              const siam_cpu_fft_rank1 *r1, int T, int Hx, int Wx)
{
    const int PW = d->PW, PH = d->PH, L = SIAM_FFT_LANES;
    size_t Tp = siam_cpu_fft_pad8(T), bt = (size_t)vb * Tp, rowv = (size_t)L * vb,
           plane = Hx * rowv;
    int groups = (int)(Tp / L), G = groups_per_job(d), jobs = (groups + G - 1) / G;
    const float scale = (float)(1.0 / ((double)PH * PW));
#pragma omp parallel for schedule(dynamic)
    for (int job = 0; job < jobs; job++) {
        lane_work lw = thread_work(pl, d);
        int g0 = job * G, ng = groups - g0 < G ? groups - g0 : G;
        /* lw.buf: [group][c][y][vv] lane vectors. */
        for (int vv = 0; vv < vb; vv++)
            for (int gi = 0; gi < ng; gi++) {
                float *Qg = lw.buf + 2 * plane * gi;
                if (r1) {
                    int t0 = (g0 + gi) * L;
                    rank1_column(lw.re, lw.im, r1, PH, vb, vv, t0 / r1->Co, t0 % r1->Co);
                } else {
                    const float *col = S + (size_t)vv * Tp + (size_t)(g0 + gi) * L;
                    siam_fft_lanes_gather(lw.re, col, bt, PH, PH);
                    siam_fft_lanes_gather(lw.im, col + (size_t)PH * bt, bt, PH, PH);
                }
                siam_fft_lanes(&pl->col, 1, lw.re, lw.im, lw.w0, lw.w1);
                siam_fft_lanes_scatter(Qg + (size_t)vv * L, rowv, lw.re, Hx);
                siam_fft_lanes_scatter(Qg + plane + (size_t)vv * L, rowv, lw.im, Hx);
            }
        for (int gi = 0; gi < ng; gi++) {
            const float *Qg = lw.buf + 2 * plane * gi;
            for (int y0 = 0; y0 < Hx; y0 += 2) {
                int y1 = y0 + 1;
                const float *a = Qg + y0 * rowv;
                siam_fft_lanes_merge(PW, lw.re, lw.im, v0, vb, a, a + plane,
                                     y1 < Hx ? a + rowv : NULL, y1 < Hx ? a + rowv + plane : NULL,
                                     L);
                siam_fft_lanes(&pl->row, 1, lw.re, lw.im, lw.w0, lw.w1);
                float *r0[SIAM_FFT_LANES], *r1[SIAM_FFT_LANES];
                for (int l = 0; l < L; l++) {
                    size_t t = (size_t)(g0 + gi) * L + l;
                    r0[l] = t < (size_t)T ? y + t * ys + (size_t)y0 * rs : NULL;
                    r1[l] = r0[l] && y1 < Hx ? r0[l] + rs : NULL;
                }
                siam_fft_lanes_add_rows(r0, lw.re, Wx, scale);
                siam_fft_lanes_add_rows(r1, lw.im, Wx, scale);
            }
        }
    }
}
