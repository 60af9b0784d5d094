/* batchnorm forward (train and eval) and backward on every backend, against
 * double references and finite differences, at small shapes and at the
 * channel counts and plane sizes of the model's four BN layers. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ops_check.h"

#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
/* Per-channel statistics are kept in double; what is left is float32
 * rounding of one multiply-add per value: measured < 1e-6. */
#define BN_TOL 1e-5

typedef struct bn_data {
    int N, C, HW;
    size_t n;
    float *in, *gamma, *beta, *dout;
} bn_data;

static void bn_data_make(bn_data *d, int N, int C, int HW, float lo, float hi)
{
    d->N = N, d->C = C, d->HW = HW;
    d->n = (size_t)N * C * HW;
    d->in = siam_check_floats(d->n);
    d->gamma = siam_check_floats((size_t)C);
    d->beta = siam_check_floats((size_t)C);
    d->dout = siam_check_floats(d->n);
    siam_check_random(d->in, d->n, 21, lo, hi);
    siam_check_random(d->gamma, (size_t)C, 22, 0.5f, 1.5f);
    siam_check_random(d->beta, (size_t)C, 23, -0.5f, 0.5f);
    siam_check_random(d->dout, d->n, 24, -1.0f, 1.0f);
}

static void bn_data_free(bn_data *d)
{
    free(d->in), free(d->gamma), free(d->beta), free(d->dout);
}

/* bn_data on the device with room for every output of a training step
 * (allocations start zeroed). */
typedef struct bn_dev {
    float *in, *g, *b, *out, *sm, *si, *rm, *rv, *dout, *din, *dg, *dbt;
} bn_dev;

static bn_dev bn_dev_put(const siam_check_backend *be, const bn_data *d)
{
    size_t c = (size_t)d->C;
    bn_dev v;
    v.in = siam_check_put(be, d->in, d->n), v.g = siam_check_put(be, d->gamma, c);
    v.b = siam_check_put(be, d->beta, c), v.out = siam_check_alloc(be, d->n);
    v.sm = siam_check_alloc(be, c), v.si = siam_check_alloc(be, c);
    v.rm = siam_check_alloc(be, c), v.rv = siam_check_alloc(be, c);
    v.dout = siam_check_put(be, d->dout, d->n), v.din = siam_check_alloc(be, d->n);
    v.dg = siam_check_alloc(be, c), v.dbt = siam_check_alloc(be, c);
    return v;
}

/* Train forward, then backward (adding into dg and dbt). */
static void bn_dev_train_step(const siam_check_backend *be, const bn_data *d, bn_dev *v)
{
    siam_check_ok(be,
                  be->ops->batchnorm_forward_train(be->ctx, v->out, v->sm, v->si, v->rm, v->rv,
                                                   v->in, v->g, v->b, d->N, d->C, d->HW,
                                                   BN_MOMENTUM, BN_EPS),
                  "batchnorm_forward_train");
    siam_check_ok(be,
                  be->ops->batchnorm_backward(be->ctx, v->din, v->dg, v->dbt, v->dout, v->in,
                                              v->sm, v->si, v->g, d->N, d->C, d->HW, BN_EPS),
                  "batchnorm_backward");
}

static void bn_dev_free(const siam_check_backend *be, bn_dev *v)
{
    float *bufs[] = {v->in, v->g, v->b, v->out, v->sm, v->si, v->rm, v->rv,
                     v->dout, v->din, v->dg, v->dbt};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        siam_check_free(be, bufs[k]);
}

/* Train forward + running statistics + backward against the double
 * references. Running stats start at (0.5, 2.0), dgamma/dbeta at 0.25. */
