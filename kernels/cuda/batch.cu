/* Batch assembly on the GPU from the uint8 image bank that lives on the
 * device: images picked by a device index array, scaled to [0, 1] and
 * normalised (torchvision's ToTensor + Normalize), as kernels/cpu/batch.c.
 * The step loop therefore uploads only the few indices of each batch. */
#include "kernels/cuda/cuda.h"

static __global__ void gather_normalize_kernel(float *out, const uint8_t *images,
                                               const int32_t *idx, int n, int pixels, float mean,
                                               float std)
{
    size_t total = (size_t)n * pixels;
    SIAM_CUDA_FOR(k, total) {
        size_t i = k / (size_t)pixels, j = k % (size_t)pixels;
        int32_t id = idx[i];
        /* The CPU backend rejects a negative index before any work; here the
         * indices are on the device, so the image becomes NaN instead of a
         * read outside the bank, and the loss shows it. */
        if (id < 0)
            out[k] = __int_as_float(0x7fc00000);
        else
            out[k] = ((float)images[(size_t)id * pixels + j] / 255.0f - mean) / std;
    }
}

int siam_cuda_gather_normalize(siam_ctx *ctx, float *out, const uint8_t *images,
                               const int32_t *idx, int n, int pixels, float mean, float std)
{
    if (n < 0 || pixels < 1)
        return siam_cuda_fail(ctx, "gather_normalize: bad sizes n=%d pixels=%d", n, pixels);
    if (!(std > 0.0f))
        return siam_cuda_fail(ctx, "gather_normalize: std must be > 0, got %g", (double)std);
    if (n == 0)
        return 0;
    if (!out || !images || !idx)
        return siam_cuda_fail(ctx, "gather_normalize: NULL buffer");
    size_t total = (size_t)n * pixels;
    gather_normalize_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        out, images, idx, n, pixels, mean, std);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
