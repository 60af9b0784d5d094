/* The training loop on a small configuration and a synthetic pair set:
 * overfitting 32 pairs, batching (drop_last), the StepLR and hook-set
 * learning rates, the stop flag, the NaN stop, early stopping inside the
 * loop, resume-from-checkpoint == uninterrupted, bit for bit, and the flip
 * test-time augmentation of prediction. */
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
#include "host/metrics.h"
#include "host/train.h"
#include "tests/support/toy_pairs.h"
#include "tests/support/train_rig.h"

enum { SIDE = SIAM_RIG_SIDE, MAXB = SIAM_RIG_MAXB };

typedef siam_test_rig rig;

static void small_config(siam_model_config *cfg, float dropout)
{
    siam_toy_model_config(cfg, SIDE);
    cfg->dropout = dropout;
}

static void rig_open_with(rig *r, float dropout, const siam_optim_config *oc,
                          const siam_pairset *train, const siam_pairset *val,
                          const siam_train_config *tc)
{
    siam_error err;
    if (!siam_test_rig_open(r, dropout, oc, train, val, tc, &err))
        fail_msg("%s", err.msg);
}

static void rig_open(rig *r, float dropout, double lr, const siam_pairset *train,
                     const siam_pairset *val, const siam_train_config *tc)
{
    siam_optim_config oc;
    siam_test_rig_adam(&oc, lr);
    rig_open_with(r, dropout, &oc, train, val, tc);
}

