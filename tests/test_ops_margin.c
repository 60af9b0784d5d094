/* The identity heads' loss (ops->margin_softmax: softmax, CosFace, ArcFace)
 * on every backend, against a naive double-precision reference, central
 * finite differences of it, its reductions (m = 0, s = 0), ArcFace's
 * threshold past pi - m, PyTorch's numbers (tests/fixtures/margin_softmax.h,
 * from scripts/make_margin_fixture.py) and the error for each bad argument. */
#include "tests/support/ops_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fixtures/margin_softmax.h"

static const char *kind_name[] = { "softmax", "cosface", "arcface" };

typedef struct margin_case {
    int N, D, C, kind;
    double s, m;
    const int32_t *labels;
} margin_case;

static void normalize(double *out, const double *x, int rows, int D)
{
    for (int r = 0; r < rows; r++) {
        double s2 = 0.0;
        for (int k = 0; k < D; k++)
            s2 += x[(size_t)r * D + k] * x[(size_t)r * D + k];
        double den = fmax(sqrt(s2), 1e-12);
        for (int k = 0; k < D; k++)
            out[(size_t)r * D + k] = x[(size_t)r * D + k] / den;
    }
}

/* The loss written out from the definitions (docs/ops.md), in double: the
 * ArcFace rule is insightface's, spelled with acos rather than through
 * kernels/margin.h. x is E (N,D) then W (C,D). */
static double ref_loss(const margin_case *mc, const double *x)
{
    int N = mc->N, D = mc->D, C = mc->C;
    const double *E = x, *W = x + (size_t)N * D;
    double *e = siam_check_doubles((size_t)N * D), *w = siam_check_doubles((size_t)C * D);
    double *z = siam_check_doubles((size_t)C);
    if (mc->kind == SIAM_MARGIN_SOFTMAX) {
        memcpy(e, E, (size_t)N * D * sizeof *e);
        memcpy(w, W, (size_t)C * D * sizeof *w);
    } else {
        normalize(e, E, N, D);
        normalize(w, W, C, D);
    }
    double total = 0.0;
    for (int i = 0; i < N; i++) {
        int y = mc->labels[i];
        for (int j = 0; j < C; j++) {
            double c = 0.0;
            for (int k = 0; k < D; k++)
                c += e[(size_t)i * D + k] * w[(size_t)j * D + k];
            if (mc->kind == SIAM_MARGIN_SOFTMAX)
                z[j] = c;
            else if (j != y)
                z[j] = mc->s * c;
            else if (mc->kind == SIAM_MARGIN_COSFACE)
                z[j] = mc->s * (c - mc->m);
            else {
                c = fmin(fmax(c, -1.0), 1.0);
                double theta = acos(c);
                z[j] = theta + mc->m < M_PI ? mc->s * cos(theta + mc->m)
                                            : mc->s * (c - mc->m * sin(mc->m));
            }
        }
        double mx = z[0], sum = 0.0;
        for (int j = 1; j < C; j++)
            mx = fmax(mx, z[j]);
        for (int j = 0; j < C; j++)
            sum += exp(z[j] - mx);
        total += mx + log(sum) - z[y];
    }
    free(e), free(w), free(z);
    return total / N;
}

static double ref_loss_fn(void *user, const double *x)
{
    return ref_loss(user, x);
}

/* Runs the op with dE, dW pre-filled with `base` (they accumulate) and
 * returns the loss; got (N*D + C*D) receives the gradients minus base. */
static float run_op(const siam_check_backend *be, const margin_case *mc, const float *x,
                    float dloss, float *got)
{
    size_t nd = (size_t)mc->N * mc->D, cd = (size_t)mc->C * mc->D;
    float *base = siam_check_floats(nd + cd);
    siam_check_random(base, nd + cd, 77, -1.0f, 1.0f);
    float *E_ = siam_check_put(be, x, nd), *W_ = siam_check_put(be, x + nd, cd);
    float *dE_ = siam_check_put(be, base, nd), *dW_ = siam_check_put(be, base + nd, cd);
    int32_t *l_ = siam_check_put_bytes(be, mc->labels, (size_t)mc->N * sizeof(int32_t));
    float loss = NAN;
    siam_check_ok(be, be->ops->margin_softmax(be->ctx, &loss, dE_, dW_, E_, l_, W_, mc->N,
                                              mc->D, mc->C, mc->kind, (float)mc->s,
                                              (float)mc->m, dloss),
                  "margin_softmax");
    siam_check_get(be, got, dE_, nd);
    siam_check_get(be, got + nd, dW_, cd);
    for (size_t i = 0; i < nd + cd; i++)
        got[i] -= base[i];
    free(base);
    siam_check_free(be, E_), siam_check_free(be, W_), siam_check_free(be, dE_);
    siam_check_free(be, dW_), siam_check_free(be, l_);
    return loss;
}

