/* The batch-hard triplet loss with the cosine distance, and its gradient,
 * on the GPU (kernels/ops.h); kernels/cpu/triplet.c is the twin. The
 * forward writes every pairwise distance (double) to the workspace, then
 * one block picks each anchor's hardest partners and reduces the loss into
 * the context's scalars, read back once. The backward gathers: one block
 * per row adds up, in anchor order, every term in which that row appears,
 * so no two threads write one value. */
#include "kernels/cuda/cuda.h"

#define TRIPLET_THREADS 256

static __global__ void distance_kernel(double *dist, const float *e, int N, int D)
{
    SIAM_CUDA_FOR(k, (size_t)N * N) {
        const float *a = e + (k / N) * D, *b = e + (k % N) * D;
        double s = 0.0;
        for (int d = 0; d < D; d++)
            s += (double)a[d] * b[d];
        dist[k] = 1.0 - s;
    }
}

static __device__ double softplus(double x)
{
    return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

static __global__ void hardest_kernel(siam_cuda_scalars *res, int32_t *hard, const double *dist,
                                      const int32_t *labels, int N, float margin, int soft)
{
    __shared__ double sum[TRIPLET_THREADS];
    __shared__ unsigned long long cnt[TRIPLET_THREADS];
    double s = 0.0;
    unsigned long long c = 0;
    for (int a = threadIdx.x; a < N; a += blockDim.x) {
        int p = -1, n = -1;
        double dp = 0.0, dn = 0.0;
        for (int j = 0; j < N; j++) {
            if (j == a)
                continue;
            double d = dist[(size_t)a * N + j];
            if (labels[j] == labels[a]) {
                if (p < 0 || d > dp)
                    p = j, dp = d;
            } else if (n < 0 || d < dn) {
                n = j, dn = d;
            }
        }
        int ok = p >= 0 && n >= 0;
        hard[2 * a] = ok ? p : -1;
        hard[2 * a + 1] = ok ? n : -1;
        if (ok) {
            double x = dp - dn + margin;
            s += soft ? softplus(x) : fmax(x, 0.0);
            c++;
        }
    }
    sum[threadIdx.x] = s;
    cnt[threadIdx.x] = c;
    __syncthreads();
    for (int half = TRIPLET_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) {
            sum[threadIdx.x] += sum[threadIdx.x + half];
            cnt[threadIdx.x] += cnt[threadIdx.x + half];
        }
        __syncthreads();
    }
    if (threadIdx.x == 0) {
        res->loss_sum = sum[0];
        res->loss_count = cnt[0];
    }
}

/* scale[a] = dloss * l_a'(x_a) / (anchors with both partners), 0 for the
 * others; one block. */
static __global__ void scale_kernel(double *scale, const int32_t *hard, const float *e, int N,
                                    int D, float margin, int soft, float dloss)
{
    __shared__ int cnt[TRIPLET_THREADS];
    int c = 0;
    for (int a = threadIdx.x; a < N; a += blockDim.x)
        c += hard[2 * a] >= 0 && hard[2 * a] < N && hard[2 * a + 1] >= 0 && hard[2 * a + 1] < N;
    cnt[threadIdx.x] = c;
    __syncthreads();
    for (int half = TRIPLET_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half)
            cnt[threadIdx.x] += cnt[threadIdx.x + half];
        __syncthreads();
    }
    int valid = cnt[0];
    for (int a = threadIdx.x; a < N; a += blockDim.x) {
        int p = hard[2 * a], n = hard[2 * a + 1];
        if (p < 0 || p >= N || n < 0 || n >= N) {
            scale[a] = 0.0;
            continue;
        }
        const float *ea = e + (size_t)a * D, *ep = e + (size_t)p * D, *en = e + (size_t)n * D;
        double ap = 0.0, an = 0.0;
        for (int d = 0; d < D; d++) {
            ap += (double)ea[d] * ep[d];
            an += (double)ea[d] * en[d];
        }
        double x = (1.0 - ap) - (1.0 - an) + margin;
        double g = soft ? 1.0 / (1.0 + exp(-x)) : x > 0.0 ? 1.0 : 0.0;
        scale[a] = (double)dloss * g / valid;
    }
}

static __global__ void gather_kernel(float *de, const double *scale, const int32_t *hard,
                                     const float *e, int N, int D)
{
    int i = blockIdx.x;
    for (int d = threadIdx.x; d < D; d += blockDim.x) {
        double acc = 0.0;
        for (int a = 0; a < N; a++) {
            double s = scale[a];
            if (s == 0.0)
                continue;
            int p = hard[2 * a], n = hard[2 * a + 1];
            if (a == i)
                acc += s * ((double)e[(size_t)n * D + d] - e[(size_t)p * D + d]);
            if (p == i)
                acc -= s * e[(size_t)a * D + d];
            if (n == i)
                acc += s * e[(size_t)a * D + d];
        }
        de[(size_t)i * D + d] += (float)acc;
    }
}

int siam_cuda_triplet_hard_forward(siam_ctx *ctx, float *loss_host, int32_t *hard,
                                   const float *e, const int32_t *labels, int N, int D,
                                   float margin, int soft)
{
    if (siam_check_triplet(&ctx->err, "triplet_hard_forward", N, D, margin, soft))
        return -1;
    if (!loss_host || (N && (!hard || !e || !labels)))
        return siam_cuda_fail(ctx, "triplet_hard_forward: NULL buffer");
    if (N == 0) {
        *loss_host = 0.0f;
        return 0;
    }
    void *ws;
    if (siam_cuda_workspace(ctx, (size_t)N * N * sizeof(double), &ws))
        return -1;
    int blocks = (int)(((size_t)N * N + SIAM_CUDA_THREADS - 1) / SIAM_CUDA_THREADS);
    blocks = blocks < SIAM_CUDA_MAX_BLOCKS ? blocks : SIAM_CUDA_MAX_BLOCKS;
    distance_kernel<<<blocks, SIAM_CUDA_THREADS, 0, ctx->stream>>>((double *)ws, e, N, D);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    hardest_kernel<<<1, TRIPLET_THREADS, 0, ctx->stream>>>(
        (siam_cuda_scalars *)ctx->dev_scalars, hard, (const double *)ws, labels, N, margin, soft);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    const siam_cuda_scalars *h = (const siam_cuda_scalars *)ctx->host_scalars;
    if (siam_cuda_readback(ctx, sizeof *h))
        return -1;
    *loss_host = h->loss_count ? (float)(h->loss_sum / (double)h->loss_count) : 0.0f;
    return 0;
}

int siam_cuda_triplet_hard_backward(siam_ctx *ctx, float *de, const int32_t *hard,
                                    const float *e, int N, int D, float margin, int soft,
                                    float dloss)
{
    if (siam_check_triplet(&ctx->err, "triplet_hard_backward", N, D, margin, soft))
        return -1;
    if (N == 0)
        return 0;
    if (!de || !hard || !e)
        return siam_cuda_fail(ctx, "triplet_hard_backward: NULL buffer");
    void *ws;
    if (siam_cuda_workspace(ctx, (size_t)N * sizeof(double), &ws))
        return -1;
    scale_kernel<<<1, TRIPLET_THREADS, 0, ctx->stream>>>((double *)ws, hard, e, N, D, margin,
                                                         soft, dloss);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    gather_kernel<<<N, TRIPLET_THREADS, 0, ctx->stream>>>(de, (const double *)ws, hard, e, N, D);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
