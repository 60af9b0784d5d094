/* Fast convolution paths against references: kernels/cpu/conv2d_fft.c is
 * compared with a naive double-precision convolution and with the direct
 * im2col path of siam_ops_cpu, forward and both backwards, at the seed
 * model's real layer shapes (conv1 1->64 10x10 on 105x105, conv2 64->128
 * 7x7 on 48x48, conv3 128->128 4x4 on 21x21, conv4 128->256 4x4 on 9x9)
 * with 2 images, and at small odd shapes with forced frequency blocks and
 * image chunks.
 *
 * Tolerance: max |fast - reference| <= 2e-5 * max |reference| per output
 * tensor (forward out, din, dw, db). Float rounding of the two DFT passes
 * (sums over <= 210 terms) and the channel sums gives about 1e-6 relative
 * here; the direct im2col path is within the same bound of the double
 * reference. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernels/cpu/blas.h"
#include "kernels/cpu/conv2d_fft.h"
#include "kernels/cpu/conv2d_select.h"
#include "kernels/ops.h"
#include "kernels/philox.h"

#define TOL 2e-5

typedef struct shape {
    int N, Ci, H, W, Co, KH, KW;
} shape;

static void fill(float *x, size_t n, uint64_t stream, float lo, float hi)
{
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (hi - lo) * siam_philox_uniform(77, stream, i);
}

/* Naive valid cross-correlation in double; dw, db, din written (not added). */
static void ref_forward(double *out, const float *in, const float *w, const float *b,
                        const shape *s)
{
    int OH = s->H - s->KH + 1, OW = s->W - s->KW + 1;
    for (int n = 0; n < s->N; n++)
        for (int co = 0; co < s->Co; co++)
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++) {
                    double acc = b[co];
                    for (int ci = 0; ci < s->Ci; ci++) {
                        const float *ip = in + ((size_t)n * s->Ci + ci) * s->H * s->W;
                        const float *wp = w + ((size_t)co * s->Ci + ci) * s->KH * s->KW;
                        for (int kh = 0; kh < s->KH; kh++)
                            for (int kw = 0; kw < s->KW; kw++)
                                acc += (double)ip[(y + kh) * s->W + x + kw] * wp[kh * s->KW + kw];
                    }
                    out[(((size_t)n * s->Co + co) * OH + y) * OW + x] = acc;
                }
}

static void ref_backward(double *din, double *dw, double *db, const float *dout, const float *in,
                         const float *w, const shape *s)
{
    int OH = s->H - s->KH + 1, OW = s->W - s->KW + 1;
    memset(din, 0, sizeof(double) * s->N * s->Ci * s->H * s->W);
    memset(dw, 0, sizeof(double) * s->Co * s->Ci * s->KH * s->KW);
    memset(db, 0, sizeof(double) * s->Co);
    for (int n = 0; n < s->N; n++)
        for (int co = 0; co < s->Co; co++)
            for (int y = 0; y < OH; y++)
                for (int x = 0; x < OW; x++) {
                    double g = dout[(((size_t)n * s->Co + co) * OH + y) * OW + x];
                    db[co] += g;
                    for (int ci = 0; ci < s->Ci; ci++) {
                        size_t ib = ((size_t)n * s->Ci + ci) * s->H * s->W;
                        size_t wb = ((size_t)co * s->Ci + ci) * s->KH * s->KW;
                        for (int kh = 0; kh < s->KH; kh++)
                            for (int kw = 0; kw < s->KW; kw++) {
                                size_t ii = ib + (size_t)(y + kh) * s->W + x + kw;
                                size_t wi = wb + (size_t)kh * s->KW + kw;
                                dw[wi] += g * in[ii];
                                din[ii] += g * w[wi];
                            }
                    }
                }
}

/* Largest |a - r| relative to the largest |r|. */
static double rel_err(const float *a, const double *r, size_t n)
{
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - r[i]);
        if (d > md || isnan(d))
            md = isnan(d) ? INFINITY : d;
        if (fabs(r[i]) > mr)
            mr = fabs(r[i]);
    }
    return mr > 0 ? md / mr : md;
}

