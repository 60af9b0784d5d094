/* The identity heads' loss on the GPU (siam_ops.margin_softmax;
 * kernels/margin.h has the logit rule); kernels/cpu/margin_softmax.c is the
 * twin. The three products with the C x D class weights are cuBLAS SGEMMs
 * (column-major: each row-major product is written as its transpose, as in
 * linear.cu); norms, log-sum-exp and the loss are in double, one block per
 * row. The loss and the first bad label come back in one readback, before
 * any gradient is touched, so a bad label leaves dE and dW as they were. */
#include "kernels/cuda/cuda.h"

#define MARGIN_THREADS 256

/* Sum over a block of MARGIN_THREADS threads; every thread gets it. */
static __device__ double block_sum(double v, double *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int half = MARGIN_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half)
            sh[threadIdx.x] += sh[threadIdx.x + half];
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

static __device__ double block_max(double v, double *sh)
{
    sh[threadIdx.x] = v;
    __syncthreads();
    for (int half = MARGIN_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half)
            sh[threadIdx.x] = fmax(sh[threadIdx.x], sh[threadIdx.x + half]);
        __syncthreads();
    }
    double r = sh[0];
    __syncthreads();
    return r;
}

/* One block per row: xhat = x / max(|x|, eps), norm = |x|. */
static __global__ void normalize_rows_kernel(float *xhat, double *norm, const float *x, int D)
{
    __shared__ double sh[MARGIN_THREADS];
    const float *xr = x + (size_t)blockIdx.x * D;
    double s2 = 0.0;
    for (int k = threadIdx.x; k < D; k += MARGIN_THREADS)
        s2 += (double)xr[k] * xr[k];
    double n = sqrt(block_sum(s2, sh));
    if (threadIdx.x == 0)
        norm[blockIdx.x] = n;
    double inv = 1.0 / fmax(n, SIAM_MARGIN_NORM_EPS);
    float *o = xhat + (size_t)blockIdx.x * D;
    for (int k = threadIdx.x; k < D; k += MARGIN_THREADS)
        o[k] = (float)(xr[k] * inv);
}

/* One block per row: dx += (dxhat - xhat (xhat . dxhat)) / |x|, or
 * dxhat / eps where the floor acts. */
static __global__ void normalize_backward_kernel(float *dx, const float *dxhat,
                                                 const float *xhat, const double *norm, int D)
{
    __shared__ double sh[MARGIN_THREADS];
    size_t r = blockIdx.x;
    const float *g = dxhat + r * D, *u = xhat + r * D;
    int floored = !(norm[r] > SIAM_MARGIN_NORM_EPS);
    double dot = 0.0;
    if (!floored)
        for (int k = threadIdx.x; k < D; k += MARGIN_THREADS)
            dot += (double)u[k] * g[k];
    dot = block_sum(dot, sh);
    double inv = 1.0 / fmax(norm[r], SIAM_MARGIN_NORM_EPS);
    for (int k = threadIdx.x; k < D; k += MARGIN_THREADS)
        dx[r * D + k] += (float)(inv * (g[k] - dot * u[k]));
}

/* One block per row i of z (N,C): cosines (raw logits for softmax) in,
 * d loss / d z out; row_loss[i] = lse - z_y. A bad label records the
 * lowest (row, label) word in *bad and zeroes the row. */
static __global__ void softmax_rows_kernel(double *row_loss, unsigned long long *bad, float *z,
                                           const int32_t *labels, int C, int kind, double s,
                                           double m, double scale)
{
    __shared__ double sh[MARGIN_THREADS];
    int i = blockIdx.x;
    float *zr = z + (size_t)i * C;
    int y = labels[i];
    if (y < 0 || y >= C) {
        if (threadIdx.x == 0) {
            atomicMin(bad, ((unsigned long long)i << 32) | (uint32_t)y);
            row_loss[i] = 0.0;
        }
        for (int j = threadIdx.x; j < C; j += MARGIN_THREADS)
            zr[j] = 0.0f;
        return;
    }
    double dzy, zy = siam_margin_target(kind, s, m, zr[y], &dzy);
    double mx = zy;
    for (int j = threadIdx.x; j < C; j += MARGIN_THREADS)
        if (j != y)
            mx = fmax(mx, siam_margin_other(kind, s, zr[j]));
    mx = block_max(mx, sh);
    double sum = 0.0;
    for (int j = threadIdx.x; j < C; j += MARGIN_THREADS)
        sum += exp((j == y ? zy : siam_margin_other(kind, s, zr[j])) - mx);
    double lse = mx + log(block_sum(sum, sh));
    if (threadIdx.x == 0)
        row_loss[i] = lse - zy;
    double ds = kind == SIAM_MARGIN_SOFTMAX ? 1.0 : s;
    for (int j = threadIdx.x; j < C; j += MARGIN_THREADS) {
        if (j == y)
            zr[j] = (float)(scale * (exp(zy - lse) - 1.0) * dzy);
        else
            zr[j] = (float)(scale * exp(siam_margin_other(kind, s, zr[j]) - lse) * ds);
    }
}

/* One block: the rows' losses summed in order of index, as the CPU does. */
static __global__ void loss_sum_kernel(siam_cuda_scalars *res, const double *row_loss, int N)
{
    if (threadIdx.x != 0)
        return;
    double t = 0.0;
    for (int i = 0; i < N; i++)
        t += row_loss[i];
    res->margin_sum = t;
}

