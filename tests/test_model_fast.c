/* The seed model (paper sizes, 105x105) built on the per-layer fast table
 * (siam_ops_cpu_fast_init: since session 2 all four convolutions take the
 * Fourier path) against the same model on
 * the plain direct table: probabilities, loss, and every parameter
 * gradient after one backward agree.
 * Tolerance: per parameter tensor, max |fast - direct| <= 1e-4 * max
 * |direct| + 1e-6 (the absolute floor is for the conv biases, whose exact
 * gradient is zero since batch norm follows: both paths leave ~1e-9
 * rounding there); probabilities and loss: 1e-5 absolute. The fast paths alone
 * are within 2e-5 (tests/test_conv_fast.c); batch norm over 4 images and the
 * sigmoid fc amplify float rounding somewhat. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "host/model.h"
#include "kernels/cpu/conv2d_select.h"
#include "kernels/philox.h"

#define B 2

typedef struct run {
    float probs[B], loss;
    float *grads;
    size_t n;
} run;

static void run_model(const siam_ops *o, run *r)
{
    siam_error err;
    siam_ctx *c = o->ctx_new(&(siam_ctx_options){.threads = 0}, &err);
    assert_non_null(c);
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    cfg.dropout = 0.0f;
    siam_model *m = siam_model_new(o, c, &cfg, B, &err);
    assert_non_null(m);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 7, &err), 0);
    size_t nx = (size_t)2 * B * cfg.in_h * cfg.in_w;
    float *x = malloc(nx * sizeof(float)), y[B] = {1, 0};
    for (size_t i = 0; i < nx; i++)
        x[i] = siam_philox_uniform(7, 200, i);
    float *ydev = o->mem_alloc(c, sizeof y);
    assert_int_equal(o->upload(c, siam_model_input(m), x, nx * sizeof(float)), 0);
    assert_int_equal(o->upload(c, ydev, y, sizeof y), 0);
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    assert_int_equal(siam_model_forward(m, B, &err), 0);
    assert_int_equal(siam_model_loss(m, B, ydev, &r->loss, &err), 0);
    assert_int_equal(siam_model_backward(m, B, ydev, &err), 0);
    assert_int_equal(o->download(c, r->probs, siam_model_probs(m), sizeof r->probs), 0);
    r->n = siam_model_numel(m);
    r->grads = malloc(r->n * sizeof(float));
    assert_int_equal(o->download(c, r->grads, siam_model_grads(m), r->n * sizeof(float)), 0);
    /* Keep the parameter table for the comparison: offsets are the same in
     * both runs (same configuration). */
    free(x);
    o->mem_free(c, ydev);
    siam_model_free(m);
    o->ctx_free(c);
}

static void fast_table_matches_direct_model(void **state)
{
    (void)state;
    siam_ops fast;
    siam_ops_cpu_fast_init(&fast, SIAM_CONV_AUTO);
    run d, f;
    run_model(&siam_ops_cpu, &d);
    run_model(&fast, &f);
    assert_int_equal(d.n, f.n);
    for (int i = 0; i < B; i++)
        assert_true(fabsf(d.probs[i] - f.probs[i]) <= 1e-5f);
    assert_true(fabsf(d.loss - f.loss) <= 1e-5f);

    /* Per-tensor comparison through the model's parameter table. */
    siam_error err;
    siam_ctx *c = siam_ops_cpu.ctx_new(&(siam_ctx_options){.threads = 1}, &err);
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    siam_model *m = siam_model_new(&siam_ops_cpu, c, &cfg, 1, &err);
    assert_non_null(m);
    for (int j = 0; j < siam_model_param_count(m); j++) {
        const siam_param_info *p = siam_model_param(m, j);
        double md = 0, mr = 0;
        for (size_t i = p->offset; i < p->offset + p->numel; i++) {
            double diff = fabs((double)f.grads[i] - d.grads[i]);
            md = diff > md || isnan(diff) ? (isnan(diff) ? INFINITY : diff) : md;
            mr = fabs(d.grads[i]) > mr ? fabs(d.grads[i]) : mr;
        }
        printf("grad %-14s max|direct| %.3e rel diff %.2e\n", p->name, mr, mr > 0 ? md / mr : md);
        assert_true(md <= 1e-4 * mr + 1e-6);
    }
    siam_model_free(m);
    siam_ops_cpu.ctx_free(c);
    free(d.grads);
    free(f.grads);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fast_table_matches_direct_model),
    };
    return cmocka_run_group_tests_name("model_fast", tests, NULL, NULL);
}
