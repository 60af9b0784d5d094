/* kernels/cpu/fft.c against a naive DFT in double: forward and inverse at
 * every length the conv path uses (and each radix alone and mixed), the
 * forward/inverse round trip, the real-pair split and merge, per lane, and
 * the row/lane transposes.
 * Tolerance: max |fft - dft| <= 1e-6 * max |dft| per lane (float rounding
 * over log n stages; a wrong twiddle or butterfly sign gives errors of
 * order 1). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernels/cpu/fft.h"
#include "kernels/philox.h"

#define L SIAM_FFT_LANES
#define TOL 1e-6

static const int SIZES[] = {1,  2,  3,  4,  5,  7,  8,  9,   12,  16,  21,  24,
                            35, 48, 49, 64, 96, 98, 105, 108, 112, 120, 128};

typedef struct bufs {
    float *re, *im, *wre, *wim, *tw;
    double *xr, *xi, *yr, *yi; /* one lane, double */
    siam_fft_plan plan;
} bufs;

static void bufs_new(bufs *b, int n)
{
    b->re = malloc(sizeof(float) * L * n);
    b->im = malloc(sizeof(float) * L * n);
    b->wre = malloc(sizeof(float) * L * n);
    b->wim = malloc(sizeof(float) * L * n);
    b->tw = malloc(sizeof(float) * (siam_fft_plan_floats(n) + 1));
    b->xr = malloc(sizeof(double) * n);
    b->xi = malloc(sizeof(double) * n);
    b->yr = malloc(sizeof(double) * n);
    b->yi = malloc(sizeof(double) * n);
    assert_non_null(b->re && b->im && b->wre && b->wim && b->tw && b->xr && b->xi && b->yr
                    && b->yi);
    assert_int_equal(siam_fft_plan_init(&b->plan, n, b->tw), 0);
}

static void bufs_free(bufs *b)
{
    free(b->re), free(b->im), free(b->wre), free(b->wim), free(b->tw);
    free(b->xr), free(b->xi), free(b->yr), free(b->yi);
}

static void fill(float *x, size_t count, uint64_t stream)
{
    for (size_t i = 0; i < count; i++)
        x[i] = 2.0f * siam_philox_uniform(31, stream, i) - 1.0f;
}

/* y = sum_j x[j] e^{sign 2 pi i jk/n} in double. */
static void dft(double *yr, double *yi, const double *xr, const double *xi, int n, int sign)
{
    for (int k = 0; k < n; k++) {
        double sr = 0, si = 0;
        for (int j = 0; j < n; j++) {
            double a = sign * 6.283185307179586 * (double)(((long)j * k) % n) / n;
            sr += xr[j] * cos(a) - xi[j] * sin(a);
            si += xr[j] * sin(a) + xi[j] * cos(a);
        }
        yr[k] = sr, yi[k] = si;
    }
}

/* max |lane l of (re, im) - (yr, yi)| / max |(yr, yi)| over n entries. */
static double lane_err(const float *re, const float *im, int l, const double *yr,
                       const double *yi, int n)
{
    double md = 0, mr = 0;
    for (int k = 0; k < n; k++) {
        double d = fmax(fabs(re[L * k + l] - yr[k]), fabs(im[L * k + l] - yi[k]));
        md = d > md || isnan(d) ? (isnan(d) ? INFINITY : d) : md;
        mr = fmax(mr, fmax(fabs(yr[k]), fabs(yi[k])));
    }
    return mr > 0 ? md / mr : md;
}

