/* Training-loop options beyond the seed's loop: the decision threshold
 * chosen on the validation set (threshold_from_val) and per-epoch pairs
 * from a pair sampler (cfg.sampler). Weight averaging has its own suite
 * (test_weight_avg.c). */
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
#include "host/pair_sampler.h"
#include "host/train.h"
#include "tests/support/toy_pairs.h"
#include "tests/support/train_rig.h"

enum { SIDE = SIAM_RIG_SIDE, PEOPLE = 8, PER = 4 };

typedef siam_test_rig rig;

/* The rig without dropout; r->t is NULL (err set) when the trainer fails. */
static void rig_open(rig *r, const siam_pairset *train, const siam_pairset *val,
                     const siam_train_config *tc, siam_error *err)
{
    siam_optim_config oc;
    siam_test_rig_adam(&oc, 2e-3);
    siam_test_rig_open(r, 0.0f, &oc, train, val, tc, err);
}

typedef struct toyset {
    siam_toy toy;
    siam_images *named; /* the toy pixels with person names, for the sampler */
    siam_pairset *train, *val;
} toyset;

static int setup(void **state)
{
    toyset *s = calloc(1, sizeof *s);
    if (siam_toy_images(&s->toy, PEOPLE, PER, SIDE, SIDE, 3))
        return -1;
    s->train = siam_toy_pairs(&s->toy, 32, 1);
    s->val = siam_toy_pairs(&s->toy, 12, 2);
    siam_error err;
    s->named = siam_images_new(PEOPLE * PER, SIDE, SIDE, "", &err);
    memcpy(s->named->pixels, s->toy.images.pixels, (size_t)PEOPLE * PER * SIDE * SIDE);
    const char *who[PEOPLE * PER], *files[PEOPLE * PER];
    char names[PEOPLE * PER][2][32];
    for (int i = 0; i < PEOPLE * PER; i++) {
        snprintf(names[i][0], 32, "P%d", i / PER);
        snprintf(names[i][1], 32, "P%d_%04d.png", i / PER, i % PER + 1);
        who[i] = names[i][0];
        files[i] = names[i][1];
    }
    if (siam_images_set_names(s->named, who, files, &err))
        return -1;
    *state = s;
    return 0;
}

static int teardown(void **state)
{
    toyset *s = *state;
    siam_toy_pairs_free(s->train);
    siam_toy_pairs_free(s->val);
    siam_images_release(s->named);
    siam_toy_free(&s->toy);
    free(s);
    return 0;
}

static void threshold_chosen_on_validation(void **state)
{
    toyset *s = *state;
    siam_error err;
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 2;
    tc.batch_size = 6;
    tc.seed = 4;
    rig a;
    rig_open(&a, s->train, s->val, &tc, &err);
    assert_non_null(a.t);
    assert_int_equal(siam_test_fit(&a, NULL, &err), 0);
    assert_null(siam_history_get(siam_trainer_history(a.t), "val_threshold"));
    assert_true(siam_trainer_threshold(a.t) == 0.5f);
    siam_test_rig_close(&a);

    tc.threshold_from_val = 1;
    rig b;
    rig_open(&b, s->train, s->val, &tc, &err);
    assert_non_null(b.t);
    assert_true(siam_trainer_threshold(b.t) == 0.5f); /* nothing recorded yet */
    assert_int_equal(siam_test_fit(&b, NULL, &err), 0);
    const double *thr = siam_history_get(siam_trainer_history(b.t), "val_threshold");
    const double *at = siam_history_get(siam_trainer_history(b.t), "val_acc_at_threshold");
    assert_non_null(thr);
    assert_non_null(at);
    /* The last epoch's weights are in the model: its validation
     * probabilities give the recorded threshold again. */
    float probs[12], labels[12], best;
    double acc_best, loss, acc;
    assert_int_equal(siam_trainer_evaluate(b.t, s->val, &loss, &acc, probs, &err), 0);
    for (int i = 0; i < 12; i++)
        labels[i] = s->val->pairs[i].label;
    assert_int_equal(siam_metrics_best_threshold_balanced(&best, &acc_best, probs, labels, 12,
                                                          &err), 0);
    printf("val threshold %.6f (accuracy %.4f there, %.4f at 0.5)\n", thr[1], at[1],
           siam_history_get(siam_trainer_history(b.t), "val_acc")[1]);
    assert_true((float)thr[1] == best);
    assert_true(at[1] == acc_best);
    assert_true(siam_trainer_threshold(b.t) == best);
    /* evaluate applies it: its accuracy is the best one */
    assert_true(acc == acc_best);
    assert_true(acc_best >= siam_history_get(siam_trainer_history(b.t), "val_acc")[1]);
    siam_test_rig_close(&b);
}

