/* Binary cross-entropy on probabilities, mean reduction, on the GPU
 * (torch.nn.BCELoss: each log clamped at -100; backward denominator clamped
 * at 1e-12, ATen's binary_cross_entropy_backward). Both passes work in
 * double, as kernels/cpu/bce.c. The forward reduces on the device and
 * copies back one sum and one index (step_report, kernels/cuda/report.cu,
 * makes the same reduction part of a step's one readback). */
#include "kernels/cuda/cuda.h"

#define BCE_THREADS 256

/* One block: the batch is a few dozen to a few thousand values. Writes the
 * sum and the first p outside [0, 1] into the scalars' header, and copies p
 * to copy_to (step_report's readback area) when it is not NULL. */
static __global__ void bce_forward_kernel(siam_cuda_scalars *res, const float *p, const float *y,
                                          size_t n, float *copy_to)
{
    __shared__ double sum[BCE_THREADS];
    __shared__ unsigned long long bad[BCE_THREADS];
    double s = 0.0;
    unsigned long long b = SIAM_CUDA_NO_FAULT;
    for (size_t i = threadIdx.x; i < n; i += BCE_THREADS) {
        float pf = p[i];
        if (copy_to)
            copy_to[i] = pf;
        double pi = pf, yi = y[i];
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
        res->bce_sum = sum[0];
        res->bce_bad = bad[0];
    }
}

int siam_cuda_bce_queue(siam_ctx *ctx, const float *p, const float *y, size_t n, float *copy_to)
{
    bce_forward_kernel<<<1, BCE_THREADS, 0, ctx->stream>>>((siam_cuda_scalars *)ctx->dev_scalars,
                                                           p, y, n, copy_to);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
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
    const siam_cuda_scalars *hres = (const siam_cuda_scalars *)ctx->host_scalars;
    if (siam_cuda_bce_queue(ctx, p, y, n, NULL) || siam_cuda_readback(ctx, sizeof *hres))
        return -1;
    if (hres->bce_bad != SIAM_CUDA_NO_FAULT) {
        size_t i = (size_t)hres->bce_bad;
        float pi = 0.0f;
        SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(&pi, p + i, sizeof pi, cudaMemcpyDeviceToHost,
                                             ctx->stream));
        SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
        return siam_cuda_fail(ctx, "bce_forward: probability %zu is %g, outside [0, 1]", i,
                              (double)pi);
    }
    *loss_host = (float)(-hres->bce_sum / (double)n);
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
