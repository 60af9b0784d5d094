/* Crash safety of the run-folder writers: a child process appends epochs to
 * metrics.csv (line log) and scalars to an event file as fast as it can and
 * is killed with SIGKILL mid-stream; whatever is on disk afterwards must read
 * as a prefix of what was written, never as a half-written row. A writer
 * that rewrote the file in place (truncate, then write) fails this: a kill
 * between the two leaves a short or empty metrics.csv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/atomic_file.h"
#include "host/tfevents.h"

static size_t count_lines(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (!fp)
        return 0;
    size_t n = 0;
    int ch;
    while ((ch = fgetc(fp)) != EOF)
        n += ch == '\n';
    fclose(fp);
    return n;
}

static void child_writes_forever(const char *dir, const char *csv)
{
    siam_error e;
    siam_linelog *log = siam_linelog_open(csv, &e);
    siam_tfevents *tb = siam_tfevents_open(dir, &e);
    if (!log || !tb || siam_linelog_append(log, "epoch,loss,tag", &e) != 0)
        _exit(2);
    for (int epoch = 1;; epoch++) {
        char line[128];
        /* Rows grow longer so a torn write would show as a short row. */
        snprintf(line, sizeof line, "%d,%.6f,%0*d", epoch, 1.0 / epoch, epoch % 60 + 1, epoch);
        if (siam_linelog_append(log, line, &e) != 0 ||
            siam_tfevents_scalar(tb, "loss/train", epoch, 1.0 / epoch, &e) != 0)
            _exit(3);
    }
}

static void sigkill_leaves_only_whole_rows(void **state)
{
    (void)state;
    char dir[] = "/tmp/siam_crash_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char csv[64];
    snprintf(csv, sizeof csv, "%s/metrics.csv", dir);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0)
        child_writes_forever(dir, csv);
    /* Kill once it is well under way; the moment does not matter. */
    while (count_lines(csv) < 200) {
        int status;
        assert_int_equal(waitpid(pid, &status, WNOHANG), 0);
        usleep(1000);
    }
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));

    FILE *fp = fopen(csv, "r");
    assert_non_null(fp);
    char line[256];
    assert_non_null(fgets(line, sizeof line, fp));
    assert_string_equal(line, "epoch,loss,tag\n");
    int rows = 0;
    while (fgets(line, sizeof line, fp)) {
        rows++;
        char want[128];
        snprintf(want, sizeof want, "%d,%.6f,%0*d\n", rows, 1.0 / rows, rows % 60 + 1, rows);
        assert_string_equal(line, want);
    }
    fclose(fp);
    assert_true(rows >= 199);
    /* The line log, reopened as by a resumed run, agrees. */
    siam_error e;
    siam_linelog *log = siam_linelog_open(csv, &e);
    assert_int_equal(siam_linelog_lines(log), (size_t)rows + 1);
    siam_linelog_free(log);

    /* The event file: every complete record has good CRCs and they count
     * up from step 1; at most the last one is torn, and that shows. */
    char cmd[256], name[512];
    snprintf(cmd, sizeof cmd, "ls %s/events.out.tfevents.*", dir);
    FILE *ls = popen(cmd, "r");
    assert_non_null(fgets(name, sizeof name, ls));
    pclose(ls);
    name[strcspn(name, "\n")] = '\0';
    fp = fopen(name, "rb");
    fseek(fp, 0, SEEK_END);
    size_t n = (size_t)ftell(fp);
    fseek(fp, 0, SEEK_SET);
    uint8_t *f = malloc(n);
    assert_int_equal(fread(f, 1, n, fp), n);
    fclose(fp);
    size_t pos = 0, records = 0;
    while (pos + 12 <= n) {
        uint64_t len = 0;
        for (int i = 0; i < 8; i++)
            len |= (uint64_t)f[pos + i] << (8 * i);
        uint32_t hcrc = f[pos + 8] | f[pos + 9] << 8 | f[pos + 10] << 16 |
                        (uint32_t)f[pos + 11] << 24;
        assert_int_equal(hcrc, siam_crc32c_mask(siam_crc32c(f + pos, 8)));
        if (pos + 16 + len > n)
            break; /* torn last record: its length runs past the end */
        const uint8_t *d = f + pos + 12;
        uint32_t dcrc = d[len] | d[len + 1] << 8 | d[len + 2] << 16 |
                        (uint32_t)d[len + 3] << 24;
        assert_int_equal(dcrc, siam_crc32c_mask(siam_crc32c(d, len)));
        records++;
        pos += 16 + len;
    }
    assert_true(pos == n || n - pos < 16 + 64); /* only a tail of one record */
    /* Row k goes to the CSV just before scalar k goes to the event file. */
    assert_true(records >= (size_t)rows); /* version event + at least rows - 1 scalars */
    free(f);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sigkill_leaves_only_whole_rows),
    };
    return cmocka_run_group_tests_name("crash_safety", tests, NULL, NULL);
}
