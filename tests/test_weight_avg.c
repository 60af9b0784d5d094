/* Weight averaging (host/weight_avg.h) on its own, against averages taken
 * in double, and inside the training loop: SWA equals the mean of the
 * epoch-end weights, EMA the decayed sum of the step weights, validation
 * sees the average, the model ends with it, and a run resumed from a
 * checkpoint (which carries the average) equals the uninterrupted run bit
 * for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/checkpoint.h"
#include "host/train.h"
#include "host/weight_avg.h"
#include "kernels/philox.h"
#include "tests/support/toy_pairs.h"
#include "tests/support/train_rig.h"

enum { SIDE = SIAM_RIG_SIDE };

typedef siam_test_rig rig;

static void rig_open(rig *r, const siam_pairset *train, const siam_pairset *val,
                     const siam_train_config *tc)
{
    siam_error err;
    siam_optim_config oc;
    siam_test_rig_adam(&oc, 2e-3);
    if (!siam_test_rig_open(r, 0.2f, &oc, train, val, tc, &err))
        fail_msg("%s", err.msg);
}

/* Parameters then BN statistics, on the host. */
static float *snapshot(rig *r, size_t *n)
{
    size_t np = siam_model_numel(r->m), nb = siam_model_buffer_numel(r->m);
    float *v = malloc((np + nb) * sizeof *v);
    siam_error err;
    assert_int_equal(siam_model_download_params(r->m, v, &err), 0);
    assert_int_equal(siam_ops_cpu.download(r->ctx, v + np, siam_model_buffers(r->m), nb * 4), 0);
    *n = np + nb;
    return v;
}

static void put_weights(rig *r, const float *v)
{
    siam_error err;
    size_t np = siam_model_numel(r->m), nb = siam_model_buffer_numel(r->m);
    assert_int_equal(siam_model_upload_params(r->m, v, &err), 0);
    assert_int_equal(siam_ops_cpu.upload(r->ctx, siam_model_buffers(r->m), v + np, nb * 4), 0);
}

/* Largest |got - want| / (1 + |want|). */
static double worst(const float *got, const double *want, size_t n)
{
    double w = 0.0;
    for (size_t i = 0; i < n; i++)
        w = fmax(w, fabs(got[i] - want[i]) / (1.0 + fabs(want[i])));
    return w;
}

static void averages_match_double(void **state)
{
    (void)state;
    rig r = { 0 };
    siam_test_rig_model(&r, 0.2f);
    siam_error err;
    size_t n = siam_model_numel(r.m) + siam_model_buffer_numel(r.m);
    float *w = malloc(n * sizeof *w), *got = malloc(n * sizeof *got), *keep;
    double *ema = calloc(n, sizeof *ema), *mean = calloc(n, sizeof *mean);
    siam_wavg_config c;
    siam_wavg_config_default(&c);
    c.kind = SIAM_WAVG_EMA;
    c.decay = 0.9;
    siam_wavg *e = siam_wavg_new(r.m, &c, &err);
    c.kind = SIAM_WAVG_SWA;
    siam_wavg *s = siam_wavg_new(r.m, &c, &err);
    assert_non_null(e);
    assert_non_null(s);
    assert_int_equal(siam_wavg_swap(s, &err), -1);
    assert_string_equal(err.msg, "weight averaging: nothing averaged yet");
    for (int k = 0; k < 5; k++) {
        for (size_t i = 0; i < n; i++)
            w[i] = siam_philox_uniform(31, (uint64_t)k, i) * 4.0f - 2.0f;
        put_weights(&r, w);
        assert_int_equal(siam_wavg_update(e, &err), 0);
        assert_int_equal(siam_wavg_update(s, &err), 0);
        for (size_t i = 0; i < n; i++) {
            ema[i] = k == 0 ? w[i] : 0.9 * ema[i] + 0.1 * w[i];
            mean[i] += (w[i] - mean[i]) / (k + 1);
        }
    }
    assert_int_equal(siam_wavg_count(e), 5);
    /* Swap: the model holds the average, the average the last weights. */
    keep = snapshot(&r, &n);
    assert_int_equal(siam_wavg_swap(e, &err), 0);
    free(got);
    got = snapshot(&r, &n);
    double we = worst(got, ema, n);
    printf("EMA (decay 0.9, 5 updates): worst relative difference %.3g\n", we);
    assert_true(we < 1e-6);
    assert_int_equal(siam_wavg_swap(e, &err), 0);
    free(got);
    got = snapshot(&r, &n);
    assert_memory_equal(got, keep, n * sizeof *got);
    assert_int_equal(siam_wavg_apply(s, &err), 0);
    free(got);
    got = snapshot(&r, &n);
    double ws = worst(got, mean, n);
    printf("SWA (5 weight sets): worst relative difference %.3g\n", ws);
    assert_true(ws < 1e-6);
    /* Round trip through the host, as checkpoints do. */
    assert_int_equal(siam_wavg_download(s, w, &err), 0);
    assert_memory_equal(w, got, n * sizeof *w);

    c.kind = SIAM_WAVG_EMA;
    c.decay = 1.0;
    assert_null(siam_wavg_new(r.m, &c, &err));
    assert_string_equal(err.msg, "weight averaging: EMA decay 1 outside [0, 1)");
    c.kind = SIAM_WAVG_OFF;
    assert_null(siam_wavg_new(r.m, &c, &err));
    assert_string_equal(err.msg, "weight averaging: kind 0 is not ema (1) or swa (2)");
    siam_wavg_kind kind;
    assert_int_equal(siam_wavg_kind_parse("swa", &kind, &err), 0);
    assert_int_equal(kind, SIAM_WAVG_SWA);
    assert_int_equal(siam_wavg_kind_parse("polyak", &kind, &err), -1);
    assert_string_equal(err.msg, "unknown weight averaging 'polyak' (off, ema, swa)");
    siam_wavg_free(e);
    siam_wavg_free(s);
    siam_wavg_free(NULL);
    free(w), free(got), free(keep), free(ema), free(mean);
    siam_test_rig_close(&r);
}

