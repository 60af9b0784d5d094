/* The early-stopping rule (host/early_stop.c) over scripted metric
 * sequences: improve, plateau, min_delta, min mode, NaN, patience 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "host/early_stop.h"

/* Feeds `values` and returns the epoch after which it stopped (-1: never);
 * improved[e] receives the update's verdict. */
static int feed(siam_early_stop *es, const double *values, int n, int *improved)
{
    for (int e = 0; e < n; e++) {
        improved[e] = siam_early_stop_update(es, e, values[e]);
        if (es->stopped)
            return e;
    }
    return -1;
}

static siam_early_stop make(const char *metric, int mode_max, int patience, double min_delta)
{
    siam_early_stop_config c;
    memset(&c, 0, sizeof c);
    strcpy(c.metric, metric);
    c.mode_max = mode_max;
    c.patience = patience;
    c.min_delta = min_delta;
    siam_early_stop es;
    siam_error err;
    assert_int_equal(siam_early_stop_init(&es, &c, &err), 0);
    return es;
}

static void improvement_resets_the_counter(void **state)
{
    (void)state;
    siam_early_stop es = make("val_acc", 1, 2, 0.0);
    const double v[] = { 0.5, 0.6, 0.6, 0.7, 0.65, 0.69, 0.71, 0.70, 0.70, 0.99 };
    int imp[10];
    /* 0.6 == best is no improvement; 0.7 resets; 0.65, 0.69 make two bad
     * epochs -> stop after epoch 5. */
    assert_int_equal(feed(&es, v, 10, imp), 5);
    const int want[6] = { 1, 1, 0, 1, 0, 0 };
    for (int e = 0; e < 6; e++)
        assert_int_equal(imp[e], want[e]);
    assert_int_equal(es.best_epoch, 3);
    assert_float_equal(es.best, 0.7, 0);
    assert_int_equal(es.wait, 2);
}

static void plateau_stops_after_patience(void **state)
{
    (void)state;
    siam_early_stop es = make("val_acc", 1, 3, 0.0);
    const double v[] = { 0.8, 0.8, 0.8, 0.8, 0.8 };
    int imp[5];
    assert_int_equal(feed(&es, v, 5, imp), 3); /* epochs 1, 2, 3 without improvement */
    assert_int_equal(es.best_epoch, 0);
}

static void min_delta_must_be_exceeded(void **state)
{
    (void)state;
    siam_early_stop es = make("val_acc", 1, 2, 0.05);
    /* 0.54 is within 0.05 of 0.5, 0.56 beats it by more; then 0.60 and
     * 0.605 are within 0.05 of 0.56. */
    const double v[] = { 0.5, 0.54, 0.56, 0.60, 0.605 };
    int imp[5];
    assert_int_equal(feed(&es, v, 5, imp), 4);
    const int want[5] = { 1, 0, 1, 0, 0 };
    for (int e = 0; e < 5; e++)
        assert_int_equal(imp[e], want[e]);
    assert_float_equal(es.best, 0.56, 0);
}

static void min_mode_for_losses(void **state)
{
    (void)state;
    siam_early_stop es = make("val_loss", 0, 1, 0.01);
    const double v[] = { 0.9, 0.7, 0.695, 0.5, 0.6 };
    int imp[5];
    /* 0.695 is not 0.01 below 0.7: patience 1 stops right there. */
    assert_int_equal(feed(&es, v, 5, imp), 2);
    assert_int_equal(es.best_epoch, 1);
    assert_float_equal(es.best, 0.7, 0);
}

static void nan_never_improves_and_patience_zero(void **state)
{
    (void)state;
    siam_early_stop es = make("val_loss", 0, 0, 0.0);
    const double v[] = { NAN, 1.0 };
    int imp[3];
    assert_int_equal(feed(&es, v, 2, imp), 0); /* a NaN first epoch is a bad epoch */
    assert_int_equal(es.best_epoch, -1);
    es = make("val_loss", 0, 0, 0.0);
    const double w[] = { 1.0, 0.5, 0.5 };
    assert_int_equal(feed(&es, w, 3, imp), 2);
}

static void bad_settings_are_refused(void **state)
{
    (void)state;
    siam_early_stop_config c;
    memset(&c, 0, sizeof c);
    siam_early_stop es;
    siam_error err;
    c.patience = -1;
    assert_int_equal(siam_early_stop_init(&es, &c, &err), -1);
    assert_string_equal(err.msg, "early stopping: patience -1 must be >= 0");
    c.patience = 1;
    c.min_delta = -0.5;
    assert_int_equal(siam_early_stop_init(&es, &c, &err), -1);
    assert_string_equal(err.msg, "early stopping: min_delta -0.5 must be >= 0");
    c.min_delta = 0;
    assert_int_equal(siam_early_stop_init(&es, &c, &err), 0);
    assert_string_equal(es.cfg.metric, "val_acc"); /* the default metric */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(improvement_resets_the_counter),
        cmocka_unit_test(plateau_stops_after_patience),
        cmocka_unit_test(min_delta_must_be_exceeded),
        cmocka_unit_test(min_mode_for_losses),
        cmocka_unit_test(nan_never_improves_and_patience_zero),
        cmocka_unit_test(bad_settings_are_refused),
    };
    return cmocka_run_group_tests_name("early_stop", tests, NULL, NULL);
}
