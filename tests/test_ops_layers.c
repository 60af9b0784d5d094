/* max-pool, linear, ReLU, sigmoid and |a-b| on every backend: naive
 * references, finite differences, and the model's real shapes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ops_check.h"

/* Elementwise maps: one float operation (or expf, within 2 ulp). */
#define ELEM_TOL 1e-6
/* Float32 SGEMM over I = 9216 products, as for conv (measured ~1e-6). */
#define LINEAR_TOL 2e-5

/* ---- max-pool ---- */

static void ref_pool(double *out, int32_t *am, const double *in, int NC, int H, int W)
{
    int OH = H / 2, OW = W / 2;
    for (int c = 0; c < NC; c++)
        for (int oh = 0; oh < OH; oh++)
            for (int ow = 0; ow < OW; ow++) {
                int best = -1;
                double v = 0.0;
                for (int dh = 0; dh < 2; dh++)
                    for (int dw = 0; dw < 2; dw++) {
                        int j = (2 * oh + dh) * W + 2 * ow + dw;
                        double t = in[(size_t)c * H * W + j];
                        if (best < 0 || t > v)
                            v = t, best = j;
                    }
                out[((size_t)c * OH + oh) * OW + ow] = v;
                if (am)
                    am[((size_t)c * OH + oh) * OW + ow] = best;
            }
}

static void pool_case(const siam_check_backend *be, const float *x, int NC, int H, int W,
                      const char *label)
{
    size_t n = (size_t)NC * H * W, m = (size_t)NC * (H / 2) * (W / 2);
    float *x_ = siam_check_put(be, x, n), *y_ = siam_check_alloc(be, m);
    int32_t *am_ = siam_check_put_bytes(be, NULL, m * sizeof(int32_t));
    siam_check_ok(be, be->ops->maxpool2_forward(be->ctx, y_, am_, x_, NC, H, W),
                  "maxpool2_forward");
    double *xd = siam_check_widen(x, n), *want = siam_check_doubles(m);
    int32_t *am = calloc(m, sizeof *am), *got_am = calloc(m, sizeof *got_am);
    ref_pool(want, am, xd, NC, H, W);
    float *y = siam_check_floats(m);
    siam_check_get(be, y, y_, m);
    siam_check_get_bytes(be, got_am, am_, m * sizeof(int32_t));
    char what[96];
    snprintf(what, sizeof what, "%s forward", label);
    siam_check_close(what, y, want, m, 0.0); /* a max is exact */
    assert_memory_equal(got_am, am, m * sizeof(int32_t));

    /* Backward: din overwritten, dout routed to the argmax, zeros elsewhere. */
    float *g = siam_check_floats(m);
    siam_check_random(g, m, 31, -1.0f, 1.0f);
    float *g_ = siam_check_put(be, g, m), *dx_ = siam_check_alloc(be, n);
    siam_check_ok(be, be->ops->fill(be->ctx, dx_, NAN, n), "fill");
    siam_check_ok(be, be->ops->maxpool2_backward(be->ctx, dx_, g_, am_, NC, H, W),
                  "maxpool2_backward");
    double *dwant = siam_check_doubles(n);
    int OH = H / 2, OW = W / 2;
    for (int c = 0; c < NC; c++)
        for (int o = 0; o < OH * OW; o++)
            dwant[(size_t)c * H * W + am[(size_t)c * OH * OW + o]] = g[(size_t)c * OH * OW + o];
    float *dx = siam_check_floats(n);
    siam_check_get(be, dx, dx_, n);
    snprintf(what, sizeof what, "%s backward", label);
    siam_check_close(what, dx, dwant, n, 0.0);

    free(xd), free(want), free(am), free(got_am), free(y), free(g), free(dwant), free(dx);
    siam_check_free(be, x_), siam_check_free(be, y_), siam_check_free(be, am_);
    siam_check_free(be, g_), siam_check_free(be, dx_);
}

