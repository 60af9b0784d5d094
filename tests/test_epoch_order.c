/* The epoch's pair order (host/epoch_order.h): the shuffle the trainer and
 * set:batches share. Pinned by value, so a change to it (which would
 * change every training run and break resuming old checkpoints
 * bit-exactly) fails here; and equal to the Philox shuffle it is defined
 * as, for several seeds, epochs and sizes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "host/epoch_order.h"
#include "kernels/philox.h"
#include "kernels/rng.h"

/* The definition, written out: Philox (seed, SIAM_STREAM_SHUFFLE) from
 * counter offset epoch << 32, shuffling the identity. */
static void reference(uint64_t seed, int epoch, size_t n, int32_t *out)
{
    siam_rng r;
    siam_rng_init(&r, seed, SIAM_STREAM_SHUFFLE);
    r.offset = (uint64_t)epoch << 32;
    for (size_t i = 0; i < n; i++)
        out[i] = (int32_t)i;
    siam_rng_shuffle_i32(&r, out, n);
}

static void order_is_pinned(void **state)
{
    (void)state;
    int32_t got[10];
    siam_epoch_order(7, 0, 10, got);
    static const int32_t epoch0[10] = { 8, 5, 1, 2, 7, 4, 6, 0, 9, 3 };
    assert_memory_equal(got, epoch0, sizeof got);
    siam_epoch_order(7, 3, 10, got);
    static const int32_t epoch3[10] = { 5, 0, 9, 3, 7, 6, 4, 2, 8, 1 };
    assert_memory_equal(got, epoch3, sizeof got);
}

static void order_is_the_defined_shuffle(void **state)
{
    (void)state;
    enum { N = 1000 };
    int32_t got[N], want[N];
    const uint64_t seeds[] = { 0, 1, 42, 0xffffffffffffull };
    const int epochs[] = { 0, 1, 2, 49 };
    const size_t sizes[] = { 0, 1, 2, 17, N };
    for (size_t s = 0; s < sizeof seeds / sizeof *seeds; s++)
        for (size_t e = 0; e < sizeof epochs / sizeof *epochs; e++)
            for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
                siam_epoch_order(seeds[s], epochs[e], sizes[k], got);
                reference(seeds[s], epochs[e], sizes[k], want);
                if (sizes[k] > 0)
                    assert_memory_equal(got, want, sizes[k] * sizeof(int32_t));
            }
    /* Epochs differ. */
    int32_t other[N];
    siam_epoch_order(42, 1, N, got);
    siam_epoch_order(42, 2, N, other);
    assert_true(memcmp(got, other, sizeof got) != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(order_is_pinned),
        cmocka_unit_test(order_is_the_defined_shuffle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