typedef struct toyset {
    siam_toy toy;
    siam_pairset *train, *val;
} toyset;

static int setup(void **state)
{
    toyset *s = calloc(1, sizeof *s);
    if (siam_toy_images(&s->toy, 8, 4, SIDE, SIDE, 3))
        return -1;
    s->train = siam_toy_pairs(&s->toy, 32, 1);
    s->val = siam_toy_pairs(&s->toy, 12, 2);
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    toyset *s = *state;
    siam_toy_pairs_free(s->train);
    siam_toy_pairs_free(s->val);
    siam_toy_free(&s->toy);
    free(s);
    return 0;
}

/* Records, in double, the average the trainer should keep: the raw
 * weights after every step (EMA) or after each epoch's last step (SWA). */
typedef struct recorder {
    rig *r;
    siam_wavg_kind kind;
    double decay;
    int start_epoch;
    double *avg;
    int count;
} recorder;

static int record_hook(void *user, siam_trainer *t, const siam_train_event *ev, siam_error *err)
{
    (void)t, (void)err;
    recorder *rc = user;
    if (ev->kind != SIAM_EVENT_BATCH_END || ev->epoch < rc->start_epoch)
        return 0;
    if (rc->kind == SIAM_WAVG_SWA && ev->batch != ev->batches - 1)
        return 0;
    size_t n;
    float *w = snapshot(rc->r, &n);
    for (size_t i = 0; i < n; i++) {
        if (rc->count == 0)
            rc->avg[i] = w[i];
        else if (rc->kind == SIAM_WAVG_EMA)
            rc->avg[i] = rc->decay * rc->avg[i] + (1.0 - rc->decay) * w[i];
        else
            rc->avg[i] += (w[i] - rc->avg[i]) / (rc->count + 1);
    }
    rc->count++;
    free(w);
    return 0;
}

