/* host/identity_head.h on every backend: the seeded initialisation, the
 * loss and gradients of ops->margin_softmax accumulated into the caller's
 * dE and the head's gradient, zero_grad, a bad configuration, and three
 * Adam steps of a siam_optim over the head's W against naive Adam in
 * double. */
#include "tests/support/ops_check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "host/identity_head.h"
#include "host/optim.h"
#include "kernels/philox.h"

enum { N = 6, D = 16, C = 9 };

static siam_identity_head *head_of(const siam_check_backend *be, int kind)
{
    siam_identity_head_config cfg = { kind, C, D, 30.0, 0.5 };
    siam_error err = {{0}};
    siam_identity_head *h = siam_identity_head_new(be->ops, be->ctx, &cfg, 11, &err);
    if (!h)
        fail_msg("siam_identity_head_new: %s", err.msg);
    return h;
}

static void init_and_accumulation(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_identity_head *h = head_of(be, SIAM_MARGIN_ARCFACE);
    size_t nw = (size_t)C * D, ne = (size_t)N * D;
    assert_int_equal(siam_identity_head_numel(h), nw);
    float *w = siam_check_floats(nw), *g = siam_check_floats(nw), *g2 = siam_check_floats(nw);
    siam_check_get(be, w, siam_identity_head_weights(h), nw);
    for (size_t i = 0; i < nw; i++) {
        float want = (siam_philox_uniform(11, SIAM_STREAM_HEAD, i) * 2.0f - 1.0f) * 0.25f;
        if (w[i] != want)
            fail_msg("W[%zu] = %.9g, want %.9g", i, (double)w[i], (double)want);
    }
    float e[N * D], de[N * D], de_op[N * D];
    int32_t labels[N] = { 0, 8, 3, 3, 5, 1 };
    siam_check_random(e, ne, 91, -1.0f, 1.0f);
    float *E_ = siam_check_put(be, e, ne), *dE_ = siam_check_alloc(be, ne);
    float *dEop_ = siam_check_alloc(be, ne), *dWop_ = siam_check_alloc(be, nw);
    int32_t *l_ = siam_check_put_bytes(be, labels, sizeof labels);
    siam_error err = {{0}};
    float loss = 0.0f, loss_op = 0.0f;
    for (int k = 0; k < 2; k++)
        if (siam_identity_head_loss_and_grad(h, E_, l_, N, &loss, dE_, &err))
            fail_msg("loss_and_grad: %s", err.msg);
    siam_check_ok(be, be->ops->margin_softmax(be->ctx, &loss_op, dEop_, dWop_, E_, l_,
                                              siam_identity_head_weights(h), N, D, C,
                                              SIAM_MARGIN_ARCFACE, 30.0f, 0.5f, 1.0f),
                  "margin_softmax");
    assert_true(loss == loss_op && loss > 0.0f);
    /* Two calls add twice what one call of the op gives. */
    siam_check_get(be, de, dE_, ne);
    siam_check_get(be, de_op, dEop_, ne);
    siam_check_get(be, g, siam_identity_head_grad(h), nw);
    siam_check_get(be, g2, dWop_, nw);
    for (size_t i = 0; i < ne; i++)
        assert_true(de[i] == 2.0f * de_op[i]);
    for (size_t i = 0; i < nw; i++)
        assert_true(g[i] == 2.0f * g2[i]);
    if (siam_identity_head_zero_grad(h, &err))
        fail_msg("zero_grad: %s", err.msg);
    siam_check_get(be, g, siam_identity_head_grad(h), nw);
    for (size_t i = 0; i < nw; i++)
        assert_true(g[i] == 0.0f);
    /* A bad label comes back with the head's prefix. */
    labels[2] = C;
    siam_check_ok(be, be->ops->upload(be->ctx, l_, labels, sizeof labels), "upload");
    assert_int_equal(siam_identity_head_loss_and_grad(h, E_, l_, N, &loss, dE_, &err), -1);
    assert_string_equal(err.msg, "identity head: margin_softmax: labels[2] = 9 is outside "
                                 "[0, C) with C = 9");
    free(w), free(g), free(g2);
    siam_check_free(be, E_), siam_check_free(be, dE_), siam_check_free(be, dEop_);
    siam_check_free(be, dWop_), siam_check_free(be, l_);
    siam_identity_head_free(h);
}