/* Creates the file named by the mkstemp template `path` (a checkpoint to be). */
static void temp_file(char *path)
{
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
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

/* Hook for the overfit test: after each epoch, the eval-mode accuracy over
 * the training pairs; stop once it is 1. */
static int overfit_hook(void *user, siam_trainer *t, const siam_train_event *ev, siam_error *err)
{
    if (ev->kind != SIAM_EVENT_EPOCH_END)
        return 0;
    const siam_pairset *train = user;
    double loss, acc;
    if (siam_trainer_evaluate(t, train, &loss, &acc, NULL, err))
        return -1;
    if (siam_trainer_record(t, "fit_acc", acc, err))
        return -1;
    return acc == 1.0;
}

static void overfits_32_pairs(void **state)
{
    toyset *s = *state;
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 60; /* 240 steps at most */
    tc.batch_size = 8;
    tc.seed = 5;
    tc.hook = overfit_hook;
    tc.hook_user = s->train;
    rig r;
    rig_open(&r, 0.0f, 1e-3, s->train, NULL, &tc);
    siam_error err;
    if (siam_test_fit(&r, NULL, &err))
        fail_msg("%s", err.msg);
    int epochs = siam_trainer_epochs_done(r.t);
    const double *fit = siam_history_get(siam_trainer_history(r.t), "fit_acc");
    const double *tl = siam_history_get(siam_trainer_history(r.t), "train_loss");
    printf("100%% training accuracy after %d epochs (%d steps); train loss %.4f -> %.4f\n",
           epochs, epochs * 4, tl[0], tl[epochs - 1]);
    assert_int_equal(siam_trainer_stop_reason(r.t), SIAM_STOP_HOOK);
    assert_true(fit[epochs - 1] == 1.0);
    assert_true(tl[epochs - 1] < tl[0]);
    assert_true(
        isnan(siam_history_get(siam_trainer_history(r.t), "val_acc")[0])); /* no validation set */
    /* Prediction in batches of the model's max (8: 4 batches) from a fresh
     * upload agrees with the trainer's evaluation and the 100%. */
    float probs[32], probs2[32];
    double loss, acc;
    assert_int_equal(
        siam_model_predict(r.m, s->train, NULL, 0.0f, 1.0f, SIAM_TTA_NONE, probs, &err), 0);
    assert_int_equal(siam_trainer_evaluate(r.t, s->train, &loss, &acc, probs2, &err), 0);
    assert_memory_equal(probs, probs2, sizeof probs);
    float y[32];
    for (int i = 0; i < 32; i++)
        y[i] = s->train->pairs[i].label;
    assert_float_equal(siam_metrics_accuracy(probs, y, 32, 0.5f), 1.0, 0);
    assert_float_equal(acc, 1.0, 0);
    assert_float_equal(loss, siam_metrics_bce(probs, y, 32), 1e-6);
    /* Prediction leaves the model in training mode. */
    assert_int_equal(siam_model_training(r.m), 1);
    siam_test_rig_close(&r);
}

/* Flip test-time augmentation: each probability is the mean of the pair's
 * own and of the pair with both images mirrored left-right, here built by
 * hand as a second image bank. */
static void flip_tta_is_the_mean_of_pair_and_mirror(void **state)
{
    toyset *s = *state;
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&o, &err);
    assert_non_null(ctx);
    siam_model_config cfg;
    small_config(&cfg, 0.0f);
    siam_model *m = siam_model_new(&siam_ops_cpu, ctx, &cfg, MAXB, &err);
    assert_non_null(m);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 21, &err), 0);
    siam_images mirrored = s->toy.images;
    size_t px = (size_t)mirrored.count * SIDE * SIDE;
    mirrored.pixels = malloc(px);
    assert_non_null(mirrored.pixels);
    for (size_t row = 0; row < px / SIDE; row++)
        for (int x = 0; x < SIDE; x++)
            mirrored.pixels[row * SIDE + x] = s->toy.images.pixels[row * SIDE + SIDE - 1 - x];
    siam_pairset flipped = *s->train;
    flipped.images = &mirrored;
    float plain[32], mirror[32], tta[32];
    assert_int_equal(siam_model_predict(m, s->train, NULL, 0.1f, 0.3f, SIAM_TTA_NONE, plain,
                                        &err), 0);
    assert_int_equal(siam_model_predict(m, &flipped, NULL, 0.1f, 0.3f, SIAM_TTA_NONE, mirror,
                                        &err), 0);
    assert_int_equal(siam_model_predict(m, s->train, NULL, 0.1f, 0.3f, SIAM_TTA_FLIP, tta,
                                        &err), 0);
    double moved = 0.0;
    for (int i = 0; i < 32; i++) {
        assert_float_equal(tta[i], 0.5f * (plain[i] + mirror[i]), 1e-6);
        moved = fmax(moved, fabs((double)tta[i] - (double)plain[i]));
    }
    /* The noise images are not symmetric, so the mirror changes the answer. */
    assert_true(moved > 1e-4);
    siam_tta t;
    assert_int_equal(siam_tta_parse("flip", &t), 0);
    assert_int_equal(t, SIAM_TTA_FLIP);
    assert_string_equal(siam_tta_name(t), "flip");
    assert_int_equal(siam_tta_parse("none", &t), 0);
    assert_int_equal(t, SIAM_TTA_NONE);
    assert_int_equal(siam_tta_parse("mirror", &t), -1);
    free(mirrored.pixels);
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
}

typedef struct batch_log {
    int sizes[16];
    int n;
    int epoch_begins;
    double lrs[8];
    volatile sig_atomic_t *flag;
    int flag_after;
    double set_lr;
} batch_log;

static int log_hook(void *user, siam_trainer *t, const siam_train_event *ev, siam_error *err)
{
    (void)err;
    batch_log *b = user;
    if (ev->kind == SIAM_EVENT_EPOCH_BEGIN) {
        if (b->set_lr > 0.0 && ev->epoch == 1)
            siam_optim_set_lr(siam_trainer_optim(t), b->set_lr);
        b->epoch_begins++;
    }
    if (ev->kind == SIAM_EVENT_BATCH_END) {
        if (b->n < 16)
            b->sizes[b->n] = ev->batch_size;
        b->n++;
        if (b->flag && b->n == b->flag_after)
            *b->flag = 1;
    }
    if (ev->kind == SIAM_EVENT_EPOCH_END && ev->epoch < 8)
        b->lrs[ev->epoch] = ev->lr;
    return 0;
}