static size_t aligned(size_t bytes)
{
    return (bytes + SIAM_DEVICE_ALIGN - 1) / SIAM_DEVICE_ALIGN * SIAM_DEVICE_ALIGN;
}

int siam_cuda_margin_softmax(siam_ctx *ctx, float *loss_host, float *dE, float *dW,
                             const float *E, const int32_t *labels, const float *W, int N, int D,
                             int C, int kind, float s, float m, float dloss)
{
    if (siam_check_margin_softmax(&ctx->err, N, D, C, kind, s, m))
        return -1;
    if (!loss_host || !E || !labels || !W)
        return siam_cuda_fail(ctx, "margin_softmax: NULL buffer");
    int normed = kind != SIAM_MARGIN_SOFTMAX;
    size_t n = (size_t)N, d = (size_t)D, c = (size_t)C;
    size_t b_dbl = aligned((2 * n + c) * sizeof(double)), b_nc = aligned(n * c * sizeof(float));
    size_t b_nd = normed ? aligned(n * d * sizeof(float)) : 0;
    size_t b_cd = normed ? aligned(c * d * sizeof(float)) : 0;
    void *ws = NULL;
    if (siam_cuda_workspace(ctx, b_dbl + b_nc + 2 * b_nd + 2 * b_cd, &ws))
        return -1;
    char *p = (char *)ws;
    double *row_loss = (double *)p, *enorm = row_loss + n, *wnorm = enorm + n;
    float *z = (float *)(p + b_dbl);
    float *ehat = (float *)(p + b_dbl + b_nc), *dehat = (float *)(p + b_dbl + b_nc + b_nd);
    float *what = (float *)(p + b_dbl + b_nc + 2 * b_nd);
    float *dwhat = (float *)(p + b_dbl + b_nc + 2 * b_nd + b_cd);
    const float *e = E, *w = W;
    if (normed) {
        normalize_rows_kernel<<<N, MARGIN_THREADS, 0, ctx->stream>>>(ehat, enorm, E, D);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
        normalize_rows_kernel<<<C, MARGIN_THREADS, 0, ctx->stream>>>(what, wnorm, W, D);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
        e = ehat;
        w = what;
    }
    const float one = 1.0f, zero = 0.0f;
    /* z (N,C) = e (N,D) * w^T; column-major z^T (C,N) = w (op T) * e^T. */
    SIAM_CUBLAS_CHECK(ctx, cublasSgemm(ctx->blas, CUBLAS_OP_T, CUBLAS_OP_N, C, N, D, &one, w, D,
                                       e, D, &zero, z, C));
    siam_cuda_scalars *dres = (siam_cuda_scalars *)ctx->dev_scalars;
    SIAM_CUDA_CHECK(ctx, cudaMemsetAsync(&dres->margin_bad, 0xFF, sizeof dres->margin_bad,
                                         ctx->stream));
    softmax_rows_kernel<<<N, MARGIN_THREADS, 0, ctx->stream>>>(
        row_loss, &dres->margin_bad, z, labels, C, kind, s, m, (double)dloss / N);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    loss_sum_kernel<<<1, 32, 0, ctx->stream>>>(dres, row_loss, N);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    if (siam_cuda_readback(ctx, sizeof(siam_cuda_scalars)))
        return -1;
    const siam_cuda_scalars *hres = (const siam_cuda_scalars *)ctx->host_scalars;
    if (hres->margin_bad != SIAM_CUDA_NO_FAULT)
        return siam_fail_margin_label(&ctx->err, (int)(hres->margin_bad >> 32),
                                      (int)(int32_t)(uint32_t)(hres->margin_bad & 0xFFFFFFFFu),
                                      C);
    *loss_host = (float)(hres->margin_sum / N);
    const float beta = normed ? 0.0f : 1.0f;
    if (dE) {
        /* dE (N,D) += g (N,C) * w (C,D); column-major dE^T (D,N) = w^T (D,C;
         * w's storage as is) * g^T (C,N). */
        SIAM_CUBLAS_CHECK(ctx, cublasSgemm(ctx->blas, CUBLAS_OP_N, CUBLAS_OP_N, D, N, C, &one, w,
                                           D, z, C, &beta, normed ? dehat : dE, D));
    }
    if (dW) {
        /* dW (C,D) += g^T (C,N) * e (N,D); column-major dW^T (D,C) = e^T
         * (D,N) * g (N,C), g's storage being g^T: op T. */
        SIAM_CUBLAS_CHECK(ctx, cublasSgemm(ctx->blas, CUBLAS_OP_N, CUBLAS_OP_T, D, C, N, &one, e,
                                           D, z, C, &beta, normed ? dwhat : dW, D));
    }
    if (normed && dE) {
        normalize_backward_kernel<<<N, MARGIN_THREADS, 0, ctx->stream>>>(dE, dehat, ehat, enorm,
                                                                         D);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
    }
    if (normed && dW) {
        normalize_backward_kernel<<<C, MARGIN_THREADS, 0, ctx->stream>>>(dW, dwhat, what, wnorm,
                                                                         D);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
    }
    return 0;
}
