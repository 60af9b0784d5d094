/* How often the training loop waits for the device: every call that brings
 * a result to the host (download, bce_forward, nonfinite_count,
 * step_report, synchronize) costs a round trip on CUDA, so the loop is run
 * on a CPU table that counts them. A training step makes one step_report
 * (loss, probabilities, gradient and statistic counts, and the counts of
 * the previous update's parameters), the last update of an epoch is counted
 * by one nonfinite_count, a validation batch makes one step_report, and
 * nothing else reads back; uploads are the epoch's pair order, once. The same loop then still gives the uncounted table's
 * results bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "host/train.h"
#include "tests/support/toy_pairs.h"
#include "tests/support/train_rig.h"

enum { SIDE = 32, MAXB = 8, EPOCHS = 2, NTRAIN = 32, NVAL = 12 };

/* Calls per kind. Test-only state: the ops interface gives a table no user
 * pointer. */
static struct {
    long download, upload, bce, nonfinite, report, report_params, sync;
} calls;

static int c_download(siam_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    calls.download++;
    return siam_ops_cpu.download(ctx, dst, src, bytes);
}

static int c_upload(siam_ctx *ctx, void *dst, const void *src, size_t bytes)
{
    calls.upload++;
    return siam_ops_cpu.upload(ctx, dst, src, bytes);
}

static int c_bce(siam_ctx *ctx, float *loss, const float *p, const float *y, size_t n)
{
    calls.bce++;
    return siam_ops_cpu.bce_forward(ctx, loss, p, y, n);
}

static int c_nonfinite(siam_ctx *ctx, size_t *counts, const float *const *bufs,
                       const size_t *lens, int k)
{
    calls.nonfinite++;
    return siam_ops_cpu.nonfinite_count(ctx, counts, bufs, lens, k);
}

static int c_report(siam_ctx *ctx, siam_step_report *rep, float *probs, const float *p,
                    const float *y, size_t n, const float *const *bufs, const size_t *lens, int k)
{
    calls.report++;
    calls.report_params += k == 3; /* gradients, statistics, parameters */
    return siam_ops_cpu.step_report(ctx, rep, probs, p, y, n, bufs, lens, k);
}

static int c_sync(siam_ctx *ctx)
{
    calls.sync++;
    return siam_ops_cpu.synchronize(ctx);
}

typedef struct run {
    double loss[EPOCHS], val_loss[EPOCHS];
    float *params;
    size_t n;
} run;

static void fit(const siam_ops *ops, siam_toy *toy, run *out)
{
    siam_error err;
    siam_ctx *c = ops->ctx_new(&(siam_ctx_options){ .threads = 1 }, &err);
    assert_non_null(c);
    siam_model_config cfg;
    siam_toy_model_config(&cfg, SIDE);
    siam_model *m = siam_model_new(ops, c, &cfg, MAXB, &err);
    assert_non_null(m);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 3, &err), 0);
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    oc.lr = 1e-3;
    siam_optim *opt = siam_optim_new(ops, c, &oc, siam_model_numel(m), &err);
    assert_non_null(opt);
    siam_pairset *train = siam_toy_pairs(toy, NTRAIN, 1), *val = siam_toy_pairs(toy, NVAL, 2);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = EPOCHS;
    tc.batch_size = MAXB;
    tc.seed = 5;
    siam_trainer *t = siam_trainer_new(m, opt, train, val, &tc, &err);
    if (!t)
        fail_msg("%s", err.msg);
    memset(&calls, 0, sizeof calls);
    if (siam_test_run(t, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(siam_trainer_epochs_done(t), EPOCHS);
    memcpy(out->loss, siam_history_get(siam_trainer_history(t), "train_loss"), sizeof out->loss);
    memcpy(out->val_loss, siam_history_get(siam_trainer_history(t), "val_loss"),
           sizeof out->val_loss);
    out->n = siam_model_numel(m);
    out->params = malloc(out->n * sizeof(float));
    assert_non_null(out->params);
    assert_int_equal(siam_model_download_params(m, out->params, &err), 0);
    siam_trainer_free(t);
    siam_toy_pairs_free(train);
    siam_toy_pairs_free(val);
    siam_optim_free(opt);
    siam_model_free(m);
    ops->ctx_free(c);
}

static void one_readback_per_step_and_validation_batch(void **state)
{
    (void)state;
    siam_toy toy;
    assert_int_equal(siam_toy_images(&toy, 8, 4, SIDE, SIDE, 3), 0);
    siam_ops counted = siam_ops_cpu;
    counted.download = c_download;
    counted.upload = c_upload;
    counted.bce_forward = c_bce;
    counted.nonfinite_count = c_nonfinite;
    counted.step_report = c_report;
    counted.synchronize = c_sync;
    run a, b;
    fit(&counted, &toy, &a);
    const long steps = EPOCHS * (NTRAIN / MAXB), val_batches = EPOCHS * ((NVAL + MAXB - 1) / MAXB);
    print_message("%ld steps, %ld validation batches: step_report %ld, nonfinite_count %ld, "
                  "download %ld, bce_forward %ld, synchronize %ld, upload %ld\n",
                  steps, val_batches, calls.report, calls.nonfinite, calls.download, calls.bce,
                  calls.sync, calls.upload);
    assert_int_equal(calls.report, steps + val_batches);
    assert_int_equal(calls.report_params, steps - EPOCHS); /* all but each epoch's first */
    assert_int_equal(calls.nonfinite, EPOCHS);             /* each epoch's last update */
    assert_int_equal(calls.download, 1); /* the parameters, by fit() above, after the run */
    assert_int_equal(calls.bce, 0);
    assert_int_equal(calls.sync, 0);
    assert_int_equal(calls.upload, 2 * EPOCHS); /* each epoch's order: indices, labels */
    /* Counting changes nothing. */
    fit(&siam_ops_cpu, &toy, &b);
    assert_memory_equal(a.loss, b.loss, sizeof a.loss);
    assert_memory_equal(a.val_loss, b.val_loss, sizeof a.val_loss);
    assert_memory_equal(a.params, b.params, a.n * sizeof(float));
    free(a.params), free(b.params);
    siam_toy_free(&toy);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_readback_per_step_and_validation_batch),
    };
    return cmocka_run_group_tests_name("train_round_trips", tests, NULL, NULL);
}