static void bn_case(const siam_check_backend *be, int N, int C, int HW, float lo, float hi,
                    double dgamma_tol, const char *label)
{
    bn_data d;
    bn_data_make(&d, N, C, HW, lo, hi);
    size_t c = (size_t)C;
    bn_dev v = bn_dev_put(be, &d);
    siam_check_ok(be, be->ops->fill(be->ctx, v.rm, 0.5f, c), "fill");
    siam_check_ok(be, be->ops->fill(be->ctx, v.rv, 2.0f, c), "fill");
    siam_check_ok(be, be->ops->fill(be->ctx, v.dg, 0.25f, c), "fill");
    siam_check_ok(be, be->ops->fill(be->ctx, v.dbt, 0.25f, c), "fill");
    siam_check_ok(be, be->ops->fill(be->ctx, v.din, NAN, d.n), "fill");
    bn_dev_train_step(be, &d, &v);

    double *in = siam_check_widen(d.in, d.n), *gamma = siam_check_widen(d.gamma, c);
    double *beta = siam_check_widen(d.beta, c), *g = siam_check_widen(d.dout, d.n);
    double *want = siam_check_doubles(d.n), *mean = siam_check_doubles(c);
    double *var = siam_check_doubles(c), *wc = siam_check_doubles(c);
    double *dgam = siam_check_doubles(c), *dbet = siam_check_doubles(c);
    float *got = siam_check_floats(d.n);
    char what[96];
    siam_ref_bn_train(want, mean, var, in, gamma, beta, N, C, HW, BN_EPS);

    siam_check_get(be, got, v.out, d.n);
    snprintf(what, sizeof what, "%s out", label);
    siam_check_close(what, got, want, d.n, BN_TOL);
    siam_check_get(be, got, v.sm, c);
    snprintf(what, sizeof what, "%s save_mean", label);
    siam_check_close(what, got, mean, c, BN_TOL);
    for (size_t k = 0; k < c; k++)
        wc[k] = 1.0 / sqrt(var[k] + BN_EPS);
    siam_check_get(be, got, v.si, c);
    snprintf(what, sizeof what, "%s save_invstd", label);
    siam_check_close(what, got, wc, c, BN_TOL);
    /* torch.nn.BatchNorm2d: running = 0.9 running + 0.1 batch, with the
     * unbiased variance (M / (M - 1)). */
    double M = (double)N * HW;
    for (size_t k = 0; k < c; k++)
        wc[k] = 0.9 * 0.5 + 0.1 * mean[k];
    siam_check_get(be, got, v.rm, c);
    snprintf(what, sizeof what, "%s running_mean", label);
    siam_check_close(what, got, wc, c, BN_TOL);
    for (size_t k = 0; k < c; k++)
        wc[k] = 0.9 * 2.0 + 0.1 * var[k] * M / (M - 1.0);
    siam_check_get(be, got, v.rv, c);
    snprintf(what, sizeof what, "%s running_var (unbiased)", label);
    siam_check_close(what, got, wc, c, BN_TOL);

    siam_ref_bn_backward(want, dgam, dbet, g, in, gamma, N, C, HW, BN_EPS);
    siam_check_get(be, got, v.din, d.n);
    snprintf(what, sizeof what, "%s din", label);
    /* din is a difference of O(1) terms that nearly cancel (its mean and its
     * correlation with xhat are zero): allow more relative rounding. */
    siam_check_close(what, got, want, d.n, 1e-4);
    for (size_t k = 0; k < c; k++)
        dgam[k] += 0.25, dbet[k] += 0.25;
    siam_check_get(be, got, v.dg, c);
    snprintf(what, sizeof what, "%s dgamma (+0.25 before)", label);
    siam_check_close(what, got, dgam, c, dgamma_tol);
    siam_check_get(be, got, v.dbt, c);
    snprintf(what, sizeof what, "%s dbeta (+0.25 before)", label);
    siam_check_close(what, got, dbet, c, BN_TOL);

    free(in), free(gamma), free(beta), free(g), free(want), free(mean), free(var), free(wc);
    free(dgam), free(dbet), free(got);
    bn_dev_free(be, &v);
    bn_data_free(&d);
}

