/* Batch assembly on the CPU: uint8 images picked by index, scaled to [0, 1]
 * and normalised, as torchvision's ToTensor + Normalize. */
#include "kernels/cpu/cpu.h"

int siam_cpu_gather_normalize(siam_ctx *ctx, float *out, const uint8_t *images,
                              const int32_t *idx, int n, int pixels, float mean, float std)
{
    if (siam_check_gather(&ctx->err, n, pixels, std))
        return -1;
    if (n && (!out || !images || !idx))
        return siam_cpu_fail(ctx, "gather_normalize: NULL buffer");
    for (int i = 0; i < n; i++)
        if (idx[i] < 0)
            return siam_cpu_fail(ctx, "gather_normalize: idx[%d] = %d is negative", i, idx[i]);
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const uint8_t *src = images + (size_t)idx[i] * pixels;
        float *dst = out + (size_t)i * pixels;
        for (int j = 0; j < pixels; j++)
            dst[j] = ((float)src[j] / 255.0f - mean) / std;
    }
    return 0;
}