/* Runs fft (with at most vb_max frequency columns per block) and the direct
 * table path on shape s and checks both against the double reference.
 * with_din = 0 passes din = NULL to the backward (a first layer), which
 * takes another route through the Fourier path when Ci = 1. */
static void check_shape_din(const shape *s, int vb_max, int images_max, int with_din)
{
    int OH = s->H - s->KH + 1, OW = s->W - s->KW + 1;
    size_t nin = (size_t)s->N * s->Ci * s->H * s->W, nw = (size_t)s->Co * s->Ci * s->KH * s->KW;
    size_t nout = (size_t)s->N * s->Co * OH * OW;
    float *in = malloc(nin * 4), *w = malloc(nw * 4), *b = malloc(s->Co * 4);
    float *dout = malloc(nout * 4), *out = malloc(nout * 4), *din = malloc(nin * 4);
    float *dw = malloc(nw * 4), *db = malloc(s->Co * 4);
    double *rout = malloc(nout * 8), *rdin = malloc(nin * 8), *rdw = malloc(nw * 8);
    double *rdb = malloc(s->Co * 8);
    assert_non_null(in && w && b && dout && out && din && dw && db && rout && rdin && rdw && rdb);
    double bound = 1.0 / sqrt((double)s->Ci * s->KH * s->KW);
    fill(in, nin, 1, 0.0f, 1.0f);
    fill(w, nw, 2, (float)-bound, (float)bound);
    fill(b, s->Co, 3, (float)-bound, (float)bound);
    fill(dout, nout, 4, -1.0f, 1.0f);
    ref_forward(rout, in, w, b, s);
    ref_backward(rdin, rdw, rdb, dout, in, w, s);

    siam_error err;
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&(siam_ctx_options){.threads = 0}, &err);
    assert_non_null(ctx);
    for (int path = 0; path < 2; path++) {
        const char *name = path ? "direct" : "fft";
        int rc = path ? siam_ops_cpu.conv2d_forward(ctx, out, in, w, b, s->N, s->Ci, s->H, s->W,
                                                    s->Co, s->KH, s->KW)
                      : siam_cpu_conv2d_fft_forward_blocks(ctx, out, in, w, b, s->N, s->Ci,
                                                           s->H, s->W, s->Co, s->KH, s->KW,
                                                           vb_max, images_max);
        assert_int_equal(rc, 0);
        /* Backward must overwrite din and add into dw, db: start from
         * garbage in din and from 0.5 in dw, db. */
        for (size_t i = 0; i < nin; i++)
            din[i] = 1e30f;
        for (size_t i = 0; i < nw; i++)
            dw[i] = 0.5f;
        for (int i = 0; i < s->Co; i++)
            db[i] = 0.5f;
        float *dinp = with_din ? din : NULL;
        rc = path ? siam_ops_cpu.conv2d_backward(ctx, dinp, dw, db, dout, in, w, s->N, s->Ci,
                                                 s->H, s->W, s->Co, s->KH, s->KW)
                  : siam_cpu_conv2d_fft_backward_blocks(ctx, dinp, dw, db, dout, in, w, s->N,
                                                        s->Ci, s->H, s->W, s->Co, s->KH, s->KW,
                                                        vb_max, images_max);
        assert_int_equal(rc, 0);
        for (size_t i = 0; i < nw; i++)
            dw[i] -= 0.5f;
        for (int i = 0; i < s->Co; i++)
            db[i] -= 0.5f;
        double e_out = rel_err(out, rout, nout);
        double e_din = with_din ? rel_err(din, rdin, nin) : 0.0;
        double e_dw = rel_err(dw, rdw, nw), e_db = rel_err(db, rdb, s->Co);
        printf("conv %dx%dx%dx%d -> %d k%dx%d blocks<=%d chunks<=%d %s%s: rel err out %.2e din "
               "%.2e dw %.2e db %.2e\n",
               s->N, s->Ci, s->H, s->W, s->Co, s->KH, s->KW, vb_max, images_max, name,
               with_din ? "" : " (no din)", e_out, e_din, e_dw, e_db);
        assert_true(e_out <= TOL);
        assert_true(e_din <= TOL);
        assert_true(e_dw <= TOL);
        assert_true(e_db <= TOL);
    }
    siam_ops_cpu.ctx_free(ctx);
    free(in), free(w), free(b), free(dout), free(out), free(din), free(dw), free(db);
    free(rout), free(rdin), free(rdw), free(rdb);
}

