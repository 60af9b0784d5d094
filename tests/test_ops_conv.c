/* conv2d forward/backward on every backend: naive double references at small
 * and at the model's real shapes, central finite differences, gradient
 * accumulation, and batches that span several im2col chunks. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ops_check.h"

/* Float32 GEMM sums K = Ci*KH*KW <= 3136 products: rounding grows like
 * sqrt(K) * 2^-24 relative to the output scale, ~1e-6 here. */
#define CONV_FWD_TOL 2e-5
/* Gradients sum up to N*P = 13*9216 products (dW of conv1); measured
 * 2e-6 on the CPU backend. */
#define CONV_BWD_TOL 3e-5

typedef struct conv_data {
    siam_conv_shape s;
    size_t nin, nw, nout;
    float *in, *w, *b, *dout;
} conv_data;

static size_t conv_out_plane(const siam_conv_shape *s)
{
    return (size_t)(s->H - s->KH + 1) * (s->W - s->KW + 1);
}

static void conv_data_make(conv_data *d, siam_conv_shape s)
{
    d->s = s;
    d->nin = (size_t)s.N * s.Ci * s.H * s.W;
    d->nw = (size_t)s.Co * s.Ci * s.KH * s.KW;
    d->nout = (size_t)s.N * s.Co * conv_out_plane(&s);
    d->in = siam_check_floats(d->nin);
    d->w = siam_check_floats(d->nw);
    d->b = siam_check_floats((size_t)s.Co);
    d->dout = siam_check_floats(d->nout);
    /* PyTorch's default bound 1/sqrt(fan_in) keeps outputs O(1). */
    float bound = 1.0f / sqrtf((float)(s.Ci * s.KH * s.KW));
    siam_check_random(d->in, d->nin, 11, -1.0f, 1.0f);
    siam_check_random(d->w, d->nw, 12, -bound, bound);
    siam_check_random(d->b, (size_t)s.Co, 13, -bound, bound);
    siam_check_random(d->dout, d->nout, 14, -1.0f, 1.0f);
}

static void conv_data_free(conv_data *d)
{
    free(d->in);
    free(d->w);
    free(d->b);
    free(d->dout);
}

/* Forward on the backend, compared with the naive reference at every output
 * (full) or at 3000 sampled outputs. */
static void conv_forward_case(const siam_check_backend *be, siam_conv_shape s, int full,
                              const char *label)
{
    conv_data d;
    conv_data_make(&d, s);
    float *din_ = siam_check_put(be, d.in, d.nin), *dw_ = siam_check_put(be, d.w, d.nw);
    float *db_ = siam_check_put(be, d.b, (size_t)s.Co), *dout_ = siam_check_alloc(be, d.nout);
    siam_check_ok(be,
                  be->ops->conv2d_forward(be->ctx, dout_, din_, dw_, db_, s.N, s.Ci, s.H, s.W,
                                          s.Co, s.KH, s.KW),
                  "conv2d_forward");
    float *out = siam_check_floats(d.nout);
    siam_check_get(be, out, dout_, d.nout);
    double *in = siam_check_widen(d.in, d.nin), *w = siam_check_widen(d.w, d.nw);
    double *b = siam_check_widen(d.b, (size_t)s.Co);
    if (full) {
        double *want = siam_check_doubles(d.nout);
        siam_ref_conv2d_forward(&s, want, in, w, b);
        siam_check_close(label, out, want, d.nout, CONV_FWD_TOL);
        free(want);
    } else {
        size_t k = 3000, *idx = calloc(k, sizeof *idx);
        double *want = siam_check_doubles(k);
        siam_check_sample(idx, k, d.nout, 1);
        size_t P = conv_out_plane(&s), OW = (size_t)(s.W - s.KW + 1);
        for (size_t i = 0; i < k; i++) {
            size_t p = idx[i] % P, nc = idx[i] / P;
            want[i] = siam_ref_conv2d_at(&s, in, w, b, (int)(nc / s.Co), (int)(nc % s.Co),
                                         (int)(p / OW), (int)(p % OW));
        }
        siam_check_close_at(label, out, idx, want, k, CONV_FWD_TOL);
        free(idx);
        free(want);
    }
    free(in), free(w), free(b), free(out);
    siam_check_free(be, din_), siam_check_free(be, dw_), siam_check_free(be, db_);
    siam_check_free(be, dout_);
    conv_data_free(&d);
}

