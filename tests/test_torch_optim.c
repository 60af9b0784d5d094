/* The optimiser steps of kernels/ops.h (adam_step, sgd_step) against
 * torch.optim.Adam / AdamW / SGD trajectories (tests/fixtures/optim.bin):
 * five steps from the same start with the same gradients, compared after
 * every step, on each backend. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/fixture.h"
#include "tests/support/ops_check.h"

#define OPTIM_FIXTURE "tests/fixtures/optim.bin"

/* Parameters are O(1) and each step moves them by about lr (Adam) or
 * lr * |g| (SGD). Both sides do a handful of float32 operations per element
 * and step, but torch forms Adam's bias corrections in double and divides
 * by sqrt(1 - beta2^t) where the C code may fold it differently: a few ulps
 * of the parameter per step, so 5 steps stay below 1e-6 relative. */
#define TOL_STEP 1e-6

typedef struct trajectory {
    siam_fixture *fx;
    size_t n, steps;
    const float *p0, *grads, *traj, *config;
} trajectory;

static trajectory trajectory_load(const char *name, size_t nconfig)
{
    trajectory t = {0};
    siam_error e = {{0}};
    t.fx = siam_fixture_load(OPTIM_FIXTURE, &e);
    if (!t.fx)
        fail_msg("%s (regenerate with scripts/make_fixtures.py)", e.msg);
    const siam_fixture_tensor *g = siam_fixture_get(t.fx, "optim.grads", &e);
    if (!g || g->ndim != 2)
        fail_msg("%s", g ? "optim.grads is not 2-D" : e.msg);
    t.steps = g->shape[0];
    t.n = g->shape[1];
    t.grads = g->data;
    char key[96];
    snprintf(key, sizeof key, "%s.traj", name);
    t.p0 = siam_fixture_data(t.fx, "optim.p0", t.n, &e);
    if (t.p0)
        t.traj = siam_fixture_data(t.fx, key, t.n * t.steps, &e);
    snprintf(key, sizeof key, "%s.config", name);
    if (t.traj)
        t.config = siam_fixture_data(t.fx, key, nconfig, &e);
    if (!t.config)
        fail_msg("%s", e.msg);
    return t;
}

/* Downloads the parameters after step k (1-based) and compares them with
 * torch's. */
static void compare_step(const siam_check_backend *be, const trajectory *t, const char *name,
                         const float *param_dev, size_t k)
{
    float *p = siam_check_floats(t->n);
    siam_check_get(be, p, param_dev, t->n);
    double *want = siam_check_widen(t->traj + (k - 1) * t->n, t->n);
    char label[128];
    snprintf(label, sizeof label, "%s %s step %zu", be->ops->name, name, k);
    siam_check_close(label, p, want, t->n, TOL_STEP);
    free(want);
    free(p);
}

static void adam_case(void **state, const char *name)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    trajectory t = trajectory_load(name, 6);
    const float *c = t.config; /* lr, beta1, beta2, eps, weight_decay, decoupled */
    float *param = siam_check_put(be, t.p0, t.n), *grad = siam_check_alloc(be, t.n);
    float *m = siam_check_alloc(be, t.n), *v = siam_check_alloc(be, t.n);
    for (size_t k = 1; k <= t.steps; k++) {
        siam_check_ok(be, be->ops->upload(be->ctx, grad, t.grads + (k - 1) * t.n,
                                          t.n * sizeof(float)),
                      "upload");
        siam_check_ok(be,
                      be->ops->adam_step(be->ctx, param, grad, m, v, t.n, c[0], c[1], c[2], c[3],
                                         c[4], (int)c[5], (long)k),
                      "adam_step");
        compare_step(be, &t, name, param, k);
    }
    float *bufs[] = {param, grad, m, v};
    for (size_t i = 0; i < 4; i++)
        siam_check_free(be, bufs[i]);
    siam_fixture_free(t.fx);
}

static void sgd_case(void **state, const char *name)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    trajectory t = trajectory_load(name, 4);
    const float *c = t.config; /* lr, momentum, weight_decay, nesterov */
    float *param = siam_check_put(be, t.p0, t.n), *grad = siam_check_alloc(be, t.n);
    float *buf = siam_check_alloc(be, t.n);
    for (size_t k = 1; k <= t.steps; k++) {
        siam_check_ok(be, be->ops->upload(be->ctx, grad, t.grads + (k - 1) * t.n,
                                          t.n * sizeof(float)),
                      "upload");
        siam_check_ok(be,
                      be->ops->sgd_step(be->ctx, param, grad, buf, t.n, c[0], c[1], c[2],
                                        (int)c[3], k == 1),
                      "sgd_step");
        compare_step(be, &t, name, param, k);
    }
    siam_check_free(be, param);
    siam_check_free(be, grad);
    siam_check_free(be, buf);
    siam_fixture_free(t.fx);
}

static void adam_plain(void **state)
{
    adam_case(state, "adam");
}

static void adam_l2_weight_decay(void **state)
{
    adam_case(state, "adam_l2");
}

static void adam_other_betas(void **state)
{
    adam_case(state, "adam_betas");
}

static void adamw_decoupled_decay(void **state)
{
    adam_case(state, "adamw");
}

static void sgd_plain(void **state)
{
    sgd_case(state, "sgd");
}

static void sgd_momentum(void **state)
{
    sgd_case(state, "sgd_momentum");
}

static void sgd_nesterov(void **state)
{
    sgd_case(state, "sgd_nesterov");
}

static void sgd_momentum_weight_decay(void **state)
{
    sgd_case(state, "sgd_wd");
}

static void sgd_plain_weight_decay(void **state)
{
    sgd_case(state, "sgd_wd_plain");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(adam_plain),
        cmocka_unit_test(adam_l2_weight_decay),
        cmocka_unit_test(adam_other_betas),
        cmocka_unit_test(adamw_decoupled_decay),
        cmocka_unit_test(sgd_plain),
        cmocka_unit_test(sgd_momentum),
        cmocka_unit_test(sgd_nesterov),
        cmocka_unit_test(sgd_momentum_weight_decay),
        cmocka_unit_test(sgd_plain_weight_decay),
    };
    return siam_check_run("torch_optim", tests, sizeof tests / sizeof tests[0]);
}
