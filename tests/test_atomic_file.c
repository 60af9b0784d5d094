/* atomic_file: whole-file replacement, streaming commit/abort, mkdir -p and
 * the line log, checked by reading the files back and listing the folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/atomic_file.h"
#include "tests/support/tmpdir.h"

static char *slurp(const char *path, size_t *n)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = malloc(1 << 16);
    *n = fread(buf, 1, (1 << 16) - 1, fp);
    buf[*n] = '\0';
    fclose(fp);
    return buf;
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static void write_then_replace_leaves_only_the_file(void **state)
{
    const char *dir = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/a.txt", dir);
    siam_error e;
    assert_int_equal(siam_atomic_write(path, "first version\n", 14, &e), 0);
    assert_int_equal(siam_atomic_write(path, "v2", 2, &e), 0);
    size_t n;
    char *got = slurp(path, &n);
    assert_non_null(got);
    assert_int_equal(n, 2);
    assert_string_equal(got, "v2");
    free(got);
    assert_int_equal(count_entries(dir), 1); /* no temp file left behind */
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(st.st_mode & S_IRGRP); /* not mkstemp's 0600 */
}

static void write_into_missing_dir_names_path_and_errno(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/missing/a.txt", (char *)*state);
    siam_error e;
    assert_int_equal(siam_atomic_write(path, "x", 1, &e), -1);
    assert_non_null(strstr(e.msg, path));
    assert_non_null(strstr(e.msg, "No such file or directory"));
}

static void abort_keeps_old_content(void **state)
{
    const char *dir = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/ckpt.bin", dir);
    siam_error e;
    assert_int_equal(siam_atomic_write(path, "old", 3, &e), 0);
    siam_atomic_file *af = siam_atomic_file_begin(path, &e);
    assert_non_null(af);
    fputs("half of a new checkpoint", af->fp);
    fflush(af->fp);
    /* Before commit a reader still sees the old file. */
    size_t n;
    char *got = slurp(path, &n);
    assert_string_equal(got, "old");
    free(got);
    assert_int_equal(count_entries(dir), 2);
    siam_atomic_file_abort(af);
    got = slurp(path, &n);
    assert_string_equal(got, "old");
    free(got);
    assert_int_equal(count_entries(dir), 1);
    siam_atomic_file_abort(NULL);

    af = siam_atomic_file_begin(path, &e);
    fprintf(af->fp, "new %d", 42);
    assert_int_equal(siam_atomic_file_commit(af, &e), 0);
    got = slurp(path, &n);
    assert_string_equal(got, "new 42");
    free(got);
}

static void mkdir_p_nested_existing_and_blocked(void **state)
{
    const char *dir = *state;
    char path[256], file[256];
    siam_error e;
    snprintf(path, sizeof path, "%s/results/exp//run-1/plots/", dir);
    assert_int_equal(siam_mkdir_p(path, &e), 0);
    assert_int_equal(siam_mkdir_p(path, &e), 0);
    struct stat st;
    snprintf(path, sizeof path, "%s/results/exp/run-1/plots", dir);
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    snprintf(file, sizeof file, "%s/results/exp/blocker", dir);
    assert_int_equal(siam_atomic_write(file, "", 0, &e), 0);
    snprintf(path, sizeof path, "%s/results/exp/blocker/x", dir);
    assert_int_equal(siam_mkdir_p(path, &e), -1);
    char want[700];
    snprintf(want, sizeof want, "mkdir -p %s: %s exists and is not a directory", path, file);
    assert_string_equal(e.msg, want);
    assert_int_equal(siam_mkdir_p("", &e), -1);
    assert_string_equal(e.msg, "mkdir -p: empty path");
}

static void linelog_appends_reopens_and_truncates(void **state)
{
    const char *dir = *state;
    char path[256];
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    siam_error e;
    siam_linelog *log = siam_linelog_open(path, &e);
    assert_non_null(log);
    assert_int_equal(siam_linelog_lines(log), 0);
    assert_int_equal(siam_linelog_append(log, "epoch,loss", &e), 0);
    assert_int_equal(siam_linelog_append(log, "1,0.5\n", &e), 0);
    assert_int_equal(siam_linelog_append(log, "2,0.25", &e), 0);
    size_t n;
    char *got = slurp(path, &n);
    assert_string_equal(got, "epoch,loss\n1,0.5\n2,0.25\n");
    free(got);
    assert_int_equal(siam_linelog_append(log, "3,0.1\n4,0.0", &e), -1);
    char want[512];
    snprintf(want, sizeof want, "line log %s: line 4 holds a newline; one call is one line",
             path);
    assert_string_equal(e.msg, want);
    assert_int_equal(siam_linelog_lines(log), 3);
    siam_linelog_free(log);

    /* A fragment without '\n' (a torn write by another tool) is not a row. */
    FILE *fp = fopen(path, "ab");
    fputs("3,0.1", fp);
    fclose(fp);
    log = siam_linelog_open(path, &e);
    assert_non_null(log);
    assert_int_equal(siam_linelog_lines(log), 3);
    assert_string_equal(siam_linelog_text(log), "epoch,loss\n1,0.5\n2,0.25\n");
    assert_int_equal(siam_linelog_truncate(log, 2, &e), 0);
    got = slurp(path, &n);
    assert_string_equal(got, "epoch,loss\n1,0.5\n");
    free(got);
    assert_int_equal(siam_linelog_truncate(log, 5, &e), -1);
    snprintf(want, sizeof want, "line log %s: cannot keep 5 lines, it holds 2", path);
    assert_string_equal(e.msg, want);
    assert_int_equal(siam_linelog_append(log, "2,0.3", &e), 0);
    got = slurp(path, &n);
    assert_string_equal(got, "epoch,loss\n1,0.5\n2,0.3\n");
    free(got);
    siam_linelog_free(log);
    siam_linelog_free(NULL);
    assert_int_equal(count_entries(dir), 1);
}

