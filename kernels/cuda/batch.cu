/* Batch assembly on the GPU from the uint8 image bank that lives on the
 * device: images picked by a device index array, scaled to [0, 1] and
 * normalised (torchvision's ToTensor + Normalize), as kernels/cpu/batch.c
 * (the distorted version is kernels/cuda/augment.cu). Indices are uploaded
 * once per epoch; a batch costs no transfer. */
#include "kernels/cuda/cuda.h"

/* A negative index reads nothing: its image becomes zeros and the fault is
 * left in the scalars' header for the next readback to report with the
 * CPU's message (no round trip here: the trainer checked every index when
 * it was built, so a training step never waits for this). */
static __global__ void gather_normalize_kernel(float *out, unsigned long long *fault,
                                               const uint8_t *images, const int32_t *idx, int n,
                                               int pixels, float mean, float std, unsigned op)
{
    size_t total = (size_t)n * pixels;
    SIAM_CUDA_FOR(k, total) {
        size_t i = k / (size_t)pixels, j = k % (size_t)pixels;
        int32_t id = idx[i];
        if (id < 0) {
            if (j == 0)
                atomicMin(fault, siam_cuda_fault_pack(op, (int)i, id));
            out[k] = 0.0f;
            continue;
        }
        out[k] = ((float)images[(size_t)id * pixels + j] / 255.0f - mean) / std;
    }
}

int siam_cuda_gather_queue(siam_ctx *ctx, float *out, const uint8_t *images, const int32_t *idx,
                           int n, int pixels, float mean, float std, unsigned fault_op)
{
    size_t total = (size_t)n * pixels;
    gather_normalize_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        out, (unsigned long long *)ctx->dev_scalars, images, idx, n, pixels, mean, std,
        fault_op);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_gather_normalize(siam_ctx *ctx, float *out, const uint8_t *images,
                               const int32_t *idx, int n, int pixels, float mean, float std)
{
    if (siam_check_gather(&ctx->err, n, pixels, std))
        return -1;
    if (n >= SIAM_CUDA_MAX_IMAGES)
        return siam_cuda_fail(ctx, "gather_normalize: %d images, at most %d", n,
                              SIAM_CUDA_MAX_IMAGES - 1);
    if (n == 0)
        return 0;
    if (!out || !images || !idx)
        return siam_cuda_fail(ctx, "gather_normalize: NULL buffer");
    return siam_cuda_gather_queue(ctx, out, images, idx, n, pixels, mean, std,
                                  SIAM_CUDA_FAULT_GATHER);
}
