/* The step readback on the GPU (siam_ops.step_report; kernels/cpu/report.c
 * is the twin): the BCE reduction copies the probabilities next to the
 * scalars' header as it reads them, the non-finite counts land in the
 * header, and one copy and one wait bring all of it, and any fault a batch
 * kernel recorded, to the host. A training step pays this one round trip
 * where bce_forward, a download of the probabilities and nonfinite_count
 * would pay three. */
#include <math.h>
#include <string.h>

#include "kernels/cuda/cuda.h"

int siam_cuda_step_report(siam_ctx *ctx, siam_step_report *rep, float *probs_host,
                          const float *p, const float *y, size_t n, const float *const *bufs,
                          const size_t *lens, int k)
{
    if (n == 0)
        return siam_cuda_fail(ctx, "step_report: empty batch (n = 0)");
    if (!rep || !probs_host || !p || !y)
        return siam_cuda_fail(ctx, "step_report: NULL buffer");
    if (siam_cuda_check_buffers(ctx, "step_report", bufs, lens, k, 0))
        return -1;
    size_t head = sizeof(siam_cuda_scalars), bytes = head + n * sizeof(float);
    if (siam_cuda_scalars_reserve(ctx, bytes))
        return siam_fail_wrap(&ctx->err, "step_report");
    /* The loss, the probabilities beside it and the counts, then one copy
     * and one wait for all of them. */
    float *dprobs = (float *)((char *)ctx->dev_scalars + head);
    if (siam_cuda_bce_queue(ctx, p, y, n, dprobs) || siam_cuda_nonfinite_queue(ctx, bufs, lens, k)
        || siam_cuda_readback(ctx, bytes))
        return -1;
    const siam_cuda_scalars *h = (const siam_cuda_scalars *)ctx->host_scalars;
    const float *hprobs = (const float *)((const char *)ctx->host_scalars + head);
    memcpy(probs_host, hprobs, n * sizeof(float));
    rep->loss = (float)(-h->bce_sum / (double)n);
    if (h->bce_bad != SIAM_CUDA_NO_FAULT) {
        /* The first finite probability outside [0, 1] is an error; failing
         * one, a NaN or infinite one gives a NaN loss, the caller's to act
         * on (as on the CPU). */
        for (size_t i = (size_t)h->bce_bad; i < n; i++)
            if (isfinite(hprobs[i]) && !(hprobs[i] >= 0.0f && hprobs[i] <= 1.0f))
                return siam_cuda_fail(ctx, "step_report: probability %zu is %g, outside [0, 1]",
                                      i, (double)hprobs[i]);
        rep->loss = NAN;
    }
    for (int j = 0; j < SIAM_NONFINITE_MAX; j++)
        rep->nonfinite[j] = j < k ? (size_t)h->counts[j] : 0;
    return 0;
}
