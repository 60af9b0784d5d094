/* Binary cross-entropy on probabilities, mean reduction, on the GPU
 * (torch.nn.BCELoss: each log clamped at -100; backward denominator clamped
 * at 1e-12, ATen's binary_cross_entropy_backward). Both passes work in
 * double, as kernels/cpu/bce.c. The forward reduces on the device and
 * copies back one sum and one index: the only transfer of a training step. */
#include "kernels/cuda/cuda.h"

#define BCE_THREADS 256
#define BCE_NO_BAD 0xFFFFFFFFFFFFFFFFull

/* What the reduction leaves in ctx->dev_scalars. */
typedef struct bce_result {
    double sum;              /* sum of y log p + (1 - y) log(1 - p) */
    unsigned long long bad;  /* first p outside [0, 1], or BCE_NO_BAD */
} bce_result;

/* One block: the batch is a few dozen to a few thousand values. */
static __global__ void bce_forward_kernel(bce_result *res, const float *p, const float *y,
                                          size_t n)
{
    __shared__ double sum[BCE_THREADS];
    __shared__ unsigned long long bad[BCE_THREADS];
    double s = 0.0;
    unsigned long long b = BCE_NO_BAD;
    for (size_t i = threadIdx.x; i < n; i += BCE_THREADS) {
        double pi = p[i], yi = y[i];
        if (!(pi >= 0.0 && pi <= 1.0)) {
            if (i < b)
                b = i;
            continue;
        }
        double lp = fmax(log(pi), -100.0);
        double lq = fmax(log1p(-pi), -100.0);
        s += yi * lp + (1.0 - yi) * lq;
    }
    sum[threadIdx.x] = s;
    bad[threadIdx.x] = b;
    __syncthreads();
    for (int half = BCE_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) {
            sum[threadIdx.x] += sum[threadIdx.x + half];
            if (bad[threadIdx.x + half] < bad[threadIdx.x])
                bad[threadIdx.x] = bad[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        res->sum = sum[0];
        res->bad = bad[0];
    }
}

static __global__ void bce_backward_kernel(float *dp, const float *p, const float *y, size_t n,
                                           float dloss)
{
    SIAM_CUDA_FOR(i, n) {
        double pi = p[i];
        double den = fmax(pi * (1.0 - pi), 1e-12);
        dp[i] = (float)((double)dloss * (pi - y[i]) / den / (double)n);
    }
}

int siam_cuda_bce_forward(siam_ctx *ctx, float *loss_host, const float *p, const float *y,
                          size_t n)
{
    if (n == 0)
        return siam_cuda_fail(ctx, "bce_forward: empty batch (n = 0)");
    if (!loss_host || !p || !y)
        return siam_cuda_fail(ctx, "bce_forward: NULL buffer");
    bce_result *dres = (bce_result *)ctx->dev_scalars;
    bce_result *hres = (bce_result *)ctx->host_scalars;
    bce_forward_kernel<<<1, BCE_THREADS, 0, ctx->stream>>>(dres, p, y, n);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(hres, dres, sizeof *hres, cudaMemcpyDeviceToHost,
                                         ctx->stream));
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    if (hres->bad != BCE_NO_BAD) {
        size_t i = (size_t)hres->bad;
        float pi = 0.0f;
        SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(&pi, p + i, sizeof pi, cudaMemcpyDeviceToHost,
                                             ctx->stream));
        SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
        return siam_cuda_fail(ctx, "bce_forward: probability %zu is %g, outside [0, 1]", i,
                              (double)pi);
    }
    *loss_host = (float)(-hres->sum / (double)n);
    return 0;
}

int siam_cuda_bce_backward(siam_ctx *ctx, float *dp, const float *p, const float *y, size_t n,
                           float dloss)
{
    if (n == 0)
        return siam_cuda_fail(ctx, "bce_backward: empty batch (n = 0)");
    if (!dp || !p || !y)
        return siam_cuda_fail(ctx, "bce_backward: NULL buffer");
    bce_backward_kernel<<<siam_cuda_blocks(n), SIAM_CUDA_THREADS, 0, ctx->stream>>>(dp, p, y, n,
                                                                                   dloss);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
