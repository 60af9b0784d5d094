/* The rich-head operators (ops->pair_features_forward/backward) and the
 * weight-averaging update (ops->lerp) on every backend, against naive
 * double-precision references and central finite differences. */
#include "tests/support/ops_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { B = 3, U = 300 };

/* out (B,F) in double, the layout of kernels/ops.h. */
static void ref_features(double *out, const double *a, const double *b, int nb, int nu,
                         unsigned mask)
{
    int F = siam_pairfeat_width(mask, nu);
    for (int r = 0; r < nb; r++) {
        const double *ar = a + (size_t)r * nu, *br = b + (size_t)r * nu;
        double *o = out + (size_t)r * F, dot = 0.0, a2 = 0.0, b2 = 0.0;
        for (int u = 0; u < nu; u++) {
            double d = ar[u] - br[u];
            int k = 0;
            if (mask & SIAM_PAIRFEAT_ABS)
                o[k++ * nu + u] = fabs(d);
            if (mask & SIAM_PAIRFEAT_SQ)
                o[k++ * nu + u] = d * d;
            if (mask & SIAM_PAIRFEAT_PROD)
                o[k++ * nu + u] = ar[u] * br[u];
            dot += ar[u] * br[u];
            a2 += ar[u] * ar[u];
            b2 += br[u] * br[u];
        }
        if (mask & SIAM_PAIRFEAT_COS)
            o[F - 1] = dot / fmax(sqrt(a2) * sqrt(b2), SIAM_PAIRFEAT_EPS);
    }
}

typedef struct fd_user {
    double *a, *b, *out;
    const float *g;
    unsigned mask;
    int which; /* 0: differentiate w.r.t. a, 1: b */
} fd_user;

/* sum(features(a, b) * g) with x standing for a or b. */
static double weighted_sum(void *user, const double *x)
{
    fd_user *f = user;
    ref_features(f->out, f->which ? f->a : x, f->which ? x : f->b, B, U, f->mask);
    double s = 0.0;
    for (size_t i = 0; i < (size_t)B * siam_pairfeat_width(f->mask, U); i++)
        s += f->out[i] * f->g[i];
    return s;
}

static const unsigned masks[] = { SIAM_PAIRFEAT_ABS, SIAM_PAIRFEAT_SQ, SIAM_PAIRFEAT_PROD,
                                  SIAM_PAIRFEAT_COS, SIAM_PAIRFEAT_ABS | SIAM_PAIRFEAT_SQ |
                                  SIAM_PAIRFEAT_COS, SIAM_PAIRFEAT_ALL };

