/* Whole-model gradient check by central finite differences: a reduced-size
 * configuration (every layer type: four conv+BN+ReLU blocks, three pools,
 * fc+sigmoid, |e1-e2|, dropout, out+sigmoid, BCE) on a batch of 3 pairs, so
 * both towers contribute to every weight gradient. The paper-size model is
 * checked against PyTorch in test_model_torch.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/metrics.h"
#include "host/model.h"
#include "kernels/philox.h"

enum { B = 3 };

typedef struct fixture {
    siam_ctx *ctx;
    siam_model *m;
    float *labels_dev;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    siam_error err;
    siam_ctx_options opt = { .threads = 1 };
    f->ctx = siam_ops_cpu.ctx_new(&opt, &err);
    assert_non_null(f->ctx);
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    cfg.in_h = 28;
    cfg.in_w = 30; /* non-square, to catch h/w mix-ups */
    int ch[4] = { 2, 3, 3, 4 }, k[4] = { 5, 3, 2, 2 };
    memcpy(cfg.channels, ch, sizeof ch);
    memcpy(cfg.kernels, k, sizeof k);
    cfg.fc_units = 6;
    cfg.dropout = 0.3f;
    f->m = siam_model_new(&siam_ops_cpu, f->ctx, &cfg, B, &err);
    if (!f->m)
        fail_msg("%s", err.msg);
    assert_int_equal(siam_model_init(f->m, SIAM_INIT_PYTORCH, 11, &err), 0);
    size_t nx = 2 * B * 28 * 30;
    float *x = malloc(nx * sizeof *x);
    for (size_t i = 0; i < nx; i++)
        x[i] = siam_philox_uniform(5, 9, i) * 2.0f - 1.0f;
    assert_int_equal(siam_ops_cpu.upload(f->ctx, siam_model_input(f->m), x, nx * sizeof *x), 0);
    free(x);
    float y[B] = { 1, 0, 1 };
    f->labels_dev = siam_ops_cpu.mem_alloc(f->ctx, sizeof y);
    assert_int_equal(siam_ops_cpu.upload(f->ctx, f->labels_dev, y, sizeof y), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    siam_ops_cpu.mem_free(f->ctx, f->labels_dev);
    siam_model_free(f->m);
    siam_ops_cpu.ctx_free(f->ctx);
    free(f);
    return 0;
}

/* Loss at the current parameters with the same dropout mask every time. */
static double loss_at(fixture *f)
{
    siam_error err;
    float prob[B], loss;
    const float y[B] = { 1, 0, 1 };
    siam_model_set_dropout_state(f->m, 3, 1000);
    assert_int_equal(siam_model_forward(f->m, B, &err), 0);
    assert_int_equal(siam_model_loss(f->m, B, f->labels_dev, &loss, &err), 0);
    assert_int_equal(siam_ops_cpu.download(f->ctx, prob, siam_model_probs(f->m), sizeof prob), 0);
    /* The loss in double from the float probabilities: less rounding noise
     * in the differences; it must agree with the device BCE. */
    double l = siam_metrics_bce(prob, y, B);
    assert_float_equal(loss, l, 1e-6);
    return l;
}

/* (L(p + h d) - L(p - h d)) / 2h for direction d over the elements of one
 * tensor (all when only < 0, else the single element `only`). */
static double central_difference(fixture *f, const float *p0, float *p, size_t n,
                                 const siam_param_info *pi, long only, double scale, double h)
{
    siam_error err;
    double l[2];
    for (int s = 0; s < 2; s++) {
        memcpy(p, p0, n * sizeof *p);
        for (size_t i = 0; i < pi->numel; i++) {
            if (only >= 0 && i != (size_t)only)
                continue;
            double d = only >= 0 ? 1.0 : (siam_philox_u32(4, pi->offset, i) & 1 ? scale : -scale);
            p[pi->offset + i] = (float)(p0[pi->offset + i] + (s ? h : -h) * d);
        }
        assert_int_equal(siam_model_upload_params(f->m, p, &err), 0);
        l[s] = loss_at(f);
    }
    return (l[1] - l[0]) / (2 * h);
}

/* For each parameter tensor: a random direction d (+-1/sqrt(numel) per
 * element) over the whole tensor, then two single elements. The derivative
 * estimate is Richardson-extrapolated from steps h and h/2 ((4 D(h/2) -
 * D(h)) / 3, error O(h^4)), because with BatchNorm over 6 images,
 * ReLU and max-pool switches lie close by and a plain float central
 * difference is off by a few percent at h = 1e-2; below h = 1e-3 float
 * rounding of the loss dominates. It must match grad . d within
 * 1e-4 + 2e-2 |grad . d| (measured worst: about half of that). */
