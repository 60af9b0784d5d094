/* Verification metrics (host/metrics.c) against values computed by hand
 * (the working is in the comments). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "host/metrics.h"

/* Eight scores with ties across the classes. Matches: 0.9 0.8 0.6 0.4;
 * non-matches: 0.8 0.4 0.3 0.1. */
static const float P8[8] = { 0.9f, 0.8f, 0.8f, 0.6f, 0.4f, 0.4f, 0.3f, 0.1f };
static const float Y8[8] = { 1, 1, 0, 1, 0, 1, 0, 0 };

static void accuracy_and_confusion(void **state)
{
    (void)state;
    siam_confusion c;
    /* >= 0.5: predicted matches 0.9 0.8 0.8 0.6 -> TP 3, FP 1; the rest
     * 0.4(0) 0.4(1) 0.3(0) 0.1(0) -> TN 3, FN 1. */
    siam_metrics_confusion(&c, P8, Y8, 8, 0.5f);
    assert_int_equal(c.tp, 3);
    assert_int_equal(c.fp, 1);
    assert_int_equal(c.tn, 3);
    assert_int_equal(c.fn, 1);
    assert_float_equal(siam_metrics_accuracy(P8, Y8, 8, 0.5f), 0.75, 0);
    /* A score equal to the threshold counts as a match. */
    siam_metrics_confusion(&c, P8, Y8, 8, 0.4f);
    assert_int_equal(c.tp, 4);
    assert_int_equal(c.fp, 2);
    assert_int_equal(c.tn, 2);
    assert_int_equal(c.fn, 0);
    assert_float_equal(siam_metrics_accuracy(P8, Y8, 0, 0.5f), 0.0, 0);
}

static void auc_counts_ties_as_half(void **state)
{
    (void)state;
    siam_error err;
    double auc;
    /* Per match, wins over non-matches (ties 1/2): 0.9 -> 4; 0.8 -> 3.5;
     * 0.6 -> 3; 0.4 -> 2.5. 13 / 16. */
    assert_int_equal(siam_metrics_auc(&auc, P8, Y8, 8, &err), 0);
    assert_float_equal(auc, 13.0 / 16.0, 1e-15);
    /* Match 0.9 beats 3; match 0.5 ties two 0.5s and beats 0.1: 2. 5/6. */
    const float p[5] = { 0.5f, 0.9f, 0.5f, 0.1f, 0.5f };
    const float y[5] = { 1, 1, 0, 0, 0 };
    assert_int_equal(siam_metrics_auc(&auc, p, y, 5, &err), 0);
    assert_float_equal(auc, 5.0 / 6.0, 1e-15);
    const float same[3] = { 0.3f, 0.3f, 0.3f }, y3[3] = { 1, 0, 1 };
    assert_int_equal(siam_metrics_auc(&auc, same, y3, 3, &err), 0);
    assert_float_equal(auc, 0.5, 0);
    assert_int_equal(siam_metrics_auc(&auc, same, (const float[3]){ 1, 1, 1 }, 3, &err), -1);
    assert_string_equal(err.msg, "auc: needs both classes (3 matches, 0 non-matches)");
}

static void eer_interpolates_the_crossing(void **state)
{
    (void)state;
    siam_error err;
    double eer;
    float t;
    /* Sweep: 0.9 -> FPR 0, FNR 3/4; 0.8 -> 1/4, 1/2; 0.6 -> 1/4, 1/4:
     * equal at a ROC point, EER 1/4 at threshold 0.6. */
    assert_int_equal(siam_metrics_eer(&eer, &t, P8, Y8, 8, &err), 0);
    assert_float_equal(eer, 0.25, 1e-15);
    assert_float_equal(t, 0.6f, 0);
    /* 0.9 -> FPR 0, FNR 1/2 (d = 1/2); the 0.5 group -> FPR 2/3, FNR 0
     * (d = -2/3). a = (1/2) / (7/6) = 3/7; EER = 3/7 * 2/3 = 2/7. */
    const float p[5] = { 0.5f, 0.9f, 0.5f, 0.1f, 0.5f };
    const float y[5] = { 1, 1, 0, 0, 0 };
    assert_int_equal(siam_metrics_eer(&eer, &t, p, y, 5, &err), 0);
    assert_float_equal(eer, 2.0 / 7.0, 1e-15);
    assert_float_equal(t, 0.5f, 0);
    /* Perfect separation: 0 at the lowest match score. */
    const float q[4] = { 0.9f, 0.8f, 0.2f, 0.1f }, z[4] = { 1, 1, 0, 0 };
    assert_int_equal(siam_metrics_eer(&eer, NULL, q, z, 4, &err), 0);
    assert_float_equal(eer, 0.0, 0);
    /* Perfectly wrong: 1. */
    const float r[4] = { 0.1f, 0.2f, 0.8f, 0.9f };
    assert_int_equal(siam_metrics_eer(&eer, NULL, r, z, 4, &err), 0);
    assert_float_equal(eer, 1.0, 1e-15);
    assert_int_equal(siam_metrics_eer(&eer, NULL, q, z, 0, &err), -1);
    assert_string_equal(err.msg, "eer: needs both classes (0 matches, 0 non-matches)");
}

