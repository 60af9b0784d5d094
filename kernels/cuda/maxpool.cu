/* 2x2 max-pooling, stride 2, floor mode on the GPU (torch.nn.MaxPool2d(2)),
 * one thread per output in forward and per input in backward. The winner
 * is the first maximum in row-major order and a NaN wins, the rule of
 * kernels/cpu/maxpool.c, so both backends record the same argmax. */
#include "kernels/cuda/cuda.h"

static __global__ void maxpool2_forward_kernel(float *out, int32_t *argmax, const float *in,
                                               int NC, int H, int W)
{
    int OH = H / 2, OW = W / 2;
    size_t total = (size_t)NC * OH * OW;
    SIAM_CUDA_FOR(k, total) {
        size_t c = k / ((size_t)OH * OW);
        int o = (int)(k % ((size_t)OH * OW));
        int oh = o / OW, ow = o % OW;
        const float *x = in + c * H * W;
        int base = 2 * oh * W + 2 * ow;
        const int cand[4] = {base, base + 1, base + W, base + W + 1};
        int best = cand[0];
        float v = x[best];
        for (int q = 1; q < 4; q++) {
            float t = x[cand[q]];
            if (t > v || isnan(t)) {
                v = t;
                best = cand[q];
            }
        }
        out[k] = v;
        argmax[k] = best;
    }
}

/* Windows do not overlap at stride 2, so each input pixel has at most one
 * output that may have picked it: a gather, with no atomics, that also
 * writes the zeros. */
static __global__ void maxpool2_backward_kernel(float *din, const float *dout,
                                                const int32_t *argmax, int NC, int H, int W)
{
    int OH = H / 2, OW = W / 2;
    size_t total = (size_t)NC * H * W;
    SIAM_CUDA_FOR(k, total) {
        size_t c = k / ((size_t)H * W);
        int a = (int)(k % ((size_t)H * W));
        int y = a / W, x = a % W;
        float g = 0.0f;
        if (y < 2 * OH && x < 2 * OW) {
            size_t o = c * OH * OW + (size_t)(y / 2) * OW + x / 2;
            if (argmax[o] == a)
                g = dout[o];
        }
        din[k] = g;
    }
}

int siam_cuda_maxpool2_forward(siam_ctx *ctx, float *out, int32_t *argmax, const float *in, int NC,
                               int H, int W)
{
    if (siam_check_maxpool2(&ctx->err, "maxpool2_forward", NC, H, W))
        return -1;
    if (NC == 0)
        return 0;
    if (!out || !argmax || !in)
        return siam_cuda_fail(ctx, "maxpool2_forward: NULL buffer");
    size_t total = (size_t)NC * (H / 2) * (W / 2);
    maxpool2_forward_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        out, argmax, in, NC, H, W);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_maxpool2_backward(siam_ctx *ctx, float *din, const float *dout,
                                const int32_t *argmax, int NC, int H, int W)
{
    if (siam_check_maxpool2(&ctx->err, "maxpool2_backward", NC, H, W))
        return -1;
    if (NC == 0)
        return 0;
    if (!din || !argmax || !dout)
        return siam_cuda_fail(ctx, "maxpool2_backward: NULL buffer");
    /* An out-of-range argmax (which the CPU reports) matches no pixel here
     * and its gradient is dropped: checking would cost a synchronisation. */
    size_t total = (size_t)NC * H * W;
    maxpool2_backward_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        din, dout, argmax, NC, H, W);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