/* Backward on the backend against the naive reference backward, sampled
 * for dW and din, full for db. dW and db start at a non-zero value to check
 * that backward adds; din starts with garbage to check it is overwritten. */
static void conv_backward_case(const siam_check_backend *be, siam_conv_shape s, const char *label)
{
    conv_data d;
    conv_data_make(&d, s);
    float *in_ = siam_check_put(be, d.in, d.nin), *w_ = siam_check_put(be, d.w, d.nw);
    float *g_ = siam_check_put(be, d.dout, d.nout);
    float *dw_ = siam_check_alloc(be, d.nw), *db_ = siam_check_alloc(be, (size_t)s.Co);
    float *din_ = siam_check_alloc(be, d.nin);
    siam_check_ok(be, be->ops->fill(be->ctx, dw_, 0.25f, d.nw), "fill");
    siam_check_ok(be, be->ops->fill(be->ctx, db_, 0.25f, (size_t)s.Co), "fill");
    siam_check_ok(be, be->ops->fill(be->ctx, din_, NAN, d.nin), "fill");
    siam_check_ok(be,
                  be->ops->conv2d_backward(be->ctx, din_, dw_, db_, g_, in_, w_, s.N, s.Ci, s.H,
                                           s.W, s.Co, s.KH, s.KW),
                  "conv2d_backward");
    float *dw = siam_check_floats(d.nw), *db = siam_check_floats((size_t)s.Co);
    float *din = siam_check_floats(d.nin);
    siam_check_get(be, dw, dw_, d.nw);
    siam_check_get(be, db, db_, (size_t)s.Co);
    siam_check_get(be, din, din_, d.nin);

    double *in = siam_check_widen(d.in, d.nin), *w = siam_check_widen(d.w, d.nw);
    double *g = siam_check_widen(d.dout, d.nout);
    size_t k = 1500, *idx = calloc(k, sizeof *idx);
    double *want = siam_check_doubles(k > (size_t)s.Co ? k : (size_t)s.Co);
    char what[96];

    siam_ref_conv2d_db(&s, want, g);
    for (int co = 0; co < s.Co; co++)
        want[co] += 0.25;
    snprintf(what, sizeof what, "%s db", label);
    siam_check_close(what, db, want, (size_t)s.Co, CONV_BWD_TOL);

    siam_check_sample(idx, k, d.nw, 2);
    int KK = s.KH * s.KW;
    for (size_t i = 0; i < k; i++) {
        size_t j = idx[i];
        int co = (int)(j / ((size_t)s.Ci * KK)), r = (int)(j % ((size_t)s.Ci * KK));
        want[i] = 0.25 + siam_ref_conv2d_dw_at(&s, g, in, co, r / KK, (r % KK) / s.KW, r % s.KW);
    }
    snprintf(what, sizeof what, "%s dW", label);
    siam_check_close_at(what, dw, idx, want, k, CONV_BWD_TOL);

    siam_check_sample(idx, k, d.nin, 3);
    size_t plane = (size_t)s.H * s.W;
    for (size_t i = 0; i < k; i++) {
        size_t j = idx[i], p = j % plane, nc = j / plane;
        want[i] = siam_ref_conv2d_din_at(&s, g, w, (int)(nc / s.Ci), (int)(nc % s.Ci),
                                         (int)(p / s.W), (int)(p % s.W));
    }
    snprintf(what, sizeof what, "%s din", label);
    siam_check_close_at(what, din, idx, want, k, CONV_BWD_TOL);

    free(idx), free(want), free(in), free(w), free(g), free(dw), free(db), free(din);
    siam_check_free(be, in_), siam_check_free(be, w_), siam_check_free(be, g_);
    siam_check_free(be, dw_), siam_check_free(be, db_), siam_check_free(be, din_);
    conv_data_free(&d);
}

