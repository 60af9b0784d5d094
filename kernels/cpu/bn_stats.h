/* Batch-norm channel statistics shared by the separate batch-norm kernel
 * and the fused batch norm -> ReLU -> max-pool, so that both give the same
 * bits: the mean, then the sum of squared deviations (two passes in double,
 * no cancellation), over the N planes of channel c in an NCHW tensor. */
#ifndef SIAM_CPU_BN_STATS_H
#define SIAM_CPU_BN_STATS_H

#include <stddef.h>

static inline void siam_cpu_bn_channel_stats(const float *in, int N, int C, size_t HW, int c,
                                             double *mean, double *ss)
{
    double M = (double)N * (double)HW, sum = 0.0;
    for (int n = 0; n < N; n++) {
        const float *x = in + ((size_t)n * C + c) * HW;
        for (size_t i = 0; i < HW; i++)
            sum += x[i];
    }
    double m = sum / M, s = 0.0;
    for (int n = 0; n < N; n++) {
        const float *x = in + ((size_t)n * C + c) * HW;
        for (size_t i = 0; i < HW; i++) {
            double t = x[i] - m;
            s += t * t;
        }
    }
    *mean = m;
    *ss = s;
}

/* Stores channel c's batch statistics for backward and folds them into the
 * running statistics (unbiased variance, as PyTorch). */
static inline void siam_cpu_bn_record(float *save_mean, float *save_invstd, float *running_mean,
                                      float *running_var, int c, double mean, double invstd,
                                      double ss, size_t M, float momentum)
{
    save_mean[c] = (float)mean;
    save_invstd[c] = (float)invstd;
    running_mean[c] = (float)((1.0 - momentum) * running_mean[c] + momentum * mean);
    running_var[c] = (float)((1.0 - momentum) * running_var[c] + momentum * ss / (double)(M - 1));
}

#endif
