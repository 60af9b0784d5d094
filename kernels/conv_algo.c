/* cuDNN convolution algorithm choice over plain data (kernels/conv_algo.h). */
#include "kernels/conv_algo.h"

#include <stdio.h>

int siam_conv_algo_choose(const siam_conv_candidate *c, int n, int allow_tf32, size_t ws_limit,
                          int *force_fp32)
{
    int passes = allow_tf32 ? 2 : 3;
    *force_fp32 = 0;
    for (int pass = 0; pass < passes; pass++) {
        for (int i = 0; i < n; i++) {
            if (!c[i].ok || !c[i].workspace_ok || c[i].workspace > ws_limit)
                continue;
            if (pass == 0 && !c[i].deterministic)
                continue;
            if (!allow_tf32 && !c[i].fp32 && pass < 2)
                continue;
            *force_fp32 = pass == 2;
            return i;
        }
    }
    return -1;
}

void siam_conv_algo_describe(char *buf, size_t cap, const int shape[7], const char *direction,
                             const siam_conv_candidate *c, int rank, int count, int forced,
                             int allow_tf32)
{
    const char *math = forced ? "FP32, forced" : c->fp32 ? "FP32" : allow_tf32 ? "TF32 allowed"
                                                                              : "FP32";
    char how[64];
    if (c->ms >= 0.0f)
        snprintf(how, sizeof how, "%.3f ms measured, rank %d of %d", (double)c->ms, rank + 1,
                 count);
    else
        snprintf(how, sizeof how, "heuristic rank %d of %d", rank + 1, count);
    snprintf(buf, cap, "conv2d %dx%dx%dx%d * %dx%dx%dx%d %s: %s (%s, %s, %.1f MiB workspace, %s)",
             shape[0], shape[1], shape[2], shape[3], shape[4], shape[1], shape[5], shape[6],
             direction, c->name, math, c->deterministic ? "deterministic" : "nondeterministic",
             (double)c->workspace / (1024.0 * 1024.0), how);
}