static void pair_features_forward_backward(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    size_t n = (size_t)B * U, fmax_n = (size_t)B * siam_pairfeat_width(SIAM_PAIRFEAT_ALL, U);
    float *a = siam_check_floats(n), *b = siam_check_floats(n), *g = siam_check_floats(fmax_n);
    float *got = siam_check_floats(fmax_n);
    double *want = siam_check_doubles(fmax_n), *out = siam_check_doubles(fmax_n);
    siam_check_random(a, n, 61, 0.0f, 1.0f); /* sigmoid embeddings live in (0, 1) */
    siam_check_random(b, n, 62, -1.0f, 1.0f);
    siam_check_random(g, fmax_n, 63, -1.0f, 1.0f);
    /* At a == b, |a-b| passes no gradient (sign(0) = 0), which is also what
     * a central difference of |.| gives there. */
    b[0] = a[0];
    double *ad = siam_check_widen(a, n), *bd = siam_check_widen(b, n);
    float *a_ = siam_check_put(be, a, n), *b_ = siam_check_put(be, b, n);
    float *g_ = siam_check_put(be, g, fmax_n), *y_ = siam_check_alloc(be, fmax_n);
    float *da_ = siam_check_alloc(be, n), *db_ = siam_check_alloc(be, n);
    double *fd = siam_check_doubles(n);
    for (size_t k = 0; k < sizeof masks / sizeof masks[0]; k++) {
        unsigned mask = masks[k];
        size_t nf = (size_t)B * siam_pairfeat_width(mask, U);
        char what[64];
        siam_check_ok(be, be->ops->pair_features_forward(be->ctx, y_, a_, b_, B, U, mask),
                      "pair_features_forward");
        ref_features(want, ad, bd, B, U, mask);
        siam_check_get(be, got, y_, nf);
        snprintf(what, sizeof what, "pair features 0x%x forward", mask);
        siam_check_close(what, got, want, nf, 3e-7); /* (a-b)^2: two roundings */
        siam_check_ok(be, be->ops->pair_features_backward(be->ctx, da_, db_, g_, a_, b_, B, U,
                                                          mask),
                      "pair_features_backward");
        for (int side = 0; side < 2; side++) {
            fd_user u = { ad, bd, out, g, mask, side };
            siam_check_fd(weighted_sum, &u, side ? bd : ad, n, 1e-6, fd);
            siam_check_get(be, got, side ? db_ : da_, n);
            snprintf(what, sizeof what, "pair features 0x%x fd d%c", mask, side ? 'b' : 'a');
            siam_check_close(what, got, fd, n, 2e-6);
        }
    }
    /* A zero embedding: the cosine's denominator is clamped, the value 0. */
    float z[2 * U];
    memset(z, 0, sizeof z);
    float *z_ = siam_check_put(be, z, 2 * U), *c_ = siam_check_alloc(be, 1);
    siam_check_ok(be, be->ops->pair_features_forward(be->ctx, c_, z_, a_, 1, U,
                                                     SIAM_PAIRFEAT_COS), "cos of zero");
    siam_check_get(be, got, c_, 1);
    assert_true(got[0] == 0.0f);
    assert_int_equal(be->ops->pair_features_forward(be->ctx, y_, a_, b_, B, U, 16u), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx),
                        "pair_features_forward: B 3, U 300, mask 0x10 invalid");
    free(a), free(b), free(g), free(got), free(want), free(out), free(ad), free(bd), free(fd);
    float *bufs[] = { a_, b_, g_, y_, da_, db_, z_, c_ };
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        siam_check_free(be, bufs[k]);
}

/* y = (1 - w) y + w x, within a few roundings; exact at w = 1. */
static void lerp_values_and_errors(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 5001 };
    float *x = siam_check_floats(n), *y = siam_check_floats(n), *got = siam_check_floats(n);
    double *want = siam_check_doubles(n);
    siam_check_random(x, n, 64, -3.0f, 3.0f);
    siam_check_random(y, n, 65, -3.0f, 3.0f);
    float *x_ = siam_check_put(be, x, n), *y_ = siam_check_put(be, y, n);
    siam_check_ok(be, be->ops->lerp(be->ctx, y_, x_, n, 0.25f), "lerp");
    for (size_t i = 0; i < n; i++)
        want[i] = 0.75 * y[i] + 0.25 * (double)x[i];
    siam_check_get(be, got, y_, n);
    siam_check_close("lerp 0.25", got, want, n, 1e-6);
    /* w = 1 copies x exactly (a running mean's first step). */
    siam_check_ok(be, be->ops->lerp(be->ctx, y_, x_, n, 1.0f), "lerp 1");
    siam_check_get(be, got, y_, n);
    assert_memory_equal(got, x, n * sizeof(float));
    assert_int_equal(be->ops->lerp(be->ctx, y_, x_, n, 1.5f), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "lerp: weight 1.5 outside [0, 1]");
    free(x), free(y), free(got), free(want);
    siam_check_free(be, x_), siam_check_free(be, y_);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pair_features_forward_backward),
        cmocka_unit_test(lerp_values_and_errors),
    };
    return siam_check_run("ops_pairfeat", tests, sizeof tests / sizeof tests[0]);
}