static void gradients_match_finite_differences(void **state)
{
    fixture *f = *state;
    siam_model *m = f->m;
    siam_error err;
    size_t n = siam_model_numel(m);
    float *p0 = malloc(n * sizeof *p0), *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g);
    assert_int_equal(siam_model_download_params(m, p0, &err), 0);
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    double l0 = loss_at(f);
    assert_int_equal(siam_model_backward(m, B, f->labels_dev, &err), 0);
    assert_int_equal(siam_ops_cpu.download(f->ctx, g, siam_model_grads(m), n * sizeof *g), 0);
    const double h = 1e-3;
    double worst = 0.0;
    int checked = 0;
    for (int j = 0; j < siam_model_param_count(m); j++) {
        const siam_param_info *pi = siam_model_param(m, j);
        double scale = 1.0 / sqrt((double)pi->numel);
        for (int trial = 0; trial < 3; trial++) {
            long one = trial == 0 ? -1
                : (long)(siam_philox_uniform(8, (uint64_t)j, (uint64_t)trial) * pi->numel);
            double an = 0.0;
            for (size_t i = 0; i < pi->numel; i++)
                if (one < 0)
                    an += g[pi->offset + i] * (siam_philox_u32(4, pi->offset, i) & 1 ? scale : -scale);
                else if (i == (size_t)one)
                    an = g[pi->offset + i];
            double d1 = central_difference(f, p0, p, n, pi, one, scale, h);
            double d2 = central_difference(f, p0, p, n, pi, one, scale, h / 2);
            double fd = (4 * d2 - d1) / 3;
            double diff = fabs(fd - an), tol = 1e-4 + 2e-2 * fabs(an);
            worst = fmax(worst, diff / tol);
            if (diff > tol)
                fail_msg("%s trial %d: finite difference %.7f, backward %.7f", pi->name, trial,
                         fd, an);
            checked += an != 0.0;
        }
    }
    /* Conv biases have zero gradient (BN removes any per-channel shift);
     * everything else must have been a real comparison. */
    assert_true(checked >= 40);
    printf("loss %.6f; worst |fd - backward| / tolerance %.3f over %d non-zero checks\n", l0,
           worst, checked);
    assert_int_equal(siam_model_upload_params(m, p0, &err), 0);
    free(p0);
    free(p);
    free(g);
}

/* Backward ADDS: two backward passes of the same forward double the
 * gradient (the towers and steps accumulate into one buffer). */
static void backward_accumulates(void **state)
{
    fixture *f = *state;
    siam_model *m = f->m;
    siam_error err;
    size_t n = siam_model_numel(m);
    float *g1 = malloc(n * sizeof *g1), *g2 = malloc(n * sizeof *g2);
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    loss_at(f);
    assert_int_equal(siam_model_backward(m, B, f->labels_dev, &err), 0);
    assert_int_equal(siam_ops_cpu.download(f->ctx, g1, siam_model_grads(m), n * sizeof *g1), 0);
    assert_int_equal(siam_model_backward(m, B, f->labels_dev, &err), 0);
    assert_int_equal(siam_ops_cpu.download(f->ctx, g2, siam_model_grads(m), n * sizeof *g2), 0);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(g2[i], 2.0f * g1[i], 1e-6f * (1.0f + fabsf(g1[i])));
        nonzero += g1[i] != 0.0f;
    }
    assert_true(nonzero > n / 2);
    free(g1);
    free(g2);
}

/* Eval mode forward leaves no saved activations for backward. */
static void backward_refuses_eval_forward(void **state)
{
    fixture *f = *state;
    siam_error err;
    siam_model_set_training(f->m, 0);
    assert_int_equal(siam_model_forward(f->m, B, &err), 0);
    assert_int_equal(siam_model_backward(f->m, B, f->labels_dev, &err), -1);
    assert_string_equal(err.msg, "model backward: needs a training-mode forward of batch 3 "
                                 "(last: batch 3, eval mode)");
    siam_model_set_training(f->m, 1);
    assert_int_equal(siam_model_forward(f->m, B + 1, &err), -1);
    assert_string_equal(err.msg, "model forward: batch 4 outside 1..3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradients_match_finite_differences),
        cmocka_unit_test(backward_accumulates),
        cmocka_unit_test(backward_refuses_eval_forward),
    };
    return cmocka_run_group_tests_name("model_grad", tests, setup, teardown);
}