static void batches_keep_or_drop_the_last(void **state)
{
    toyset *s = *state;
    siam_pairset sub = *s->val; /* 12 pairs: batches 5, 5, 2 or 5, 5 */
    for (int drop = 0; drop < 2; drop++) {
        batch_log b = { 0 };
        siam_train_config tc;
        siam_train_config_default(&tc);
        tc.batch_size = 5;
        tc.drop_last = drop;
        tc.hook = log_hook;
        tc.hook_user = &b;
        rig r;
        rig_open(&r, 0.0f, 1e-3, &sub, NULL, &tc);
        siam_error err;
        assert_int_equal(siam_test_fit(&r, NULL, &err), 0);
        assert_int_equal(b.n, drop ? 2 : 3);
        assert_int_equal(b.sizes[0], 5);
        assert_int_equal(b.sizes[1], 5);
        if (!drop)
            assert_int_equal(b.sizes[2], 2);
        siam_test_rig_close(&r);
    }
}

static void steplr_and_hook_set_the_lr(void **state)
{
    toyset *s = *state;
    siam_pairset sub = *s->val;
    sub.count = 4;
    batch_log b = { 0 };
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 5;
    tc.batch_size = 4;
    tc.use_schedule = 1;
    tc.schedule = (siam_schedule){ .base_lr = 0.01, .step_size = 2, .gamma = 0.5 };
    tc.hook = log_hook;
    tc.hook_user = &b;
    rig r;
    rig_open(&r, 0.0f, 123.0, &sub, NULL, &tc);
    siam_error err;
    assert_int_equal(siam_test_fit(&r, NULL, &err), 0);
    const double want[5] = { 0.01, 0.01, 0.005, 0.005, 0.0025 };
    const double *lr = siam_history_get(siam_trainer_history(r.t), "lr");
    for (int e = 0; e < 5; e++) {
        assert_float_equal(lr[e], want[e], 1e-15);
        assert_float_equal(b.lrs[e], want[e], 1e-15);
    }
    siam_test_rig_close(&r);

    /* Without a schedule, a hook sets the lr at EPOCH_BEGIN and it sticks. */
    batch_log b2 = { .set_lr = 0.25 };
    tc.use_schedule = 0;
    tc.epochs = 3;
    tc.hook_user = &b2;
    rig_open(&r, 0.0f, 0.5, &sub, NULL, &tc);
    assert_int_equal(siam_test_fit(&r, NULL, &err), 0);
    lr = siam_history_get(siam_trainer_history(r.t), "lr");
    assert_float_equal(lr[0], 0.5, 0);
    assert_float_equal(lr[1], 0.25, 0);
    assert_float_equal(lr[2], 0.25, 0);
    assert_float_equal(b2.lrs[1], 0.25, 0); /* EPOCH_END reports the lr in force */
    siam_test_rig_close(&r);
}

static void stop_flag_ends_training_at_a_batch(void **state)
{
    toyset *s = *state;
    volatile sig_atomic_t flag = 0;
    batch_log b = { .flag = &flag, .flag_after = 6 };
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 4;
    tc.batch_size = 8; /* 4 batches per epoch: stops in the 2nd epoch */
    tc.stop_flag = &flag;
    tc.hook = log_hook;
    tc.hook_user = &b;
    rig r;
    rig_open(&r, 0.0f, 1e-3, s->train, NULL, &tc);
    siam_error err;
    assert_int_equal(siam_test_fit(&r, NULL, &err), 0);
    assert_int_equal(siam_trainer_stop_reason(r.t), SIAM_STOP_SIGNAL);
    assert_int_equal(b.n, 6);
    assert_int_equal(siam_trainer_epochs_done(r.t), 1);
    assert_int_equal(siam_optim_steps(r.opt), 6);
    siam_test_rig_close(&r);
}