static void linelog_failed_append_changes_nothing(void **state)
{
    char path[256];
    snprintf(path, sizeof path, "%s/gone/metrics.jsonl", (char *)*state);
    siam_error e;
    siam_linelog *log = siam_linelog_open(path, &e);
    assert_non_null(log);
    assert_int_equal(siam_linelog_append(log, "{\"epoch\":1}", &e), -1);
    assert_non_null(strstr(e.msg, "No such file or directory"));
    assert_int_equal(siam_linelog_lines(log), 0);
    assert_string_equal(siam_linelog_text(log), "");
    siam_linelog_free(log);
}

static void publish_moves_a_finished_file(void **state)
{
    const char *dir = *state;
    char tmp[256], path[256];
    snprintf(tmp, sizeof tmp, "%s/plot.png.tmp", dir);
    snprintf(path, sizeof path, "%s/plot.png", dir);
    FILE *fp = fopen(tmp, "wb");
    fputs("drawn by another program", fp);
    fclose(fp);
    siam_error e;
    assert_int_equal(siam_atomic_publish(tmp, path, &e), 0);
    size_t n;
    char *got = slurp(path, &n);
    assert_string_equal(got, "drawn by another program");
    free(got);
    assert_int_equal(count_entries(dir), 1);
    assert_int_equal(siam_atomic_publish(tmp, path, &e), -1);
    char want[700];
    snprintf(want, sizeof want, "publishing %s: cannot open %s: No such file or directory",
             path, tmp);
    assert_string_equal(e.msg, want);
}

static int exists(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return access(path, F_OK) == 0;
}

static void touch(const char *dir, const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fputs("half a checkpoint", fp);
    fclose(fp);
}

/* Temp files left by killed writers are removed by the next write of the
 * same target; one a live writer holds, and other files, are not. */
static void stale_temps_of_dead_writers_are_removed(void **state)
{
    const char *dir = *state;
    char path[256], held[512];
    snprintf(path, sizeof path, "%s/train.ckpt", dir);
    touch(dir, "train.ckpt.tmp.AbC123"); /* a writer killed mid-write: no lock */
    touch(dir, "train.ckpt.tmp.zz9ZZ9");
    touch(dir, "train.ckpt.tmp.ABCDEFG"); /* not mkstemp's name */
    touch(dir, "train.ckpt.tmpABCDEF");
    touch(dir, "best.ckpt.tmp.AbC123"); /* another target's */
    touch(dir, "train.ckpt.tmp.Held01");
    /* A live writer in another process: a child holds the lock until told
     * to stop. */
    snprintf(held, sizeof held, "%s/train.ckpt.tmp.Held01", dir);
    int go[2], ready[2];
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(ready), 0);
    pid_t child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        /* Only the parent writes to `go`: its end closing (the parent done
         * or failed) ends the child too. */
        close(go[1]);
        close(ready[0]);
        int fd = open(held, O_RDONLY);
        char c = flock(fd, LOCK_EX) == 0 ? 'y' : 'n';
        if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
            _exit(2);
        _exit(0);
    }
    close(go[0]);
    close(ready[1]);
    char c;
    assert_int_equal(read(ready[0], &c, 1), 1);
    assert_int_equal(c, 'y');

    siam_error e;
    assert_int_equal(siam_atomic_write(path, "v1", 2, &e), 0);
    assert_false(exists(dir, "train.ckpt.tmp.AbC123"));
    assert_false(exists(dir, "train.ckpt.tmp.zz9ZZ9"));
    assert_true(exists(dir, "train.ckpt.tmp.Held01"));
    assert_true(exists(dir, "train.ckpt.tmp.ABCDEFG"));
    assert_true(exists(dir, "train.ckpt.tmpABCDEF"));
    assert_true(exists(dir, "best.ckpt.tmp.AbC123"));
    assert_int_equal(count_entries(dir), 5); /* and train.ckpt itself */

    /* A writer of this process is live too: a second write does not take
     * its temp file, and it commits after. */
    siam_atomic_file *af = siam_atomic_file_begin(path, &e);
    assert_non_null(af);
    fputs("v3", af->fp);
    assert_int_equal(siam_atomic_write(path, "v2", 2, &e), 0);
    assert_int_equal(access(af->tmp_path, F_OK), 0);
    assert_int_equal(siam_atomic_file_commit(af, &e), 0);
    size_t n;
    char *got = slurp(path, &n);
    assert_string_equal(got, "v3");
    free(got);

    /* The child ends (its lock goes with it): now its file is a leftover. */
    assert_int_equal(write(go[1], "x", 1), 1);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(siam_atomic_write(path, "v4", 2, &e), 0);
    assert_false(exists(dir, "train.ckpt.tmp.Held01"));
    assert_int_equal(count_entries(dir), 4);
    close(go[1]);
    close(ready[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SIAM_TMPDIR_TEST(write_then_replace_leaves_only_the_file),
        SIAM_TMPDIR_TEST(write_into_missing_dir_names_path_and_errno),
        SIAM_TMPDIR_TEST(abort_keeps_old_content),
        SIAM_TMPDIR_TEST(mkdir_p_nested_existing_and_blocked),
        SIAM_TMPDIR_TEST(linelog_appends_reopens_and_truncates),
        SIAM_TMPDIR_TEST(linelog_failed_append_changes_nothing),
        SIAM_TMPDIR_TEST(publish_moves_a_finished_file),
        SIAM_TMPDIR_TEST(stale_temps_of_dead_writers_are_removed),
    };
    return cmocka_run_group_tests_name("atomic_file", tests, NULL, NULL);
}
