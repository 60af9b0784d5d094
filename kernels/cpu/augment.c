/* Batch assembly with augmentation on the CPU: per image slot, parameters
 * from siam_augment_draw and pixels from siam_augment_pixel (kernels/
 * augment.h, shared with CUDA), then the normalisation of gather_normalize.
 * With aug NULL or disabled it is exactly gather_normalize. */
#include "kernels/cpu/cpu.h"

int siam_cpu_augment_batch(siam_ctx *ctx, float *out, const uint8_t *images, const int32_t *idx,
                           int n, int H, int W, const siam_augment *aug, uint64_t seed,
                           uint64_t offset, float mean, float std)
{
    if (siam_check_augment(&ctx->err, n, H, W, std))
        return -1;
    if (n && (!out || !images || !idx))
        return siam_cpu_fail(ctx, "augment_batch: NULL buffer");
    for (int i = 0; i < n; i++)
        if (idx[i] < 0)
            return siam_cpu_fail(ctx, "augment_batch: idx[%d] = %d is negative", i, idx[i]);
    if (siam_augment_bad(aug))
        return siam_cpu_fail(ctx, SIAM_AUGMENT_BAD_FMT, SIAM_AUGMENT_BAD_ARGS(aug));
    size_t pixels = (size_t)H * W;
#pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        const uint8_t *src = images + (size_t)idx[i] * pixels;
        float *dst = out + (size_t)i * pixels;
        if (aug == NULL || !aug->enabled) {
            for (size_t j = 0; j < pixels; j++)
                dst[j] = ((float)src[j] / 255.0f - mean) / std;
            continue;
        }
        siam_augment_params p;
        siam_augment_draw_chunk(aug, seed, offset, i, 1, H, W, &p);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                dst[(size_t)y * W + x] = (siam_augment_pixel(src, H, W, &p, x, y) - mean) / std;
    }
    return 0;
}
