/* BatchNorm2d on the CPU (torch.nn.BatchNorm2d; Ioffe & Szegedy 2015, Alg. 1
 * and its backward). Statistics are accumulated in double per channel: a
 * channel of conv1 at batch 128 holds over a million values. */
#include <math.h>

#include "kernels/cpu/bn_stats.h"
#include "kernels/cpu/cpu.h"

int siam_cpu_batchnorm_forward_train(siam_ctx *ctx, float *out, float *save_mean,
                                     float *save_invstd, float *running_mean, float *running_var,
                                     const float *in, const float *gamma, const float *beta, int N,
                                     int C, int HW, float momentum, float eps)
{
    if (siam_check_batchnorm(&ctx->err, "batchnorm_forward_train", N, C, HW))
        return -1;
    size_t M = (size_t)N * HW;
    /* PyTorch refuses this too: the unbiased variance needs two values. */
    if (M < 2)
        return siam_cpu_fail(ctx,
                             "batchnorm_forward_train: expected more than 1 value per channel "
                             "when training, got N=%d HW=%d",
                             N, HW);
    if (!out || !save_mean || !save_invstd || !running_mean || !running_var || !in || !gamma
        || !beta)
        return siam_cpu_fail(ctx, "batchnorm_forward_train: NULL buffer");
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double mean, ss;
        siam_cpu_bn_channel_stats(in, N, C, (size_t)HW, c, &mean, &ss);
        double var = ss / (double)M;
        double invstd = 1.0 / sqrt(var + (double)eps);
        /* (x - mean) in double: folding the mean into a float shift
         * (x*a + s) cancels badly when |mean| >> std. */
        double a = gamma[c] * invstd;
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            float *y = out + ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++)
                y[i] = (float)((x[i] - mean) * a + beta[c]);
        }
        siam_cpu_bn_record(save_mean, save_invstd, running_mean, running_var, c, mean, invstd, ss,
                           M, momentum);
    }
    return 0;
}

int siam_cpu_batchnorm_forward_eval(siam_ctx *ctx, float *out, const float *in,
                                    const float *running_mean, const float *running_var,
                                    const float *gamma, const float *beta, int N, int C, int HW,
                                    float eps)
{
    if (siam_check_batchnorm(&ctx->err, "batchnorm_forward_eval", N, C, HW))
        return -1;
    if (!out || !in || !running_mean || !running_var || !gamma || !beta)
        return siam_cpu_fail(ctx, "batchnorm_forward_eval: NULL buffer");
#pragma omp parallel for schedule(static)
    for (int nc = 0; nc < N * C; nc++) {
        int c = nc % C;
        double invstd = 1.0 / sqrt((double)running_var[c] + (double)eps);
        double a = gamma[c] * invstd, mean = running_mean[c];
        const float *x = in + (size_t)nc * HW;
        float *y = out + (size_t)nc * HW;
        for (int i = 0; i < HW; i++)
            y[i] = (float)((x[i] - mean) * a + beta[c]);
    }
    return 0;
}

int siam_cpu_batchnorm_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                                const float *dout, const float *in, const float *save_mean,
                                const float *save_invstd, const float *gamma, int N, int C, int HW,
                                float eps)
{
    if (siam_check_batchnorm(&ctx->err, "batchnorm_backward", N, C, HW))
        return -1;
    if (siam_check_batchnorm_eps(&ctx->err, eps))
        return -1;
    if (!dgamma || !dbeta || !dout || !in || !save_mean || !save_invstd || !gamma)
        return siam_cpu_fail(ctx, "batchnorm_backward: NULL buffer");
    size_t M = (size_t)N * HW;
#pragma omp parallel for schedule(static)
    for (int c = 0; c < C; c++) {
        double mean = save_mean[c], invstd = save_invstd[c];
        double sg = 0.0, sgx = 0.0; /* sum dout, sum dout * xhat */
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            const float *g = dout + ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                sg += g[i];
                sgx += g[i] * ((x[i] - mean) * invstd);
            }
        }
        dbeta[c] += (float)sg;
        dgamma[c] += (float)sgx;
        if (din == NULL)
            continue;
        /* dx = gamma*invstd * (dy - mean(dy) - xhat * mean(dy*xhat)). */
        double k = gamma[c] * invstd;
        double mg = sg / (double)M, mgx = sgx / (double)M;
        for (int n = 0; n < N; n++) {
            const float *x = in + ((size_t)n * C + c) * HW;
            const float *g = dout + ((size_t)n * C + c) * HW;
            float *dx = din + ((size_t)n * C + c) * HW;
            for (int i = 0; i < HW; i++) {
                double xhat = (x[i] - mean) * invstd;
                dx[i] = (float)(k * (g[i] - mg - xhat * mgx));
            }
        }
    }
    return 0;
}