static void bn_train_small(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    bn_case(be, 3, 4, 5, -1.0f, 1.0f, BN_TOL, "bn small 3x4x5");
    /* A large common offset: a one-pass E[x^2]-E[x]^2 in float would lose
     * most digits of the variance here. The gradients go through save_mean,
     * stored in float (as PyTorch's): its rounding, 100 * 2^-24, is 2e-5 of
     * the channel's standard deviation (0.29), hence the looser dgamma. */
    bn_case(be, 2, 3, 7, 100.0f, 101.0f, 5e-5, "bn offset 100");
}

/* bn1..bn4 of the model at N=2 (one pair). */
static void bn_train_model_shapes(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    bn_case(be, 2, 64, 96 * 96, -2.0f, 3.0f, BN_TOL, "bn1 2x64x96x96");
    bn_case(be, 2, 128, 42 * 42, -2.0f, 3.0f, BN_TOL, "bn2 2x128x42x42");
    bn_case(be, 2, 128, 18 * 18, -2.0f, 3.0f, BN_TOL, "bn3 2x128x18x18");
    bn_case(be, 2, 256, 6 * 6, -2.0f, 3.0f, BN_TOL, "bn4 2x256x6x6");
}

typedef struct bn_fd {
    int N, C, HW, which; /* 0: in, 1: gamma, 2: beta */
    double *in, *gamma, *beta, *g, *out;
} bn_fd;

static double bn_fd_loss(void *user, const double *x)
{
    bn_fd *f = user;
    siam_ref_bn_train(f->out, NULL, NULL, f->which == 0 ? x : f->in,
                      f->which == 1 ? x : f->gamma, f->which == 2 ? x : f->beta, f->N, f->C,
                      f->HW, BN_EPS);
    double l = 0.0;
    for (size_t i = 0; i < (size_t)f->N * f->C * f->HW; i++)
        l += f->out[i] * f->g[i];
    return l;
}

static void bn_backward_finite_differences(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    bn_data d;
    bn_data_make(&d, 3, 2, 4, -1.0f, 1.0f);
    size_t c = (size_t)d.C;
    bn_fd f = {d.N, d.C, d.HW, 0, siam_check_widen(d.in, d.n), siam_check_widen(d.gamma, c),
               siam_check_widen(d.beta, c), siam_check_widen(d.dout, d.n),
               siam_check_doubles(d.n)};
    double *gin = siam_check_doubles(d.n), *gg = siam_check_doubles(c);
    double *gb = siam_check_doubles(c);
    double *x = siam_check_widen(d.in, d.n);
    siam_check_fd(bn_fd_loss, &f, x, d.n, 1e-6, gin);
    free(x);
    f.which = 1;
    x = siam_check_widen(d.gamma, c);
    siam_check_fd(bn_fd_loss, &f, x, c, 1e-6, gg);
    free(x);
    f.which = 2;
    x = siam_check_widen(d.beta, c);
    siam_check_fd(bn_fd_loss, &f, x, c, 1e-6, gb);
    free(x);

    bn_dev v = bn_dev_put(be, &d);
    bn_dev_train_step(be, &d, &v);
    float *got = siam_check_floats(d.n);
    siam_check_get(be, got, v.din, d.n);
    siam_check_close("bn fd din", got, gin, d.n, 1e-4);
    siam_check_get(be, got, v.dg, c);
    siam_check_close("bn fd dgamma", got, gg, c, 1e-5);
    siam_check_get(be, got, v.dbt, c);
    siam_check_close("bn fd dbeta", got, gb, c, 1e-5);
    /* din == NULL still accumulates the parameter gradients. */
    siam_check_ok(be,
                  be->ops->batchnorm_backward(be->ctx, NULL, v.dg, v.dbt, v.dout, v.in, v.sm,
                                              v.si, v.g, d.N, d.C, d.HW, BN_EPS),
                  "batchnorm_backward din=NULL");
    for (size_t k = 0; k < c; k++)
        gg[k] *= 2.0;
    siam_check_get(be, got, v.dg, c);
    siam_check_close("bn dgamma accumulates over two calls", got, gg, c, 1e-5);

    free(got), free(gin), free(gg), free(gb), free(f.in), free(f.gamma), free(f.beta);
    free(f.g), free(f.out);
    bn_dev_free(be, &v);
    bn_data_free(&d);
}