/* Two epochs of batch 8 (Adam 1e-3) after a NaN is planted at value `at`
 * of the parameter (or, with `buffer`, the BN statistic) `name`: the run
 * must stop, not fail, with SIAM_STOP_NAN, before any update and with
 * nothing recorded. Returns the trainer's message; r stays open. */
static const char *fit_with_nan_at(rig *r, const toyset *s, int buffer, const char *name,
                                   size_t at)
{
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 2;
    tc.batch_size = 8;
    rig_open(r, 0.0f, 1e-3, s->train, NULL, &tc);
    const siam_param_info *p = NULL;
    for (int j = 0; !p && j < (buffer ? SIAM_MODEL_NBUFFERS : siam_model_param_count(r->m)); j++) {
        const siam_param_info *q = buffer ? siam_model_buffer(r->m, j) : siam_model_param(r->m, j);
        if (strcmp(q->name, name) == 0)
            p = q;
    }
    assert_non_null(p);
    float nan = NAN, *base = buffer ? siam_model_buffers(r->m) : siam_model_params(r->m);
    assert_int_equal(siam_ops_cpu.upload(r->ctx, base + p->offset + at, &nan, 4), 0);
    siam_error err;
    assert_int_equal(siam_test_fit(r, NULL, &err), 0);
    assert_int_equal(siam_trainer_stop_reason(r->t), SIAM_STOP_NAN);
    assert_int_equal(siam_trainer_epochs_done(r->t), 0);
    assert_int_equal(siam_optim_steps(r->opt), 0);
    return siam_trainer_nan_message(r->t);
}

static void nan_loss_names_epoch_and_batch(void **state)
{
    /* A NaN in out.bias makes every probability NaN. */
    rig r;
    assert_string_equal(fit_with_nan_at(&r, *state, 0, "out.bias", 0),
                        "non-finite loss (nan) at epoch 1, batch 1");
    siam_test_rig_close(&r);
}

/* The largest |x| over n floats, or INFINITY when one is not finite. */
static double max_abs_or_inf(const float *x, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return INFINITY;
        m = fmax(m, fabs((double)x[i]));
    }
    return m;
}

/* Keeps a host copy of the parameters after every step, and from epoch
 * index `lr_epoch` on sets the lr to `lr` (0: never). */
typedef struct step_copy {
    float *params;
    int steps;
    int lr_epoch;
    double lr;
} step_copy;

static int step_copy_hook(void *user, siam_trainer *t, const siam_train_event *ev,
                          siam_error *err)
{
    step_copy *c = user;
    if (ev->kind == SIAM_EVENT_EPOCH_BEGIN && c->lr > 0.0 && ev->epoch == c->lr_epoch)
        siam_optim_set_lr(siam_trainer_optim(t), c->lr);
    if (ev->kind != SIAM_EVENT_BATCH_END)
        return 0;
    c->steps++;
    return siam_model_download_params(siam_trainer_model(t), c->params, err);
}

/* Adam at lr 1e30 on the toy model: the first step's weights are huge but
 * finite, and a later step's gradients are not. Training stops before
 * that update, with the weights of the last finite step, and the lost
 * epoch leaves no history and no checkpoint. */
