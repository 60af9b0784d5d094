/* Row-wise L2 normalisation and its gradient on the GPU (kernels/ops.h);
 * kernels/cpu/l2norm.c is the twin. One block per row; the row's sums are
 * reduced in shared memory in double, as the CPU sums them. */
#include "kernels/cuda/cuda.h"

#define L2_THREADS 256

/* The sums of x*x and x*g over one row, for every thread (g may be NULL). */
static __device__ void row_sums(double *s, double *red, const float *x, const float *g, int D)
{
    double xx = 0.0, xg = 0.0;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        xx += (double)x[d] * x[d];
        if (g)
            xg += (double)x[d] * g[d];
    }
    red[threadIdx.x] = xx;
    red[L2_THREADS + threadIdx.x] = xg;
    __syncthreads();
    for (int half = L2_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) {
            red[threadIdx.x] += red[threadIdx.x + half];
            red[L2_THREADS + threadIdx.x] += red[L2_THREADS + threadIdx.x + half];
        }
        __syncthreads();
    }
    s[0] = red[0];
    s[1] = red[L2_THREADS];
}

static __global__ void l2_forward_kernel(float *out, const float *x, int D, float eps)
{
    __shared__ double red[2 * L2_THREADS];
    size_t r = blockIdx.x;
    double s[2];
    row_sums(s, red, x + r * D, NULL, D);
    double inv = 1.0 / fmax(sqrt(s[0]), (double)eps);
    for (int d = threadIdx.x; d < D; d += blockDim.x)
        out[r * D + d] = (float)(x[r * D + d] * inv);
}

static __global__ void l2_backward_kernel(float *dx, const float *dout, const float *x, int D,
                                          float eps)
{
    __shared__ double red[2 * L2_THREADS];
    size_t r = blockIdx.x;
    const float *xr = x + r * D, *g = dout + r * D;
    double s[2];
    row_sums(s, red, xr, g, D);
    double n = sqrt(s[0]);
    int clamped = !(n > (double)eps);
    double yg = clamped ? 0.0 : s[1] / n;
    for (int d = threadIdx.x; d < D; d += blockDim.x)
        dx[r * D + d] = clamped ? (float)(g[d] / (double)eps)
                                : (float)((g[d] - xr[d] / n * yg) / n);
}

int siam_cuda_l2_normalize_forward(siam_ctx *ctx, float *out, const float *x, int N, int D,
                                   float eps)
{
    if (siam_check_l2_normalize(&ctx->err, "l2_normalize_forward", N, D, eps))
        return -1;
    if (N == 0)
        return 0;
    if (!out || !x)
        return siam_cuda_fail(ctx, "l2_normalize_forward: NULL buffer");
    l2_forward_kernel<<<N, L2_THREADS, 0, ctx->stream>>>(out, x, D, eps);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_l2_normalize_backward(siam_ctx *ctx, float *dx, const float *dout, const float *x,
                                    int N, int D, float eps)
{
    if (siam_check_l2_normalize(&ctx->err, "l2_normalize_backward", N, D, eps))
        return -1;
    if (N == 0)
        return 0;
    if (!dx || !dout || !x)
        return siam_cuda_fail(ctx, "l2_normalize_backward: NULL buffer");
    l2_backward_kernel<<<N, L2_THREADS, 0, ctx->stream>>>(dx, dout, x, D, eps);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
