/* The training-side operators on every backend: dropout, BCE, Adam/AdamW,
 * SGD, batch gathering, and the memory primitives, against hand-computed
 * double references (torch.optim / torch.nn formulas). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernels/philox.h"
#include "tests/support/ops_check.h"

/* ---- memory ---- */

static void memory_round_trip(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 1001 };
    float x[n], y[n];
    float *a_ = siam_check_alloc(be, n);
    siam_check_get(be, y, a_, n);
    for (int i = 0; i < n; i++)
        assert_true(y[i] == 0.0f); /* mem_alloc zero-fills */
    siam_check_random(x, n, 61, -5.0f, 5.0f);
    float *b_ = siam_check_put(be, x, n);
    siam_check_ok(be, be->ops->copy(be->ctx, a_, b_, n * sizeof(float)), "copy");
    siam_check_get(be, y, a_, n);
    assert_memory_equal(x, y, sizeof x);
    siam_check_ok(be, be->ops->fill(be->ctx, a_ + 1, -2.5f, n - 2), "fill");
    siam_check_ok(be, be->ops->synchronize(be->ctx), "synchronize");
    siam_check_get(be, y, a_, n);
    assert_true(y[0] == x[0] && y[n - 1] == x[n - 1]);
    for (int i = 1; i < n - 1; i++)
        assert_true(y[i] == -2.5f);
    siam_check_free(be, a_);
    siam_check_free(be, b_);
    siam_check_free(be, NULL);
}

/* ---- dropout ---- */

static float dropout_mask_value(float p, uint64_t seed, uint64_t offset, size_t i)
{
    return siam_philox_uniform(seed, SIAM_STREAM_DROPOUT, offset + i) >= p ? 1.0f / (1.0f - p)
                                                                          : 0.0f;
}

static void dropout_forward_backward(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    const size_t n = 100000;
    const float p = 0.3f;
    float *x = siam_check_floats(n), *mask = siam_check_floats(n), *y = siam_check_floats(n);
    float *m2 = siam_check_floats(n);
    siam_check_random(x, n, 62, -1.0f, 1.0f);
    float *x_ = siam_check_put(be, x, n), *y_ = siam_check_alloc(be, n);
    float *m_ = siam_check_alloc(be, n);

    /* p = 0 is the identity, with a mask of ones. */
    siam_check_ok(be, be->ops->dropout_forward(be->ctx, y_, m_, x_, n, 0.0f, 7, 0), "p=0");
    siam_check_get(be, y, y_, n);
    siam_check_get(be, mask, m_, n);
    assert_memory_equal(y, x, n * sizeof(float));
    for (size_t i = 0; i < n; i++)
        assert_true(mask[i] == 1.0f);

    siam_check_ok(be, be->ops->dropout_forward(be->ctx, y_, m_, x_, n, p, 7, 1000), "p=0.3");
    siam_check_get(be, y, y_, n);
    siam_check_get(be, mask, m_, n);
    size_t dropped = 0, wrong = 0;
    for (size_t i = 0; i < n; i++) {
        dropped += mask[i] == 0.0f;
        wrong += mask[i] != dropout_mask_value(p, 7, 1000, i) || y[i] != x[i] * mask[i];
    }
    double frac = (double)dropped / (double)n, sigma = sqrt(p * (1.0 - p) / (double)n);
    print_message("dropout p=0.3: dropped fraction %.5f (5 sigma = %.5f)\n", frac, 5 * sigma);
    assert_true(fabs(frac - p) < 5 * sigma);
    assert_int_equal(wrong, 0); /* the documented Philox rule, bit for bit */

    /* Same seed and offset: same bytes. A shifted offset shifts the mask. */
    siam_check_ok(be, be->ops->dropout_forward(be->ctx, y_, m_, x_, n, p, 7, 1000), "again");
    siam_check_get(be, m2, m_, n);
    assert_memory_equal(m2, mask, n * sizeof(float));
    siam_check_ok(be, be->ops->dropout_forward(be->ctx, y_, m_, x_, n, p, 7, 1010), "offset");
    siam_check_get(be, m2, m_, n);
    assert_memory_equal(m2, mask + 10, (n - 10) * sizeof(float));
    siam_check_ok(be, be->ops->dropout_forward(be->ctx, y_, m_, x_, n, p, 8, 1000), "seed 8");
    siam_check_get(be, m2, m_, n);
    assert_memory_not_equal(m2, mask, n * sizeof(float));

    /* Backward multiplies by the mask: the derivative of the (linear, for a
     * fixed mask) forward map. */
    float *g = siam_check_floats(n);
    siam_check_random(g, n, 63, -1.0f, 1.0f);
    float *g_ = siam_check_put(be, g, n), *dx_ = siam_check_alloc(be, n);
    siam_check_ok(be, be->ops->dropout_forward(be->ctx, y_, m_, x_, n, p, 7, 1000), "fwd");
    siam_check_ok(be, be->ops->dropout_backward(be->ctx, dx_, g_, m_, n), "dropout_backward");
    double *want = siam_check_doubles(n);
    for (size_t i = 0; i < n; i++)
        want[i] = (double)g[i] * dropout_mask_value(p, 7, 1000, i);
    siam_check_get(be, y, dx_, n);
    siam_check_close("dropout backward", y, want, n, 2e-7); /* one float product */
    for (size_t i = 0; i < n; i++) /* and that product, bit for bit */
        assert_true(y[i] == g[i] * dropout_mask_value(p, 7, 1000, i));

    /* p = 1 drops everything; p outside [0, 1] is refused. */
    siam_check_ok(be, be->ops->dropout_forward(be->ctx, y_, m_, x_, n, 1.0f, 7, 0), "p=1");
    siam_check_get(be, y, y_, n);
    for (size_t i = 0; i < n; i++)
        assert_true(y[i] == 0.0f);
    assert_int_equal(be->ops->dropout_forward(be->ctx, y_, m_, x_, n, 1.5f, 7, 0), -1);
    print_message("message: %s\n", be->ops->ctx_error(be->ctx));
    assert_string_equal(be->ops->ctx_error(be->ctx), "dropout_forward: p must be in [0, 1], got 1.5");

    free(x), free(mask), free(y), free(m2), free(g), free(want);
    siam_check_free(be, x_), siam_check_free(be, y_), siam_check_free(be, m_);
    siam_check_free(be, g_), siam_check_free(be, dx_);
}

