/* ops->step_report on every backend: a step's one readback gives exactly
 * bce_forward's loss, the probabilities and nonfinite_count's counts; a
 * NaN or infinite probability makes the loss NaN without an error, a
 * finite one outside [0, 1] is an error; a batch larger than any before
 * (the CUDA readback area grows) and the argument errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ops_check.h"

typedef struct batch {
    size_t n;
    float *p, *y;     /* host */
    float *p_, *y_;   /* device */
} batch;

static batch batch_new(const siam_check_backend *be, size_t n, uint64_t stream)
{
    batch b = { n, siam_check_floats(n), siam_check_floats(n), NULL, NULL };
    siam_check_random(b.p, n, stream, 0.0f, 1.0f);
    for (size_t i = 0; i < n; i++)
        b.y[i] = (float)(i % 2);
    b.p[0] = 0.0f, b.p[1] = 1.0f; /* clamped logs */
    b.p_ = siam_check_put(be, b.p, n);
    b.y_ = siam_check_put(be, b.y, n);
    return b;
}

static void batch_free(const siam_check_backend *be, batch *b)
{
    siam_check_free(be, b->p_), siam_check_free(be, b->y_);
    free(b->p), free(b->y);
}

/* The loss, probabilities and counts of one call against bce_forward and
 * nonfinite_count on the same buffers. */
static void same_results_as_the_separate_calls(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    const size_t sizes[3] = { 16, 513, 5000 }; /* the last grows CUDA's readback area */
    enum { ng = 70001 };
    float *gr = siam_check_floats(ng), st[37];
    siam_check_random(gr, ng, 91, -1.0f, 1.0f);
    siam_check_random(st, 37, 92, 0.0f, 2.0f);
    gr[5] = NAN, gr[70000] = INFINITY, st[36] = -INFINITY;
    float *gr_ = siam_check_put(be, gr, ng), *st_ = siam_check_put(be, st, 37);
    const float *bufs[2] = { gr_, st_ };
    const size_t lens[2] = { ng, 37 };
    for (int s = 0; s < 3; s++) {
        batch b = batch_new(be, sizes[s], 93 + (uint64_t)s);
        float *probs = siam_check_floats(b.n), want = -1.0f;
        memset(probs, 0xFF, b.n * sizeof(float)); /* poisoned: every value must be written */
        siam_step_report rep;
        memset(&rep, 0xFF, sizeof rep);
        siam_check_ok(be, be->ops->step_report(be->ctx, &rep, probs, b.p_, b.y_, b.n, bufs, lens,
                                               2),
                      "step_report");
        siam_check_ok(be, be->ops->bce_forward(be->ctx, &want, b.p_, b.y_, b.n), "bce_forward");
        print_message("n %zu: loss %.9g, bce_forward %.9g\n", b.n, (double)rep.loss,
                      (double)want);
        assert_memory_equal(&rep.loss, &want, sizeof want);
        assert_memory_equal(probs, b.p, b.n * sizeof(float));
        assert_int_equal(rep.nonfinite[0], 2);
        assert_int_equal(rep.nonfinite[1], 1);
        assert_int_equal(rep.nonfinite[2], 0);
        assert_int_equal(rep.nonfinite[3], 0);
        /* No buffers: the loss and probabilities alone. */
        siam_check_ok(be, be->ops->step_report(be->ctx, &rep, probs, b.p_, b.y_, b.n, NULL, NULL,
                                               0),
                      "step_report, k = 0");
        assert_memory_equal(&rep.loss, &want, sizeof want);
        assert_int_equal(rep.nonfinite[0], 0);
        free(probs);
        batch_free(be, &b);
    }
    siam_check_free(be, gr_), siam_check_free(be, st_);
    free(gr);
}

static void non_finite_probabilities_give_a_nan_loss(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    batch b = batch_new(be, 300, 95);
    float bad[2] = { NAN, INFINITY };
    for (int k = 0; k < 2; k++) {
        siam_check_ok(be, be->ops->upload(be->ctx, b.p_ + 200, &bad[k], sizeof(float)), "upload");
        float probs[300];
        siam_step_report rep;
        siam_check_ok(be, be->ops->step_report(be->ctx, &rep, probs, b.p_, b.y_, b.n, NULL, NULL,
                                               0),
                      "step_report");
        assert_true(isnan(rep.loss));
        assert_memory_equal(&probs[200], &bad[k], sizeof(float));
        assert_memory_equal(probs, b.p, 200 * sizeof(float));
    }
    /* A finite probability outside [0, 1] is still bce_forward's error,
     * also after a NaN one. */
    float over = 1.5f;
    siam_check_ok(be, be->ops->upload(be->ctx, b.p_ + 250, &over, sizeof over), "upload");
    float probs[300];
    siam_step_report rep;
    assert_int_equal(be->ops->step_report(be->ctx, &rep, probs, b.p_, b.y_, b.n, NULL, NULL, 0),
                     -1);
    assert_string_equal(be->ops->ctx_error(be->ctx),
                        "step_report: probability 250 is 1.5, outside [0, 1]");
    batch_free(be, &b);
}

static void bad_arguments_are_refused(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    batch b = batch_new(be, 4, 96);
    float probs[4];
    siam_step_report rep;
    const float *bufs[SIAM_NONFINITE_MAX + 1] = { 0 };
    size_t lens[SIAM_NONFINITE_MAX + 1] = { 0 };
    assert_int_equal(be->ops->step_report(be->ctx, &rep, probs, b.p_, b.y_, 0, NULL, NULL, 0),
                     -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "step_report: empty batch (n = 0)");
    assert_int_equal(be->ops->step_report(be->ctx, &rep, NULL, b.p_, b.y_, 4, NULL, NULL, 0), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "step_report: NULL buffer");
    assert_int_equal(be->ops->step_report(be->ctx, &rep, probs, b.p_, b.y_, 4, bufs, lens,
                                          SIAM_NONFINITE_MAX + 1),
                     -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "step_report: 5 buffers, expected 0..4");
    lens[1] = 10;
    assert_int_equal(be->ops->step_report(be->ctx, &rep, probs, b.p_, b.y_, 4, bufs, lens, 2),
                     -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "step_report: buffer 1 is NULL (10 values)");
    batch_free(be, &b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_results_as_the_separate_calls),
        cmocka_unit_test(non_finite_probabilities_give_a_nan_loss),
        cmocka_unit_test(bad_arguments_are_refused),
    };
    return siam_check_run("ops_report", tests, sizeof tests / sizeof tests[0]);
}
