/* Per-layer convolution path choice (see conv2d_select.h). */
#include <string.h>

#include "kernels/cpu/conv2d_fft.h"
#include "kernels/cpu/conv2d_select.h"
#include "kernels/cpu/cpu.h"

int siam_conv_algo_parse(const char *name, siam_conv_algo *out, siam_error *err)
{
    if (name && strcmp(name, "direct") == 0)
        *out = SIAM_CONV_DIRECT;
    else if (name && strcmp(name, "fft") == 0)
        *out = SIAM_CONV_FFT;
    else
        return siam_fail(err, "conv algorithm must be \"direct\" or \"fft\", got \"%s\"",
                         name ? name : "(null)");
    return 0;
}

const char *siam_conv_algo_name(siam_conv_algo a)
{
    return a == SIAM_CONV_FFT ? "fft" : "direct";
}

siam_conv_algo siam_cpu_conv2d_pick(int Ci, int H, int W, int Co, int KH, int KW)
{
    (void)H, (void)W;
    /* Direct convolution costs Ci*Co*KH*KW multiply-adds per output point;
     * the Fourier path costs Ci*Co per frequency of the whole H x W input
     * plus dense DFT passes per channel. So it needs wide channels (the
     * channel products dominate) and a kernel of 16 taps or more. Measured
     * on the seed model (docs/perf.md): conv2 (64->128, 7x7 on 48x48, 5.9x),
     * conv3 (128->128, 4x4 on 21x21, 2.5x) and conv4 (128->256, 4x4 on 9x9,
     * 1.2-2x) gain; conv1 (one input channel: the transforms dominate)
     * loses 1.8x. */
    if (Ci >= 16 && Co >= 16 && KH * KW >= 16)
        return SIAM_CONV_FFT;
    return SIAM_CONV_DIRECT;
}

int siam_cpu_conv2d_auto_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                                 const float *b, int N, int Ci, int H, int W, int Co, int KH,
                                 int KW)
{
    if (siam_cpu_conv2d_pick(Ci, H, W, Co, KH, KW) == SIAM_CONV_FFT)
        return siam_cpu_conv2d_fft_forward(ctx, out, in, w, b, N, Ci, H, W, Co, KH, KW);
    return siam_cpu_conv2d_forward(ctx, out, in, w, b, N, Ci, H, W, Co, KH, KW);
}

int siam_cpu_conv2d_auto_backward(siam_ctx *ctx, float *din, float *dw, float *db,
                                  const float *dout, const float *in, const float *w, int N,
                                  int Ci, int H, int W, int Co, int KH, int KW)
{
    if (siam_cpu_conv2d_pick(Ci, H, W, Co, KH, KW) == SIAM_CONV_FFT)
        return siam_cpu_conv2d_fft_backward(ctx, din, dw, db, dout, in, w, N, Ci, H, W, Co, KH,
                                            KW);
    return siam_cpu_conv2d_backward(ctx, din, dw, db, dout, in, w, N, Ci, H, W, Co, KH, KW);
}

void siam_ops_cpu_fast_init(siam_ops *ops, int automatic, siam_conv_algo algo)
{
    *ops = siam_ops_cpu;
    if (automatic) {
        ops->conv2d_forward = siam_cpu_conv2d_auto_forward;
        ops->conv2d_backward = siam_cpu_conv2d_auto_backward;
    } else if (algo == SIAM_CONV_FFT) {
        ops->conv2d_forward = siam_cpu_conv2d_fft_forward;
        ops->conv2d_backward = siam_cpu_conv2d_fft_backward;
    }
}
