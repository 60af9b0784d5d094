/* Training on identities through the trainer (host/train.h, objective):
 * on a tiny synthetic bank of named people, the triplet loss alone falls
 * and is what the history records; pair+triplet records both parts, sums
 * them and resumes from a checkpoint to the very weights and history of an
 * uninterrupted run; bad configurations are refused by name. The default
 * objective's results are pinned by the other training tests. */
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

#include "host/identity_sampler.h"
#include "host/metrics.h"
#include "host/predict.h"
#include "host/train.h"
#include "tests/support/toy_pairs.h"
#include "tests/support/train_rig.h"

enum { PEOPLE = 10, PER = 6, TRAIN_PEOPLE = 8 };

typedef struct bank {
    siam_images *im;
    siam_pairset *train, *val;
} bank;

/* The toy prototypes (tests/support/toy_pairs.h) in a bank whose images
 * are named by person, as the identity sampler needs; training pairs among
 * people 0..7, validation pairs among 8 and 9. */
static void bank_open(bank *b)
{
    siam_toy toy;
    assert_int_equal(siam_toy_images(&toy, PEOPLE, PER, SIAM_RIG_SIDE, SIAM_RIG_SIDE, 4), 0);
    siam_error err;
    int n = PEOPLE * PER;
    b->im = siam_images_new(n, SIAM_RIG_SIDE, SIAM_RIG_SIDE, "/nowhere", &err);
    assert_non_null(b->im);
    memcpy(b->im->pixels, toy.images.pixels, (size_t)n * SIAM_RIG_SIDE * SIAM_RIG_SIDE);
    siam_toy_free(&toy);
    const char *who[PEOPLE * PER], *files[PEOPLE * PER];
    char names[PEOPLE * PER][2][32];
    for (int i = 0; i < n; i++) {
        snprintf(names[i][0], 32, "P%d", i / PER);
        snprintf(names[i][1], 32, "P%d_%04d.jpg", i / PER, i % PER + 1);
        who[i] = names[i][0];
        files[i] = names[i][1];
    }
    assert_int_equal(siam_images_set_names(b->im, who, files, &err), 0);
    b->train = siam_pairset_new(b->im, 32, "toy train", &err);
    b->val = siam_pairset_new(b->im, 12, "toy val", &err);
    assert_non_null(b->train);
    assert_non_null(b->val);
    for (int i = 0; i < 32; i++) {
        int p = i % TRAIN_PEOPLE, q = (p + 1 + i / 8) % TRAIN_PEOPLE, match = i % 2 == 0;
        b->train->pairs[i] = (siam_pair){ p * PER + i % PER, (match ? p : q) * PER + (i + 1) % PER,
                                          match ? 1.0f : 0.0f, 0 };
    }
    for (int i = 0; i < 12; i++) {
        int p = TRAIN_PEOPLE + i % 2, match = i % 3 != 0;
        int q = match ? p : TRAIN_PEOPLE + (i + 1) % 2;
        b->val->pairs[i] = (siam_pair){ p * PER + i % PER, q * PER + (i + 2) % PER,
                                        match ? 1.0f : 0.0f, 0 };
    }
}

static void bank_close(bank *b)
{
    siam_pairset_free(b->train);
    siam_pairset_free(b->val);
    siam_images_release(b->im);
}

static siam_identity_sampler *identities(bank *b, int p, int k, int batches, uint64_t seed)
{
    siam_identity_sampler_config c;
    siam_identity_sampler_config_default(&c);
    c.p = p;
    c.k = k;
    c.batches = batches;
    c.seed = seed;
    siam_error err;
    siam_identity_sampler *s = siam_identity_sampler_new(b->train, b->val, &c, &err);
    if (!s)
        fail_msg("%s", err.msg);
    return s;
}

static float *snapshot(siam_test_rig *r, size_t *n)
{
    size_t np = siam_model_numel(r->m), nb = siam_model_buffer_numel(r->m);
    float *v = malloc((np + nb) * sizeof *v);
    siam_error err;
    assert_int_equal(siam_model_download_params(r->m, v, &err), 0);
    assert_int_equal(siam_ops_cpu.download(r->ctx, v + np, siam_model_buffers(r->m),
                                           nb * sizeof *v), 0);
    *n = np + nb;
    return v;
}

