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
     * plus O(log) FFT work per plane and per filter. So it needs wide
     * channels (the channel products dominate) and a kernel of 16 taps or
     * more, or one input channel with a large kernel and Co a multiple of 8
     * (the rank-one route: products formed inside the transforms). Measured
     * on the seed model at 64 images, CPU time of forward plus backward on
     * one thread (docs/perf.md, session 2): conv1 (1->64, 10x10 on 105x105)
     * 260 ms against 327 direct, conv2 (64->128, 7x7 on 48x48) 529 against
     * 3739, conv3 (128->128, 4x4 on 21x21) 166 against 470, conv4
     * (128->256, 4x4 on 9x9) 47 against 96. */
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

/* Static copies of siam_ops_cpu with other convolution entries, for callers
 * that keep a pointer to a table (the Lua context). C cannot initialise
 * one constant from another, so the entries are listed again;
 * tests/test_conv_fast.c checks that every non-conv entry equals
 * siam_ops_cpu's, so an entry added there and not here is caught. */
#define SIAM_CPU_COMMON_ENTRIES                                                                   \
    .device = SIAM_DEVICE_CPU,                                                                    \
    .ctx_new = siam_cpu_ctx_new,                                                                  \
    .ctx_free = siam_cpu_ctx_free,                                                                \
    .ctx_error = siam_cpu_ctx_error,                                                              \
    .mem_alloc = siam_cpu_mem_alloc,                                                              \
    .mem_free = siam_cpu_mem_free,                                                                \
    .upload = siam_cpu_upload,                                                                    \
    .download = siam_cpu_download,                                                                \
    .copy = siam_cpu_copy,                                                                        \
    .fill = siam_cpu_fill,                                                                        \
    .synchronize = siam_cpu_synchronize,                                                          \
    .batchnorm_forward_train = siam_cpu_batchnorm_forward_train,                                  \
    .batchnorm_forward_eval = siam_cpu_batchnorm_forward_eval,                                    \
    .batchnorm_backward = siam_cpu_batchnorm_backward,                                            \
    .relu_forward = siam_cpu_relu_forward,                                                        \
    .relu_backward = siam_cpu_relu_backward,                                                      \
    .maxpool2_forward = siam_cpu_maxpool2_forward,                                                \
    .maxpool2_backward = siam_cpu_maxpool2_backward,                                              \
    .linear_forward = siam_cpu_linear_forward,                                                    \
    .linear_backward = siam_cpu_linear_backward,                                                  \
    .sigmoid_forward = siam_cpu_sigmoid_forward,                                                  \
    .sigmoid_backward = siam_cpu_sigmoid_backward,                                                \
    .absdiff_forward = siam_cpu_absdiff_forward,                                                  \
    .absdiff_backward = siam_cpu_absdiff_backward,                                                \
    .dropout_forward = siam_cpu_dropout_forward,                                                  \
    .dropout_backward = siam_cpu_dropout_backward,                                                \
    .bce_forward = siam_cpu_bce_forward,                                                          \
    .bce_backward = siam_cpu_bce_backward,                                                        \
    .adam_step = siam_cpu_adam_step,                                                              \
    .sgd_step = siam_cpu_sgd_step,                                                                \
    .gather_normalize = siam_cpu_gather_normalize,                                                \
    .augment_batch = siam_cpu_augment_batch,                                                      \
    .pair_features_forward = siam_cpu_pair_features_forward,                                      \
    .pair_features_backward = siam_cpu_pair_features_backward,                                    \
    .lerp = siam_cpu_lerp,                                                                        \
    .bn_relu_pool_forward_train = siam_cpu_bn_relu_pool_forward_train,                            \
    .bn_relu_pool_forward_eval = siam_cpu_bn_relu_pool_forward_eval,                              \
    .bn_relu_pool_backward = siam_cpu_bn_relu_pool_backward,                                      \
    .nonfinite_count = siam_cpu_nonfinite_count,                                                  \
    .step_report = siam_cpu_step_report

static const siam_ops cpu_auto_table = {
    .name = "cpu",
    SIAM_CPU_COMMON_ENTRIES,
    .conv2d_forward = siam_cpu_conv2d_auto_forward,
    .conv2d_backward = siam_cpu_conv2d_auto_backward,
};

static const siam_ops cpu_fft_table = {
    .name = "cpu",
    SIAM_CPU_COMMON_ENTRIES,
    .conv2d_forward = siam_cpu_conv2d_fft_forward,
    .conv2d_backward = siam_cpu_conv2d_fft_backward,
};

const siam_ops *siam_ops_cpu_conv_table(int automatic, siam_conv_algo algo)
{
    if (automatic)
        return &cpu_auto_table;
    return algo == SIAM_CONV_FFT ? &cpu_fft_table : &siam_ops_cpu;
}

int siam_conv_choice_parse(const char *name, int *automatic, siam_conv_algo *algo,
                           siam_error *err)
{
    if (name && strcmp(name, "auto") == 0) {
        *automatic = 1;
        *algo = SIAM_CONV_DIRECT;
        return 0;
    }
    *automatic = 0;
    if (name && siam_conv_algo_parse(name, algo, NULL) == 0)
        return 0;
    return siam_fail(err, "conv must be \"auto\", \"direct\" or \"fft\", got \"%s\"",
                     name ? name : "(null)");
}
