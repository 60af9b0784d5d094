/* The rule that picks a cuDNN convolution algorithm from cuDNN's proposals
 * (kernels/conv_algo.h, used by kernels/cuda/conv2d.cu) and the line that
 * reports it, on hand-made proposal lists: no GPU needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "kernels/conv_algo.h"

#define MiB ((size_t)1 << 20)
#define LIMIT ((size_t)1 << 30)

/* ok, deterministic, fp32, workspace in MiB (-1: unknown). */
static siam_conv_candidate cand(int algo, int ok, int det, int fp32, int mib)
{
    siam_conv_candidate c = { algo, "ALGO", ok, det, fp32, mib >= 0, 0, -1.0f };
    c.workspace = mib >= 0 ? (size_t)mib * MiB : 0;
    return c;
}

static int choose(const siam_conv_candidate *c, int n, int tf32, int *forced)
{
    return siam_conv_algo_choose(c, n, tf32, LIMIT, forced);
}

static void deterministic_fp32_beats_a_faster_atomic_one(void **state)
{
    (void)state;
    siam_conv_candidate c[3] = { cand(0, 1, 0, 1, 0), cand(1, 1, 1, 1, 4), cand(3, 1, 0, 1, 0) };
    int forced = -1;
    assert_int_equal(choose(c, 3, 0, &forced), 1);
    assert_int_equal(forced, 0);
    /* None deterministic: the first that works. */
    c[1].deterministic = 0;
    assert_int_equal(choose(c, 3, 0, &forced), 0);
    assert_int_equal(forced, 0);
}

static void failed_unknown_and_oversized_proposals_are_skipped(void **state)
{
    (void)state;
    siam_conv_candidate c[4] = { cand(0, 0, 1, 1, 0), cand(1, 1, 1, 1, -1),
                                 cand(2, 1, 1, 1, 2048), cand(5, 1, 1, 1, 1024) };
    int forced;
    assert_int_equal(choose(c, 4, 0, &forced), 3); /* exactly the limit is allowed */
    c[3].workspace += 1;
    assert_int_equal(choose(c, 4, 0, &forced), -1);
    assert_int_equal(choose(c, 0, 0, &forced), -1);
}

static void tf32_proposals_need_permission(void **state)
{
    (void)state;
    siam_conv_candidate c[2] = { cand(6, 1, 1, 0, 0), cand(1, 1, 1, 1, 0) };
    int forced;
    assert_int_equal(choose(c, 2, 0, &forced), 1);
    assert_int_equal(forced, 0);
    assert_int_equal(choose(c, 2, 1, &forced), 0);
    assert_int_equal(forced, 0);
    /* Only TF32 proposals and no permission: the first working one, run
     * with FP32 math (forced) rather than no convolution at all. */
    c[1].fp32 = 0;
    c[0].ok = 0;
    assert_int_equal(choose(c, 2, 0, &forced), 1);
    assert_int_equal(forced, 1);
    /* With permission nothing is forced. */
    assert_int_equal(choose(c, 2, 1, &forced), 1);
    assert_int_equal(forced, 0);
}

static void the_log_line_says_what_was_chosen(void **state)
{
    (void)state;
    const int shape[7] = { 64, 1, 105, 105, 64, 10, 10 };
    siam_conv_candidate c = cand(1, 1, 1, 1, 2);
    c.name = "IMPLICIT_PRECOMP_GEMM";
    char line[256];
    siam_conv_algo_describe(line, sizeof line, shape, "forward", &c, 1, 7, 0, 0);
    assert_string_equal(line, "conv2d 64x1x105x105 * 64x1x10x10 forward: IMPLICIT_PRECOMP_GEMM "
                              "(FP32, deterministic, 2.0 MiB workspace, heuristic rank 2 of 7)");
    c.ms = 0.5125f;
    c.fp32 = 0;
    c.deterministic = 0;
    siam_conv_algo_describe(line, sizeof line, shape, "backward-filter", &c, 0, 3, 0, 1);
    assert_string_equal(line, "conv2d 64x1x105x105 * 64x1x10x10 backward-filter: "
                              "IMPLICIT_PRECOMP_GEMM (TF32 allowed, nondeterministic, 2.0 MiB "
                              "workspace, 0.512 ms measured, rank 1 of 3)");
    siam_conv_algo_describe(line, sizeof line, shape, "backward-data", &c, 0, 3, 1, 0);
    assert_non_null(strstr(line, "(FP32, forced, nondeterministic"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deterministic_fp32_beats_a_faster_atomic_one),
        cmocka_unit_test(failed_unknown_and_oversized_proposals_are_skipped),
        cmocka_unit_test(tf32_proposals_need_permission),
        cmocka_unit_test(the_log_line_says_what_was_chosen),
    };
    return cmocka_run_group_tests_name("conv_algo", tests, NULL, NULL);
}
