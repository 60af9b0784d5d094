/* Batch norm with kernels of our own, the alternative to cuDNN's in
 * batchnorm.cu (chosen with SIAM_CUDA_BATCHNORM=own, see ctx.cu). It is the
 * CPU twin's arithmetic (kernels/cpu/batchnorm.c) spread over the GPU:
 * two-pass statistics summed in double, (x - mean) taken in double, and the
 * _rn intrinsics so no multiply-add is fused where the C code does not fuse
 * either. Results then match the CPU to the order of the double sums.
 *
 * Each channel's N*HW values are cut into `split` slices, one block each
 * (grid: slices x channels), so that a few channels still fill the GPU; each
 * block writes its partial sums, and a per-channel step adds them in a fixed
 * order. No atomics: the result is the same on every run. */
#include <math.h>

#include "kernels/cuda/cuda.h"

#define BN_THREADS 256
#define BN_MAX_SPLIT 64
/* Values per block at least, before a channel is split further. */
#define BN_PER_BLOCK 4096

typedef struct bn_grid {
    int C, HW;
    size_t M;     /* values per channel: N*HW */
    int split;    /* blocks per channel */
    size_t chunk; /* values per block */
} bn_grid;

static bn_grid bn_grid_of(int N, int C, int HW)
{
    bn_grid g;
    g.C = C;
    g.HW = HW;
    g.M = (size_t)N * HW;
    size_t s = (g.M + BN_PER_BLOCK - 1) / BN_PER_BLOCK;
    g.split = (int)(s < 1 ? 1 : s > BN_MAX_SPLIT ? BN_MAX_SPLIT : s);
    g.chunk = (g.M + g.split - 1) / g.split;
    return g;
}

/* Value k (0..M-1) of channel c in an (N, C, HW) tensor. */
static __device__ __forceinline__ size_t bn_at(const bn_grid &g, int c, size_t k)
{
    size_t n = k / (size_t)g.HW, i = k % (size_t)g.HW;
    return (n * g.C + c) * g.HW + i;
}

/* Sums a and b over the block; thread 0 gets the totals. */
static __device__ void bn_block_sum2(double *a, double *b)
{
    __shared__ double sa[BN_THREADS], sb[BN_THREADS];
    sa[threadIdx.x] = *a;
    sb[threadIdx.x] = *b;
    __syncthreads();
    for (int half = BN_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half) {
            sa[threadIdx.x] += sa[threadIdx.x + half];
            sb[threadIdx.x] += sb[threadIdx.x + half];
        }
        __syncthreads();
    }
    *a = sa[0];
    *b = sb[0];
}

/* Pass 1: part[c*split + s] = sum of x over slice s of channel c. */
static __global__ void bn_sum_kernel(double *part, const float *x, bn_grid g)
{
    int s = blockIdx.x, c = blockIdx.y;
    size_t lo = (size_t)s * g.chunk, hi = lo + g.chunk < g.M ? lo + g.chunk : g.M;
    double v = 0.0, unused = 0.0;
    for (size_t k = lo + threadIdx.x; k < hi; k += BN_THREADS)
        v += x[bn_at(g, c, k)];
    bn_block_sum2(&v, &unused);
    if (threadIdx.x == 0)
        part[(size_t)c * g.split + s] = v;
}

/* Pass 2: part2 = sum of (x - mean)^2 per slice, the mean from pass 1's
 * partial sums (added in slice order, so every block sees the same mean). */
static __global__ void bn_ssd_kernel(double *part2, const double *part, const float *x, bn_grid g)
{
    int s = blockIdx.x, c = blockIdx.y;
    __shared__ double mean;
    if (threadIdx.x == 0) {
        double t = 0.0;
        for (int j = 0; j < g.split; j++)
            t += part[(size_t)c * g.split + j];
        mean = t / (double)g.M;
    }
    __syncthreads();
    size_t lo = (size_t)s * g.chunk, hi = lo + g.chunk < g.M ? lo + g.chunk : g.M;
    double v = 0.0, unused = 0.0;
    for (size_t k = lo + threadIdx.x; k < hi; k += BN_THREADS) {
        double t = __dsub_rn((double)x[bn_at(g, c, k)], mean);
        v = __dadd_rn(v, __dmul_rn(t, t));
    }
    bn_block_sum2(&v, &unused);
    if (threadIdx.x == 0)
        part2[(size_t)c * g.split + s] = v;
}