static void labels_of(int32_t *l, int N, int C, uint64_t stream)
{
    float *u = siam_check_floats((size_t)N);
    siam_check_random(u, (size_t)N, stream, 0.0f, 1.0f);
    for (int i = 0; i < N; i++)
        l[i] = (int32_t)(u[i] * C);
    free(u);
}

/* Small sizes, every kind: the loss against the reference, every gradient
 * entry against central differences of it (h = 1e-6), dloss = 0.5. */
static void gradients_match_differences(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { N = 5, D = 7, C = 6 };
    int32_t labels[N];
    labels_of(labels, N, C, 81);
    size_t n = (size_t)(N + C) * D;
    float *x = siam_check_floats(n), *got = siam_check_floats(n);
    siam_check_random(x, n, 82, -1.0f, 1.0f);
    double *xd = siam_check_widen(x, n), *fd = siam_check_doubles(n);
    const margin_case cases[] = { { N, D, C, SIAM_MARGIN_SOFTMAX, 1.0, 0.0, labels },
                                  { N, D, C, SIAM_MARGIN_COSFACE, 8.0, 0.35, labels },
                                  { N, D, C, SIAM_MARGIN_ARCFACE, 8.0, 0.5, labels },
                                  { N, D, C, SIAM_MARGIN_ARCFACE, 64.0, 0.5, labels } };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const margin_case *mc = &cases[k];
        char what[96];
        float loss = run_op(be, mc, x, 0.5f, got);
        double want = ref_loss(mc, xd);
        snprintf(what, sizeof what, "%s s=%g m=%g loss", kind_name[mc->kind], mc->s, mc->m);
        siam_check_near(what, &loss, &want, 1, 0.0, 1e-6);
        siam_check_fd(ref_loss_fn, (void *)mc, xd, n, 1e-6, fd);
        for (size_t i = 0; i < n; i++)
            fd[i] *= 0.5;
        snprintf(what, sizeof what, "%s s=%g m=%g fd dE, dW", kind_name[mc->kind], mc->s, mc->m);
        siam_check_close(what, got, fd, n, 1e-5);
    }
    free(x), free(got), free(xd), free(fd);
}

/* Odd sizes near the real ones' shape (C >> N): the loss, and 60 sampled
 * gradient entries of E and of W against central differences. */
static void larger_sizes_sampled(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { N = 37, D = 96, C = 257, K = 60 };
    int32_t labels[N];
    labels_of(labels, N, C, 83);
    size_t n = (size_t)(N + C) * D;
    float *x = siam_check_floats(n), *got = siam_check_floats(n);
    siam_check_random(x, n, 84, -1.0f, 1.0f);
    double *xd = siam_check_widen(x, n);
    size_t idx[2 * K];
    double fd[2 * K];
    siam_check_sample(idx, K, (size_t)N * D, 85);
    siam_check_sample(idx + K, K, (size_t)C * D, 86);
    for (int k = K; k < 2 * K; k++)
        idx[k] += (size_t)N * D;
    for (int kind = 0; kind < 3; kind++) {
        margin_case mc = { N, D, C, kind, kind ? 30.0 : 1.0, kind == 1 ? 0.35 : 0.5, labels };
        char what[64];
        float loss = run_op(be, &mc, x, 1.0f, got);
        double want = ref_loss(&mc, xd);
        snprintf(what, sizeof what, "%s N=%d D=%d C=%d loss", kind_name[kind], N, D, C);
        siam_check_near(what, &loss, &want, 1, 0.0, 2e-6);
        for (int k = 0; k < 2 * K; k++) {
            double h = 1e-5, keep = xd[idx[k]];
            xd[idx[k]] = keep + h;
            double up = ref_loss(&mc, xd);
            xd[idx[k]] = keep - h;
            double down = ref_loss(&mc, xd);
            xd[idx[k]] = keep;
            fd[k] = (up - down) / (2 * h);
        }
        snprintf(what, sizeof what, "%s N=%d D=%d C=%d sampled fd", kind_name[kind], N, D, C);
        siam_check_close_at(what, got, idx, fd, 2 * K, 1e-4);
    }
    free(x), free(got), free(xd);
}