static void maxpool_small_and_ties(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    float x[3 * 5 * 7];
    siam_check_random(x, sizeof x / sizeof x[0], 32, -1.0f, 1.0f);
    pool_case(be, x, 3, 5, 7, "maxpool odd 3x5x7 (floor)");
    /* 2x8 plane, four windows: all equal; tie in row 0 col 1 and row 1 col 0;
     * tie in row 1; the unique maximum first. PyTorch picks the first maximum
     * in row-major order. */
    const float t[16] = {1, 1, 0, 2, 0, 0, -1, -1,
                         1, 1, 2, 0, 3, 3, -1, -2};
    pool_case(be, t, 1, 2, 8, "maxpool ties");
    float *y_ = siam_check_alloc(be, 4), *t_ = siam_check_put(be, t, 16);
    int32_t *am_ = siam_check_put_bytes(be, NULL, 4 * sizeof(int32_t)), am[4];
    siam_check_ok(be, be->ops->maxpool2_forward(be->ctx, y_, am_, t_, 1, 2, 8), "maxpool");
    siam_check_get_bytes(be, am, am_, sizeof am);
    const int32_t want[4] = {0, 3, 12, 6};
    assert_memory_equal(am, want, sizeof am);
    siam_check_free(be, y_), siam_check_free(be, t_), siam_check_free(be, am_);
}

/* NaN and edges: a NaN in a window wins over larger numbers (PyTorch's
 * "val > max || isnan(val)"), ties go to the first in row-major order, and
 * the backward overwrites every input pixel, the dropped last row and
 * column included, with zero where no window chose it. */
static void maxpool_nan_wins_and_dropped_edge_is_zeroed(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    /* Two planes of 5 x 7: the last row and column are dropped (floor). */
    enum { NC = 2, H = 5, W = 7, OH = 2, OW = 3 };
    float x[NC * H * W];
    siam_check_random(x, NC * H * W, 33, -1.0f, 1.0f);
    /* Plane 0, window (0,0): a tie between (0,1) and (1,0): (0,1) wins. */
    x[0] = 0.0f, x[1] = 5.0f, x[W] = 5.0f, x[W + 1] = 4.0f;
    /* Plane 0, window (1,2): a NaN at (3,5) wins over larger numbers. */
    x[2 * W + 4] = 9.0f, x[3 * W + 5] = NAN;
    /* Plane 1, window (0,1): all four equal: the first, (0,2), wins. */
    float *p1 = x + H * W;
    p1[2] = p1[3] = p1[W + 2] = p1[W + 3] = 7.0f;
    float *x_ = siam_check_put(be, x, NC * H * W), *y_ = siam_check_alloc(be, NC * OH * OW);
    int32_t *am_ = siam_check_put_bytes(be, NULL, NC * OH * OW * sizeof(int32_t));
    siam_check_ok(be, be->ops->maxpool2_forward(be->ctx, y_, am_, x_, NC, H, W),
                  "maxpool2_forward");
    float y[NC * OH * OW];
    int32_t am[NC * OH * OW];
    siam_check_get(be, y, y_, NC * OH * OW);
    siam_check_get_bytes(be, am, am_, sizeof am);
    for (int c = 0; c < NC; c++)
        for (int o = 0; o < OH * OW; o++) {
            int oh = o / OW, ow = o % OW, best = 2 * oh * W + 2 * ow;
            const float *xp = x + c * H * W;
            const int cand[4] = {best, best + 1, best + W, best + W + 1};
            for (int k = 1; k < 4; k++)
                if (xp[cand[k]] > xp[best] || isnan(xp[cand[k]]))
                    best = cand[k];
            assert_int_equal(am[c * OH * OW + o], best);
            float got = y[c * OH * OW + o];
            assert_true(isnan(xp[best]) ? isnan(got) : got == xp[best]);
        }
    assert_int_equal(am[0], 1);
    assert_int_equal(am[OW + 2], 3 * W + 5);
    assert_int_equal(am[OH * OW + 1], 2);
    /* Backward: the gradient lands on the winners only; every other pixel,
     * including the dropped edge, is overwritten with zero. */
    float dout[NC * OH * OW], din[NC * H * W];
    for (int i = 0; i < NC * OH * OW; i++)
        dout[i] = (float)(i + 1);
    float *dout_ = siam_check_put(be, dout, NC * OH * OW);
    float *din_ = siam_check_alloc(be, NC * H * W);
    siam_check_ok(be, be->ops->fill(be->ctx, din_, 42.0f, NC * H * W), "fill");
    siam_check_ok(be, be->ops->maxpool2_backward(be->ctx, din_, dout_, am_, NC, H, W),
                  "maxpool2_backward");
    siam_check_get(be, din, din_, NC * H * W);
    for (int c = 0; c < NC; c++)
        for (int a = 0; a < H * W; a++) {
            float want = 0.0f;
            for (int o = 0; o < OH * OW; o++)
                if (am[c * OH * OW + o] == a)
                    want = dout[c * OH * OW + o];
            assert_true(din[c * H * W + a] == want);
        }
    siam_check_free(be, x_), siam_check_free(be, y_), siam_check_free(be, am_);
    siam_check_free(be, dout_), siam_check_free(be, din_);
}

