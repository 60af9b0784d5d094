/* progress: exact text written into a memory stream under a driven clock,
 * for the bar (throttling, padding, finish), the line mode and quiet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/progress.h"

typedef struct manual_clock {
    double now;
} manual_clock;

static double read_clock(void *ctx)
{
    return ((manual_clock *)ctx)->now;
}

static void bar_redraws_throttled_and_finishes(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    manual_clock clk = {0};
    siam_error e;
    siam_progress *p = siam_progress_new(out, SIAM_PROGRESS_BAR, read_clock, &clk, &e);
    assert_non_null(p);
    siam_progress_epoch_begin(p, 1, 3, 100);
    clk.now = 0.125;
    siam_progress_step(p, 1, 0.5);          /* first step always draws */
    clk.now = 0.15625;
    siam_progress_step(p, 1, 0.3);          /* 31 ms later: throttled */
    clk.now = 0.25;
    siam_progress_step(p, 8, 0.2);          /* 125 ms later: drawn */
    clk.now = 2.5;
    siam_progress_step(p, 90, 0.1);
    siam_progress_epoch_end(p, "val_acc=0.8");
    fflush(out);
    /* 1 batch in 0.125 s: 8 it/s, 99 left -> 12.4 s. 10 in 0.25 s: 40 it/s,
     * mean loss (0.5 + 0.3 + 8 * 0.2) / 10 = 0.24. 100 in 2.5 s: 40 it/s,
     * mean (2.4 + 90 * 0.1) / 100 = 0.114, 2.5 s rounds to 00:03. */
    const char *want =
        "\repoch 1/3 [....................]   1% 1/100 [00:00<00:12, 8.00 it/s, loss=0.5000]"
        "\repoch 1/3 [##..................]  10% 10/100 [00:00<00:02, 40.00 it/s, loss=0.2400]"
        "\repoch 1/3 [####################] 100% 100/100 [00:03<00:00, 40.00 it/s, loss=0.1140]"
        "\repoch 1/3 [####################] 100% 100/100 [00:03<00:00, 40.00 it/s, loss=0.1140]"
        " val_acc=0.8\n";
    assert_string_equal(text, want);

    siam_progress_free(p);
    fclose(out);
    free(text);

    /* A shorter redraw blanks what the longer one left on screen: "nan" is
     * three characters shorter than "0.5000", so three blanks follow. */
    text = NULL;
    out = open_memstream(&text, &size);
    p = siam_progress_new(out, SIAM_PROGRESS_BAR, read_clock, &clk, &e);
    clk.now = 10;
    siam_progress_epoch_begin(p, 2, 3, 1000);
    clk.now = 10.125;
    siam_progress_step(p, 1, 0.5);
    clk.now = 10.5;
    siam_progress_step(p, 1, NAN);
    fflush(out);
    assert_string_equal(text,
        "\repoch 2/3 [....................]   0% 1/1000 [00:00<02:05, 8.00 it/s, loss=0.5000]"
        "\repoch 2/3 [....................]   0% 2/1000 [00:01<04:10, 4.00 it/s, loss=nan]   ");
    siam_progress_free(p);
    fclose(out);
    free(text);
}

static void lines_mode_prints_once_per_epoch(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    manual_clock clk = {5};
    siam_progress *p = siam_progress_new(out, SIAM_PROGRESS_LINES, read_clock, &clk, NULL);
    siam_progress_epoch_begin(p, 2, 3, 300);
    for (int i = 0; i < 300; i++) {
        clk.now += 0.25;
        siam_progress_step(p, 1, i % 2 ? 0.5 : 0.0);
        fflush(out);
        assert_int_equal(size, 0);
    }
    siam_progress_epoch_end(p, "val_acc=0.9");
    siam_progress_epoch_begin(p, 3, 3, 1);
    siam_progress_epoch_end(p, NULL);
    fflush(out);
    assert_string_equal(text, "epoch 2/3: 300 batches in 01:15 (4.00 it/s) loss=0.2500 "
                              "val_acc=0.9\n"
                              "epoch 3/3: 0 batches in 00:00 (0.00 it/s) loss=nan\n");
    siam_progress_free(p);
    fclose(out);
    free(text);
}

static void quiet_writes_nothing_and_mode_follows_stream(void **state)
{
    (void)state;
    char *text = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&text, &size);
    assert_int_equal(siam_progress_mode_for(out, 0), SIAM_PROGRESS_LINES);
    assert_int_equal(siam_progress_mode_for(out, 1), SIAM_PROGRESS_QUIET);
    manual_clock clk = {0};
    siam_progress *p = siam_progress_new(out, SIAM_PROGRESS_QUIET, read_clock, &clk, NULL);
    siam_progress_epoch_begin(p, 1, 1, 10);
    siam_progress_step(p, 10, 0.1);
    siam_progress_epoch_end(p, "x");
    fflush(out);
    assert_int_equal(size, 0);
    siam_progress_free(p);
    siam_progress_free(NULL);
    fclose(out);
    free(text);
    siam_error e;
    assert_null(siam_progress_new(NULL, SIAM_PROGRESS_BAR, NULL, NULL, &e));
    assert_string_equal(e.msg, "progress: no output stream for mode 2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bar_redraws_throttled_and_finishes),
        cmocka_unit_test(lines_mode_prints_once_per_epoch),
        cmocka_unit_test(quiet_writes_nothing_and_mode_follows_stream),
    };
    return cmocka_run_group_tests_name("progress", tests, NULL, NULL);
}