/* ---- BCE ---- */

static double bce_ref(const float *p, const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s -= y[i] * fmax(log((double)p[i]), -100.0) + (1.0 - y[i]) * fmax(log1p(-(double)p[i]), -100.0);
    return s / (double)n;
}

static void bce_forward_backward(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 64 };
    float p[n], y[n], got[n];
    double want[n];
    siam_check_random(p, n, 64, 0.01f, 0.99f);
    siam_check_random(y, n, 65, 0.0f, 1.0f);
    for (int i = 0; i < n / 2; i++)
        y[i] = y[i] < 0.5f ? 0.0f : 1.0f; /* hard labels, then soft ones */
    float *p_ = siam_check_put(be, p, n), *y_ = siam_check_put(be, y, n);
    float *dp_ = siam_check_alloc(be, n);
    float loss = 0.0f;
    siam_check_ok(be, be->ops->bce_forward(be->ctx, &loss, p_, y_, n), "bce_forward");
    double ref = bce_ref(p, y, n);
    print_message("bce loss %.8f, reference %.8f\n", (double)loss, ref);
    assert_true(fabs(loss - ref) <= 1e-6 * fabs(ref));

    /* Backward by central differences of the double loss, times dloss. */
    const float dloss = 0.7f;
    siam_check_ok(be, be->ops->bce_backward(be->ctx, dp_, p_, y_, n, dloss), "bce_backward");
    for (int i = 0; i < n; i++) {
        const double h = 1e-7, x = p[i];
        double s_plus = -(y[i] * log(x + h) + (1.0 - y[i]) * log1p(-(x + h)));
        double s_minus = -(y[i] * log(x - h) + (1.0 - y[i]) * log1p(-(x - h)));
        want[i] = dloss * (s_plus - s_minus) / (2 * h) / n;
    }
    siam_check_get(be, got, dp_, n);
    siam_check_close("bce fd backward", got, want, n, 1e-5);

    /* Saturated probabilities: each log clamps at -100, so a confident wrong
     * answer costs 100; the gradient's denominator clamps at 1e-12. */
    const float ps[4] = {0.0f, 1.0f, 0.0f, 1.0f}, ys[4] = {1.0f, 0.0f, 0.0f, 1.0f};
    float *ps_ = siam_check_put(be, ps, 4), *ys_ = siam_check_put(be, ys, 4);
    siam_check_ok(be, be->ops->bce_forward(be->ctx, &loss, ps_, ys_, 4), "bce clamp");
    print_message("bce at p in {0,1}: %.6f (expected 50)\n", (double)loss);
    assert_true(loss == 50.0f);
    siam_check_ok(be, be->ops->bce_backward(be->ctx, dp_, ps_, ys_, 4, 1.0f), "bce clamp bwd");
    siam_check_get(be, got, dp_, 4);
    const double clamp_want[4] = {-1e12 / 4, 1e12 / 4, 0.0, 0.0};
    siam_check_close("bce clamped gradient", got, clamp_want, 4, 1e-6);

    const float bad[2] = {0.5f, 1.5f};
    float *bad_ = siam_check_put(be, bad, 2);
    assert_int_equal(be->ops->bce_forward(be->ctx, &loss, bad_, ys_, 2), -1);
    print_message("message: %s\n", be->ops->ctx_error(be->ctx));
    assert_non_null(strstr(be->ops->ctx_error(be->ctx), "1.5"));
    siam_check_free(be, p_), siam_check_free(be, y_), siam_check_free(be, dp_);
    siam_check_free(be, ps_), siam_check_free(be, ys_), siam_check_free(be, bad_);
}

