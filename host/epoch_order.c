/* The epoch's pair order (host/epoch_order.h). */
#include "host/epoch_order.h"

#include "kernels/philox.h"
#include "kernels/rng.h"

void siam_epoch_order(uint64_t seed, int epoch, size_t n, int32_t *out)
{
    /* Each epoch draws from its own counter range, so the order depends on
     * (seed, epoch) alone and not on how many epochs ran before. */
    siam_rng r;
    siam_rng_init(&r, seed, SIAM_STREAM_SHUFFLE);
    r.offset = (uint64_t)epoch << 32;
    for (size_t i = 0; i < n; i++)
        out[i] = (int32_t)i;
    siam_rng_shuffle_i32(&r, out, n);
}