static int count_batches(void *user, siam_trainer *t, const siam_train_event *ev,
                         siam_error *err)
{
    (void)t, (void)err;
    int *n = user;
    if (ev->kind == SIAM_EVENT_BATCH_END) {
        n[0]++;
        n[1] += ev->batch_size;
    }
    return 0;
}

static void sampler_pairs_each_epoch(void **state)
{
    toyset *s = *state;
    siam_error err;
    siam_pairset *base = siam_pairset_new(s->named, s->train->count, "toy", &err);
    memcpy(base->pairs, s->train->pairs, s->train->count * sizeof *base->pairs);
    siam_pair_sampler_config sc;
    siam_pair_sampler_config_default(&sc);
    sc.extra_pairs = 10;
    sc.seed = 8;
    siam_pair_sampler *smp = siam_pair_sampler_new(base, NULL, &sc, &err);
    assert_non_null(smp);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 2;
    tc.batch_size = 6;
    tc.sampler = smp;
    int seen[2] = { 0, 0 };
    tc.hook = count_batches;
    tc.hook_user = seen;
    rig a;
    rig_open(&a, base, NULL, &tc, &err);
    if (!a.t)
        fail_msg("%s", err.msg);
    assert_int_equal(siam_test_fit(&a, NULL, &err), 0);
    /* 32 + 10 pairs an epoch in batches of 6: 7 steps, 42 pairs */
    assert_int_equal(seen[0], 14);
    assert_int_equal(seen[1], 84);
    assert_int_equal(siam_optim_steps(a.opt), 14);
    siam_test_rig_close(&a);
    /* The sampler must draw from the training set's bank. */
    rig b;
    rig_open(&b, s->train, NULL, &tc, &err);
    assert_null(b.t);
    assert_string_equal(err.msg, "trainer: the pair sampler draws from another image bank "
                                 "than the training set's");
    siam_test_rig_close(&b);
    siam_pair_sampler_free(smp);
    siam_pairset_free(base);
}

/* Validation images prepared with another crop than the training images
 * would score the model on inputs it never saw: the trainer refuses. */
static void validation_crop_must_match(void **state)
{
    toyset *s = *state;
    siam_error err;
    siam_pairset *val = siam_pairset_new(s->named, s->val->count, "cropped", &err);
    assert_non_null(val);
    memcpy(val->pairs, s->val->pairs, s->val->count * sizeof *val->pairs);
    s->named->crop = 30;
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.batch_size = 6;
    rig r;
    rig_open(&r, s->train, val, &tc, &err);
    assert_null(r.t);
    assert_string_equal(err.msg, "trainer: training images are cropped to 0, validation images "
                                 "to 30 (0: whole image)");
    siam_test_rig_close(&r);
    s->named->crop = 0;
    rig_open(&r, s->train, val, &tc, &err);
    assert_non_null(r.t);
    siam_test_rig_close(&r);
    siam_pairset_free(val);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threshold_chosen_on_validation),
        cmocka_unit_test(sampler_pairs_each_epoch),
        cmocka_unit_test(validation_crop_must_match),
    };
    return cmocka_run_group_tests_name("train_options", tests, setup, teardown);
}
