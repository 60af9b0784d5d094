/* host/schedule.c's ReduceLROnPlateau against PyTorch's: the lr, best,
 * bad-epoch count and cooldown counter after every step of fixed metric
 * sequences (tests/fixtures/plateau.h, from scripts/make_plateau_fixture.py),
 * and the settings' defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "host/schedule.h"
#include "tests/fixtures/plateau.h"

/* The same double operations as Python's, in the same order: exact. */
static void every_case_matches_torch(void **state)
{
    (void)state;
    int reductions = 0;
    for (size_t c = 0; c < sizeof plateau_cases / sizeof plateau_cases[0]; c++) {
        const plateau_case *pc = &plateau_cases[c];
        siam_plateau_config cfg;
        siam_plateau_config_default(&cfg);
        cfg.mode_max = pc->mode_max;
        cfg.patience = pc->patience;
        cfg.threshold_abs = pc->threshold_abs;
        cfg.cooldown = pc->cooldown;
        cfg.factor = pc->factor;
        cfg.threshold = pc->threshold;
        cfg.min_lr = pc->min_lr;
        cfg.eps = pc->eps;
        siam_plateau p;
        siam_plateau_init(&p, &cfg);
        double lr = pc->base_lr;
        for (int e = 0; e < pc->n; e++) {
            double was = lr;
            lr = siam_plateau_step(&p, &cfg, pc->metrics[e], lr);
            const plateau_row *w = &pc->rows[e];
            if (lr != w->lr || p.best != w->best || p.num_bad_epochs != w->bad ||
                p.cooldown_counter != w->cooldown)
                fail_msg("%s, step %d: lr %.17g best %.17g bad %d cooldown %d; torch %.17g "
                         "%.17g %d %d", pc->name, e + 1, lr, p.best, p.num_bad_epochs,
                         p.cooldown_counter, w->lr, w->best, w->bad, w->cooldown);
            reductions += lr != was;
        }
    }
    /* The cases reduce often enough to test something. */
    assert_true(reductions >= 20);
}

/* The fixture's edge cases do what their names say. */
static void floors_and_eps_hold(void **state)
{
    (void)state;
    const plateau_case *floor = NULL, *eps = NULL;
    for (size_t c = 0; c < sizeof plateau_cases / sizeof plateau_cases[0]; c++) {
        if (strcmp(plateau_cases[c].name, "min_lr_floor") == 0)
            floor = &plateau_cases[c];
        if (strcmp(plateau_cases[c].name, "eps_blocks") == 0)
            eps = &plateau_cases[c];
    }
    assert_non_null(floor);
    assert_non_null(eps);
    assert_true(floor->rows[floor->n - 1].lr == 0.02);
    /* 1e-7 halved changes by 5e-8 < eps 1e-7: never applied */
    for (int e = 0; e < eps->n; e++)
        assert_true(eps->rows[e].lr == 1e-7);
}

static void defaults_are_torch_defaults(void **state)
{
    (void)state;
    siam_plateau_config c;
    siam_plateau_config_default(&c);
    assert_string_equal(c.metric, "val_loss");
    assert_int_equal(c.mode_max, 0);
    assert_true(c.factor == 0.1 && c.patience == 10 && c.threshold == 1e-4);
    assert_int_equal(c.threshold_abs, 0);
    assert_int_equal(c.cooldown, 0);
    assert_true(c.min_lr == 0.0 && c.eps == 1e-8);
    siam_plateau p;
    siam_plateau_init(&p, &c);
    assert_true(isinf(p.best) && p.best > 0);
    c.mode_max = 1;
    siam_plateau_init(&p, &c);
    assert_true(isinf(p.best) && p.best < 0);
    /* A NaN first epoch is a bad one: best stays at its start. */
    assert_true(siam_plateau_step(&p, &c, NAN, 0.5) == 0.5);
    assert_int_equal(p.num_bad_epochs, 1);
    assert_true(isinf(p.best));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_case_matches_torch),
        cmocka_unit_test(floors_and_eps_hold),
        cmocka_unit_test(defaults_are_torch_defaults),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