/* CosFace with m = 0 is softmax on s * E/|E| against W/|W|; ArcFace with
 * m = 0 is CosFace with m = 0; s = 0 gives log C and no gradient. */
static void reductions(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { N = 6, D = 9, C = 11 };
    int32_t labels[N];
    labels_of(labels, N, C, 87);
    size_t n = (size_t)(N + C) * D, nd = (size_t)N * D;
    float *x = siam_check_floats(n), *pre = siam_check_floats(n);
    float *g_cos = siam_check_floats(n), *g_arc = siam_check_floats(n), *g_soft = siam_check_floats(n);
    siam_check_random(x, n, 88, -2.0f, 2.0f);
    const double s = 10.0;
    double *xd = siam_check_widen(x, n), *xn = siam_check_doubles(n);
    normalize(xn, xd, N + C, D);
    for (size_t i = 0; i < n; i++)
        pre[i] = (float)(xn[i] * (i < nd ? s : 1.0));
    margin_case cos0 = { N, D, C, SIAM_MARGIN_COSFACE, s, 0.0, labels };
    margin_case arc0 = { N, D, C, SIAM_MARGIN_ARCFACE, s, 0.0, labels };
    margin_case soft = { N, D, C, SIAM_MARGIN_SOFTMAX, 1.0, 0.0, labels };
    float l_cos = run_op(be, &cos0, x, 1.0f, g_cos);
    float l_arc = run_op(be, &arc0, x, 1.0f, g_arc);
    float l_soft = run_op(be, &soft, pre, 1.0f, g_soft);
    double want = l_soft;
    siam_check_near("cosface m=0 = softmax on s * normalised", &l_cos, &want, 1, 0.0, 1e-6);
    want = l_cos;
    siam_check_near("arcface m=0 = cosface m=0", &l_arc, &want, 1, 0.0, 1e-6);
    double *gd = siam_check_widen(g_cos, n);
    siam_check_close("arcface m=0 gradient = cosface m=0 gradient", g_arc, gd, n, 1e-5);
    margin_case zero = { N, D, C, SIAM_MARGIN_COSFACE, 0.0, 0.0, labels };
    float l0 = run_op(be, &zero, x, 1.0f, g_cos);
    want = log((double)C);
    siam_check_near("s = 0: log C", &l0, &want, 1, 0.0, 1e-7);
    double *zeros = siam_check_doubles(n);
    siam_check_near("s = 0: no gradient", g_cos, zeros, n, 0.0, 0.0);
    free(x), free(pre), free(g_cos), free(g_arc), free(g_soft), free(xd), free(xn), free(gd);
    free(zeros);
}

/* A true class at cos -0.95, past cos(pi - 0.5) = -0.878: the logit is
 * s (cos - m sin m), with gradient s, matching the reference and its
 * differences; a row equal to its class's weights (cos = 1, where the
 * exact derivative is infinite) gets finite gradients. */
static void arcface_threshold_and_theta_zero(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { N = 3, D = 5, C = 4 };
    const int32_t labels[N] = { 2, 0, 3 };
    size_t n = (size_t)(N + C) * D, nd = (size_t)N * D;
    float *x = siam_check_floats(n), *got = siam_check_floats(n);
    siam_check_random(x, n, 89, -1.0f, 1.0f);
    /* Row 0 against -W[2] plus a little: its cosine is near -0.95. */
    for (int k = 0; k < D; k++)
        x[k] = -x[nd + 2 * D + k] + (k == 0 ? 0.45f : 0.0f);
    double *xd = siam_check_widen(x, n), *fd = siam_check_doubles(n), *e = siam_check_doubles(n);
    normalize(e, xd, N + C, D);
    double c0 = 0.0;
    for (int k = 0; k < D; k++)
        c0 += e[k] * e[nd + 2 * D + k];
    print_message("row 0's cosine with its class: %.4f (threshold %.4f)\n", c0, -cos(0.5));
    assert_true(c0 < -cos(0.5) - 0.03 && c0 > -0.99);
    margin_case mc = { N, D, C, SIAM_MARGIN_ARCFACE, 16.0, 0.5, labels };
    float loss = run_op(be, &mc, x, 1.0f, got);
    double want = ref_loss(&mc, xd);
    siam_check_near("arcface past pi - m: loss", &loss, &want, 1, 0.0, 1e-6);
    siam_check_fd(ref_loss_fn, &mc, xd, n, 1e-6, fd);
    siam_check_close("arcface past pi - m: fd", got, fd, n, 1e-5);
    /* Row 1 = W[0] exactly. */
    memcpy(x + D, x + nd, D * sizeof(float));
    loss = run_op(be, &mc, x, 1.0f, got);
    assert_true(isfinite(loss));
    for (size_t i = 0; i < n; i++)
        if (!isfinite(got[i]))
            fail_msg("theta = 0: gradient %zu is %g", i, (double)got[i]);
    free(x), free(got), free(xd), free(fd), free(e);
}