static void maxpool_model_shapes(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    const int shapes[3][3] = {{2 * 64, 96, 96}, {2 * 128, 42, 42}, {2 * 128, 18, 18}};
    const char *labels[3] = {"pool1 128x96x96", "pool2 256x42x42", "pool3 256x18x18"};
    for (int k = 0; k < 3; k++) {
        size_t n = (size_t)shapes[k][0] * shapes[k][1] * shapes[k][2];
        float *x = siam_check_floats(n);
        siam_check_random(x, n, 33 + (uint64_t)k, -3.0f, 3.0f);
        pool_case(be, x, shapes[k][0], shapes[k][1], shapes[k][2], labels[k]);
        free(x);
    }
}

typedef struct pool_fd {
    int NC, H, W;
    double *g, *out;
} pool_fd;

static double pool_fd_loss(void *user, const double *x)
{
    pool_fd *f = user;
    ref_pool(f->out, NULL, x, f->NC, f->H, f->W);
    double l = 0.0;
    for (size_t i = 0; i < (size_t)f->NC * (f->H / 2) * (f->W / 2); i++)
        l += f->out[i] * f->g[i];
    return l;
}

static void maxpool_backward_finite_differences(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    int NC = 2, H = 6, W = 5;
    size_t n = (size_t)NC * H * W, m = (size_t)NC * (H / 2) * (W / 2);
    float *x = siam_check_floats(n), *g = siam_check_floats(m);
    siam_check_random(x, n, 34, -1.0f, 1.0f);
    siam_check_random(g, m, 35, -1.0f, 1.0f);
    pool_fd f = {NC, H, W, siam_check_widen(g, m), siam_check_doubles(m)};
    double *xd = siam_check_widen(x, n), *grad = siam_check_doubles(n);
    siam_check_fd(pool_fd_loss, &f, xd, n, 1e-7, grad);
    float *x_ = siam_check_put(be, x, n), *y_ = siam_check_alloc(be, m);
    float *g_ = siam_check_put(be, g, m), *dx_ = siam_check_alloc(be, n);
    int32_t *am_ = siam_check_put_bytes(be, NULL, m * sizeof(int32_t));
    siam_check_ok(be, be->ops->maxpool2_forward(be->ctx, y_, am_, x_, NC, H, W), "forward");
    siam_check_ok(be, be->ops->maxpool2_backward(be->ctx, dx_, g_, am_, NC, H, W), "backward");
    float *dx = siam_check_floats(n);
    siam_check_get(be, dx, dx_, n);
    siam_check_close("maxpool fd din", dx, grad, n, 1e-6);
    free(x), free(g), free(f.g), free(f.out), free(xd), free(grad), free(dx);
    siam_check_free(be, x_), siam_check_free(be, y_), siam_check_free(be, g_);
    siam_check_free(be, dx_), siam_check_free(be, am_);
}