static void check_shape(const shape *s, int vb_max, int images_max)
{
    check_shape_din(s, vb_max, images_max, 1);
}

static void small_odd_shapes_all_blockings(void **state)
{
    (void)state;
    /* Odd and even widths (Nyquist column or not), non-square kernels. */
    const shape s1 = {3, 3, 9, 12, 5, 4, 3};
    const shape s2 = {2, 4, 11, 7, 3, 2, 5};
    for (int vb = 1; vb <= 7; vb += 2) {
        check_shape(&s1, vb, 0);
        check_shape(&s2, vb, 0);
    }
    /* Image chunks of 1 and 2 (the last one short) over 3 images. */
    check_shape(&s1, 0, 1);
    check_shape(&s1, 2, 2);
    /* One input channel and 8 outputs: the rank-one routes (forward, and
     * backward without din), with blocks and a short last chunk. */
    const shape s3 = {3, 1, 13, 11, 8, 3, 4};
    for (int with_din = 0; with_din < 2; with_din++) {
        check_shape_din(&s3, 0, 0, with_din);
        check_shape_din(&s3, 2, 2, with_din);
    }
}

static void seed_conv1_shape(void **state)
{
    (void)state;
    check_shape(&(shape){2, 1, 105, 105, 64, 10, 10}, 0, 0);
    check_shape_din(&(shape){2, 1, 105, 105, 64, 10, 10}, 0, 0, 0);
}

static void seed_conv2_shape(void **state)
{
    (void)state;
    check_shape(&(shape){2, 64, 48, 48, 128, 7, 7}, 0, 0);
    check_shape(&(shape){2, 64, 48, 48, 128, 7, 7}, 4, 1);
}

static void seed_conv3_conv4_shapes(void **state)
{
    (void)state;
    check_shape(&(shape){2, 128, 21, 21, 128, 4, 4}, 0, 0);
    check_shape(&(shape){2, 128, 9, 9, 256, 4, 4}, 0, 0);
}

static void fft_rejects_bad_sizes(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&(siam_ctx_options){.threads = 1}, &err);
    assert_non_null(ctx);
    float x = 0;
    assert_int_equal(siam_cpu_conv2d_fft_forward(ctx, &x, &x, &x, &x, 1, 1, 3, 3, 1, 4, 4), -1);
    assert_string_equal(siam_ops_cpu.ctx_error(ctx),
                        "conv2d_fft_forward: kernel 4x4 larger than input 3x3");
    assert_int_equal(siam_cpu_conv2d_fft_backward(ctx, NULL, &x, &x, &x, &x, &x, 1, 0, 3, 3, 1, 2,
                                                  2),
                     -1);
    assert_string_equal(siam_ops_cpu.ctx_error(ctx),
                        "conv2d_fft_backward: bad sizes N=1 Ci=0 Co=1 kernel 2x2");
    siam_ops_cpu.ctx_free(ctx);
}

