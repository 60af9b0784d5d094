/* ops->nonfinite_count on every backend: exact counts of NaN (quiet,
 * signalling, negative), +Inf and -Inf planted at block edges, in the
 * vector tail and across thread blocks, none for the finite extremes
 * (FLT_MAX, denormals, -0), several buffers in one call, and the argument
 * errors. The reference is a plain isfinite loop. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/support/ops_check.h"

static float from_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static size_t naive_count(const float *x, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        c += !isfinite(x[i]);
    return c;
}

static size_t count_one(const siam_check_backend *be, const float *dev, size_t n)
{
    size_t c = (size_t)-1;
    const float *bufs[1] = { dev };
    siam_check_ok(be, be->ops->nonfinite_count(be->ctx, &c, bufs, &n, 1), "nonfinite_count");
    return c;
}

static void finite_extremes_count_zero(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { n = 1003 };
    float x[n];
    siam_check_random(x, n, 71, -1e30f, 1e30f);
    x[0] = FLT_MAX, x[1] = -FLT_MAX, x[2] = FLT_MIN, x[3] = from_bits(1u); /* smallest denormal */
    x[4] = -0.0f, x[5] = 0.0f, x[n - 1] = -FLT_MAX;
    float *x_ = siam_check_put(be, x, n);
    assert_int_equal(count_one(be, x_, n), 0);
    siam_check_free(be, x_);
}

static void planted_values_are_counted_exactly(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    /* Several 64 Ki blocks of the CPU version and many CUDA blocks; the
     * length is no multiple of 8, so there is a scalar tail. */
    const size_t n = 3 * 65536 + 1237;
    float *x = siam_check_floats(n);
    siam_check_random(x, n, 72, -3.0f, 3.0f);
    const float odd[] = { NAN, -NAN, INFINITY, -INFINITY, from_bits(0x7f800001u) /* sNaN */,
                          from_bits(0xffc00123u) };
    const size_t at[] = { 0, 7, 8, 65535, 65536, 65537, 2 * 65536 + 5, n - 1237, n - 9, n - 1 };
    size_t planted = 0;
    for (size_t k = 0; k < sizeof at / sizeof at[0]; k++) {
        x[at[k]] = odd[k % (sizeof odd / sizeof odd[0])];
        planted++;
    }
    assert_int_equal(naive_count(x, n), planted);
    float *x_ = siam_check_put(be, x, n);
    assert_int_equal(count_one(be, x_, n), planted);
    /* Only the tail, and a sub-range that starts past every planted value
     * but the last three. */
    assert_int_equal(count_one(be, x_ + n - 3, 3), 1);
    assert_int_equal(count_one(be, x_ + n - 1236, 1236), 2);
    /* A whole buffer of NaN. */
    for (size_t i = 0; i < n; i++)
        x[i] = NAN;
    siam_check_free(be, x_);
    x_ = siam_check_put(be, x, n);
    assert_int_equal(count_one(be, x_, n), n);
    siam_check_free(be, x_);
    free(x);
}

static void several_buffers_in_one_call(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    enum { na = 100000, nb = 17, nc = 4096 };
    float *a = siam_check_floats(na), b[nb], c[nc];
    siam_check_random(a, na, 73, -1.0f, 1.0f);
    siam_check_random(b, nb, 74, -1.0f, 1.0f);
    siam_check_random(c, nc, 75, -1.0f, 1.0f);
    a[99999] = INFINITY;
    b[3] = NAN, b[16] = -INFINITY;
    float *a_ = siam_check_put(be, a, na), *b_ = siam_check_put(be, b, nb);
    float *c_ = siam_check_put(be, c, nc);
    const float *bufs[4] = { a_, b_, NULL, c_ };
    const size_t lens[4] = { na, nb, 0, nc };
    size_t got[4] = { 9, 9, 9, 9 };
    siam_check_ok(be, be->ops->nonfinite_count(be->ctx, got, bufs, lens, 4), "4 buffers");
    assert_int_equal(got[0], 1);
    assert_int_equal(got[1], 2);
    assert_int_equal(got[2], 0);
    assert_int_equal(got[3], 0);
    /* A later call starts its counters from zero again. */
    siam_check_ok(be, be->ops->nonfinite_count(be->ctx, got, bufs + 1, lens + 1, 1), "again");
    assert_int_equal(got[0], 2);
    siam_check_free(be, a_), siam_check_free(be, b_), siam_check_free(be, c_);
    free(a);
}

static void bad_arguments_are_refused(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    size_t got[SIAM_NONFINITE_MAX + 1];
    const float *bufs[SIAM_NONFINITE_MAX + 1] = { 0 };
    size_t lens[SIAM_NONFINITE_MAX + 1] = { 0 };
    assert_int_equal(be->ops->nonfinite_count(be->ctx, got, bufs, lens, 0), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "nonfinite_count: 0 buffers, expected 1..4");
    assert_int_equal(be->ops->nonfinite_count(be->ctx, got, bufs, lens, SIAM_NONFINITE_MAX + 1),
                     -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "nonfinite_count: 5 buffers, expected 1..4");
    lens[1] = 10;
    assert_int_equal(be->ops->nonfinite_count(be->ctx, got, bufs, lens, 2), -1);
    assert_string_equal(be->ops->ctx_error(be->ctx),
                        "nonfinite_count: buffer 1 is NULL (10 values)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(finite_extremes_count_zero),
        cmocka_unit_test(planted_values_are_counted_exactly),
        cmocka_unit_test(several_buffers_in_one_call),
        cmocka_unit_test(bad_arguments_are_refused),
    };
    return siam_check_run("ops_nonfinite", tests, sizeof tests / sizeof tests[0]);
}