static void forward_and_inverse_match_the_dft(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof SIZES / sizeof SIZES[0]; si++) {
        int n = SIZES[si];
        bufs b;
        bufs_new(&b, n);
        double worst = 0;
        for (int inverse = 0; inverse < 2; inverse++) {
            fill(b.re, (size_t)L * n, 2 * n + inverse);
            fill(b.im, (size_t)L * n, 2 * n + inverse + 1000);
            float *r0 = malloc(sizeof(float) * L * n), *i0 = malloc(sizeof(float) * L * n);
            memcpy(r0, b.re, sizeof(float) * L * n);
            memcpy(i0, b.im, sizeof(float) * L * n);
            siam_fft_lanes(&b.plan, inverse, b.re, b.im, b.wre, b.wim);
            for (int l = 0; l < L; l++) {
                for (int j = 0; j < n; j++)
                    b.xr[j] = r0[L * j + l], b.xi[j] = i0[L * j + l];
                dft(b.yr, b.yi, b.xr, b.xi, n, inverse ? 1 : -1);
                double e = lane_err(b.re, b.im, l, b.yr, b.yi, n);
                worst = fmax(worst, e);
                assert_true(e <= TOL);
            }
            free(r0), free(i0);
        }
        printf("fft n=%d: worst relative error %.2e\n", n, worst);
        bufs_free(&b);
    }
}

static void round_trip_returns_the_input(void **state)
{
    (void)state;
    for (size_t si = 0; si < sizeof SIZES / sizeof SIZES[0]; si++) {
        int n = SIZES[si];
        bufs b;
        bufs_new(&b, n);
        fill(b.re, (size_t)L * n, 7);
        fill(b.im, (size_t)L * n, 8);
        float *r0 = malloc(sizeof(float) * L * n), *i0 = malloc(sizeof(float) * L * n);
        memcpy(r0, b.re, sizeof(float) * L * n);
        memcpy(i0, b.im, sizeof(float) * L * n);
        siam_fft_lanes(&b.plan, 0, b.re, b.im, b.wre, b.wim);
        siam_fft_lanes(&b.plan, 1, b.re, b.im, b.wre, b.wim);
        double md = 0;
        for (int i = 0; i < L * n; i++)
            md = fmax(md, fmax(fabs(b.re[i] / n - r0[i]), fabs(b.im[i] / n - i0[i])));
        assert_true(md <= 2e-6);
        free(r0), free(i0);
        bufs_free(&b);
    }
}

/* Two real rows per lane through one complex transform: split gives their
 * half spectra (checked against the DFT of each row, for a block of columns
 * v0..v0+vb), and merge + inverse gives the rows back. */
static void real_pair_split_and_merge(void **state)
{
    (void)state;
    const int ns[] = {1, 2, 9, 12, 21, 48, 105};
    for (size_t si = 0; si < sizeof ns / sizeof ns[0]; si++) {
        int n = ns[si], V = n / 2 + 1;
        bufs b;
        bufs_new(&b, n);
        fill(b.re, (size_t)L * n, 11);
        fill(b.im, (size_t)L * n, 12);
        float *a0 = malloc(sizeof(float) * L * n), *b0 = malloc(sizeof(float) * L * n);
        memcpy(a0, b.re, sizeof(float) * L * n);
        memcpy(b0, b.im, sizeof(float) * L * n);
        siam_fft_lanes(&b.plan, 0, b.re, b.im, b.wre, b.wim);
        /* Half spectra, column v at 8 * v of each plane (stride 8). */
        float *h = malloc(sizeof(float) * 4 * L * V);
        float *ar = h, *ai = h + L * V, *br = h + 2 * L * V, *bi = h + 3 * L * V;
        int v0 = V > 2 ? 1 : 0, vb = V - v0;
        siam_fft_lanes_split(n, b.re, b.im, 0, v0 ? 1 : V, ar, ai, br, bi, L);
        if (v0)
            siam_fft_lanes_split(n, b.re, b.im, v0, vb, ar + L, ai + L, br + L, bi + L, L);
        for (int which = 0; which < 2; which++)
            for (int l = 0; l < L; l++) {
                const float *src = which ? b0 : a0;
                for (int j = 0; j < n; j++)
                    b.xr[j] = src[L * j + l], b.xi[j] = 0;
                dft(b.yr, b.yi, b.xr, b.xi, n, -1);
                double e = lane_err(which ? br : ar, which ? bi : ai, l, b.yr, b.yi, V);
                assert_true(e <= TOL);
            }
        /* Merge all columns back, inverse, scale: the rows again. */
        siam_fft_lanes_merge(n, b.re, b.im, 0, V, ar, ai, br, bi, L);
        siam_fft_lanes(&b.plan, 1, b.re, b.im, b.wre, b.wim);
        double md = 0;
        for (int i = 0; i < L * n; i++)
            md = fmax(md, fmax(fabs(b.re[i] / n - a0[i]), fabs(b.im[i] / n - b0[i])));
        printf("real pair n=%d: round trip max error %.2e\n", n, md);
        assert_true(md <= 2e-6);
        /* A block of columns merges to the part of the inverse that comes
         * from those columns: blocks [0, v0) and [v0, V) add up to the
         * whole. */
        if (v0) {
            float *s = malloc(sizeof(float) * 2 * L * n);
            siam_fft_lanes_merge(n, b.re, b.im, 0, v0, ar, ai, br, bi, L);
            siam_fft_lanes(&b.plan, 1, b.re, b.im, b.wre, b.wim);
            memcpy(s, b.re, sizeof(float) * L * n);
            memcpy(s + L * n, b.im, sizeof(float) * L * n);
            siam_fft_lanes_merge(n, b.re, b.im, v0, vb, ar + L, ai + L, br + L, bi + L, L);
            siam_fft_lanes(&b.plan, 1, b.re, b.im, b.wre, b.wim);
            md = 0;
            for (int i = 0; i < L * n; i++)
                md = fmax(md, fmax(fabs((s[i] + b.re[i]) / n - a0[i]),
                                   fabs((s[L * n + i] + b.im[i]) / n - b0[i])));
            assert_true(md <= 2e-6);
            free(s);
        }
        free(h), free(a0), free(b0);
        bufs_free(&b);
    }
}