static void nonfinite_gradient_stops_before_the_update(void **state)
{
    toyset *s = *state;
    char path[] = "/tmp/siam_nan_XXXXXX";
    temp_file(path);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 3;
    tc.batch_size = 8; /* 4 steps per epoch */
    rig r;
    rig_open(&r, 0.0f, 1e-3, s->train, NULL, &tc);
    size_t n = siam_model_numel(r.m);
    step_copy c = { .params = malloc(n * sizeof(float)), .lr_epoch = 1, .lr = 1e30 };
    siam_trainer_free(r.t);
    tc.hook = step_copy_hook;
    tc.hook_user = &c;
    siam_error err;
    r.t = siam_trainer_new(r.m, r.opt, s->train, NULL, &tc, &err);
    assert_non_null(r.t);
    assert_int_equal(siam_test_fit(&r, path, &err), 0);
    assert_int_equal(siam_trainer_stop_reason(r.t), SIAM_STOP_NAN);
    const char *msg = siam_trainer_nan_message(r.t);
    print_message("stopped: %s\n", msg);
    /* Epoch 1 ran at lr 1e-3; epoch 2 took c.steps - 4 steps at 1e30. */
    char want[64];
    snprintf(want, sizeof want, "non-finite gradient at epoch 2, batch %d (", c.steps - 4 + 1);
    assert_true(strncmp(msg, want, strlen(want)) == 0);
    assert_non_null(strstr(msg, " values; first in "));
    assert_true(c.steps > 4 && c.steps < 8);
    assert_int_equal(siam_optim_steps(r.opt), c.steps); /* the bad update was not taken */
    assert_int_equal(siam_trainer_epochs_done(r.t), 1);
    assert_int_equal(siam_history_count(siam_trainer_history(r.t)) > 0, 1);
    assert_true(isnan(
        siam_history_get(siam_trainer_history(r.t), "train_loss")[1])); /* epoch 2 not recorded */
    float *now = malloc(n * sizeof(float));
    assert_int_equal(siam_model_download_params(r.m, now, &err), 0);
    assert_true(max_abs_or_inf(now, n) > 1e20); /* the lr did blow the weights up */
    assert_true(isfinite(max_abs_or_inf(now, n)));
    assert_memory_equal(now, c.params, n * sizeof(float));
    siam_test_rig_close(&r);
    /* The checkpoint is the one written after epoch 1. */
    siam_train_config_default(&tc);
    tc.epochs = 3;
    tc.batch_size = 8;
    rig_open(&r, 0.0f, 1e-3, s->train, NULL, &tc);
    assert_int_equal(siam_test_resume(r.t, path, &err), 0);
    assert_int_equal(siam_trainer_epochs_done(r.t), 1);
    assert_int_equal(siam_optim_steps(r.opt), 4);
    siam_test_rig_close(&r);
    free(now);
    free(c.params);
    unlink(path);
}

/* SGD with a weight decay of 3e38 and lr 2: every gradient is finite, but
 * the update of the batch-norm weights (1.0) is 1 - 2 (3e38 + g), which
 * overflows to -inf. The check after the step catches it. */
static void update_overflow_checked(const siam_pairset *train)
{
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 2;
    tc.batch_size = 8;
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_SGD);
    oc.lr = 2.0;
    oc.weight_decay = 3e38;
    rig r;
    rig_open_with(&r, 0.0f, &oc, train, NULL, &tc);
    siam_error err;
    assert_int_equal(siam_test_fit(&r, NULL, &err), 0);
    assert_int_equal(siam_trainer_stop_reason(r.t), SIAM_STOP_NAN);
    const siam_param_info *bn1 = siam_model_param(r.m, siam_model_param_find(r.m, "bn1.weight"));
    char want[160];
    snprintf(want, sizeof want, "non-finite parameter after the update of epoch 1, batch 1 ("
             "%zu of %zu values; first in bn1.weight)", (size_t)4 + 8 + 8 + 16,
             siam_model_numel(r.m));
    assert_int_equal(bn1->numel, 4);
    assert_string_equal(siam_trainer_nan_message(r.t), want);
    assert_int_equal(siam_trainer_epochs_done(r.t), 0);
    siam_test_rig_close(&r);
}

static void update_overflow_is_caught_after_the_step(void **state)
{
    toyset *s = *state;
    update_overflow_checked(s->train);
}

/* One batch per epoch: the update is the epoch's last, counted by the
 * check before validation rather than by a next step's readback. */
