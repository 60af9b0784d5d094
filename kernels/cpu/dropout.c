/* Inverted dropout on the CPU (torch.nn.Dropout in training mode). The mask
 * is a pure function of (seed, offset + i), so the CUDA backend draws the
 * same one. */
#include "kernels/cpu/cpu.h"
#include "kernels/philox.h"

int siam_cpu_dropout_forward(siam_ctx *ctx, float *out, float *mask, const float *in, size_t n,
                             float p, uint64_t seed, uint64_t offset)
{
    if (siam_check_dropout(&ctx->err, p))
        return -1;
    if (n && (!out || !mask || !in))
        return siam_cpu_fail(ctx, "dropout_forward: NULL buffer");
    /* p == 1 drops everything (PyTorch returns zeros rather than 0 * inf). */
    float scale = p < 1.0f ? 1.0f / (1.0f - p) : 0.0f;
#pragma omp parallel for schedule(static) if (n > 32768)
    for (size_t i = 0; i < n; i++) {
        float m;
        if (p == 0.0f)
            m = 1.0f;
        else
            m = siam_philox_uniform(seed, SIAM_STREAM_DROPOUT, offset + i) >= p ? scale : 0.0f;
        mask[i] = m;
        out[i] = in[i] * m;
    }
    return 0;
}

int siam_cpu_dropout_backward(siam_ctx *ctx, float *din, const float *dout, const float *mask,
                              size_t n)
{
    if (n && (!din || !dout || !mask))
        return siam_cpu_fail(ctx, "dropout_backward: NULL buffer");
    for (size_t i = 0; i < n; i++)
        din[i] = dout[i] * mask[i];
    return 0;
}
