/* Batch assembly with augmentation on the GPU, bit-identical to
 * kernels/cpu/augment.c: the per-image parameters are drawn on the host by
 * the same code as the CPU's (siam_augment_draw_chunk; nvcc's host pass does
 * not contract multiply-adds, and sinf/cosf are the C library's), and reach
 * the kernel as launch arguments, so no transfer or wait is added; the
 * pixels are sampled by siam_augment_pixel, shared with the CPU, in a file
 * compiled with -fmad=false (Makefile) so that nvcc does not fuse its
 * multiply-adds either. The division by 255 and by std is IEEE division on
 * both (nvcc's default -prec-div=true). */
#include "kernels/cuda/cuda.h"

/* Images per launch: their parameters travel in the launch arguments,
 * which the CUDA runtime caps at 4 KiB on every device it supports. */
#define AUGMENT_CHUNK 64

typedef struct augment_chunk {
    siam_augment_params p[AUGMENT_CHUNK];
} augment_chunk;

static_assert(sizeof(augment_chunk) + 64 <= 4096, "a chunk fits in a launch's arguments");

/* Grid (pixel blocks, images of the chunk starting at image `first`). A
 * negative index reads nothing, as in gather_normalize: the image becomes
 * zeros and the fault is left for the next readback. */
static __global__ void augment_batch_kernel(float *out, unsigned long long *fault,
                                            const uint8_t *images, const int32_t *idx, int first,
                                            int H, int W, augment_chunk params, float mean,
                                            float std)
{
    int c = (int)blockIdx.y, i = first + c;
    size_t pixels = (size_t)H * W;
    float *dst = out + (size_t)i * pixels;
    int32_t id = idx[i];
    size_t j0 = blockIdx.x * (size_t)blockDim.x + threadIdx.x, step = (size_t)gridDim.x * blockDim.x;
    if (id < 0) {
        if (j0 == 0)
            atomicMin(fault, siam_cuda_fault_pack(SIAM_CUDA_FAULT_AUGMENT, i, id));
        for (size_t j = j0; j < pixels; j += step)
            dst[j] = 0.0f;
        return;
    }
    const uint8_t *src = images + (size_t)id * pixels;
    const siam_augment_params *p = &params.p[c];
    for (size_t j = j0; j < pixels; j += step) {
        int y = (int)(j / (size_t)W), x = (int)(j % (size_t)W);
        dst[j] = (siam_augment_pixel(src, H, W, p, x, y) - mean) / std;
    }
}

int siam_cuda_augment_batch(siam_ctx *ctx, float *out, const uint8_t *images, const int32_t *idx,
                            int n, int H, int W, const siam_augment *aug, uint64_t seed,
                            uint64_t offset, float mean, float std)
{
    if (siam_check_augment(&ctx->err, n, H, W, std))
        return -1;
    if (n && (!out || !images || !idx))
        return siam_cuda_fail(ctx, "augment_batch: NULL buffer");
    if (siam_augment_bad(aug))
        return siam_cuda_fail(ctx, SIAM_AUGMENT_BAD_FMT, SIAM_AUGMENT_BAD_ARGS(aug));
    if (n >= SIAM_CUDA_MAX_IMAGES)
        return siam_cuda_fail(ctx, "augment_batch: %d images, at most %d", n,
                              SIAM_CUDA_MAX_IMAGES - 1);
    if (n == 0)
        return 0;
    /* Without augmentation this is gather_normalize, bit for bit. */
    if (aug == NULL || !aug->enabled)
        return siam_cuda_gather_queue(ctx, out, images, idx, n, H * W, mean, std,
                                      SIAM_CUDA_FAULT_AUGMENT);
    unsigned bx = siam_cuda_blocks((size_t)H * W);
    for (int first = 0; first < n; first += AUGMENT_CHUNK) {
        int count = n - first < AUGMENT_CHUNK ? n - first : AUGMENT_CHUNK;
        augment_chunk chunk;
        siam_augment_draw_chunk(aug, seed, offset, first, count, H, W, chunk.p);
        augment_batch_kernel<<<dim3(bx, (unsigned)count), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
            out, (unsigned long long *)ctx->dev_scalars, images, idx, first, H, W, chunk, mean,
            std);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
    }
    return 0;
}
