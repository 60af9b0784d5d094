/* run_log: exact lines (UTC timestamp with milliseconds, padded level),
 * level filtering, continuation lines, appending across reopen, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/run_log.h"

static double fixed(void *ctx)
{
    return *(double *)ctx;
}

static void lines_levels_and_reopen(void **state)
{
    (void)state;
    char dir[] = "/tmp/siam_log_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/log.txt", dir);
    double now = 1700000000.25; /* 2023-11-14T22:13:20.250Z */
    siam_error e;
    siam_runlog *log = siam_runlog_open(path, SIAM_LOG_INFO, fixed, &now, &e);
    assert_non_null(log);
    assert_int_equal(siam_runlog_write(log, SIAM_LOG_DEBUG, &e, "hidden %d", 1), 0);
    assert_int_equal(siam_runlog_write(log, SIAM_LOG_INFO, &e, "epoch %d/%d loss=%.3f", 3, 20,
                                       0.4312), 0);
    now += 61.5;
    assert_int_equal(siam_runlog_write(log, SIAM_LOG_WARN, &e, "two\nlines\n"), 0);
    assert_int_equal(siam_runlog_write(log, (siam_log_level)7, &e, "x"), -1);
    char want[160];
    snprintf(want, sizeof want, "log %s: unknown level 7", path);
    assert_string_equal(e.msg, want);
    siam_runlog_close(log);
    log = siam_runlog_open(path, SIAM_LOG_DEBUG, fixed, &now, &e);
    assert_int_equal(siam_runlog_write(log, SIAM_LOG_ERROR, &e, "resumed"), 0);
    siam_runlog_close(log);
    siam_runlog_close(NULL);

    FILE *fp = fopen(path, "r");
    char buf[512];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    assert_string_equal(buf, "2023-11-14T22:13:20.250Z INFO  epoch 3/20 loss=0.431\n"
                             "2023-11-14T22:14:21.750Z WARN  two\n    lines\n"
                             "2023-11-14T22:14:21.750Z ERROR resumed\n");
    remove(path);
    remove(dir);
    assert_null(siam_runlog_open("/nonexistent/log.txt", SIAM_LOG_INFO, NULL, NULL, &e));
    assert_string_equal(e.msg, "log /nonexistent/log.txt: cannot open for appending: "
                               "No such file or directory");
    assert_string_equal(siam_log_level_name(SIAM_LOG_DEBUG), "DEBUG");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lines_levels_and_reopen),
    };
    return cmocka_run_group_tests_name("run_log", tests, NULL, NULL);
}
