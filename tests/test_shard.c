/* shard: parsing and its messages, Slurm array arithmetic (offset and
 * stepped arrays), and that the shards of a grid partition it exactly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "host/shard.h"

static void parse_accepts_i_of_n_only(void **state)
{
    (void)state;
    siam_shard s;
    siam_error e;
    assert_int_equal(siam_shard_parse("3/8", &s, &e), 0);
    assert_int_equal(s.index, 3);
    assert_int_equal(s.count, 8);
    assert_int_equal(siam_shard_parse("1/1", &s, &e), 0);
    const char *bad_form[] = {"3", "3/", "/8", "a/8", "3/8x", " 3/8", "-1/8", "3/8/9",
                              "1234567890/2"};
    for (size_t i = 0; i < sizeof bad_form / sizeof *bad_form; i++) {
        assert_int_equal(siam_shard_parse(bad_form[i], &s, &e), -1);
        char want[80];
        snprintf(want, sizeof want, "--shard '%s': expected i/n, e.g. 1/4", bad_form[i]);
        assert_string_equal(e.msg, want);
    }
    const char *bad_range[] = {"0/4", "5/4", "0/0"};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(siam_shard_parse(bad_range[i], &s, &e), -1);
        char want[80];
        snprintf(want, sizeof want, "--shard '%s': need 1 <= i <= n", bad_range[i]);
        assert_string_equal(e.msg, want);
    }
}

static void slurm_arrays(void **state)
{
    (void)state;
    siam_shard s = {0, 0};
    siam_error e;
    int found = 1;
    assert_int_equal(siam_shard_from_slurm(NULL, NULL, NULL, NULL, &s, &found, &e), 0);
    assert_int_equal(found, 0);
    /* --array=0-3 */
    assert_int_equal(siam_shard_from_slurm("0", "0", "1", "4", &s, &found, &e), 0);
    assert_int_equal(found, 1);
    assert_int_equal(s.index, 1);
    assert_int_equal(s.count, 4);
    /* --array=3-10: id 10 is the 8th of 8 */
    assert_int_equal(siam_shard_from_slurm("10", "3", NULL, "8", &s, &found, &e), 0);
    assert_int_equal(s.index, 8);
    assert_int_equal(s.count, 8);
    /* --array=0-30:10: ids 0 10 20 30; 20 is the 3rd of 4 */
    assert_int_equal(siam_shard_from_slurm("20", "0", "10", "4", &s, &found, &e), 0);
    assert_int_equal(s.index, 3);
    assert_int_equal(siam_shard_from_slurm("7", NULL, NULL, NULL, &s, &found, &e), -1);
    assert_string_equal(e.msg, "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not");
    assert_int_equal(siam_shard_from_slurm("x", NULL, NULL, "4", &s, &found, &e), -1);
    assert_string_equal(e.msg, "SLURM_ARRAY_TASK_ID='x' is not a non-negative integer");
    assert_int_equal(found, 0);
    assert_int_equal(siam_shard_from_slurm("15", "0", "10", "4", &s, &found, &e), -1);
    assert_string_equal(e.msg, "SLURM_ARRAY_TASK_ID=15 is not in the array 0, 10, ... "
                               "(SLURM_ARRAY_TASK_MIN, SLURM_ARRAY_TASK_STEP)");
    assert_int_equal(siam_shard_from_slurm("4", "0", "1", "4", &s, &found, &e), -1);
    assert_string_equal(e.msg, "SLURM_ARRAY_TASK_ID=4 is task 5 of SLURM_ARRAY_TASK_COUNT=4");
    assert_int_equal(siam_shard_from_slurm("4", "0", "0", "4", &s, &found, &e), -1);
    assert_string_equal(e.msg, "SLURM_ARRAY_TASK_STEP=0 must be at least 1");
}

static void shards_partition_the_grid(void **state)
{
    (void)state;
    for (int n = 1; n <= 7; n++) {
        int owners[50] = {0};
        int sizes[8] = {0};
        for (int i = 1; i <= n; i++) {
            siam_shard s = {i, n};
            for (size_t k = 0; k < 50; k++)
                if (siam_shard_owns(&s, k)) {
                    owners[k]++;
                    sizes[i]++;
                }
        }
        for (size_t k = 0; k < 50; k++)
            assert_int_equal(owners[k], 1);
        for (int i = 1; i <= n; i++) /* round robin: sizes differ by at most one */
            assert_true(sizes[i] == 50 / n || sizes[i] == 50 / n + 1);
    }
    siam_shard s = {2, 3};
    assert_false(siam_shard_owns(&s, 0));
    assert_true(siam_shard_owns(&s, 1));
    assert_true(siam_shard_owns(&s, 4));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_accepts_i_of_n_only),
        cmocka_unit_test(slurm_arrays),
        cmocka_unit_test(shards_partition_the_grid),
    };
    return cmocka_run_group_tests_name("shard", tests, NULL, NULL);
}