/* Per element against the closed form (torch.nn.BCELoss, mean reduction,
 * logs clamped at -100, the gradient's denominator at 1e-12), with clamped
 * and ordinary probabilities in one call; a bad probability is named by
 * index and value. */
static void bce_matches_the_closed_form(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 700 };
    static float p[n], y[n], got[n];
    static double want[n];
    siam_check_random(p, n, 66, 0.0f, 1.0f);
    for (int i = 0; i < n; i++)
        y[i] = (float)(i % 2);
    p[0] = 0.0f, p[1] = 1.0f, p[2] = 1.0f; /* clamped logs: -100 */
    float *p_ = siam_check_put(be, p, n), *y_ = siam_check_put(be, y, n);
    float *g_ = siam_check_alloc(be, n);
    float loss = -1.0f;
    siam_check_ok(be, be->ops->bce_forward(be->ctx, &loss, p_, y_, n), "bce_forward");
    double ref = bce_ref(p, y, n);
    print_message("bce loss %.9g, reference %.9g\n", (double)loss, ref);
    assert_true(fabs(loss - ref) <= 1e-6 * fabs(ref));
    siam_check_ok(be, be->ops->bce_backward(be->ctx, g_, p_, y_, n, 2.0f), "bce_backward");
    for (int i = 0; i < n; i++)
        want[i] = 2.0 * (p[i] - (double)y[i]) / fmax(p[i] * (1.0 - p[i]), 1e-12) / n;
    siam_check_get(be, got, g_, n);
    siam_check_near("bce backward (closed form)", got, want, n, 0.0, 1e-6);
    float bad = 1.5f;
    siam_check_ok(be, be->ops->upload(be->ctx, p_ + 123, &bad, sizeof bad), "upload");
    assert_int_equal(be->ops->bce_forward(be->ctx, &loss, p_, y_, n), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx),
                        "bce_forward: probability 123 is 1.5, outside [0, 1]");
    siam_check_free(be, p_), siam_check_free(be, y_), siam_check_free(be, g_);
}

/* ---- optimisers ---- */

typedef struct adam_case {
    float lr, beta1, beta2, eps, wd;
    int decoupled;
    long step;
    const char *label;
} adam_case;

/* torch.optim.Adam / AdamW, one step, in double. */
static void adam_ref(const adam_case *c, double *p, double *m, double *v, const double *g,
                     size_t n)
{
    double bc1 = 1.0 - pow(c->beta1, (double)c->step);
    double bc2 = 1.0 - pow(c->beta2, (double)c->step);
    for (size_t i = 0; i < n; i++) {
        double gi = g[i];
        if (c->decoupled)
            p[i] *= 1.0 - (double)c->lr * c->wd;
        else
            gi += (double)c->wd * p[i];
        m[i] = c->beta1 * m[i] + (1.0 - c->beta1) * gi;
        v[i] = c->beta2 * v[i] + (1.0 - c->beta2) * gi * gi;
        p[i] -= c->lr / bc1 * m[i] / (sqrt(v[i]) / sqrt(bc2) + c->eps);
    }
}