/* ---- linear ---- */

typedef struct lin_fd {
    int N, I, O, which; /* 0: in, 1: w, 2: b */
    double *in, *w, *b, *g, *out;
} lin_fd;

static double lin_fd_loss(void *user, const double *x)
{
    lin_fd *f = user;
    siam_ref_linear_forward(f->out, f->which == 0 ? x : f->in, f->which == 1 ? x : f->w,
                            f->which == 2 ? x : f->b, f->N, f->I, f->O);
    double l = 0.0;
    for (size_t i = 0; i < (size_t)f->N * f->O; i++)
        l += f->out[i] * f->g[i];
    return l;
}

static void linear_small_forward_and_finite_differences(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    int N = 3, I = 7, O = 5;
    size_t ni = (size_t)N * I, nw = (size_t)O * I, no = (size_t)N * O;
    float *in = siam_check_floats(ni), *w = siam_check_floats(nw), *b = siam_check_floats(O);
    float *g = siam_check_floats(no);
    siam_check_random(in, ni, 41, -1.0f, 1.0f);
    siam_check_random(w, nw, 42, -0.4f, 0.4f);
    siam_check_random(b, (size_t)O, 43, -0.4f, 0.4f);
    siam_check_random(g, no, 44, -1.0f, 1.0f);
    lin_fd f = {N, I, O, 0, siam_check_widen(in, ni), siam_check_widen(w, nw),
                siam_check_widen(b, (size_t)O), siam_check_widen(g, no), siam_check_doubles(no)};

    float *in_ = siam_check_put(be, in, ni), *w_ = siam_check_put(be, w, nw);
    float *b_ = siam_check_put(be, b, (size_t)O), *out_ = siam_check_alloc(be, no);
    float *g_ = siam_check_put(be, g, no), *din_ = siam_check_alloc(be, ni);
    float *dw_ = siam_check_alloc(be, nw), *db_ = siam_check_alloc(be, (size_t)O);
    siam_check_ok(be, be->ops->linear_forward(be->ctx, out_, in_, w_, b_, N, I, O), "forward");
    float *got = siam_check_floats(nw);
    double *want = siam_check_doubles(no);
    siam_ref_linear_forward(want, f.in, f.w, f.b, N, I, O);
    siam_check_get(be, got, out_, no);
    siam_check_close("linear small forward", got, want, no, LINEAR_TOL);

    siam_check_ok(be, be->ops->fill(be->ctx, din_, NAN, ni), "fill");
    siam_check_ok(be, be->ops->fill(be->ctx, dw_, 0.25f, nw), "fill");
    siam_check_ok(be, be->ops->fill(be->ctx, db_, 0.25f, (size_t)O), "fill");
    siam_check_ok(be, be->ops->linear_backward(be->ctx, din_, dw_, db_, g_, in_, w_, N, I, O),
                  "backward");
    double *grad = siam_check_doubles(nw), *x;
    x = siam_check_widen(in, ni);
    siam_check_fd(lin_fd_loss, &f, x, ni, 1e-6, grad);
    free(x);
    siam_check_get(be, got, din_, ni);
    siam_check_close("linear fd din", got, grad, ni, 1e-5);
    f.which = 1;
    x = siam_check_widen(w, nw);
    siam_check_fd(lin_fd_loss, &f, x, nw, 1e-6, grad);
    free(x);
    for (size_t i = 0; i < nw; i++)
        grad[i] += 0.25;
    siam_check_get(be, got, dw_, nw);
    siam_check_close("linear fd dW (+0.25 before)", got, grad, nw, 1e-5);
    f.which = 2;
    x = siam_check_widen(b, (size_t)O);
    siam_check_fd(lin_fd_loss, &f, x, (size_t)O, 1e-6, grad);
    free(x);
    for (int i = 0; i < O; i++)
        grad[i] += 0.25;
    siam_check_get(be, got, db_, (size_t)O);
    siam_check_close("linear fd db (+0.25 before)", got, grad, (size_t)O, 1e-5);
    /* din == NULL: parameter gradients only. */
    siam_check_ok(be, be->ops->linear_backward(be->ctx, NULL, dw_, db_, g_, in_, w_, N, I, O),
                  "backward din=NULL");
    for (int i = 0; i < O; i++)
        grad[i] = 2.0 * (grad[i] - 0.25) + 0.25;
    siam_check_get(be, got, db_, (size_t)O);
    siam_check_close("linear db accumulates over two calls", got, grad, (size_t)O, 1e-5);

    free(in), free(w), free(b), free(g), free(got), free(want), free(grad);
    free(f.in), free(f.w), free(f.b), free(f.g), free(f.out);
    float *bufs[] = {in_, w_, b_, out_, g_, din_, dw_, db_};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        siam_check_free(be, bufs[k]);
}