static void best_threshold_maximises_accuracy(void **state)
{
    (void)state;
    siam_error err;
    float t;
    double acc;
    /* Correct counts: above all 4; >= 0.9: 5; 0.8: 5; 0.6: 6; 0.4: 6;
     * 0.3: 5; 0.1: 4. The first (highest) maximum is 0.6. */
    assert_int_equal(siam_metrics_best_threshold(&t, &acc, P8, Y8, 8, &err), 0);
    assert_float_equal(t, 0.6f, 0);
    assert_float_equal(acc, 0.75, 0);
    assert_float_equal(siam_metrics_accuracy(P8, Y8, 8, t), acc, 0);
    /* All non-matches: the best is to accept nothing, a threshold just
     * above the highest score. */
    const float p[2] = { 0.3f, 0.7f }, y[2] = { 0, 0 };
    assert_int_equal(siam_metrics_best_threshold(&t, &acc, p, y, 2, &err), 0);
    assert_true(t > 0.7f && t == nextafterf(0.7f, 1.0f));
    assert_float_equal(acc, 1.0, 0);
    assert_int_equal(siam_metrics_best_threshold(&t, &acc, p, y, 0, &err), -1);
    assert_string_equal(err.msg, "best threshold: no scores");
}

static void balanced_threshold_ignores_the_class_ratio(void **state)
{
    (void)state;
    siam_error err;
    float t;
    double v;
    /* 6 matches, 2 non-matches. Accepting everything is right 6/8 = 0.75
     * of the time (the accuracy maximum), but its balanced accuracy is
     * (1 + 0) / 2. Balanced accuracy per threshold: above all 0.5; 0.9
     * 7/12; 0.8 (2/6 + 2/2) / 2 = 2/3 (the maximum); 0.7 5/12; 0.6 1/2;
     * 0.5 7/12; 0.4 1/3; 0.3 5/12; 0.2 1/2. */
    const float p[8] = { 0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f, 0.3f, 0.2f };
    const float y[8] = { 1, 1, 0, 1, 1, 0, 1, 1 };
    assert_int_equal(siam_metrics_best_threshold(&t, &v, p, y, 8, &err), 0);
    assert_float_equal(t, 0.2f, 0);
    assert_float_equal(v, 0.75, 0);
    assert_int_equal(siam_metrics_best_threshold_balanced(&t, &v, p, y, 8, &err), 0);
    assert_float_equal(t, 0.8f, 0);
    assert_float_equal(v, 2.0 / 3.0, 1e-15);
    assert_float_equal(siam_metrics_balanced_accuracy(p, y, 8, 0.8f), 2.0 / 3.0, 1e-15);
    assert_float_equal(siam_metrics_balanced_accuracy(p, y, 8, 0.5f), 7.0 / 12.0, 1e-15);
    /* Equal classes: the same threshold as plain accuracy, and the same value. */
    assert_int_equal(siam_metrics_best_threshold_balanced(&t, &v, P8, Y8, 8, &err), 0);
    assert_float_equal(t, 0.6f, 0);
    assert_float_equal(v, 0.75, 0);
    /* One class: plain accuracy. */
    const float q[2] = { 0.3f, 0.7f }, z[2] = { 0, 0 };
    assert_int_equal(siam_metrics_best_threshold_balanced(&t, &v, q, z, 2, &err), 0);
    assert_true(t == nextafterf(0.7f, 1.0f));
    assert_float_equal(v, 1.0, 0);
    assert_float_equal(siam_metrics_balanced_accuracy(q, z, 2, 0.5f), 0.5, 0);
    assert_int_equal(siam_metrics_best_threshold_balanced(&t, &v, q, z, 0, &err), -1);
    assert_string_equal(err.msg, "best threshold: no scores");
}

static void bce_matches_the_formula(void **state)
{
    (void)state;
    const float p[4] = { 0.8f, 0.25f, 0.0f, 1.0f }, y[4] = { 1, 0, 0, 1 };
    /* -ln 0.8 and -ln 0.75 in double from the float inputs. */
    double want = (-log((double)0.8f) - log1p(-(double)0.25f)) / 2.0;
    assert_float_equal(siam_metrics_bce(p, y, 2), want, 1e-15);
    assert_float_equal(siam_metrics_bce(p + 2, y + 2, 2), 0.0, 0);
    const float one = 1.0f, zero = 0.0f;
    assert_float_equal(siam_metrics_bce(&one, &zero, 1), 100.0, 0); /* log clamped at -100 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(accuracy_and_confusion),
        cmocka_unit_test(auc_counts_ties_as_half),
        cmocka_unit_test(eer_interpolates_the_crossing),
        cmocka_unit_test(best_threshold_maximises_accuracy),
        cmocka_unit_test(balanced_threshold_ignores_the_class_ratio),
        cmocka_unit_test(bce_matches_the_formula),
    };
    return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