static void conv_forward_small(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    conv_forward_case(be, (siam_conv_shape){3, 2, 7, 6, 3, 3, 2}, 1, "conv small 3x2x7x6 k3x2");
    conv_forward_case(be, (siam_conv_shape){1, 1, 4, 4, 1, 4, 4}, 1, "conv kernel = input");
    conv_forward_case(be, (siam_conv_shape){2, 3, 5, 5, 4, 1, 1}, 1, "conv 1x1 kernel");
}

/* The model's four convolutions (Koch et al. 2015, Fig. 4). conv1 at N=13
 * and conv2 at N=3 span more than one im2col chunk. */
static void conv_forward_model_shapes(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    conv_forward_case(be, (siam_conv_shape){2, 1, 105, 105, 64, 10, 10}, 1, "conv1 N=2");
    conv_forward_case(be, (siam_conv_shape){13, 1, 105, 105, 64, 10, 10}, 0, "conv1 N=13");
    conv_forward_case(be, (siam_conv_shape){3, 64, 48, 48, 128, 7, 7}, 0, "conv2 N=3");
    conv_forward_case(be, (siam_conv_shape){2, 128, 21, 21, 128, 4, 4}, 1, "conv3 N=2");
    conv_forward_case(be, (siam_conv_shape){2, 128, 9, 9, 256, 4, 4}, 1, "conv4 N=2");
}

static void conv_backward_model_shapes(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    conv_backward_case(be, (siam_conv_shape){2, 1, 105, 105, 64, 10, 10}, "conv1 N=2");
    conv_backward_case(be, (siam_conv_shape){13, 1, 105, 105, 64, 10, 10}, "conv1 N=13");
    conv_backward_case(be, (siam_conv_shape){3, 64, 48, 48, 128, 7, 7}, "conv2 N=3");
    conv_backward_case(be, (siam_conv_shape){2, 128, 21, 21, 128, 4, 4}, "conv3 N=2");
    conv_backward_case(be, (siam_conv_shape){2, 128, 9, 9, 256, 4, 4}, "conv4 N=2");
}

/* L(in, w, b) = sum(conv(in, w, b) * g) in double: its gradient is what
 * conv2d_backward computes for dout = g. */
typedef struct conv_fd {
    siam_conv_shape s;
    double *in, *w, *b, *g, *out;
    int which; /* 0: vary in, 1: w, 2: b */
} conv_fd;

static double conv_fd_loss(void *user, const double *x)
{
    conv_fd *c = user;
    siam_ref_conv2d_forward(&c->s, c->out, c->which == 0 ? x : c->in, c->which == 1 ? x : c->w,
                            c->which == 2 ? x : c->b);
    size_t n = (size_t)c->s.N * c->s.Co * conv_out_plane(&c->s);
    double l = 0.0;
    for (size_t i = 0; i < n; i++)
        l += c->out[i] * c->g[i];
    return l;
}