static void adam_steps(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 257 };
    const adam_case cases[] = {
        {1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 0, 1, "adam step 1"},
        {1e-4f, 0.9f, 0.999f, 1e-8f, 0.0f, 0, 3, "adam step 3"},
        {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0, 5, "adam L2 wd 0.01"},
        {1e-3f, 0.8f, 0.99f, 1e-6f, 0.05f, 1, 2, "adamw wd 0.05"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const adam_case *c = &cases[k];
        float p[n], g[n], m[n], v[n], got[n];
        siam_check_random(p, n, 70, -1.0f, 1.0f);
        siam_check_random(g, n, 71, -0.1f, 0.1f);
        siam_check_random(m, n, 72, -0.01f, 0.01f);
        siam_check_random(v, n, 73, 0.0f, 1e-3f);
        if (c->step == 1)
            memset(m, 0, sizeof m), memset(v, 0, sizeof v);
        double *pd = siam_check_widen(p, n), *md = siam_check_widen(m, n);
        double *vd = siam_check_widen(v, n), *gd = siam_check_widen(g, n);
        adam_ref(c, pd, md, vd, gd, n);
        float *p_ = siam_check_put(be, p, n), *g_ = siam_check_put(be, g, n);
        float *m_ = siam_check_put(be, m, n), *v_ = siam_check_put(be, v, n);
        siam_check_ok(be,
                      be->ops->adam_step(be->ctx, p_, g_, m_, v_, n, c->lr, c->beta1, c->beta2,
                                         c->eps, c->wd, c->decoupled, c->step),
                      c->label);
        char what[96];
        siam_check_get(be, got, p_, n);
        snprintf(what, sizeof what, "%s param", c->label);
        siam_check_close(what, got, pd, n, 1e-6);
        siam_check_get(be, got, m_, n);
        snprintf(what, sizeof what, "%s exp_avg", c->label);
        siam_check_close(what, got, md, n, 1e-6);
        siam_check_get(be, got, v_, n);
        snprintf(what, sizeof what, "%s exp_avg_sq", c->label);
        siam_check_close(what, got, vd, n, 1e-6);
        free(pd), free(md), free(vd), free(gd);
        siam_check_free(be, p_), siam_check_free(be, g_), siam_check_free(be, m_);
        siam_check_free(be, v_);
    }
    /* By hand: the first Adam step moves each weight by lr * g/(|g| + eps),
     * i.e. almost exactly lr against the gradient's sign. */
    const float p1[2] = {1.0f, -2.0f}, g1[2] = {0.5f, -0.25f};
    float *p_ = siam_check_put(be, p1, 2), *g_ = siam_check_put(be, g1, 2);
    float *m_ = siam_check_alloc(be, 2), *v_ = siam_check_alloc(be, 2), got[2];
    siam_check_ok(be, be->ops->adam_step(be->ctx, p_, g_, m_, v_, 2, 0.1f, 0.9f, 0.999f, 1e-8f,
                                         0.0f, 0, 1),
                  "adam by hand");
    siam_check_get(be, got, p_, 2);
    const double hand[2] = {1.0 - 0.1 * 0.5 / (0.5 + 1e-8), -2.0 + 0.1 * 0.25 / (0.25 + 1e-8)};
    siam_check_close("adam first step by hand", got, hand, 2, 1e-7);
    assert_int_equal(be->ops->adam_step(be->ctx, p_, g_, m_, v_, 2, 0.1f, 0.9f, 0.999f, 1e-8f,
                                        0.0f, 0, 0),
                     -1);
    siam_check_free(be, p_), siam_check_free(be, g_), siam_check_free(be, m_);
    siam_check_free(be, v_);
}

/* torch.optim.SGD, dampening 0. */
static void sgd_ref(double *p, double *buf, const double *g, size_t n, double lr, double mom,
                    double wd, int nesterov, int first)
{
    for (size_t i = 0; i < n; i++) {
        double d = g[i] + wd * p[i];
        if (mom != 0.0) {
            buf[i] = first ? d : mom * buf[i] + d;
            d = nesterov ? d + mom * buf[i] : buf[i];
        }
        p[i] -= lr * d;
    }
}

