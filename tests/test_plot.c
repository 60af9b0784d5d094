/* plot: data files hold the numbers given, scripts are the templates with
 * their variables, PNGs are real PNGs of the template's size; a missing
 * gnuplot is reported once and leaves data and scripts; gnuplot errors come
 * back with gnuplot's message. Needs gnuplot for the PNG checks (skips them,
 * saying so, without it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/plot.h"
#include "tests/support/tmpdir.h"

static char *slurp(const char *dir, const char *file, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long sz = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)sz + 1);
    *n = fread(buf, 1, (size_t)sz, fp);
    buf[*n] = '\0';
    fclose(fp);
    return buf;
}

static int exists(const char *dir, const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    return access(path, F_OK) == 0;
}

static void assert_file(const char *dir, const char *file, const char *want)
{
    size_t n;
    char *got = slurp(dir, file, &n);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

/* A PNG: the 8-byte signature, then IHDR with big-endian width and height. */
static void assert_png(const char *dir, const char *file, unsigned w, unsigned h)
{
    size_t n;
    unsigned char *png = (unsigned char *)slurp(dir, file, &n);
    assert_non_null(png);
    assert_true(n > 2000); /* axes, text and curves, not an empty canvas */
    assert_memory_equal(png, "\x89PNG\r\n\x1a\n", 8);
    assert_memory_equal(png + 12, "IHDR", 4);
    unsigned gw = (unsigned)png[16] << 24 | png[17] << 16 | png[18] << 8 | png[19];
    unsigned gh = (unsigned)png[20] << 24 | png[21] << 16 | png[22] << 8 | png[23];
    assert_int_equal(gw, w);
    assert_int_equal(gh, h);
    free(png);
}