static void update_overflow_of_an_epochs_last_step_is_caught(void **state)
{
    toyset *s = *state;
    siam_pairset *one_batch = siam_toy_pairs(&s->toy, 8, 1);
    assert_non_null(one_batch);
    update_overflow_checked(one_batch);
    siam_toy_pairs_free(one_batch);
}

/* A NaN in a running variance does not reach the loss or the gradients in
 * training mode (batch statistics are used), but would make every
 * evaluation NaN: the step's check names it. */
static void nonfinite_running_statistic_stops_training(void **state)
{
    rig r;
    const char *msg = fit_with_nan_at(&r, *state, 1, "bn2.running_var", 2);
    char want[160];
    snprintf(want, sizeof want, "non-finite batch-norm running statistic at epoch 1, batch 1 "
             "(1 of %zu values; first in bn2.running_var)", siam_model_buffer_numel(r.m));
    assert_string_equal(msg, want);
    siam_test_rig_close(&r);
}

static void early_stopping_inside_the_loop(void **state)
{
    toyset *s = *state;
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 30;
    tc.batch_size = 8;
    tc.use_early_stop = 1;
    strcpy(tc.early_stop.metric, "nonexistent");
    rig r;
    rig_open(&r, 0.0f, 1e-3, s->train, s->val, &tc);
    siam_error err;
    assert_int_equal(siam_test_fit(&r, NULL, &err), -1);
    assert_string_equal(err.msg,
                        "early stopping: metric 'nonexistent' was not recorded in epoch 1");
    siam_test_rig_close(&r);

    /* lr 0 freezes the weights: val_loss never improves after epoch 1, so
     * patience 2 stops after epoch 3 with the best at epoch 0. */
    strcpy(tc.early_stop.metric, "val_loss");
    tc.early_stop.mode_max = 0;
    tc.early_stop.patience = 2;
    tc.early_stop.min_delta = 0.1;
    char path[] = "/tmp/siam_es_XXXXXX";
    temp_file(path);
    rig_open(&r, 0.0f, 0.0, s->train, s->val, &tc);
    assert_int_equal(siam_test_fit(&r, path, &err), 0);
    assert_int_equal(siam_trainer_stop_reason(r.t), SIAM_STOP_EARLY);
    assert_int_equal(siam_trainer_epochs_done(r.t), 3);
    assert_int_equal(siam_trainer_early_stop(r.t)->best_epoch, 0);
    siam_test_rig_close(&r);
    /* Resuming a run that stopped early trains no further. */
    rig_open(&r, 0.0f, 0.0, s->train, s->val, &tc);
    assert_int_equal(siam_test_resume(r.t, path, &err), 0);
    assert_int_equal(siam_test_fit(&r, NULL, &err), 0);
    assert_int_equal(siam_trainer_stop_reason(r.t), SIAM_STOP_EARLY);
    assert_int_equal(siam_trainer_epochs_done(r.t), 3);
    assert_int_equal(siam_optim_steps(r.opt), 12);
    siam_test_rig_close(&r);
    unlink(path);
}

/* With augmentation the run is still a function of the seed (the same
 * seed gives the same weights), differs from the plain run, and resumes bit
 * for bit (the augmentation counter is checkpointed). */
