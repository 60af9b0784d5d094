/* Philox-4x32-10 against Random123's published known-answer vectors
 * (kat_vectors, D. E. Shaw Research), the stream layout of
 * siam_philox_u32, and the sequential generator: determinism, unbiased
 * bounded integers, shuffles and normals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "kernels/philox.h"
#include "kernels/rng.h"

static void philox_known_answers(void **state)
{
    (void)state;
    /* counter[4] key[2] -> output[4], from Random123's kat_vectors. */
    const uint32_t kat[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1},
    };
    for (int k = 0; k < 3; k++) {
        siam_u32x4 c = {{kat[k][0], kat[k][1], kat[k][2], kat[k][3]}};
        siam_u32x4 r = siam_philox4x32_10(c, kat[k][4], kat[k][5]);
        print_message("kat %d: %08x %08x %08x %08x\n", k, r.v[0], r.v[1], r.v[2], r.v[3]);
        for (int w = 0; w < 4; w++)
            assert_int_equal(r.v[w], kat[k][6 + w]);
    }
}

static void philox_stream_layout(void **state)
{
    (void)state;
    /* Word i of (seed, stream) is word i%4 of the block with counter
     * (i/4 as 64 bits, stream as 64 bits) and key = seed. */
    const uint32_t zero[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    for (int w = 0; w < 4; w++)
        assert_int_equal(siam_philox_u32(0, 0, (uint64_t)w), zero[w]);
    /* Every 64-bit half lands in its own counter/key words (the block index
     * stays below 2^62 so that 4*block + w fits 64 bits). */
    const uint64_t seed = 0x299f31d0a4093822ull, stream = 0x0370734413198a2eull;
    const uint64_t block = 0x05a308d3243f6a88ull;
    siam_u32x4 c = {{0x243f6a88, 0x05a308d3, 0x13198a2e, 0x03707344}};
    siam_u32x4 r = siam_philox4x32_10(c, 0xa4093822, 0x299f31d0);
    for (int w = 0; w < 4; w++)
        assert_int_equal(siam_philox_u32(seed, stream, block * 4 + (uint64_t)w), r.v[w]);
    assert_true(siam_philox_uniform(0, 0, 0) == (float)(0x6627e8d5u >> 8) / 16777216.0f);
}

static void rng_is_deterministic(void **state)
{
    (void)state;
    enum { n = 4096 };
    uint32_t a[n], b[n];
    siam_rng r1, r2;
    siam_rng_init(&r1, 12345, 3);
    siam_rng_init(&r2, 12345, 3);
    for (int i = 0; i < n; i++)
        a[i] = siam_rng_u32(&r1);
    for (int i = 0; i < n; i++)
        b[i] = siam_rng_u32(&r2);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(r1.offset, n);
    for (int i = 0; i < n; i++)
        assert_int_equal(a[i], siam_philox_u32(12345, 3, (uint64_t)i));
    siam_rng_init(&r2, 12346, 3);
    for (int i = 0; i < n; i++)
        b[i] = siam_rng_u32(&r2);
    assert_memory_not_equal(a, b, sizeof a);
    for (int i = 0; i < 1000; i++) {
        float u = siam_rng_uniform(&r1);
        assert_true(u >= 0.0f && u < 1.0f);
    }
}

static void rng_below_is_unbiased(void **state)
{
    (void)state;
    siam_rng r;
    siam_rng_init(&r, 99, 1);
    /* n = 3 * 2^30: a plain x % n would return [0, 2^30) for half of all
     * words; without bias it is one third. */
    const uint32_t n = 3u << 30;
    const int draws = 30000;
    int low = 0;
    for (int i = 0; i < draws; i++) {
        uint32_t x = siam_rng_below(&r, n);
        assert_true(x < n);
        low += x < (1u << 30);
    }
    double frac = (double)low / draws;
    print_message("rng_below(3*2^30): fraction below 2^30 = %.4f (expected 1/3; biased 1/2)\n",
                  frac);
    assert_true(fabs(frac - 1.0 / 3.0) < 0.015); /* 5 sigma = 0.0136 */
    assert_true(r.offset > (uint64_t)draws);     /* rejected words were drawn again */

    /* Chi-square over 10 bins, 100000 draws: 27.88 is the 0.1% point of
     * chi2 with 9 degrees of freedom. */
    int bins[10] = {0};
    for (int i = 0; i < 100000; i++)
        bins[siam_rng_below(&r, 10)]++;
    double chi2 = 0.0;
    for (int k = 0; k < 10; k++)
        chi2 += (bins[k] - 10000.0) * (bins[k] - 10000.0) / 10000.0;
    print_message("rng_below(10) chi2 = %.2f (limit 27.88)\n", chi2);
    assert_true(chi2 < 27.88);
    for (int i = 0; i < 100; i++)
        assert_int_equal(siam_rng_below(&r, 1), 0);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static void rng_shuffle_is_a_uniform_permutation(void **state)
{
    (void)state;
    enum { n = 1000 };
    int32_t v[n], w[n];
    for (int i = 0; i < n; i++)
        v[i] = i;
    siam_rng r;
    siam_rng_init(&r, 5, SIAM_STREAM_SHUFFLE);
    siam_rng_shuffle_i32(&r, v, n);
    memcpy(w, v, sizeof v);
    int fixed = 0;
    for (int i = 0; i < n; i++)
        fixed += v[i] == i;
    assert_true(fixed < 10); /* about 1 expected */
    qsort(w, n, sizeof w[0], cmp_i32);
    for (int i = 0; i < n; i++)
        assert_int_equal(w[i], i);
    /* Same seed, same order. */
    for (int i = 0; i < n; i++)
        w[i] = i;
    siam_rng_init(&r, 5, SIAM_STREAM_SHUFFLE);
    siam_rng_shuffle_i32(&r, w, n);
    assert_memory_equal(v, w, sizeof v);

    /* All 6 orders of 3 items equally often: chi2 with 5 degrees of freedom,
     * 0.1% point 20.52. */
    int counts[6] = {0};
    for (int t = 0; t < 60000; t++) {
        int32_t s[3] = {0, 1, 2};
        siam_rng_shuffle_i32(&r, s, 3);
        counts[s[0] * 2 + (s[1] > s[2])]++;
    }
    double chi2 = 0.0;
    for (int k = 0; k < 6; k++)
        chi2 += (counts[k] - 10000.0) * (counts[k] - 10000.0) / 10000.0;
    print_message("shuffle of 3: chi2 = %.2f (limit 20.52)\n", chi2);
    assert_true(chi2 < 20.52);
}

static void rng_normal_moments(void **state)
{
    (void)state;
    siam_rng r;
    siam_rng_init(&r, 77, SIAM_STREAM_INIT);
    const int n = 100000;
    double s = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++) {
        double z = siam_rng_normal(&r);
        assert_true(isfinite(z));
        s += z;
        ss += z * z;
    }
    double mean = s / n, var = ss / n - mean * mean;
    print_message("normal: mean %.4f var %.4f over %d draws\n", mean, var, n);
    assert_true(fabs(mean) < 5.0 / sqrt((double)n));
    assert_true(fabs(var - 1.0) < 5.0 * sqrt(2.0 / n));
    assert_int_equal(r.offset, 2 * (uint64_t)n); /* two words per draw */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(philox_known_answers),
        cmocka_unit_test(philox_stream_layout),
        cmocka_unit_test(rng_is_deterministic),
        cmocka_unit_test(rng_below_is_unbiased),
        cmocka_unit_test(rng_shuffle_is_a_uniform_permutation),
        cmocka_unit_test(rng_normal_moments),
    };
    return cmocka_run_group_tests_name("rng", tests, NULL, NULL);
}