static void sgd_steps(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 129 };
    const struct {
        float lr, mom, wd;
        int nesterov, first;
        const char *label;
    } cases[] = {
        {0.1f, 0.0f, 0.0f, 0, 1, "sgd plain"},
        {0.05f, 0.9f, 0.0f, 0, 1, "sgd momentum first step"},
        {0.05f, 0.9f, 5e-4f, 0, 0, "sgd momentum wd"},
        {0.05f, 0.9f, 5e-4f, 1, 0, "sgd nesterov wd"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        float p[n], g[n], b[n], got[n];
        siam_check_random(p, n, 80, -1.0f, 1.0f);
        siam_check_random(g, n, 81, -0.5f, 0.5f);
        siam_check_random(b, n, 82, -0.5f, 0.5f);
        double *pd = siam_check_widen(p, n), *bd = siam_check_widen(b, n);
        double *gd = siam_check_widen(g, n);
        sgd_ref(pd, bd, gd, n, cases[k].lr, cases[k].mom, cases[k].wd, cases[k].nesterov,
                cases[k].first);
        float *p_ = siam_check_put(be, p, n), *g_ = siam_check_put(be, g, n);
        float *b_ = cases[k].mom != 0.0f ? siam_check_put(be, b, n) : NULL;
        siam_check_ok(be,
                      be->ops->sgd_step(be->ctx, p_, g_, b_, n, cases[k].lr, cases[k].mom,
                                        cases[k].wd, cases[k].nesterov, cases[k].first),
                      cases[k].label);
        siam_check_get(be, got, p_, n);
        siam_check_close(cases[k].label, got, pd, n, 1e-6);
        if (b_) {
            siam_check_get(be, got, b_, n);
            siam_check_close("  momentum buffer", got, bd, n, 1e-6);
        }
        free(pd), free(bd), free(gd);
        siam_check_free(be, p_), siam_check_free(be, g_), siam_check_free(be, b_);
    }
}

/* ---- batch assembly ---- */

static void gather_normalize_picks_and_scales(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { count = 5, pixels = 6, n = 4 };
    uint8_t img[count * pixels];
    for (int i = 0; i < count * pixels; i++)
        img[i] = (uint8_t)(i * 37 % 256);
    img[0] = 0, img[1] = 255;
    const int32_t idx[n] = {4, 0, 4, 2};
    uint8_t *img_ = siam_check_put_bytes(be, img, sizeof img);
    int32_t *idx_ = siam_check_put_bytes(be, idx, sizeof idx); /* a device pointer */
    float *out_ = siam_check_alloc(be, n * pixels), got[n * pixels];
    siam_check_ok(be,
                  be->ops->gather_normalize(be->ctx, out_, img_, idx_, n, pixels, 0.5f, 0.25f),
                  "gather_normalize");
    double want[n * pixels];
    for (int i = 0; i < n; i++)
        for (int j = 0; j < pixels; j++)
            want[i * pixels + j] = (img[idx[i] * pixels + j] / 255.0 - 0.5) / 0.25;
    siam_check_get(be, got, out_, n * pixels);
    siam_check_close("gather_normalize", got, want, n * pixels, 1e-6);
    assert_true(got[pixels] == -2.0f && got[pixels + 1] == 2.0f); /* image 0: 0 and 255 */

    const int32_t bad[1] = {-3};
    int32_t *bad_ = siam_check_put_bytes(be, bad, sizeof bad);
    assert_int_equal(be->ops->gather_normalize(be->ctx, out_, img_, bad_, 1, pixels, 0.5f, 0.25f),
                     -1);
    print_message("message: %s\n", be->ops->ctx_error(be->ctx));
    assert_non_null(strstr(be->ops->ctx_error(be->ctx), "-3"));
    siam_check_free(be, img_), siam_check_free(be, idx_), siam_check_free(be, out_);
    siam_check_free(be, bad_);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(memory_round_trip),
        cmocka_unit_test(dropout_forward_backward),
        cmocka_unit_test(bce_forward_backward),
        cmocka_unit_test(bce_matches_the_closed_form),
        cmocka_unit_test(adam_steps),
        cmocka_unit_test(sgd_steps),
        cmocka_unit_test(gather_normalize_picks_and_scales),
    };
    return siam_check_run("ops_train", tests, sizeof tests / sizeof tests[0]);
}
