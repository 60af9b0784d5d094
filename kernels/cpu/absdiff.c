/* The Siamese distance |a - b| and its gradient (sign(0) = 0, as the
 * derivative torch.abs uses). */
#include <math.h>

#include "kernels/cpu/cpu.h"

int siam_cpu_absdiff_forward(siam_ctx *ctx, float *out, const float *a, const float *b, size_t n)
{
    if (n && (!out || !a || !b))
        return siam_cpu_fail(ctx, "absdiff_forward: NULL buffer");
    for (size_t i = 0; i < n; i++)
        out[i] = fabsf(a[i] - b[i]);
    return 0;
}

int siam_cpu_absdiff_backward(siam_ctx *ctx, float *da, float *db, const float *dout,
                              const float *a, const float *b, size_t n)
{
    if (n && (!dout || !a || !b))
        return siam_cpu_fail(ctx, "absdiff_backward: NULL buffer");
    /* da or db may be NULL when that side needs no gradient. */
    for (size_t i = 0; i < n; i++) {
        float d = a[i] - b[i];
        float g = d > 0.0f ? dout[i] : d < 0.0f ? -dout[i] : 0.0f;
        if (da)
            da[i] = g;
        if (db)
            db[i] = -g;
    }
    return 0;
}
