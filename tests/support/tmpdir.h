/* A fresh temporary folder per cmocka test, for the tests that write files:
 * pass these as a test's setup and teardown (or list the test as
 * SIAM_TMPDIR_TEST(fn)); *state is then the folder's path. Test support only. */
#ifndef SIAM_TEST_TMPDIR_H
#define SIAM_TEST_TMPDIR_H

/* Creates /tmp/siam_test_XXXXXX; *state gets its path (a malloc'd string
 * that the teardown frees). 0, or -1 when mkdtemp fails. */
int siam_test_tmpdir_setup(void **state);

/* Removes the folder and all it holds, and frees the path. 0, or -1 when
 * the removal fails. */
int siam_test_tmpdir_teardown(void **state);

/* A cmocka test entry run in its own temporary folder. */
#define SIAM_TMPDIR_TEST(fn) \
    cmocka_unit_test_setup_teardown(fn, siam_test_tmpdir_setup, siam_test_tmpdir_teardown)

#endif