/* The fc layer 9216 -> 4096 at N=2 (one pair) and the out layer 4096 -> 1:
 * a reduced check of 2000 sampled outputs/gradients against double sums. */
static void linear_case_model(const siam_check_backend *be, int N, int I, int O,
                              const char *label)
{
    size_t ni = (size_t)N * I, nw = (size_t)O * I, no = (size_t)N * O;
    float bound = 1.0f / sqrtf((float)I);
    float *in = siam_check_floats(ni), *w = siam_check_floats(nw), *b = siam_check_floats(O);
    float *g = siam_check_floats(no);
    siam_check_random(in, ni, 45, 0.0f, 2.0f); /* post-ReLU activations are >= 0 */
    siam_check_random(w, nw, 46, -bound, bound);
    siam_check_random(b, (size_t)O, 47, -bound, bound);
    siam_check_random(g, no, 48, -1.0f, 1.0f);
    float *in_ = siam_check_put(be, in, ni), *w_ = siam_check_put(be, w, nw);
    float *b_ = siam_check_put(be, b, (size_t)O), *out_ = siam_check_alloc(be, no);
    float *g_ = siam_check_put(be, g, no), *din_ = siam_check_alloc(be, ni);
    float *db_ = siam_check_alloc(be, (size_t)O);
    siam_check_ok(be, be->ops->linear_forward(be->ctx, out_, in_, w_, b_, N, I, O), "forward");
    float *out = siam_check_floats(no), *din = siam_check_floats(ni);
    float *db = siam_check_floats((size_t)O);
    siam_check_get(be, out, out_, no);
    /* Reuse the weight buffer's host copy: dW goes into a device buffer
     * that we download over w once the references that need w are done. */
    size_t k = 2000, *idx = calloc(k, sizeof *idx);
    double *want = siam_check_doubles(k > (size_t)O ? k : (size_t)O);
    char what[96];
    siam_check_sample(idx, k, no, 5);
    for (size_t s = 0; s < k; s++) {
        size_t n = idx[s] / (size_t)O, o = idx[s] % (size_t)O;
        double acc = b[o];
        for (int i = 0; i < I; i++)
            acc += (double)in[n * I + i] * w[o * I + i];
        want[s] = acc;
    }
    snprintf(what, sizeof what, "%s forward", label);
    siam_check_close_at(what, out, idx, want, k < no ? k : no, LINEAR_TOL);

    float *dw_ = siam_check_alloc(be, nw);
    siam_check_ok(be, be->ops->linear_backward(be->ctx, din_, dw_, db_, g_, in_, w_, N, I, O),
                  "backward");
    siam_check_get(be, din, din_, ni);
    siam_check_sample(idx, k, ni, 6);
    for (size_t s = 0; s < k; s++) {
        size_t n = idx[s] / (size_t)I, i = idx[s] % (size_t)I;
        double acc = 0.0;
        for (int o = 0; o < O; o++)
            acc += (double)g[n * O + o] * w[(size_t)o * I + i];
        want[s] = acc;
    }
    snprintf(what, sizeof what, "%s din", label);
    siam_check_close_at(what, din, idx, want, k, LINEAR_TOL);
    for (int o = 0; o < O; o++) {
        double acc = 0.0;
        for (int n = 0; n < N; n++)
            acc += g[(size_t)n * O + o];
        want[o] = acc;
    }
    siam_check_get(be, db, db_, (size_t)O);
    snprintf(what, sizeof what, "%s db", label);
    siam_check_close(what, db, want, (size_t)O, LINEAR_TOL);
    siam_check_get(be, w, dw_, nw); /* w now holds dW */
    siam_check_sample(idx, k, nw, 7);
    for (size_t s = 0; s < k; s++) {
        size_t o = idx[s] / (size_t)I, i = idx[s] % (size_t)I;
        double acc = 0.0;
        for (int n = 0; n < N; n++)
            acc += (double)g[(size_t)n * O + o] * in[(size_t)n * I + i];
        want[s] = acc;
    }
    snprintf(what, sizeof what, "%s dW", label);
    siam_check_close_at(what, w, idx, want, k, LINEAR_TOL);

    free(in), free(w), free(b), free(g), free(out), free(din), free(db), free(idx), free(want);
    float *bufs[] = {in_, w_, b_, out_, g_, din_, db_, dw_};
    for (size_t s = 0; s < sizeof bufs / sizeof bufs[0]; s++)
        siam_check_free(be, bufs[s]);
}

