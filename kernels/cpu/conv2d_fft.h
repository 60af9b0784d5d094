/* Fourier-domain conv2d for the CPU backend: an alternative to the im2col
 * path of kernels/cpu/conv2d.c with the SAME signatures as
 * siam_ops.conv2d_forward / conv2d_backward, so a model can pick it per
 * layer. It pays off where the kernel is large and both channel counts are
 * wide (the seed's conv2: 64->128, 7x7 on 48x48, about 8x fewer
 * floating-point operations than direct convolution) and, by measurement,
 * on the 4x4 layers conv3/conv4. With one input channel (conv1) the
 * channel product is rank one and is formed inside the transforms (when
 * Co % 8 == 0), which makes conv1 cheaper than im2col too (docs/perf.md).
 *
 * Method. Valid cross-correlation out = in (*) w becomes, per frequency f of
 * an H x W real 2-D DFT, OUT_f = IN_f * conj(W_f) summed over input
 * channels (the correlation theorem); backward data is DOUT_f * W_f summed
 * over output channels (convolution theorem) and backward filter is
 * conj(DOUT_f) * IN_f summed over images. The transform size is the input
 * size padded to a length with no prime factor above 7 (the seed's 105,
 * 48, 21 and 9 need no padding): with valid padding, no output index that
 * is kept wraps around (see conv2d_fft.c). The 2-D transforms are real
 * FFTs (kernels/cpu/fft.c: rows in pairs through one complex FFT, then
 * complex column FFTs on the half spectrum), 8 planes at a time, one per
 * SIMD lane; the per-frequency channel sums are real SGEMMs on split
 * real/imaginary planes, three per complex product (Gauss's trick).
 * Frequency columns are processed in blocks and images in chunks so the
 * scratch stays within SIAM_CPU_FFT_SCRATCH_BYTES whatever the batch size.
 *
 * Scratch lives in the context (siam_cpu_scratch); nothing is kept between
 * calls. Work is split by OpenMP, with the GEMMs inside its loops on one
 * OpenBLAS thread each (siam_cpu_blas_threads: one during the call, the
 * context's count again when it returns). Results
 * equal the direct path up to float rounding: the tests
 * (tests/test_conv_fast.c) bound the difference at the model's shapes. */
#ifndef SIAM_CPU_CONV2D_FFT_H
#define SIAM_CPU_CONV2D_FFT_H

#include "kernels/ops.h"

/* Bound on the Fourier-domain scratch of one call (spectra of one block of
 * frequencies, plus per-thread FFT rows and GEMM temporaries). A larger
 * budget means fewer frequency blocks, each of which repeats the row
 * transforms, so it buys speed with peak memory; the trade measured on
 * conv2 is in docs/perf.md ("Session 2: radix FFT"), and peak memory is
 * why the budget stays at this size. */
#ifndef SIAM_CPU_FFT_SCRATCH_BYTES
#define SIAM_CPU_FFT_SCRATCH_BYTES ((size_t)96 << 20)
#endif

/* out (N,Co,H-KH+1,W-KW+1), in (N,Ci,H,W), w (Co,Ci,KH,KW), b (Co). */
int siam_cpu_conv2d_fft_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                                const float *b, int N, int Ci, int H, int W, int Co, int KH,
                                int KW);
/* din (N,Ci,H,W) or NULL is overwritten; dw, db accumulate. */
int siam_cpu_conv2d_fft_backward(siam_ctx *ctx, float *din, float *dw, float *db,
                                 const float *dout, const float *in, const float *w, int N, int Ci,
                                 int H, int W, int Co, int KH, int KW);

/* The same with at most vb_max frequency columns per block and at most
 * images_max images per chunk (0: as the scratch budget decides). Smaller
 * blocks and chunks use less scratch and more, smaller GEMM calls; the
 * result does not depend on them beyond float rounding. */
int siam_cpu_conv2d_fft_forward_blocks(siam_ctx *ctx, float *out, const float *in,
                                       const float *w, const float *b, int N, int Ci, int H, int W,
                                       int Co, int KH, int KW, int vb_max, int images_max);
int siam_cpu_conv2d_fft_backward_blocks(siam_ctx *ctx, float *din, float *dw, float *db,
                                        const float *dout, const float *in, const float *w, int N,
                                        int Ci, int H, int W, int Co, int KH, int KW, int vb_max, int images_max);

#endif
