/* Batch assembly on the GPU from the uint8 image bank that lives on the
 * device: images picked by a device index array, scaled to [0, 1] and
 * normalised (torchvision's ToTensor + Normalize), as kernels/cpu/batch.c,
 * optionally distorted first by the shared helpers of kernels/augment.h, as
 * kernels/cpu/augment.c. The step loop uploads only the few indices of each
 * batch. */
#include "kernels/cuda/cuda.h"

/* The first negative index, as (position, value), or (-1, 0): one block,
 * the batch is small. */
static __global__ void first_negative_kernel(int32_t *res, const int32_t *idx, int n)
{
    __shared__ int first[SIAM_CUDA_THREADS];
    int f = n;
    for (int i = threadIdx.x; i < n; i += SIAM_CUDA_THREADS)
        if (idx[i] < 0 && i < f)
            f = i;
    first[threadIdx.x] = f;
    __syncthreads();
    for (int half = SIAM_CUDA_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half && first[threadIdx.x + half] < first[threadIdx.x])
            first[threadIdx.x] = first[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        res[0] = first[0] < n ? first[0] : -1;
        res[1] = first[0] < n ? idx[first[0]] : 0;
    }
}

/* Refuses a negative index with the CPU's message. The indices live on the
 * device, so this costs one 8-byte read-back; a training step has just
 * synchronised on its loss, so the stream is idle and the wait is the
 * round trip alone. */
static int check_indices(siam_ctx *ctx, const char *fn, const int32_t *idx, int n)
{
    int32_t *dres = (int32_t *)ctx->dev_scalars;
    int32_t *hres = (int32_t *)ctx->host_scalars;
    first_negative_kernel<<<1, SIAM_CUDA_THREADS, 0, ctx->stream>>>(dres, idx, n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(hres, dres, 2 * sizeof(int32_t), cudaMemcpyDeviceToHost,
                                         ctx->stream));
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    if (hres[0] >= 0)
        return siam_cuda_fail(ctx, "%s: idx[%d] = %d is negative", fn, (int)hres[0],
                              (int)hres[1]);
    return 0;
}

static __global__ void gather_normalize_kernel(float *out, const uint8_t *images,
                                               const int32_t *idx, int n, int pixels, float mean,
                                               float std)
{
    size_t total = (size_t)n * pixels;
    SIAM_CUDA_FOR(k, total) {
        size_t i = k / (size_t)pixels, j = k % (size_t)pixels;
        out[k] = ((float)images[(size_t)idx[i] * pixels + j] / 255.0f - mean) / std;
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
    if (check_indices(ctx, "gather_normalize", idx, n))
        return -1;
    size_t total = (size_t)n * pixels;
    gather_normalize_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        out, images, idx, n, pixels, mean, std);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

/* Images per launch along grid y (its limit is 65535). */
#define AUGMENT_MAX_IMAGES 65535

/* Grid (pixel blocks, images): each block draws its image's parameters
 * once into shared memory (a few Philox words and a sine and cosine), then
 * its threads sample their pixels. The draw depends only on (settings,
 * seed, offset + slot), so it does not matter which block makes it. */
static __global__ void augment_batch_kernel(float *out, const uint8_t *images, const int32_t *idx,
                                            int first, int H, int W, siam_augment aug,
                                            uint64_t seed, uint64_t offset, float mean, float std)
{
    __shared__ siam_augment_params p;
    int i = first + (int)blockIdx.y;
    if (threadIdx.x == 0)
        siam_augment_draw(&aug, seed, offset + (uint64_t)i, H, W, &p);
    __syncthreads();
    size_t pixels = (size_t)H * W;
    const uint8_t *src = images + (size_t)idx[i] * pixels;
    float *dst = out + (size_t)i * pixels;
    for (size_t j = blockIdx.x * (size_t)blockDim.x + threadIdx.x; j < pixels;
         j += (size_t)gridDim.x * blockDim.x) {
        int y = (int)(j / (size_t)W), x = (int)(j % (size_t)W);
        dst[j] = (siam_augment_pixel(src, H, W, &p, x, y) - mean) / std;
    }
}

int siam_cuda_augment_batch(siam_ctx *ctx, float *out, const uint8_t *images, const int32_t *idx,
                            int n, int H, int W, const siam_augment *aug, uint64_t seed,
                            uint64_t offset, float mean, float std)
{
    if (n < 0 || H < 1 || W < 1)
        return siam_cuda_fail(ctx, "augment_batch: bad sizes n=%d H=%d W=%d", n, H, W);
    if (!(std > 0.0f))
        return siam_cuda_fail(ctx, "augment_batch: std must be > 0, got %g", (double)std);
    if (n && (!out || !images || !idx))
        return siam_cuda_fail(ctx, "augment_batch: NULL buffer");
    if (aug && aug->enabled
        && (!(aug->p_component >= 0.0f && aug->p_component <= 1.0f)
            || !(aug->p_flip >= 0.0f && aug->p_flip <= 1.0f)
            || !(aug->scale_min > 0.0f && aug->scale_min <= aug->scale_max)))
        return siam_cuda_fail(ctx,
                              "augment_batch: bad settings p_component=%g p_flip=%g "
                              "scale=[%g, %g] (probabilities in [0, 1], 0 < min <= max)",
                              (double)aug->p_component, (double)aug->p_flip,
                              (double)aug->scale_min, (double)aug->scale_max);
    if (n == 0)
        return 0;
    if (check_indices(ctx, "augment_batch", idx, n))
        return -1;
    /* Without augmentation this is gather_normalize, bit for bit. */
    if (aug == NULL || !aug->enabled) {
        size_t total = (size_t)n * H * W;
        gather_normalize_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
            out, images, idx, n, H * W, mean, std);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
        return 0;
    }
    size_t pixels = (size_t)H * W;
    unsigned bx = siam_cuda_blocks(pixels);
    for (int first = 0; first < n; first += AUGMENT_MAX_IMAGES) {
        int count = n - first < AUGMENT_MAX_IMAGES ? n - first : AUGMENT_MAX_IMAGES;
        dim3 grid(bx, (unsigned)count);
        augment_batch_kernel<<<grid, SIAM_CUDA_THREADS, 0, ctx->stream>>>(
            out, images, idx, first, H, W, *aug, seed, offset, mean, std);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
    }
    return 0;
}