static void pick_follows_the_measurements(void **state)
{
    (void)state;
    assert_int_equal(siam_cpu_conv2d_pick(1, 105, 105, 64, 10, 10), SIAM_CONV_FFT);
    assert_int_equal(siam_cpu_conv2d_pick(1, 105, 105, 60, 10, 10), SIAM_CONV_DIRECT);
    assert_int_equal(siam_cpu_conv2d_pick(1, 32, 32, 16, 5, 5), SIAM_CONV_DIRECT);
    assert_int_equal(siam_cpu_conv2d_pick(64, 48, 48, 128, 7, 7), SIAM_CONV_FFT);
    assert_int_equal(siam_cpu_conv2d_pick(128, 21, 21, 128, 4, 4), SIAM_CONV_FFT);
    assert_int_equal(siam_cpu_conv2d_pick(128, 9, 9, 256, 4, 4), SIAM_CONV_FFT);
    assert_int_equal(siam_cpu_conv2d_pick(64, 20, 20, 64, 3, 3), SIAM_CONV_DIRECT);
    siam_conv_path a = SIAM_CONV_DIRECT;
    siam_error err;
    assert_int_equal(siam_conv_path_parse("fft", &a, &err), 0);
    assert_int_equal(a, SIAM_CONV_FFT);
    assert_string_equal(siam_conv_path_name(a), "fft");
    assert_int_equal(siam_conv_path_parse("winograd", &a, &err), -1);
    assert_string_equal(err.msg, "conv must be \"auto\", \"direct\" or \"fft\", got \"winograd\"");
}

/* The fast table dispatches per layer: its result is bit-identical to the
 * path that siam_cpu_conv2d_pick names, for an FFT layer and a direct one. */
static void fast_table_dispatches_by_shape(void **state)
{
    (void)state;
    siam_ops fast, fft;
    siam_ops_cpu_fast_init(&fast, SIAM_CONV_AUTO);
    siam_ops_cpu_fast_init(&fft, SIAM_CONV_FFT);
    assert_ptr_equal(fft.conv2d_forward, siam_cpu_conv2d_fft_forward);
    siam_error err;
    siam_ctx *ctx = fast.ctx_new(&(siam_ctx_options){.threads = 1}, &err);
    assert_non_null(ctx);
    const shape sh[2] = {{1, 16, 20, 20, 16, 4, 4}, {1, 16, 9, 9, 16, 3, 3}};
    for (int k = 0; k < 2; k++) {
        const shape *s = &sh[k];
        int OH = s->H - s->KH + 1;
        size_t nin = (size_t)s->Ci * s->H * s->W, nw = (size_t)s->Co * s->Ci * s->KH * s->KW;
        size_t nout = (size_t)s->Co * OH * OH;
        float *in = malloc(nin * 4), *w = malloc(nw * 4), *b = calloc(s->Co, 4);
        float *o1 = malloc(nout * 4), *o2 = malloc(nout * 4);
        fill(in, nin, 5, 0, 1);
        fill(w, nw, 6, -0.1f, 0.1f);
        assert_int_equal(fast.conv2d_forward(ctx, o1, in, w, b, 1, s->Ci, s->H, s->W, s->Co,
                                             s->KH, s->KW),
                         0);
        const siam_ops *want = siam_cpu_conv2d_pick(s->Ci, s->H, s->W, s->Co, s->KH, s->KW)
                                       == SIAM_CONV_FFT
                                   ? &fft
                                   : &siam_ops_cpu;
        assert_int_equal(k == 0, want == &fft);
        assert_int_equal(want->conv2d_forward(ctx, o2, in, w, b, 1, s->Ci, s->H, s->W, s->Co,
                                              s->KH, s->KW),
                         0);
        assert_memory_equal(o1, o2, nout * 4);
        free(in), free(w), free(b), free(o1), free(o2);
    }
    fast.ctx_free(ctx);
}

/* The static tables equal siam_ops_cpu in every entry but the convolutions
 * (they share one list of entries, kernels/cpu/table.c). */