static void linear_model_shapes(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    linear_case_model(be, 2, 9216, 4096, "fc 2x9216->4096");
    linear_case_model(be, 4, 4096, 1, "out 4x4096->1");
}

/* ---- elementwise ---- */

/* The gradient of sum(f(x) * g) for an elementwise f, by central
 * differences of the double-precision map. */
static void elementwise_fd(double (*f)(double), const float *x, const float *g, size_t n,
                           double *grad)
{
    const double h = 1e-6;
    for (size_t i = 0; i < n; i++)
        grad[i] = (f((double)x[i] + h) - f((double)x[i] - h)) / (2.0 * h) * g[i];
}

static double relu_d(double x)
{
    return x > 0.0 ? x : 0.0;
}

static double sigmoid_d(double x)
{
    return 1.0 / (1.0 + exp(-x));
}

static void relu_and_sigmoid(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 4099 };
    float *x = siam_check_floats(n), *g = siam_check_floats(n), *got = siam_check_floats(n);
    double *want = siam_check_doubles(n);
    siam_check_random(x, n, 51, -6.0f, 6.0f);
    siam_check_random(g, n, 52, -1.0f, 1.0f);
    x[0] = 0.0f, x[1] = -100.0f, x[2] = 100.0f, x[3] = -1000.0f, x[4] = 1000.0f;
    float *x_ = siam_check_put(be, x, n), *y_ = siam_check_alloc(be, n);
    float *g_ = siam_check_put(be, g, n), *dx_ = siam_check_alloc(be, n);

    siam_check_ok(be, be->ops->relu_forward(be->ctx, y_, x_, n), "relu_forward");
    for (size_t i = 0; i < n; i++)
        want[i] = relu_d(x[i]);
    siam_check_get(be, got, y_, n);
    siam_check_close("relu forward", got, want, n, 0.0);
    siam_check_ok(be, be->ops->relu_backward(be->ctx, dx_, g_, y_, n), "relu_backward");
    elementwise_fd(relu_d, x, g, n, want);
    want[0] = 0.0; /* at 0 PyTorch passes no gradient (out > 0 is false) */
    siam_check_get(be, got, dx_, n);
    siam_check_close("relu fd backward", got, want, n, 1e-6);
    /* In place: out == in, din == dout. */
    float *t_ = siam_check_put(be, x, n);
    siam_check_ok(be, be->ops->relu_forward(be->ctx, t_, t_, n), "relu in place");
    siam_check_get(be, got, t_, n);
    for (size_t i = 0; i < n; i++)
        want[i] = relu_d(x[i]);
    siam_check_close("relu in place", got, want, n, 0.0);

    siam_check_ok(be, be->ops->sigmoid_forward(be->ctx, y_, x_, n), "sigmoid_forward");
    for (size_t i = 0; i < n; i++)
        want[i] = sigmoid_d(x[i]);
    siam_check_get(be, got, y_, n);
    for (size_t i = 0; i < n; i++)
        assert_false(isnan(got[i]));
    assert_true(got[3] == 0.0f && got[4] == 1.0f);
    siam_check_close("sigmoid forward", got, want, n, ELEM_TOL);
    siam_check_ok(be, be->ops->sigmoid_backward(be->ctx, dx_, g_, y_, n), "sigmoid_backward");
    elementwise_fd(sigmoid_d, x, g, n, want);
    siam_check_get(be, got, dx_, n);
    siam_check_close("sigmoid fd backward", got, want, n, 1e-5);

    free(x), free(g), free(got), free(want);
    siam_check_free(be, x_), siam_check_free(be, y_), siam_check_free(be, g_);
    siam_check_free(be, dx_), siam_check_free(be, t_);
}