/* Rows in memory to lane vectors and back: every length (whole 8x8 tiles
 * and tails), NULL lanes, the zero fill and the scaled add. */
static void rows_load_and_add(void **state)
{
    (void)state;
    for (int count = 1; count <= 21; count += 4) {
        int n = count + 3;
        float rows[L][24], dst[L * 24], acc[L][24];
        const float *src[L];
        float *out[L];
        for (int l = 0; l < L; l++) {
            for (int j = 0; j < 24; j++)
                rows[l][j] = (float)(100 * l + j), acc[l][j] = 1.0f;
            src[l] = l == 5 ? NULL : rows[l];
            out[l] = l == 2 ? NULL : acc[l];
        }
        memset(dst, 0x7f, sizeof dst);
        siam_fft_lanes_load_rows(dst, src, count, n);
        for (int j = 0; j < n; j++)
            for (int l = 0; l < L; l++)
                assert_true(dst[L * j + l] == (j < count && l != 5 ? rows[l][j] : 0.0f));
        siam_fft_lanes_add_rows(out, dst, count, 0.5f);
        for (int l = 0; l < L; l++)
            for (int j = 0; j < 24; j++)
                assert_true(acc[l][j] == (l == 2 || j >= count ? 1.0f
                                          : 1.0f + 0.5f * (l == 5 ? 0.0f : rows[l][j])));
    }
}

static void sizes_and_plans(void **state)
{
    (void)state;
    assert_int_equal(siam_fft_size_ok(105), 1);
    assert_int_equal(siam_fft_size_ok(11), 0);
    assert_int_equal(siam_fft_size_ok(0), 0);
    assert_int_equal(siam_fft_size_fast(11), 12);
    assert_int_equal(siam_fft_size_fast(97), 98);
    assert_int_equal(siam_fft_size_fast(48), 48);
    siam_fft_plan p;
    float tw[4];
    assert_int_equal(siam_fft_plan_init(&p, 22, tw), -1);
    assert_int_equal(siam_fft_plan_init(&p, 0, tw), -1);
    /* 48 = 4 * 4 * 3: twiddles (3*12 + 3*3 + 2*1) pairs. */
    assert_int_equal(siam_fft_plan_floats(48), 2 * (3 * 12 + 3 * 3 + 2 * 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forward_and_inverse_match_the_dft),
        cmocka_unit_test(round_trip_returns_the_input),
        cmocka_unit_test(real_pair_split_and_merge),
        cmocka_unit_test(rows_load_and_add),
        cmocka_unit_test(sizes_and_plans),
    };
    return cmocka_run_group_tests_name("fft", tests, NULL, NULL);
}