/* Per channel: statistics, saved values, running averages (PyTorch's rule:
 * the unbiased variance), and (mean, gamma*invstd) for the normalisation. */
static __global__ void bn_finish_train_kernel(double *stats, float *save_mean, float *save_invstd,
                                              float *running_mean, float *running_var,
                                              const double *part, const double *part2,
                                              const float *gamma, bn_grid g, float momentum,
                                              float eps)
{
    SIAM_CUDA_FOR(cc, (size_t)g.C) {
        int c = (int)cc;
        double sum = 0.0, ss = 0.0;
        for (int j = 0; j < g.split; j++) {
            sum += part[(size_t)c * g.split + j];
            ss += part2[(size_t)c * g.split + j];
        }
        double mean = sum / (double)g.M;
        double var = ss / (double)g.M;
        double invstd = 1.0 / sqrt(var + (double)eps);
        save_mean[c] = (float)mean;
        save_invstd[c] = (float)invstd;
        double m = momentum;
        running_mean[c] = (float)__dadd_rn(__dmul_rn(1.0 - m, (double)running_mean[c]),
                                           __dmul_rn(m, mean));
        running_var[c] = (float)__dadd_rn(__dmul_rn(1.0 - m, (double)running_var[c]),
                                          __ddiv_rn(__dmul_rn(m, ss), (double)(g.M - 1)));
        stats[2 * c] = mean;
        stats[2 * c + 1] = __dmul_rn((double)gamma[c], invstd);
    }
}

/* Eval: (mean, gamma*invstd) from the running statistics. */
static __global__ void bn_eval_stats_kernel(double *stats, const float *running_mean,
                                            const float *running_var, const float *gamma, int C,
                                            float eps)
{
    SIAM_CUDA_FOR(cc, (size_t)C) {
        int c = (int)cc;
        double invstd = 1.0 / sqrt((double)running_var[c] + (double)eps);
        stats[2 * c] = running_mean[c];
        stats[2 * c + 1] = __dmul_rn((double)gamma[c], invstd);
    }
}

/* out = (x - mean) * a + beta, in double, rounded once. */
static __global__ void bn_normalize_kernel(float *out, const float *x, const double *stats,
                                           const float *beta, int C, int HW, size_t total)
{
    SIAM_CUDA_FOR(k, total) {
        int c = (int)(k / (size_t)HW % (size_t)C);
        double t = __dsub_rn((double)x[k], stats[2 * c]);
        out[k] = (float)__dadd_rn(__dmul_rn(t, stats[2 * c + 1]), (double)beta[c]);
    }
}

/* Backward pass 1: sums of dy and dy * xhat per slice. */
static __global__ void bn_grad_sums_kernel(double *part, double *part2, const float *dout,
                                           const float *x, const float *save_mean,
                                           const float *save_invstd, bn_grid g)
{
    int s = blockIdx.x, c = blockIdx.y;
    double mean = save_mean[c], invstd = save_invstd[c];
    size_t lo = (size_t)s * g.chunk, hi = lo + g.chunk < g.M ? lo + g.chunk : g.M;
    double sg = 0.0, sgx = 0.0;
    for (size_t k = lo + threadIdx.x; k < hi; k += BN_THREADS) {
        size_t at = bn_at(g, c, k);
        double gk = dout[at];
        double xhat = __dmul_rn(__dsub_rn((double)x[at], mean), invstd);
        sg += gk;
        sgx = __dadd_rn(sgx, __dmul_rn(gk, xhat));
    }
    bn_block_sum2(&sg, &sgx);
    if (threadIdx.x == 0) {
        part[(size_t)c * g.split + s] = sg;
        part2[(size_t)c * g.split + s] = sgx;
    }
}

/* Per channel: dgamma, dbeta accumulate; (gamma*invstd, mean dy,
 * mean dy*xhat) for din. */
static __global__ void bn_finish_grad_kernel(double *stats, float *dgamma, float *dbeta,
                                             const double *part, const double *part2,
                                             const float *save_invstd, const float *gamma,
                                             bn_grid g)
{
    SIAM_CUDA_FOR(cc, (size_t)g.C) {
        int c = (int)cc;
        double sg = 0.0, sgx = 0.0;
        for (int j = 0; j < g.split; j++) {
            sg += part[(size_t)c * g.split + j];
            sgx += part2[(size_t)c * g.split + j];
        }
        dbeta[c] += (float)sg;
        dgamma[c] += (float)sgx;
        stats[3 * c] = __dmul_rn((double)gamma[c], (double)save_invstd[c]);
        stats[3 * c + 1] = sg / (double)g.M;
        stats[3 * c + 2] = sgx / (double)g.M;
    }
}