static void static_tables_match_the_cpu_table(void **state)
{
    (void)state;
    assert_ptr_equal(siam_ops_cpu_conv_table(SIAM_CONV_DIRECT), &siam_ops_cpu);
    const siam_ops *t[2] = {siam_ops_cpu_conv_table(SIAM_CONV_AUTO),
                            siam_ops_cpu_conv_table(SIAM_CONV_FFT)};
    assert_ptr_equal(t[0]->conv2d_forward, siam_cpu_conv2d_auto_forward);
    assert_ptr_equal(t[1]->conv2d_backward, siam_cpu_conv2d_fft_backward);
    for (int k = 0; k < 2; k++) {
        siam_ops a, b; /* zeroed first so that padding compares equal */
        memset(&a, 0, sizeof a);
        memset(&b, 0, sizeof b);
        a = *t[k];
        b = siam_ops_cpu;
        b.conv2d_forward = t[k]->conv2d_forward;
        b.conv2d_backward = t[k]->conv2d_backward;
        /* Equal names, not necessarily one string literal. */
        assert_string_equal(a.name, b.name);
        a.name = b.name = NULL;
        assert_memory_equal(&a, &b, sizeof a);
    }
    siam_conv_path path = SIAM_CONV_FFT;
    siam_error err;
    assert_int_equal(siam_conv_path_parse("auto", &path, &err), 0);
    assert_int_equal(path, SIAM_CONV_AUTO);
    assert_int_equal(siam_conv_path_parse("direct", &path, &err), 0);
    assert_int_equal(path, SIAM_CONV_DIRECT);
    assert_int_equal(siam_conv_path_parse("fft", &path, &err), 0);
    assert_int_equal(path, SIAM_CONV_FFT);
    assert_int_equal(siam_conv_path_parse("fast", &path, &err), -1);
    assert_string_equal(err.msg, "conv must be \"auto\", \"direct\" or \"fft\", got \"fast\"");
}

/* OpenBLAS runs on one thread inside the FFT path and on the context's
 * threads in the direct one, set by the context when the path changes
 * (the count is process-wide), not around every FFT call. */
static void blas_threads_follow_the_path(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&(siam_ctx_options){.threads = 2}, &err);
    assert_non_null(ctx);
    assert_int_equal(openblas_get_num_threads(), 2);
    const shape s = {2, 16, 12, 12, 16, 4, 4};
    int OH = s.H - s.KH + 1;
    float *in = calloc((size_t)s.N * s.Ci * s.H * s.W, 4), *w = calloc((size_t)s.Co * s.Ci * 16, 4);
    float *b = calloc(s.Co, 4), *out = calloc((size_t)s.N * s.Co * OH * OH, 4);
    float *fc = calloc(4 * 3, 4), *fo = calloc(2 * 3, 4), *fb = calloc(3, 4);
    const siam_ops *fft = siam_ops_cpu_conv_table(SIAM_CONV_FFT);
    for (int round = 0; round < 2; round++) {
        assert_int_equal(fft->conv2d_forward(ctx, out, in, w, b, s.N, s.Ci, s.H, s.W, s.Co, 4, 4),
                         0);
        assert_int_equal(fft->conv2d_forward(ctx, out, in, w, b, s.N, s.Ci, s.H, s.W, s.Co, 4, 4),
                         0);
        /* Back to the context's count once an FFT call returns: left at one,
         * the 2-thread training step was 30% slower. */
        assert_int_equal(openblas_get_num_threads(), 2);
        assert_int_equal(siam_ops_cpu.linear_forward(ctx, fo, fc, fc, fb, 2, 2, 3), 0);
        assert_int_equal(openblas_get_num_threads(), 2);
        assert_int_equal(siam_ops_cpu.conv2d_forward(ctx, out, in, w, b, s.N, s.Ci, s.H, s.W,
                                                     s.Co, 4, 4),
                         0);
        assert_int_equal(openblas_get_num_threads(), 2);
    }
    free(in), free(w), free(b), free(out), free(fc), free(fo), free(fb);
    siam_ops_cpu.ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_odd_shapes_all_blockings),
        cmocka_unit_test(seed_conv1_shape),
        cmocka_unit_test(seed_conv2_shape),
        cmocka_unit_test(seed_conv3_conv4_shapes),
        cmocka_unit_test(fft_rejects_bad_sizes),
        cmocka_unit_test(pick_follows_the_measurements),
        cmocka_unit_test(fast_table_dispatches_by_shape),
        cmocka_unit_test(static_tables_match_the_cpu_table),
        cmocka_unit_test(blas_threads_follow_the_path),
    };
    return cmocka_run_group_tests_name("conv_fast", tests, NULL, NULL);
}