static void absdiff_forward_backward(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 1000 };
    float *a = siam_check_floats(n), *b = siam_check_floats(n), *g = siam_check_floats(n);
    float *got = siam_check_floats(n);
    double *want = siam_check_doubles(n);
    siam_check_random(a, n, 53, -1.0f, 1.0f);
    siam_check_random(b, n, 54, -1.0f, 1.0f);
    siam_check_random(g, n, 55, -1.0f, 1.0f);
    b[0] = a[0], b[1] = a[1]; /* sign(0) = 0: no gradient through equal values */
    float *a_ = siam_check_put(be, a, n), *b_ = siam_check_put(be, b, n);
    float *g_ = siam_check_put(be, g, n), *y_ = siam_check_alloc(be, n);
    float *da_ = siam_check_alloc(be, n), *db_ = siam_check_alloc(be, n);
    siam_check_ok(be, be->ops->absdiff_forward(be->ctx, y_, a_, b_, n), "absdiff_forward");
    for (size_t i = 0; i < n; i++)
        want[i] = fabs((double)a[i] - b[i]);
    siam_check_get(be, got, y_, n);
    /* |a - b| of floats in [-1, 1] rounds once: relative 2^-24. */
    siam_check_close("absdiff forward", got, want, n, 1e-7);
    siam_check_ok(be, be->ops->absdiff_backward(be->ctx, da_, db_, g_, a_, b_, n),
                  "absdiff_backward");
    /* d|a-b|/da by central differences in double (h well below the gaps). */
    const double h = 1e-9;
    for (size_t i = 0; i < n; i++)
        want[i] = (fabs((double)a[i] + h - b[i]) - fabs((double)a[i] - h - b[i])) / (2 * h) * g[i];
    want[0] = want[1] = 0.0;
    siam_check_get(be, got, da_, n);
    siam_check_close("absdiff fd da", got, want, n, 1e-6);
    for (size_t i = 0; i < n; i++)
        want[i] = -(double)got[i];
    siam_check_get(be, got, db_, n);
    siam_check_close("absdiff db = -da", got, want, n, 0.0);
    free(a), free(b), free(g), free(got), free(want);
    float *bufs[] = {a_, b_, g_, y_, da_, db_};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        siam_check_free(be, bufs[k]);
}

/* The elementwise maps against their definitions, per element: ReLU and
 * |a - b| (forward and both gradients) exactly, sigmoid and its backward
 * dout * y * (1 - y) within float rounding, over a wide input range. */
