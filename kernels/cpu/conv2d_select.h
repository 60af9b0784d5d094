/* Per-layer choice between the CPU convolution paths: the direct im2col
 * path (kernels/cpu/conv2d.c, the reference) and the Fourier-domain path
 * (kernels/cpu/conv2d_fft.c). The rule is a function of the layer's shape,
 * set from measurements on the seed model's layers (docs/perf.md), so a
 * model gets the faster path per layer by using the table that
 * siam_ops_cpu_fast_init fills, with no change to its code. */
#ifndef SIAM_CPU_CONV2D_SELECT_H
#define SIAM_CPU_CONV2D_SELECT_H

#include "kernels/ops.h"

typedef enum siam_conv_algo { SIAM_CONV_DIRECT = 0, SIAM_CONV_FFT = 1 } siam_conv_algo;

/* "direct" or "fft"; -1 with a message for anything else. */
int siam_conv_algo_parse(const char *name, siam_conv_algo *out, siam_error *err);
const char *siam_conv_algo_name(siam_conv_algo a);

/* The faster path for a layer of this shape on the CPU. */
siam_conv_algo siam_cpu_conv2d_pick(int Ci, int H, int W, int Co, int KH, int KW);

/* conv2d_forward / conv2d_backward that dispatch by siam_cpu_conv2d_pick. */
int siam_cpu_conv2d_auto_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                                 const float *b, int N, int Ci, int H, int W, int Co, int KH,
                                 int KW);
int siam_cpu_conv2d_auto_backward(siam_ctx *ctx, float *din, float *dw, float *db,
                                  const float *dout, const float *in, const float *w, int N,
                                  int Ci, int H, int W, int Co, int KH, int KW);

/* *ops = siam_ops_cpu with the convolutions set to `algo` for every layer
 * (SIAM_CONV_DIRECT: the plain table) or, when `automatic` is non-zero, to
 * the per-layer choice of siam_cpu_conv2d_pick (algo is then ignored). */
void siam_ops_cpu_fast_init(siam_ops *ops, int automatic, siam_conv_algo algo);

/* The same choice as a static table that outlives every caller: automatic
 * gives the per-layer table, else SIAM_CONV_FFT the all-FFT table and
 * SIAM_CONV_DIRECT &siam_ops_cpu itself. */
const siam_ops *siam_ops_cpu_conv_table(int automatic, siam_conv_algo algo);

/* "auto", "direct" or "fft" into (automatic, algo); -1 with a message
 * otherwise. */
int siam_conv_choice_parse(const char *name, int *automatic, siam_conv_algo *algo,
                           siam_error *err);

#endif