static void open_rig(siam_test_rig *r, bank *b, const siam_train_config *tc, double lr)
{
    siam_optim_config oc;
    siam_test_rig_adam(&oc, lr);
    siam_error err;
    memset(r, 0, sizeof *r);
    if (!siam_test_rig_open(r, 0.0f, &oc, b->train, b->val, tc, &err))
        fail_msg("%s", err.msg);
}

static void triplet_alone_trains(void **state)
{
    (void)state;
    bank b;
    bank_open(&b);
    siam_identity_sampler *ids = identities(&b, 4, 3, 6, 5);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 8;
    tc.batch_size = 4;
    tc.seed = 3;
    tc.objective = SIAM_OBJECTIVE_TRIPLET;
    tc.identity = ids;
    tc.triplet_margin = 0.3f;
    siam_test_rig r;
    open_rig(&r, &b, &tc, 1e-2);
    siam_error err;
    if (siam_test_fit(&r, NULL, &err))
        fail_msg("%s", err.msg);
    const siam_history *h = siam_trainer_history(r.t);
    const double *tl = siam_history_get(h, "train_triplet_loss");
    const double *loss = siam_history_get(h, "train_loss");
    const double *pl = siam_history_get(h, "train_pair_loss");
    const double *acc = siam_history_get(h, "train_acc");
    const double *va = siam_history_get(h, "val_acc");
    assert_non_null(tl);
    for (int e = 0; e < 8; e++) {
        printf("epoch %d: triplet loss %.5f, val_acc %.3f\n", e + 1, tl[e], va[e]);
        assert_true(loss[e] == tl[e]); /* weight 1, no pair part */
        assert_true(isnan(pl[e]) && isnan(acc[e]));
        assert_true(tl[e] > 0.0 && tl[e] < 2.3);
    }
    /* The cosine verification of the last epoch is the model's now: the
     * same scores from siam_model_cosine, the same threshold and balanced
     * accuracy from the metrics. */
    const double *cacc = siam_history_get(h, "val_cos_acc");
    const double *cthr = siam_history_get(h, "val_cos_threshold");
    assert_non_null(cacc);
    float scores[12], labels[12], thr;
    double best;
    for (int i = 0; i < 12; i++)
        labels[i] = b.val->pairs[i].label;
    if (siam_model_cosine(r.m, b.val, NULL, tc.mean, tc.std, scores, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(siam_metrics_best_threshold_balanced(&thr, &best, scores, labels, 12, &err),
                     0);
    printf("val_cos_acc %.4f at %.4f (the head's val_acc %.4f)\n", cacc[7], cthr[7], va[7]);
    assert_true(cacc[7] == best && cthr[7] == thr);
    assert_true(best >= siam_metrics_balanced_accuracy(scores, labels, 12, -1.0f));
    /* falls by half in eight epochs of six steps (0.281 to 0.028 when written); the
     * head is untrained here, so val_acc (the head's) stays near chance */
    assert_true(tl[7] < 0.5 * tl[0]);
    siam_test_rig_close(&r);
    siam_identity_sampler_free(ids);
    bank_close(&b);
}

static void pair_plus_triplet_resumes_bit_identically(void **state)
{
    (void)state;
    bank b;
    bank_open(&b);
    /* 32 pairs in batches of 4: 8 steps, so at least 8 identity batches */
    siam_identity_sampler *ids = identities(&b, 3, 3, 8, 6);
    char path[] = "/tmp/siam_triplet_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    siam_train_config tc;
    siam_train_config_default(&tc);
    tc.epochs = 4;
    tc.batch_size = 4;
    tc.seed = 8;
    tc.augment.enabled = 1; /* the identity images draw from the same counter */
    tc.objective = SIAM_OBJECTIVE_PAIR_TRIPLET;
    tc.identity = ids;
    tc.triplet_weight = 0.5f;
    siam_error err;
    siam_test_rig a, bb, c;
    open_rig(&a, &b, &tc, 1e-3);
    if (siam_test_fit(&a, NULL, &err))
        fail_msg("%s", err.msg);
    size_t n;
    float *want = snapshot(&a, &n);
    const siam_history *ha = siam_trainer_history(a.t);
    const double *loss = siam_history_get(ha, "train_loss");
    const double *pl = siam_history_get(ha, "train_pair_loss");
    const double *tl = siam_history_get(ha, "train_triplet_loss");
    for (int e = 0; e < 4; e++) {
        printf("epoch %d: loss %.6f = pair %.6f + 0.5 x triplet %.6f\n", e + 1, loss[e], pl[e],
               tl[e]);
        assert_true(fabs(loss[e] - (pl[e] + 0.5 * tl[e])) < 1e-6);
        assert_true(pl[e] > 0.0 && tl[e] > 0.0);
    }
    tc.epochs = 2;
    open_rig(&bb, &b, &tc, 1e-3);
    if (siam_test_fit(&bb, path, &err))
        fail_msg("%s", err.msg);
    siam_test_rig_close(&bb);
    tc.epochs = 4;
    open_rig(&c, &b, &tc, 1e-3);
    if (siam_test_resume(c.t, path, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(siam_trainer_epochs_done(c.t), 2);
    if (siam_test_fit(&c, NULL, &err))
        fail_msg("%s", err.msg);
    float *got = snapshot(&c, &n);
    assert_memory_equal(got, want, n * sizeof *got);
    const char *cols[] = { "train_loss", "train_pair_loss", "train_triplet_loss", "val_loss" };
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++)
        assert_memory_equal(siam_history_get(siam_trainer_history(c.t), cols[k]),
                            siam_history_get(ha, cols[k]), 4 * sizeof(double));
    free(want), free(got);
    unlink(path);
    siam_test_rig_close(&a);
    siam_test_rig_close(&c);
    siam_identity_sampler_free(ids);
    bank_close(&b);
}

static void bad_objectives_are_refused(void **state)
{
    (void)state;
    bank b;
    bank_open(&b);
    siam_train_config tc;
    siam_error err;
    siam_objective o;
    assert_int_equal(siam_objective_parse("pair+triplet", &o, &err), 0);
    assert_int_equal(o, SIAM_OBJECTIVE_PAIR_TRIPLET);
    assert_int_equal(siam_objective_parse("triplets", &o, &err), -1);
    assert_string_equal(err.msg, "unknown objective 'triplets' (pair, triplet, pair+triplet)");
    siam_identity_sampler *big = identities(&b, 5, 4, 8, 0), *few = identities(&b, 2, 2, 3, 0);
    struct {
        siam_objective objective;
        const siam_identity_sampler *ids;
        float margin;
        const char *msg;
    } bad[] = {
        { SIAM_OBJECTIVE_TRIPLET, NULL, 0.2f, "trainer: objective 'triplet' needs an identity "
                                              "sampler" },
        { SIAM_OBJECTIVE_TRIPLET, big, 0.2f, "trainer: p x k = 20 images per batch, more than "
                                             "the model's 16 (twice its max batch)" },
        { SIAM_OBJECTIVE_TRIPLET, few, 2.5f, "trainer: triplet margin 2.5 outside [0, 2]" },
        { SIAM_OBJECTIVE_PAIR_TRIPLET, few, 0.2f, "trainer: the identity sampler gives 3 batches "
                                                  "an epoch, fewer than the 8 pair batches" },
    };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        siam_train_config_default(&tc);
        tc.batch_size = 4;
        tc.objective = bad[k].objective;
        tc.identity = bad[k].ids;
        tc.triplet_margin = bad[k].margin;
        siam_optim_config oc;
        siam_test_rig_adam(&oc, 1e-3);
        siam_test_rig r;
        memset(&r, 0, sizeof r);
        assert_null(siam_test_rig_open(&r, 0.0f, &oc, b.train, b.val, &tc, &err));
        assert_string_equal(err.msg, bad[k].msg);
        siam_test_rig_close(&r);
    }
    siam_identity_sampler_free(big);
    siam_identity_sampler_free(few);
    bank_close(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(triplet_alone_trains),
        cmocka_unit_test(pair_plus_triplet_resumes_bit_identically),
        cmocka_unit_test(bad_objectives_are_refused),
    };
    return cmocka_run_group_tests_name("train_triplet", tests, NULL, NULL);
}