static void elementwise_ops_match_definitions(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 3001 };
    static float a[n], b[n], dout[n], got[n], got2[n];
    static double want[n], want2[n];
    siam_check_random(a, n, 56, -20.0f, 20.0f);
    siam_check_random(b, n, 57, -20.0f, 20.0f);
    siam_check_random(dout, n, 58, -1.0f, 1.0f);
    b[5] = a[5]; /* sign(0) = 0 */
    float *a_ = siam_check_put(be, a, n), *b_ = siam_check_put(be, b, n);
    float *d_ = siam_check_put(be, dout, n);
    float *y_ = siam_check_alloc(be, n), *z_ = siam_check_alloc(be, n);

    siam_check_ok(be, be->ops->relu_forward(be->ctx, y_, a_, n), "relu_forward");
    siam_check_ok(be, be->ops->relu_backward(be->ctx, z_, d_, y_, n), "relu_backward");
    for (int i = 0; i < n; i++)
        want[i] = a[i] > 0 ? a[i] : 0.0, want2[i] = a[i] > 0 ? dout[i] : 0.0;
    siam_check_get(be, got, y_, n);
    siam_check_near("relu forward (exact)", got, want, n, 0.0, 0.0);
    siam_check_get(be, got, z_, n);
    siam_check_near("relu backward (exact)", got, want2, n, 0.0, 0.0);

    siam_check_ok(be, be->ops->sigmoid_forward(be->ctx, y_, a_, n), "sigmoid_forward");
    siam_check_ok(be, be->ops->sigmoid_backward(be->ctx, z_, d_, y_, n), "sigmoid_backward");
    siam_check_get(be, got, y_, n);
    for (int i = 0; i < n; i++) {
        want[i] = 1.0 / (1.0 + exp(-(double)a[i]));
        want2[i] = dout[i] * (double)got[i] * (1.0 - (double)got[i]);
    }
    siam_check_near("sigmoid forward", got, want, n, 1e-7, 1e-6);
    siam_check_get(be, got, z_, n);
    siam_check_near("sigmoid backward", got, want2, n, 1e-8, 1e-6);

    siam_check_ok(be, be->ops->absdiff_forward(be->ctx, y_, a_, b_, n), "absdiff_forward");
    siam_check_ok(be, be->ops->absdiff_backward(be->ctx, z_, y_, d_, a_, b_, n),
                  "absdiff_backward");
    for (int i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        want[i] = d > 0 ? dout[i] : d < 0 ? -dout[i] : 0.0;
        want2[i] = -want[i];
    }
    siam_check_get(be, got, z_, n);
    siam_check_near("absdiff da (exact)", got, want, n, 0.0, 0.0);
    siam_check_get(be, got2, y_, n);
    siam_check_near("absdiff db (exact)", got2, want2, n, 0.0, 0.0);
    siam_check_ok(be, be->ops->absdiff_forward(be->ctx, y_, a_, b_, n), "absdiff_forward");
    siam_check_get(be, got, y_, n);
    for (int i = 0; i < n; i++)
        want[i] = fabsf(a[i] - b[i]);
    siam_check_near("absdiff forward (exact)", got, want, n, 0.0, 0.0);
    float *bufs[] = {a_, b_, d_, y_, z_};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        siam_check_free(be, bufs[k]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(maxpool_small_and_ties),
        cmocka_unit_test(maxpool_nan_wins_and_dropped_edge_is_zeroed),
        cmocka_unit_test(maxpool_backward_finite_differences),
        cmocka_unit_test(maxpool_model_shapes),
        cmocka_unit_test(linear_small_forward_and_finite_differences),
        cmocka_unit_test(linear_model_shapes),
        cmocka_unit_test(relu_and_sigmoid),
        cmocka_unit_test(absdiff_forward_backward),
        cmocka_unit_test(elementwise_ops_match_definitions),
    };
    return siam_check_run("ops_layers", tests, sizeof tests / sizeof tests[0]);
}
