/* run_dir: a folder is created only when new; the folder lock is exclusive
 * between processes, names its holder, and is dropped by the kernel when
 * the holder dies (SIGKILL), so a crash never leaves a folder locked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "host/run_dir.h"
#include "tests/support/tmpdir.h"

static void mkdir_new_says_created_or_exists(void **state)
{
    const char *dir = *state;
    char path[512], deep[600], want[700];
    snprintf(path, sizeof path, "%s/run", dir);
    siam_error e;
    assert_int_equal(siam_mkdir_new(path, &e), 0);
    assert_int_equal(siam_mkdir_new(path, &e), 1);
    snprintf(deep, sizeof deep, "%s/no/such", dir);
    assert_int_equal(siam_mkdir_new(deep, &e), -1);
    snprintf(want, sizeof want, "%s: cannot create: No such file or directory", deep);
    assert_string_equal(e.msg, want);
}

/* Forks a child that takes the lock, reports through a pipe and waits to
 * be killed. Returns its pid. */
static pid_t child_holding(const char *dir)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        long holder;
        siam_error e;
        siam_dir_lock *l = siam_dir_lock_take(dir, &holder, &e);
        char ok = l ? 'y' : 'n';
        if (write(fds[1], &ok, 1) != 1)
            _exit(2);
        for (;;)
            pause();
    }
    char got = 0;
    assert_int_equal(read(fds[0], &got, 1), 1);
    assert_int_equal(got, 'y');
    close(fds[0]);
    close(fds[1]);
    return pid;
}

static void lock_is_exclusive_and_dies_with_its_holder(void **state)
{
    const char *dir = *state;
    long holder = 0;
    siam_error e;
    siam_dir_lock *a = siam_dir_lock_take(dir, &holder, &e);
    assert_non_null(a);
    /* a second taker, even in the same process, waits for nobody: refused */
    assert_null(siam_dir_lock_take(dir, &holder, &e));
    assert_int_equal(holder, (long)getpid());
    char want[600];
    snprintf(want, sizeof want, "%s is in use by process %ld", dir, (long)getpid());
    assert_string_equal(e.msg, want);
    siam_dir_lock_release(a);
    siam_dir_lock_release(NULL);

    pid_t child = child_holding(dir);
    assert_null(siam_dir_lock_take(dir, &holder, &e));
    assert_int_equal(holder, (long)child);
    assert_int_equal(kill(child, SIGKILL), 0);
    int status;
    assert_int_equal(waitpid(child, &status, 0), child);
    siam_dir_lock *b = siam_dir_lock_take(dir, &holder, &e);
    assert_non_null(b);
    siam_dir_lock_release(b);
}

static void lock_of_a_missing_folder_is_an_error(void **state)
{
    const char *dir = *state;
    char missing[512], want[700];
    snprintf(missing, sizeof missing, "%s/none", dir);
    long holder = 7;
    siam_error e;
    assert_null(siam_dir_lock_take(missing, &holder, &e));
    assert_int_equal(holder, 0);
    snprintf(want, sizeof want, "%s/.lock: cannot open: No such file or directory", missing);
    assert_string_equal(e.msg, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        SIAM_TMPDIR_TEST(mkdir_new_says_created_or_exists),
        SIAM_TMPDIR_TEST(lock_is_exclusive_and_dies_with_its_holder),
        SIAM_TMPDIR_TEST(lock_of_a_missing_folder_is_an_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