static void data_files_hold_the_numbers(void **state)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/run/plots", (char *)*state);
    siam_error e;
    siam_plotter *p = siam_plotter_new("scripts/plots", &e);
    assert_non_null(p);
    int want_rc = siam_plotter_has_gnuplot(p) ? 0 : SIAM_PLOT_SKIPPED;

    siam_plot_epoch rows[3] = {
        {1, 0.69, 0.70, 0.5, 0.52},
        {2, 0.5, 0.55, 0.75, NAN},
        {3, 0.25, 0.4, 0.875, 0.8125},
    };
    assert_int_equal(siam_plot_training(p, dir, "training", "run x_1", rows, 3,
                                        &(siam_plot_training_marks){NULL, 2}, &e), want_rc);
    assert_file(dir, "training.dat", "# epoch train_loss val_loss train_acc val_acc\n"
                                     "1 0.69 0.7 0.5 0.52\n2 0.5 0.55 0.75 NaN\n"
                                     "3 0.25 0.4 0.875 0.8125\n");
    size_t n;
    char *gp = slurp(dir, "training.gp", &n);
    assert_non_null(strstr(gp, "datafile = 'training.dat'\n"
                               "if (!exists(\"outfile\")) outfile = 'training.png'\n"
                               "plottitle = 'run x_1'\n"));
    assert_non_null(strstr(gp, "set multiplot layout 1,2 title plottitle\n"));
    /* the loss named, integer epoch ticks over the epochs run, the best marked */
    assert_non_null(strstr(gp, "plottitle = 'run x_1'\nlosslabel = 'binary cross-entropy loss'\n"
                               "xlo = 1\nxhi = 3\nxstep = 1\nbest = 2\n"));
    free(gp);
    /* One epoch: a range around it. 95 epochs: ticks every 10. A best epoch
     * that is not a row's, or none: NaN (no mark). */
    assert_int_equal(siam_plot_training(p, dir, "one", "one", rows, 1,
                                        &(siam_plot_training_marks){"hinge", 7}, &e), want_rc);
    gp = slurp(dir, "one.gp", &n);
    assert_non_null(strstr(gp, "losslabel = 'hinge'\nxlo = 0.5\nxhi = 1.5\nxstep = 1\n"
                               "best = NaN\n"));
    free(gp);
    siam_plot_epoch many[95];
    for (int i = 0; i < 95; i++)
        many[i] = (siam_plot_epoch){i + 1, 1.0 / (i + 1), NAN, 0.5, NAN};
    assert_int_equal(siam_plot_training(p, dir, "many", "many", many, 95, NULL, &e), want_rc);
    gp = slurp(dir, "many.gp", &n);
    assert_non_null(strstr(gp, "xlo = 1\nxhi = 95\nxstep = 10\nbest = NaN\n"));
    free(gp);
    assert_int_equal(siam_plot_training(p, dir, "some", "some", many, 25, NULL, &e), want_rc);
    gp = slurp(dir, "some.gp", &n);
    assert_non_null(strstr(gp, "xstep = 5\n"));
    free(gp);

    assert_int_equal(siam_plot_confusion(p, dir, "confusion", "it's test", 7, 2, 5, 1, &e),
                     want_rc);
    assert_file(dir, "confusion.dat", "# rows: true different, true same; columns: predicted "
                                      "different, predicted same\n5 2\n1 7\n");
    gp = slurp(dir, "confusion.gp", &n);
    assert_non_null(strstr(gp, "plottitle = 'it''s test'\n"));
    free(gp);

    const double fpr[4] = {0, 0.25, 0.5, 1}, tpr[4] = {0, 0.625, 0.875, 1};
    assert_int_equal(siam_plot_roc(p, dir, "roc", "ROC", fpr, tpr, 4, 0.78125, &e), want_rc);
    assert_file(dir, "roc.dat", "# false_positive_rate true_positive_rate\n0 0\n0.25 0.625\n"
                                "0.5 0.875\n1 1\n");
    gp = slurp(dir, "roc.gp", &n);
    assert_non_null(strstr(gp, "\nauc = 0.78125\n"));
    free(gp);

    const char *labels[3] = {"bs=128 lr=1e-3", "bs=\"64\"", "bs=32"};
    const double va[3] = {0.81, 0.79, 0.7}, ta[3] = {0.8, 0.78, NAN}, ts[3] = {120, 240.5, 480};
    assert_int_equal(siam_plot_grid(p, dir, "grid", "grid", labels, va, ta, ts, 3, &e),
                     want_rc);
    assert_file(dir, "grid.dat", "# rank label val_acc test_acc train_seconds\n"
                                 "1 \"bs=128 lr=1e-3\" 0.81 0.8 120\n"
                                 "2 \"bs=64\" 0.79 0.78 240.5\n3 \"bs=32\" 0.7 NaN 480\n");

    const double ep[3] = {1, 2, 3}, v1[3] = {0.5, 0.6, NAN}, v2[2] = {0.55, 0.65};
    const siam_plot_series series[3] = {{"run 'a'", ep, v1, 3}, {"b", ep, v2, 2},
                                        {"empty", NULL, NULL, 0}};
    assert_int_equal(siam_plot_runs(p, dir, "runs", "val_acc of 3 runs", "val_acc", series, 3,
                                    &e), want_rc);
    assert_file(dir, "runs.dat", "# run 'a'\n# epoch val_acc\n1 0.5\n2 0.6\n3 NaN\n\n\n"
                                 "# b\n# epoch val_acc\n1 0.55\n2 0.65\n\n\n"
                                 "# empty\n# epoch val_acc\nNaN NaN\n");
    gp = slurp(dir, "runs.gp", &n);
    assert_non_null(strstr(gp, "metric = 'val_acc'\nxlo = 1\nxhi = 3\nxstep = 1\nnruns = 3\n"
                               "array labels[3]\nlabels[1] = 'run ''a'''\nlabels[2] = 'b'\n"
                               "labels[3] = 'empty'\n"));
    free(gp);
    assert_int_equal(siam_plot_runs(p, dir, "none", "t", "val_acc", series, 0, &e), -1);
    assert_string_equal(e.msg, "plot none: no runs to plot");

    const double lr[3] = {1e-4, 1e-3, 1e-2}, sv[3] = {0.7, 0.8, 0.6}, st[3] = {0.69, 0.79, 0.5};
    assert_int_equal(siam_plot_sweep(p, dir, "sweep_lr", "learning rate", "learning_rate", lr,
                                     sv, st, 3, 1, &e), want_rc);
    assert_file(dir, "sweep_lr.dat", "# learning_rate val_acc test_acc\n0.0001 0.7 0.69\n"
                                     "0.001 0.8 0.79\n0.01 0.6 0.5\n");
    gp = slurp(dir, "sweep_lr.gp", &n);
    assert_non_null(strstr(gp, "param = 'learning_rate'\nlogx = 1\n"));
    free(gp);

    if (want_rc == SIAM_PLOT_SKIPPED) {
        print_message("gnuplot not found (Debian: gnuplot-nox); PNG checks skipped\n");
    } else {
        assert_png(dir, "training.png", 1100, 450);
        assert_png(dir, "confusion.png", 520, 480);
        assert_png(dir, "roc.png", 520, 480);
        assert_png(dir, "grid.png", 1200, 520);
        assert_png(dir, "sweep_lr.png", 700, 480);
        assert_false(exists(dir, "roc.png.tmp"));
        assert_null(siam_plotter_take_notice(p));
    }
    siam_plotter_free(p);
}