static void run_and_compare(toyset *s, siam_wavg_kind kind, double decay, int start,
                            int expect_count)
{
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 3;
    tc.batch_size = 6;
    tc.seed = 5;
    tc.wavg.kind = kind;
    tc.wavg.decay = decay;
    tc.wavg.start_epoch = start;
    rig r;
    recorder rc = { &r, kind, decay, start, NULL, 0 };
    tc.hook = record_hook;
    tc.hook_user = &rc;
    rig_open(&r, s->train, s->val, &tc);
    size_t n;
    float *w0 = snapshot(&r, &n);
    rc.avg = calloc(n, sizeof *rc.avg);
    siam_error err;
    if (siam_test_fit(&r, NULL, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(rc.count, expect_count);
    assert_int_equal(siam_wavg_count(siam_trainer_wavg(r.t)), (uint64_t)expect_count);
    float *got = snapshot(&r, &n);
    double wd = worst(got, rc.avg, n);
    printf("%s from epoch %d: model after fit vs the average in double: %.3g\n",
           kind == SIAM_WAVG_EMA ? "EMA" : "SWA", start + 1, wd);
    assert_true(wd < 1e-5);
    /* Validation of the last epoch saw the same (averaged) weights. */
    double loss, acc;
    assert_int_equal(siam_trainer_evaluate(r.t, s->val, &loss, &acc, NULL, &err), 0);
    assert_memory_equal(&loss, &siam_history_get(siam_trainer_history(r.t), "val_loss")[2],
                        sizeof loss);
    free(w0);
    free(got);
    free(rc.avg);
    siam_test_rig_close(&r);
}

static void trainer_swa_and_ema(void **state)
{
    toyset *s = *state;
    run_and_compare(s, SIAM_WAVG_SWA, 0.0, 0, 3);
    run_and_compare(s, SIAM_WAVG_SWA, 0.0, 1, 2);
    /* 32 pairs in batches of 6: 6 steps an epoch. */
    run_and_compare(s, SIAM_WAVG_EMA, 0.8, 0, 18);
    run_and_compare(s, SIAM_WAVG_EMA, 0.8, 2, 6);
}

static void resume_with_average_is_bit_identical(void **state)
{
    toyset *s = *state;
    char path[] = "/tmp/siam_wavg_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 4;
    tc.batch_size = 6;
    tc.seed = 9;
    tc.wavg.kind = SIAM_WAVG_EMA;
    tc.wavg.decay = 0.7;
    siam_error err;
    rig a;
    rig_open(&a, s->train, s->val, &tc);
    assert_int_equal(siam_test_fit(&a, NULL, &err), 0);
    size_t n;
    float *want = snapshot(&a, &n);

    tc.epochs = 2;
    rig b;
    rig_open(&b, s->train, s->val, &tc);
    if (siam_test_fit(&b, path, &err))
        fail_msg("%s", err.msg);
    siam_test_rig_close(&b);
    tc.epochs = 4;
    rig c;
    rig_open(&c, s->train, s->val, &tc);
    if (siam_test_resume(c.t, path, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(siam_wavg_count(siam_trainer_wavg(c.t)), 12);
    assert_int_equal(siam_test_fit(&c, NULL, &err), 0);
    float *got = snapshot(&c, &n);
    assert_memory_equal(got, want, n * sizeof *got);
    for (int e = 0; e < 4; e++)
        assert_memory_equal(&siam_history_get(siam_trainer_history(c.t), "val_loss")[e],
                            &siam_history_get(siam_trainer_history(a.t), "val_loss")[e],
                            sizeof(double));

    /* A trainer that keeps an average cannot resume from a file without one. */
    siam_train_config plain;
    siam_train_config_default(&plain);
    plain.epochs = 1;
    plain.batch_size = 6;
    rig d;
    rig_open(&d, s->train, s->val, &plain);
    assert_int_equal(siam_test_fit(&d, path, &err), 0);
    siam_test_rig_close(&d);
    rig e;
    rig_open(&e, s->train, s->val, &tc);
    assert_int_equal(siam_test_resume(e.t, path, &err), -1);
    char msg[256];
    snprintf(msg, sizeof msg, "checkpoint %s: the file has no weight average (the trainer "
                              "keeps one)", path);
    assert_string_equal(err.msg, msg);
    siam_test_rig_close(&e);
    free(want);
    free(got);
    siam_test_rig_close(&a);
    siam_test_rig_close(&c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(averages_match_double),
    };
    const struct CMUnitTest loop[] = {
        cmocka_unit_test(trainer_swa_and_ema),
        cmocka_unit_test(resume_with_average_is_bit_identical),
    };
    int failed = cmocka_run_group_tests_name("weight_avg", unit, NULL, NULL);
    return failed + cmocka_run_group_tests_name("weight_avg in the loop", loop, setup, teardown);
}
