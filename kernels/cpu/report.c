/* The step readback on the CPU (siam_ops.step_report): bce_forward's loss,
 * a copy of the probabilities and nonfinite_count's counts. Memory is the
 * host's, so there is no round trip to save; the point is the same
 * interface, and the same results, as kernels/cuda/report.cu. */
#include <math.h>
#include <string.h>

#include "kernels/cpu/cpu.h"

int siam_cpu_step_report(siam_ctx *ctx, siam_step_report *rep, float *probs_host, const float *p,
                         const float *y, size_t n, const float *const *bufs, const size_t *lens,
                         int k)
{
    if (n == 0)
        return siam_cpu_fail(ctx, "step_report: empty batch (n = 0)");
    if (!rep || !probs_host || !p || !y)
        return siam_cpu_fail(ctx, "step_report: NULL buffer");
    if (k < 0 || k > SIAM_NONFINITE_MAX)
        return siam_cpu_fail(ctx, "step_report: %d buffers, expected 0..%d", k,
                             SIAM_NONFINITE_MAX);
    if (k > 0 && (!bufs || !lens))
        return siam_cpu_fail(ctx, "step_report: NULL argument");
    for (int j = 0; j < k; j++)
        if (lens[j] && !bufs[j])
            return siam_cpu_fail(ctx, "step_report: buffer %d is NULL (%zu values)", j, lens[j]);
    /* A finite probability outside [0, 1] is bce_forward's error; failing
     * one, a NaN or infinite one gives a NaN loss, the caller's to act on. */
    int finite = 1;
    for (size_t i = 0; i < n; i++) {
        if (isfinite(p[i]) && !(p[i] >= 0.0f && p[i] <= 1.0f))
            return siam_cpu_fail(ctx, "step_report: probability %zu is %g, outside [0, 1]", i,
                                 (double)p[i]);
        finite &= isfinite(p[i]) != 0;
    }
    if (!finite)
        rep->loss = NAN;
    else if (siam_cpu_bce_loss(ctx, "step_report", &rep->loss, p, y, n))
        return -1;
    memmove(probs_host, p, n * sizeof(float));
    memset(rep->nonfinite, 0, sizeof rep->nonfinite);
    if (k > 0 && siam_cpu_nonfinite_count(ctx, rep->nonfinite, bufs, lens, k))
        return -1;
    return 0;
}