static void bn_eval_uses_running_stats(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    bn_data d;
    bn_data_make(&d, 2, 5, 9, -1.0f, 1.0f);
    size_t c = (size_t)d.C;
    float *rm = siam_check_floats(c), *rv = siam_check_floats(c);
    siam_check_random(rm, c, 25, -0.5f, 0.5f);
    siam_check_random(rv, c, 26, 0.1f, 3.0f);
    float *in_ = siam_check_put(be, d.in, d.n), *g_ = siam_check_put(be, d.gamma, c);
    float *b_ = siam_check_put(be, d.beta, c), *out_ = siam_check_alloc(be, d.n);
    float *rm_ = siam_check_put(be, rm, c), *rv_ = siam_check_put(be, rv, c);
    siam_check_ok(be,
                  be->ops->batchnorm_forward_eval(be->ctx, out_, in_, rm_, rv_, g_, b_, d.N, d.C,
                                                  d.HW, BN_EPS),
                  "batchnorm_forward_eval");
    double *want = siam_check_doubles(d.n);
    for (int n = 0; n < d.N; n++)
        for (int k = 0; k < d.C; k++)
            for (int i = 0; i < d.HW; i++) {
                size_t j = ((size_t)n * d.C + k) * d.HW + i;
                want[j] = ((double)d.in[j] - rm[k]) / sqrt((double)rv[k] + BN_EPS) * d.gamma[k]
                          + d.beta[k];
            }
    float *got = siam_check_floats(d.n);
    siam_check_get(be, got, out_, d.n);
    siam_check_close("bn eval out", got, want, d.n, BN_TOL);
    /* Eval mode leaves the running statistics alone. */
    siam_check_get(be, got, rv_, c);
    assert_memory_equal(got, rv, c * sizeof(float));
    free(got), free(want), free(rm), free(rv);
    float *bufs[] = {in_, g_, b_, out_, rm_, rv_};
    for (size_t k = 0; k < sizeof bufs / sizeof bufs[0]; k++)
        siam_check_free(be, bufs[k]);
    bn_data_free(&d);
}

static void bn_train_rejects_single_value(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    float *buf = siam_check_alloc(be, 16);
    int rc = be->ops->batchnorm_forward_train(be->ctx, buf, buf, buf, buf, buf, buf, buf, buf, 1,
                                              2, 1, BN_MOMENTUM, BN_EPS);
    assert_int_equal(rc, -1);
    const char *msg = be->ops->ctx_error(be->ctx);
    print_message("message: %s\n", msg);
    assert_non_null(strstr(msg, "more than 1 value per channel"));
    siam_check_free(be, buf);
}

/* Backward takes the forward's eps (cuDNN requires it): a value that no
 * forward accepts is refused by name on every backend. */
static void bn_backward_rejects_bad_eps(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    float *buf = siam_check_alloc(be, 16);
    const float bad[2] = { 0.0f, -1e-3f };
    for (int k = 0; k < 2; k++) {
        int rc = be->ops->batchnorm_backward(be->ctx, buf, buf, buf, buf, buf, buf, buf, buf, 2,
                                             2, 4, bad[k]);
        assert_int_equal(rc, -1);
        const char *msg = be->ops->ctx_error(be->ctx);
        print_message("message: %s\n", msg);
        assert_non_null(strstr(msg, "batchnorm_backward: eps must be > 0 (the forward's), got"));
    }
    siam_check_free(be, buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bn_train_small),
        cmocka_unit_test(bn_backward_finite_differences),
        cmocka_unit_test(bn_train_model_shapes),
        cmocka_unit_test(bn_eval_uses_running_stats),
        cmocka_unit_test(bn_train_rejects_single_value),
        cmocka_unit_test(bn_backward_rejects_bad_eps),
    };
    return siam_check_run("ops_batchnorm", tests, sizeof tests / sizeof tests[0]);
}