static void augmented_training_is_seeded_and_resumable(void **state)
{
    toyset *s = *state;
    char path[] = "/tmp/siam_aug_XXXXXX";
    temp_file(path);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 3;
    tc.batch_size = 8;
    tc.seed = 4;
    siam_augment_defaults(&tc.augment);
    tc.augment.enabled = 1;
    assert_non_null(siam_ops_cpu.augment_batch);
    siam_error err;
    rig a, b, plain, c;
    rig_open(&a, 0.0f, 1e-3, s->train, NULL, &tc);
    rig_open(&b, 0.0f, 1e-3, s->train, NULL, &tc);
    assert_int_equal(siam_test_fit(&a, NULL, &err), 0);
    assert_int_equal(siam_test_fit(&b, NULL, &err), 0);
    size_t n = siam_model_numel(a.m);
    float *pa = malloc(n * 4), *pb = malloc(n * 4);
    assert_int_equal(siam_model_download_params(a.m, pa, &err), 0);
    assert_int_equal(siam_model_download_params(b.m, pb, &err), 0);
    assert_memory_equal(pa, pb, n * 4);
    tc.augment.enabled = 0;
    rig_open(&plain, 0.0f, 1e-3, s->train, NULL, &tc);
    assert_int_equal(siam_test_fit(&plain, NULL, &err), 0);
    assert_int_equal(siam_model_download_params(plain.m, pb, &err), 0);
    assert_memory_not_equal(pa, pb, n * 4);

    tc.augment.enabled = 1;
    tc.epochs = 1;
    siam_test_rig_close(&b);
    rig_open(&b, 0.0f, 1e-3, s->train, NULL, &tc);
    assert_int_equal(siam_test_fit(&b, path, &err), 0);
    tc.epochs = 3;
    rig_open(&c, 0.0f, 1e-3, s->train, NULL, &tc);
    if (siam_test_resume(c.t, path, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(siam_test_fit(&c, NULL, &err), 0);
    assert_int_equal(siam_model_download_params(c.m, pb, &err), 0);
    assert_memory_equal(pa, pb, n * 4);
    free(pa);
    free(pb);
    siam_test_rig_close(&a);
    siam_test_rig_close(&b);
    siam_test_rig_close(&c);
    siam_test_rig_close(&plain);
    unlink(path);
}

typedef struct scripted {
    const double *scores;
    float *at_epoch1; /* params after epoch index 1 */
} scripted;

/* Records a scripted "score" metric and keeps the weights of epoch 1. */
static int score_hook(void *user, siam_trainer *t, const siam_train_event *ev, siam_error *err)
{
    scripted *sc = user;
    if (ev->kind != SIAM_EVENT_EPOCH_END)
        return 0;
    if (ev->epoch == 1 && siam_model_download_params(siam_trainer_model(t), sc->at_epoch1, err))
        return -1;
    return siam_trainer_record(t, "score", sc->scores[ev->epoch], err);
}

static void early_stopping_restores_the_best_weights(void **state)
{
    toyset *s = *state;
    const double scores[6] = { 1.0, 3.0, 2.0, 3.05, 2.5, 9.0 };
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 6;
    tc.batch_size = 8;
    tc.use_early_stop = 1;
    strcpy(tc.early_stop.metric, "score");
    tc.early_stop.mode_max = 1;
    tc.early_stop.patience = 3;
    tc.early_stop.min_delta = 0.1; /* 3.05 is not an improvement on 3.0 */
    tc.early_stop.restore_best = 1;
    rig r;
    rig_open(&r, 0.0f, 1e-3, s->train, NULL, &tc);
    size_t n = siam_model_numel(r.m);
    scripted sc = { scores, malloc(n * sizeof(float)) };
    siam_trainer_free(r.t);
    tc.hook = score_hook;
    tc.hook_user = &sc;
    siam_error err;
    r.t = siam_trainer_new(r.m, r.opt, s->train, NULL, &tc, &err);
    assert_non_null(r.t);
    assert_int_equal(siam_test_fit(&r, NULL, &err), 0);
    assert_int_equal(siam_trainer_stop_reason(r.t), SIAM_STOP_EARLY);
    assert_int_equal(siam_trainer_epochs_done(r.t), 5); /* epochs 2, 3, 4 without improvement */
    assert_int_equal(siam_trainer_early_stop(r.t)->best_epoch, 1);
    float *now = malloc(n * sizeof(float));
    assert_int_equal(siam_model_download_params(r.m, now, &err), 0);
    assert_memory_equal(now, sc.at_epoch1, n * sizeof(float));
    assert_int_equal(siam_optim_steps(r.opt), 20); /* training did go on past epoch 1 */
    free(now);
    free(sc.at_epoch1);
    siam_test_rig_close(&r);
}

/* Final parameters and BN statistics of a run. */
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

static void resume_is_bit_identical(void **state)
{
    toyset *s = *state;
    char path[] = "/tmp/siam_resume_XXXXXX";
    temp_file(path);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 4;
    tc.batch_size = 6; /* 32 pairs: a partial last batch of 2 */
    tc.seed = 9;
    tc.use_schedule = 1;
    tc.schedule = (siam_schedule){ .base_lr = 2e-3, .step_size = 1, .gamma = 0.7 };
    tc.use_early_stop = 1;
    strcpy(tc.early_stop.metric, "train_loss");
    tc.early_stop.mode_max = 0;
    tc.early_stop.patience = 10;
    tc.early_stop.restore_best = 1;
    siam_error err;

    rig a;
    rig_open(&a, 0.3f, 2e-3, s->train, s->val, &tc);
    assert_int_equal(siam_test_fit(&a, NULL, &err), 0);
    size_t n;
    float *want = snapshot(&a, &n);

    /* Two epochs with a checkpoint after each ... */
    tc.epochs = 2;
    rig b;
    rig_open(&b, 0.3f, 2e-3, s->train, s->val, &tc);
    if (siam_test_fit(&b, path, &err))
        fail_msg("%s", err.msg);
    siam_test_rig_close(&b);
    /* ... then a fresh process-equivalent: new objects, differently
     * initialised, everything taken from the file. */
    tc.epochs = 4;
    tc.seed = 12345;
    rig c;
    rig_open(&c, 0.3f, 2e-3, s->train, s->val, &tc);
    assert_int_equal(siam_model_init(c.m, SIAM_INIT_PAPER, 99, &err), 0);
    if (siam_test_resume(c.t, path, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(siam_trainer_epochs_done(c.t), 2);
    assert_int_equal(siam_test_fit(&c, NULL, &err), 0);
    float *got = snapshot(&c, &n);
    assert_memory_equal(got, want, n * sizeof *got);
    for (int e = 0; e < 4; e++) {
        const char *names[3] = { "train_loss", "val_loss", "val_acc" };
        for (int k = 0; k < 3; k++)
            assert_memory_equal(&siam_history_get(siam_trainer_history(c.t), names[k])[e],
                                &siam_history_get(siam_trainer_history(a.t), names[k])[e],
                                sizeof(double));
    }
    assert_int_equal(siam_optim_steps(c.opt), 24);
    assert_int_equal(siam_optim_steps(a.opt), 24);
    /* The loss fell every epoch, so the best (restored) weights are the
     * last epoch's: the comparison above is of trained, not restored-early,
     * weights. */
    assert_int_equal(siam_trainer_early_stop(a.t)->best_epoch, 3);
    free(want);
    free(got);
    siam_test_rig_close(&a);
    siam_test_rig_close(&c);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(overfits_32_pairs),
        cmocka_unit_test(flip_tta_is_the_mean_of_pair_and_mirror),
        cmocka_unit_test(batches_keep_or_drop_the_last),
        cmocka_unit_test(steplr_and_hook_set_the_lr),
        cmocka_unit_test(stop_flag_ends_training_at_a_batch),
        cmocka_unit_test(nan_loss_names_epoch_and_batch),
        cmocka_unit_test(nonfinite_gradient_stops_before_the_update),
        cmocka_unit_test(update_overflow_is_caught_after_the_step),
        cmocka_unit_test(update_overflow_of_an_epochs_last_step_is_caught),
        cmocka_unit_test(nonfinite_running_statistic_stops_training),
        cmocka_unit_test(early_stopping_inside_the_loop),
        cmocka_unit_test(early_stopping_restores_the_best_weights),
        cmocka_unit_test(resume_is_bit_identical),
        cmocka_unit_test(augmented_training_is_seeded_and_resumable),
    };
    return cmocka_run_group_tests_name("train_loop", tests, setup, teardown);
}