static void bad_inputs_are_named(void **state)
{
    const char *dir = *state;
    siam_error e;
    assert_null(siam_plotter_new("/nonexistent/plots", &e));
    assert_string_equal(e.msg, "plots: template folder /nonexistent/plots: "
                               "No such file or directory");
    siam_plotter *p = siam_plotter_new("scripts/plots", &e);
    const double x[2] = {0, 1}, y[2] = {0.5, 0.6};
    assert_int_equal(siam_plot_sweep(p, dir, "s", "t", "lr", x, y, y, 2, 1, &e), -1);
    assert_string_equal(e.msg, "plot s: log scale needs lr > 0, value 0 is 0");
    assert_int_equal(siam_plot_roc(p, dir, "r", "t", x, y, 1, 0.5, &e), -1);
    assert_string_equal(e.msg, "plot r: a ROC curve needs at least 2 points, got 1");
    assert_int_equal(siam_plot_confusion(p, dir, "../evil", "t", 1, 1, 1, 1, &e), -1);
    assert_string_equal(e.msg, "plot ../evil: plots: name '../evil' has '/'; "
                               "use letters, digits, . _ -");
    assert_int_equal(siam_plot_confusion(p, dir, "c", "t", 1, -1, 1, 1, &e), -1);
    assert_string_equal(e.msg, "plot c: negative count (tp 1 fp -1 tn 1 fn 1)");
    siam_plotter_free(p);
    siam_plotter_free(NULL);
}

static void missing_gnuplot_reported_once(void **state)
{
    const char *dir = *state;
    char *saved = strdup(getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", "/nonexistent-bin", 1);
    siam_error e;
    siam_plotter *p = siam_plotter_new("scripts/plots", &e);
    setenv("PATH", saved, 1);
    free(saved);
    assert_non_null(p);
    assert_int_equal(siam_plotter_has_gnuplot(p), 0);
    assert_null(siam_plotter_take_notice(p)); /* nothing skipped yet */
    const double fpr[2] = {0, 1}, tpr[2] = {0, 1};
    int notices = 0;
    for (int run = 0; run < 3; run++) {
        char name[32];
        snprintf(name, sizeof name, "roc%d", run);
        assert_int_equal(siam_plot_roc(p, dir, name, "t", fpr, tpr, 2, 0.5, &e),
                         SIAM_PLOT_SKIPPED);
        const char *msg = siam_plotter_take_notice(p);
        if (msg) {
            notices++;
            assert_non_null(strstr(msg, "gnuplot not found on PATH"));
        }
    }
    assert_int_equal(notices, 1);
    assert_true(exists(dir, "roc2.dat"));
    assert_true(exists(dir, "roc2.gp"));
    assert_false(exists(dir, "roc2.png"));
    siam_plotter_free(p);
}

static void gnuplot_error_is_returned(void **state)
{
    const char *dir = *state;
    siam_error e;
    siam_plotter *probe = siam_plotter_new("scripts/plots", &e);
    int have = siam_plotter_has_gnuplot(probe);
    siam_plotter_free(probe);
    if (!have) {
        print_message("gnuplot not found; error path skipped\n");
        skip();
    }
    char tdir[600], path[700];
    snprintf(tdir, sizeof tdir, "%s/templates", dir);
    assert_int_equal(mkdir(tdir, 0777), 0);
    snprintf(path, sizeof path, "%s/roc.gp", tdir);
    FILE *fp = fopen(path, "w");
    fputs("set terminal png\nset output outfile\nplot no_such_function(x)\n", fp);
    fclose(fp);
    siam_plotter *p = siam_plotter_new(tdir, &e);
    const double fpr[2] = {0, 1}, tpr[2] = {0, 1};
    assert_int_equal(siam_plot_roc(p, dir, "roc", "t", fpr, tpr, 2, 0.5, &e), -1);
    char want[900];
    snprintf(want, sizeof want, "plots: gnuplot failed on %s/roc.gp (status 1): ", dir);
    assert_memory_equal(e.msg, want, strlen(want));
    assert_non_null(strstr(e.msg, "undefined function: no_such_function"));
    assert_false(exists(dir, "roc.png"));
    assert_false(exists(dir, "roc.png.tmp"));
    assert_int_equal(siam_plot_training(p, dir, "t", "t", &(siam_plot_epoch){1, 1, 1, 1, 1}, 1,
                                        NULL, &e), -1);
    snprintf(want, sizeof want, "plots: template %s/training.gp: No such file or directory",
             tdir);
    assert_string_equal(e.msg, want);
    siam_plotter_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SIAM_TMPDIR_TEST(data_files_hold_the_numbers),
        SIAM_TMPDIR_TEST(bad_inputs_are_named),
        SIAM_TMPDIR_TEST(missing_gnuplot_reported_once),
        SIAM_TMPDIR_TEST(gnuplot_error_is_returned),
    };
    return cmocka_run_group_tests_name("plot", tests, NULL, NULL);
}