static void conv_backward_finite_differences(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_conv_shape s = {2, 2, 6, 5, 3, 3, 2};
    conv_data d;
    conv_data_make(&d, s);
    conv_fd c = {s, siam_check_widen(d.in, d.nin), siam_check_widen(d.w, d.nw),
                 siam_check_widen(d.b, (size_t)s.Co), siam_check_widen(d.dout, d.nout),
                 siam_check_doubles(d.nout), 0};
    double *gin = siam_check_doubles(d.nin), *gw = siam_check_doubles(d.nw);
    double *gb = siam_check_doubles((size_t)s.Co);
    double *x = siam_check_widen(d.in, d.nin);
    siam_check_fd(conv_fd_loss, &c, x, d.nin, 1e-6, gin);
    free(x);
    c.which = 1;
    x = siam_check_widen(d.w, d.nw);
    siam_check_fd(conv_fd_loss, &c, x, d.nw, 1e-6, gw);
    free(x);
    c.which = 2;
    x = siam_check_widen(d.b, (size_t)s.Co);
    siam_check_fd(conv_fd_loss, &c, x, (size_t)s.Co, 1e-6, gb);
    free(x);

    float *in_ = siam_check_put(be, d.in, d.nin), *w_ = siam_check_put(be, d.w, d.nw);
    float *g_ = siam_check_put(be, d.dout, d.nout), *dw_ = siam_check_alloc(be, d.nw);
    float *db_ = siam_check_alloc(be, (size_t)s.Co), *din_ = siam_check_alloc(be, d.nin);
    siam_check_ok(be,
                  be->ops->conv2d_backward(be->ctx, din_, dw_, db_, g_, in_, w_, s.N, s.Ci, s.H,
                                           s.W, s.Co, s.KH, s.KW),
                  "conv2d_backward");
    float *got = siam_check_floats(d.nin);
    siam_check_get(be, got, din_, d.nin);
    siam_check_close("conv fd din", got, gin, d.nin, 1e-5);
    siam_check_get(be, got, dw_, d.nw);
    siam_check_close("conv fd dW", got, gw, d.nw, 1e-5);
    siam_check_get(be, got, db_, (size_t)s.Co);
    siam_check_close("conv fd db", got, gb, (size_t)s.Co, 1e-5);

    /* A second call with din == NULL adds the same dW again and still
     * succeeds (the first layer has no input gradient). */
    siam_check_ok(be,
                  be->ops->conv2d_backward(be->ctx, NULL, dw_, db_, g_, in_, w_, s.N, s.Ci, s.H,
                                           s.W, s.Co, s.KH, s.KW),
                  "conv2d_backward din=NULL");
    for (size_t i = 0; i < d.nw; i++)
        gw[i] *= 2.0;
    siam_check_get(be, got, dw_, d.nw);
    siam_check_close("conv dW accumulates over two calls", got, gw, d.nw, 1e-5);

    free(got), free(gin), free(gw), free(gb);
    free(c.in), free(c.w), free(c.b), free(c.g), free(c.out);
    siam_check_free(be, in_), siam_check_free(be, w_), siam_check_free(be, g_);
    siam_check_free(be, dw_), siam_check_free(be, db_), siam_check_free(be, din_);
    conv_data_free(&d);
}

static void conv_rejects_bad_sizes(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    float *buf = siam_check_alloc(be, 64);
    int rc = be->ops->conv2d_forward(be->ctx, buf, buf, buf, buf, 1, 1, 4, 4, 1, 5, 5);
    assert_int_equal(rc, -1);
    const char *msg = be->ops->ctx_error(be->ctx);
    print_message("message: %s\n", msg);
    assert_non_null(strstr(msg, "conv2d_forward"));
    assert_non_null(strstr(msg, "5x5"));
    rc = be->ops->conv2d_backward(be->ctx, buf, buf, buf, buf, buf, buf, 1, 0, 4, 4, 1, 2, 2);
    assert_int_equal(rc, -1);
    assert_non_null(strstr(be->ops->ctx_error(be->ctx), "conv2d_backward"));
    siam_check_free(be, buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(conv_forward_small),
        cmocka_unit_test(conv_backward_finite_differences),
        cmocka_unit_test(conv_forward_model_shapes),
        cmocka_unit_test(conv_backward_model_shapes),
        cmocka_unit_test(conv_rejects_bad_sizes),
    };
    return siam_check_run("ops_conv", tests, sizeof tests / sizeof tests[0]);
}
