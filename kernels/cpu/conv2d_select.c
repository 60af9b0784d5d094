/* Per-layer convolution path choice (see conv2d_select.h). */
#include <string.h>

#include "kernels/cpu/conv2d_fft.h"
#include "kernels/cpu/conv2d_select.h"
#include "kernels/cpu/cpu.h"

int siam_conv_path_parse(const char *name, siam_conv_path *out, siam_error *err)
{
    static const char *const names[3] = { "auto", "direct", "fft" };
    for (int k = 0; name && k < 3; k++) {
        if (strcmp(name, names[k]) == 0) {
            *out = (siam_conv_path)k;
            return 0;
        }
    }
    return siam_fail(err, "conv must be \"auto\", \"direct\" or \"fft\", got \"%s\"",
                     name ? name : "(null)");
}

const char *siam_conv_path_name(siam_conv_path p)
{
    return p == SIAM_CONV_FFT ? "fft" : p == SIAM_CONV_DIRECT ? "direct" : "auto";
}

siam_conv_path siam_cpu_conv2d_pick(int Ci, int H, int W, int Co, int KH, int KW)
{
    (void)H, (void)W;
    /* Direct convolution costs Ci*Co*KH*KW multiply-adds per output point;
     * the Fourier path costs Ci*Co per frequency of the whole H x W input
     * plus O(log) FFT work per plane and per filter. So it needs wide
     * channels (the channel products dominate) and a kernel of 16 taps or
     * more, or one input channel with a large kernel and Co a multiple of 8
     * (the rank-one route: products formed inside the transforms). The
     * seed model's four layers all take the Fourier path by this rule; the
     * timings that set it are docs/perf.md's ("Session 2: radix FFT", per
     * layer). */
    if (Ci >= 16 && Co >= 16 && KH * KW >= 16)
        return SIAM_CONV_FFT;
    if (Ci == 1 && Co % 8 == 0 && KH * KW >= 64)
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

void siam_ops_cpu_fast_init(siam_ops *ops, siam_conv_path path)
{
    *ops = *siam_ops_cpu_conv_table(path);
}