static void bad_config(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_identity_head_config cfg = { SIAM_MARGIN_COSFACE, 0, D, 30.0, 0.35 };
    siam_error err = {{0}};
    assert_null(siam_identity_head_new(be->ops, be->ctx, &cfg, 1, &err));
    assert_string_equal(err.msg, "identity head: margin_softmax: bad sizes N=1 D=16 C=0");
    cfg.classes = C;
    cfg.s = -2.0;
    assert_null(siam_identity_head_new(be->ops, be->ctx, &cfg, 1, &err));
    assert_string_equal(err.msg, "identity head: margin_softmax: scale s must be a finite "
                                 "number >= 0, got -2");
    siam_identity_head_free(NULL);
}

/* The head's W has its own siam_optim (host/optim.h takes any flat
 * buffer): three Adam steps, each from a fresh gradient of the loss,
 * against torch.optim.Adam's update written out in double. */
static void adam_over_head(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_identity_head *h = head_of(be, SIAM_MARGIN_COSFACE);
    size_t nw = siam_identity_head_numel(h), ne = (size_t)N * D;
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    oc.lr = 1e-2;
    siam_error err = {{0}};
    siam_optim *opt = siam_optim_new(be->ops, be->ctx, &oc, nw, &err);
    if (!opt)
        fail_msg("siam_optim_new: %s", err.msg);
    float e[N * D], *w = siam_check_floats(nw), *g = siam_check_floats(nw);
    double *p = siam_check_doubles(nw), *m = siam_check_doubles(nw), *v = siam_check_doubles(nw);
    int32_t labels[N] = { 1, 2, 3, 4, 5, 6 };
    siam_check_random(e, ne, 92, -1.0f, 1.0f);
    float *E_ = siam_check_put(be, e, ne);
    int32_t *l_ = siam_check_put_bytes(be, labels, sizeof labels);
    siam_check_get(be, w, siam_identity_head_weights(h), nw);
    for (size_t i = 0; i < nw; i++)
        p[i] = w[i];
    float first = 0.0f, loss = 0.0f;
    for (int t = 1; t <= 3; t++) {
        if (siam_identity_head_zero_grad(h, &err) ||
            siam_identity_head_loss_and_grad(h, E_, l_, N, &loss, NULL, &err) ||
            siam_optim_step(opt, siam_identity_head_weights(h), siam_identity_head_grad(h), &err))
            fail_msg("step %d: %s", t, err.msg);
        if (t == 1)
            first = loss;
        siam_check_get(be, g, siam_identity_head_grad(h), nw);
        for (size_t i = 0; i < nw; i++) {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + 0.001 * (double)g[i] * g[i];
            double mh = m[i] / (1.0 - pow(0.9, t)), vh = v[i] / (1.0 - pow(0.999, t));
            p[i] -= 1e-2 * mh / (sqrt(vh) + 1e-8);
        }
        siam_check_get(be, w, siam_identity_head_weights(h), nw);
        siam_check_close("head W after Adam", w, p, nw, 1e-6);
    }
    /* Three steps on one batch lower its loss. */
    siam_identity_head_loss_and_grad(h, E_, l_, N, &loss, NULL, &err);
    print_message("loss %.4f -> %.4f\n", (double)first, (double)loss);
    assert_true(loss < first);
    free(w), free(g), free(p), free(m), free(v);
    siam_check_free(be, E_), siam_check_free(be, l_);
    siam_optim_free(opt);
    siam_identity_head_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(init_and_accumulation),
        cmocka_unit_test(bad_config),
        cmocka_unit_test(adam_over_head),
    };
    return siam_check_run("identity_head", tests, sizeof tests / sizeof tests[0]);
}
