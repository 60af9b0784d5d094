/* Per-layer choice between the CPU convolution paths: the direct im2col
 * path (kernels/cpu/conv2d.c, the reference) and the Fourier-domain path
 * (kernels/cpu/conv2d_fft.c). The rule is a function of the layer's shape,
 * set from measurements on the seed model's layers (docs/perf.md,
 * "Session 2: radix FFT"), so a model gets the faster path per layer
 * by using the table of SIAM_CONV_AUTO, with no change to its code. The
 * tables themselves are kernels/cpu/table.c. */
#ifndef SIAM_CPU_CONV2D_SELECT_H
#define SIAM_CPU_CONV2D_SELECT_H

#include "kernels/ops.h"

/* How the CPU convolutions run: the per-layer choice, or one path for
 * every layer. */
typedef enum siam_conv_path {
    SIAM_CONV_AUTO = 0,   /* per layer, by siam_cpu_conv2d_pick (the default) */
    SIAM_CONV_DIRECT = 1, /* im2col + GEMM, the reference */
    SIAM_CONV_FFT = 2     /* Fourier domain */
} siam_conv_path;

/* "auto", "direct" or "fft"; -1 with a message for anything else. */
int siam_conv_path_parse(const char *name, siam_conv_path *out, siam_error *err);
const char *siam_conv_path_name(siam_conv_path p);

/* The faster path for a layer of this shape on the CPU: SIAM_CONV_DIRECT
 * or SIAM_CONV_FFT. */
siam_conv_path siam_cpu_conv2d_pick(int Ci, int H, int W, int Co, int KH, int KW);

/* conv2d_forward / conv2d_backward that dispatch by siam_cpu_conv2d_pick. */
int siam_cpu_conv2d_auto_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                                 const float *b, int N, int Ci, int H, int W, int Co, int KH,
                                 int KW);
int siam_cpu_conv2d_auto_backward(siam_ctx *ctx, float *din, float *dw, float *db,
                                  const float *dout, const float *in, const float *w, int N,
                                  int Ci, int H, int W, int Co, int KH, int KW);

/* The CPU table whose convolutions take `path`, static so that it outlives
 * every caller: SIAM_CONV_DIRECT gives &siam_ops_cpu itself
 * (kernels/cpu/table.c). */
const siam_ops *siam_ops_cpu_conv_table(siam_conv_path path);
/* *ops = that table, for a caller that edits its own copy. */
void siam_ops_cpu_fast_init(siam_ops *ops, siam_conv_path path);

#endif