/* Each bad argument is refused with a message naming it; a bad label
 * leaves dE and dW as they were; NULL dE, dW compute the loss alone. */
static void errors_and_optional_gradients(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { N = 4, D = 3, C = 5 };
    int32_t labels[N] = { 0, 4, 2, 1 };
    float x[(N + C) * D], ones[(N + C) * D], got[(N + C) * D];
    siam_check_random(x, (N + C) * D, 90, -1.0f, 1.0f);
    for (int i = 0; i < (N + C) * D; i++)
        ones[i] = 1.0f;
    float *E_ = siam_check_put(be, x, N * D), *W_ = siam_check_put(be, x + N * D, C * D);
    float *dE_ = siam_check_put(be, ones, N * D), *dW_ = siam_check_put(be, ones, C * D);
    int32_t *l_ = siam_check_put_bytes(be, labels, sizeof labels);
    const siam_ops *o = be->ops;
    float loss = 0.0f;
    struct {
        int N, D, C, kind;
        float s, m;
        const char *msg;
    } bad[] = {
        { 0, D, C, 1, 30.0f, 0.35f, "margin_softmax: bad sizes N=0 D=3 C=5" },
        { N, 0, C, 1, 30.0f, 0.35f, "margin_softmax: bad sizes N=4 D=0 C=5" },
        { N, D, -1, 1, 30.0f, 0.35f, "margin_softmax: bad sizes N=4 D=3 C=-1" },
        { N, D, C, 3, 30.0f, 0.35f,
          "margin_softmax: unknown kind 3 (0 softmax, 1 cosface, 2 arcface)" },
        { N, D, C, 1, -1.0f, 0.35f,
          "margin_softmax: scale s must be a finite number >= 0, got -1" },
        { N, D, C, 2, INFINITY, 0.5f,
          "margin_softmax: scale s must be a finite number >= 0, got inf" },
        { N, D, C, 1, 30.0f, NAN,
          "margin_softmax: margin m must be a finite number >= 0, got nan" },
        { N, D, C, 1, 30.0f, -0.1f,
          "margin_softmax: margin m must be a finite number >= 0, got -0.1" },
        { N, D, C, 2, 30.0f, 3.5f, "margin_softmax: arcface margin m must be in [0, pi), got 3.5" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(o->margin_softmax(be->ctx, &loss, dE_, dW_, E_, l_, W_, bad[k].N,
                                           bad[k].D, bad[k].C, bad[k].kind, bad[k].s, bad[k].m,
                                           1.0f),
                         -1);
        assert_string_equal(o->ctx_error(be->ctx), bad[k].msg);
    }
    assert_int_equal(o->margin_softmax(be->ctx, NULL, dE_, dW_, E_, l_, W_, N, D, C, 0, 1, 0, 1),
                     -1);
    assert_string_equal(o->ctx_error(be->ctx), "margin_softmax: NULL buffer");
    /* Labels 5 (= C) and -1: the first bad row is named. */
    for (int t = 0; t < 2; t++) {
        int32_t badl[N] = { 0, 4, t ? -1 : 5, t ? 7 : 1 };
        siam_check_ok(be, o->upload(be->ctx, l_, badl, sizeof badl), "upload");
        for (int kind = 0; kind < 3; kind++) {
            assert_int_equal(o->margin_softmax(be->ctx, &loss, dE_, dW_, E_, l_, W_, N, D, C,
                                               kind, 30.0f, 0.35f, 1.0f),
                             -1);
            assert_string_equal(o->ctx_error(be->ctx),
                                t ? "margin_softmax: labels[2] = -1 is outside [0, C) with C = 5"
                                  : "margin_softmax: labels[2] = 5 is outside [0, C) with C = 5");
        }
    }
    siam_check_get(be, got, dE_, N * D);
    siam_check_get(be, got + N * D, dW_, C * D);
    assert_memory_equal(got, ones, sizeof got);
    /* After a refusal the next call runs; no gradients asked: the loss alone. */
    siam_check_ok(be, o->upload(be->ctx, l_, labels, sizeof labels), "upload");
    margin_case mc = { N, D, C, SIAM_MARGIN_COSFACE, 30.0, 0.35, labels };
    double xd[(N + C) * D];
    for (int i = 0; i < (N + C) * D; i++)
        xd[i] = x[i];
    siam_check_ok(be, o->margin_softmax(be->ctx, &loss, NULL, NULL, E_, l_, W_, N, D, C,
                                        SIAM_MARGIN_COSFACE, 30.0f, 0.35f, 1.0f),
                  "margin_softmax without gradients");
    double want = ref_loss(&mc, xd);
    siam_check_near("loss without gradients", &loss, &want, 1, 0.0, 1e-6);
    siam_check_free(be, E_), siam_check_free(be, W_), siam_check_free(be, dE_);
    siam_check_free(be, dW_), siam_check_free(be, l_);
}

/* PyTorch float32 (autograd through F.normalize, F.linear and
 * F.cross_entropy; insightface's ArcFace), s up to 64: the loss within
 * 2e-6 relative (losses near 70 in float32: 1 ulp is 8e-6 absolute), dE
 * and dW within 5e-6 on the tensor's scale (measured 1.1e-6). */
static void matches_torch(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { N = margin_fx_N, D = margin_fx_D, C = margin_fx_C };
    size_t nd = (size_t)N * D, n = (size_t)(N + C) * D;
    float x[(N + C) * D], got[(N + C) * D];
    memcpy(x, margin_fx_E, sizeof margin_fx_E);
    memcpy(x + nd, margin_fx_W, sizeof margin_fx_W);
    for (size_t k = 0; k < sizeof margin_fx_cases / sizeof margin_fx_cases[0]; k++) {
        const margin_fx_case *fc = &margin_fx_cases[k];
        margin_case mc = { N, D, C, fc->kind, fc->s, fc->m, margin_fx_labels };
        float loss = run_op(be, &mc, x, 1.0f, got);
        double want = fc->loss, wg[(N + C) * D];
        char what[80];
        snprintf(what, sizeof what, "torch %s s=%g m=%g loss", kind_name[fc->kind],
                 (double)fc->s, (double)fc->m);
        siam_check_near(what, &loss, &want, 1, 0.0, 2e-6);
        for (size_t i = 0; i < nd; i++)
            wg[i] = fc->dE[i];
        for (size_t i = nd; i < n; i++)
            wg[i] = fc->dW[i - nd];
        snprintf(what, sizeof what, "torch %s s=%g m=%g dE", kind_name[fc->kind],
                 (double)fc->s, (double)fc->m);
        siam_check_close(what, got, wg, nd, 5e-6);
        snprintf(what, sizeof what, "torch %s s=%g m=%g dW", kind_name[fc->kind],
                 (double)fc->s, (double)fc->m);
        siam_check_close(what, got + nd, wg + nd, n - nd, 5e-6);
    }
    /* Row 1 of the fixture lies past ArcFace's threshold (m = 0.5). */
    double xd[(N + C) * D], e[(N + C) * D], c1 = 0.0;
    for (size_t i = 0; i < n; i++)
        xd[i] = x[i];
    normalize(e, xd, N + C, D);
    for (int k = 0; k < D; k++)
        c1 += e[D + k] * e[nd + (size_t)margin_fx_labels[1] * D + k];
    assert_true(c1 < -cos(0.5));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradients_match_differences),
        cmocka_unit_test(larger_sizes_sampled),
        cmocka_unit_test(reductions),
        cmocka_unit_test(arcface_threshold_and_theta_zero),
        cmocka_unit_test(errors_and_optional_gradients),
        cmocka_unit_test(matches_torch),
    };
    return siam_check_run("ops_margin", tests, sizeof tests / sizeof tests[0]);
}