/* din = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)). */
static __global__ void bn_din_kernel(float *din, const float *dout, const float *x,
                                     const float *save_mean, const float *save_invstd,
                                     const double *stats, int C, int HW, size_t total)
{
    SIAM_CUDA_FOR(k, total) {
        int c = (int)(k / (size_t)HW % (size_t)C);
        double xhat = __dmul_rn(__dsub_rn((double)x[k], (double)save_mean[c]),
                                (double)save_invstd[c]);
        double t = __dsub_rn(__dsub_rn((double)dout[k], stats[3 * c + 1]),
                             __dmul_rn(xhat, stats[3 * c + 2]));
        din[k] = (float)__dmul_rn(stats[3 * c], t);
    }
}

/* Workspace: two arrays of C*split partial sums and 3*C per-channel values. */
static int bn_workspace(siam_ctx *ctx, const bn_grid &g, double **part, double **part2,
                        double **stats)
{
    size_t np = (size_t)g.C * g.split;
    void *ws = NULL;
    if (siam_cuda_workspace(ctx, (2 * np + 3 * (size_t)g.C) * sizeof(double), &ws))
        return -1;
    *part = (double *)ws;
    *part2 = *part + np;
    *stats = *part2 + np;
    return 0;
}

int siam_cuda_bn_own_forward_train(siam_ctx *ctx, float *out, float *save_mean,
                                   float *save_invstd, float *running_mean, float *running_var,
                                   const float *in, const float *gamma, const float *beta, int N,
                                   int C, int HW, float momentum, float eps)
{
    bn_grid g = bn_grid_of(N, C, HW);
    double *part, *part2, *stats;
    if (bn_workspace(ctx, g, &part, &part2, &stats))
        return siam_fail_wrap(&ctx->err, "batchnorm_forward_train");
    dim3 grid((unsigned)g.split, (unsigned)C);
    bn_sum_kernel<<<grid, BN_THREADS, 0, ctx->stream>>>(part, in, g);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    bn_ssd_kernel<<<grid, BN_THREADS, 0, ctx->stream>>>(part2, part, in, g);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    bn_finish_train_kernel<<<siam_cuda_blocks((size_t)C), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        stats, save_mean, save_invstd, running_mean, running_var, part, part2, gamma, g,
        momentum, eps);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    size_t total = (size_t)N * C * HW;
    bn_normalize_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        out, in, stats, beta, C, HW, total);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_bn_own_forward_eval(siam_ctx *ctx, float *out, const float *in,
                                  const float *running_mean, const float *running_var,
                                  const float *gamma, const float *beta, int N, int C, int HW,
                                  float eps)
{
    bn_grid g = bn_grid_of(N, C, HW);
    double *part, *part2, *stats;
    if (bn_workspace(ctx, g, &part, &part2, &stats))
        return siam_fail_wrap(&ctx->err, "batchnorm_forward_eval");
    bn_eval_stats_kernel<<<siam_cuda_blocks((size_t)C), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        stats, running_mean, running_var, gamma, C, eps);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    size_t total = (size_t)N * C * HW;
    bn_normalize_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        out, in, stats, beta, C, HW, total);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_bn_own_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                              const float *dout, const float *in, const float *save_mean,
                              const float *save_invstd, const float *gamma, int N, int C, int HW)
{
    bn_grid g = bn_grid_of(N, C, HW);
    double *part, *part2, *stats;
    if (bn_workspace(ctx, g, &part, &part2, &stats))
        return siam_fail_wrap(&ctx->err, "batchnorm_backward");
    dim3 grid((unsigned)g.split, (unsigned)C);
    bn_grad_sums_kernel<<<grid, BN_THREADS, 0, ctx->stream>>>(part, part2, dout, in, save_mean,
                                                              save_invstd, g);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    bn_finish_grad_kernel<<<siam_cuda_blocks((size_t)C), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        stats, dgamma, dbeta, part, part2, save_invstd, gamma, g);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    if (din) {
        size_t total = (size_t)N * C * HW;
        bn_din_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
            din, dout, in, save_mean, save_invstd, stats, C, HW, total);
        SIAM_CUDA_LAUNCH_CHECK(ctx);
    }
    return 0;
}
