/* Private to the CPU backend: the context layout, its scratch and error
 * helpers, and the siam_cpu_* functions that kernels/cpu/table.c collects
 * into siam_ops_cpu. Host code uses the table, never these names. */
#ifndef SIAM_CPU_H
#define SIAM_CPU_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/op_checks.h"
#include "kernels/ops.h"

/* Upper bound on the im2col scratch of one convolution chunk: batches are cut
 * into chunks of images so that memory stays bounded at any batch size. */
#define SIAM_CPU_CONV_SCRATCH_BYTES ((size_t)64 << 20)

struct siam_ctx {
    int threads;
    int blas_threads;      /* OpenBLAS's thread count as this context last set it */
    float *scratch;        /* grow-only; reused by every operator call */
    size_t scratch_floats;
    siam_error err;
};

/* Sets OpenBLAS's thread count for the GEMMs that follow: the context's
 * threads (single = 0: GEMMs called from the context's thread, the direct
 * convolution and the linear layers) or one (single = 1: GEMMs called from
 * inside OpenMP loops, the FFT convolution, where OpenBLAS's own workers
 * would spin against OpenMP's; docs/perf.md). The count is process-wide in
 * OpenBLAS, so the context keeps the value it set and calls OpenBLAS only
 * when it changes. The FFT convolution sets one on entry and the context's
 * threads again before it returns: left at one between FFT layers, the
 * 2-thread training step was 30% slower (docs/perf.md, "OpenBLAS's thread
 * count"), although every GEMM ran with the count it wanted. */
void siam_cpu_blas_threads(siam_ctx *ctx, int single);

/* Records the message in ctx and returns -1. */
int siam_cpu_fail(siam_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* At least `floats` floats of scratch owned by ctx, valid until the next
 * call; grows (never shrinks), so a steady training loop allocates only on
 * its first step. NULL with the message in ctx when memory runs out. */
float *siam_cpu_scratch(siam_ctx *ctx, size_t floats);

siam_ctx *siam_cpu_ctx_new(const siam_ctx_options *opt, siam_error *err);
void siam_cpu_ctx_free(siam_ctx *ctx);
const char *siam_cpu_ctx_error(const siam_ctx *ctx);

void *siam_cpu_mem_alloc(siam_ctx *ctx, size_t bytes);
void siam_cpu_mem_free(siam_ctx *ctx, void *p);
/* Asks for transparent huge pages (Linux in "madvise" mode) over the whole
 * 4 KiB pages of [p, p + bytes): large buffers walked by memory-bound passes
 * or at page-sized strides (the FFT's column passes) miss the TLB far less.
 * Only pages not yet touched are affected; failure is harmless. */
void siam_cpu_advise_huge_pages(void *p, size_t bytes);
int siam_cpu_upload(siam_ctx *ctx, void *dst, const void *src, size_t bytes);
int siam_cpu_download(siam_ctx *ctx, void *dst, const void *src, size_t bytes);
int siam_cpu_copy(siam_ctx *ctx, void *dst, const void *src, size_t bytes);
int siam_cpu_fill(siam_ctx *ctx, float *x, float value, size_t n);
int siam_cpu_synchronize(siam_ctx *ctx);

/* db[co] += sum of dout (N, Co, P) over images and pixels, summed in double
 * (up to 10^6 terms); shared by both convolutions' backward passes. */
void siam_cpu_conv2d_bias_grad(float *db, const float *dout, int N, int Co, size_t P);

int siam_cpu_conv2d_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                            const float *b, int N, int Ci, int H, int W, int Co, int KH, int KW);
int siam_cpu_conv2d_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                             const float *in, const float *w, int N, int Ci, int H, int W, int Co,
                             int KH, int KW);

int siam_cpu_batchnorm_forward_train(siam_ctx *ctx, float *out, float *save_mean,
                                     float *save_invstd, float *running_mean, float *running_var,
                                     const float *in, const float *gamma, const float *beta, int N,
                                     int C, int HW, float momentum, float eps);
int siam_cpu_batchnorm_forward_eval(siam_ctx *ctx, float *out, const float *in,
                                    const float *running_mean, const float *running_var,
                                    const float *gamma, const float *beta, int N, int C, int HW,
                                    float eps);
int siam_cpu_batchnorm_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                                const float *dout, const float *in, const float *save_mean,
                                const float *save_invstd, const float *gamma, int N, int C, int HW,
                                float eps);

int siam_cpu_bn_relu_pool_forward_train(siam_ctx *ctx, float *out, uint8_t *win,
                                        float *save_mean, float *save_invstd,
                                        float *running_mean, float *running_var, const float *in,
                                        const float *gamma, const float *beta, int N, int C,
                                        int H, int W, float momentum, float eps);
int siam_cpu_bn_relu_pool_forward_eval(siam_ctx *ctx, float *out, const float *in,
                                       const float *running_mean, const float *running_var,
                                       const float *gamma, const float *beta, int N, int C, int H,
                                       int W, float eps);
int siam_cpu_bn_relu_pool_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                                   const float *dout, const float *out, const uint8_t *win,
                                   const float *in, const float *save_mean,
                                   const float *save_invstd, const float *gamma, int N, int C,
                                   int H, int W);

int siam_cpu_relu_forward(siam_ctx *ctx, float *out, const float *in, size_t n);
int siam_cpu_relu_backward(siam_ctx *ctx, float *din, const float *dout, const float *out, size_t n);
int siam_cpu_sigmoid_forward(siam_ctx *ctx, float *out, const float *in, size_t n);
int siam_cpu_sigmoid_backward(siam_ctx *ctx, float *din, const float *dout, const float *out,
                              size_t n);

int siam_cpu_maxpool2_forward(siam_ctx *ctx, float *out, int32_t *argmax, const float *in, int NC,
                              int H, int W);
int siam_cpu_maxpool2_backward(siam_ctx *ctx, float *din, const float *dout, const int32_t *argmax,
                               int NC, int H, int W);

int siam_cpu_linear_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                            const float *b, int N, int I, int O);
int siam_cpu_linear_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                             const float *in, const float *w, int N, int I, int O);

int siam_cpu_absdiff_forward(siam_ctx *ctx, float *out, const float *a, const float *b, size_t n);
int siam_cpu_absdiff_backward(siam_ctx *ctx, float *da, float *db, const float *dout,
                              const float *a, const float *b, size_t n);

int siam_cpu_l2_normalize_forward(siam_ctx *ctx, float *out, const float *x, int N, int D,
                                  float eps);
int siam_cpu_l2_normalize_backward(siam_ctx *ctx, float *dx, const float *dout, const float *x,
                                   int N, int D, float eps);
int siam_cpu_triplet_hard_forward(siam_ctx *ctx, float *loss_host, int32_t *hard, const float *e,
                                  const int32_t *labels, int N, int D, float margin, int soft);
int siam_cpu_triplet_hard_backward(siam_ctx *ctx, float *de, const int32_t *hard, const float *e,
                                   int N, int D, float margin, int soft, float dloss);
int siam_cpu_pair_features_forward(siam_ctx *ctx, float *out, const float *a, const float *b,
                                  int B, int U, unsigned mask);
int siam_cpu_pair_features_backward(siam_ctx *ctx, float *da, float *db, const float *dout,
                                   const float *a, const float *b, int B, int U,
                                   unsigned mask);
int siam_cpu_lerp(siam_ctx *ctx, float *y, const float *x, size_t n, float w);

int siam_cpu_dropout_forward(siam_ctx *ctx, float *out, float *mask, const float *in, size_t n,
                             float p, uint64_t seed, uint64_t offset);
int siam_cpu_dropout_backward(siam_ctx *ctx, float *din, const float *dout, const float *mask,
                              size_t n);

/* The mean BCE of bce_forward (its checks and order of summation), with
 * fn naming the caller in the message. */
int siam_cpu_bce_loss(siam_ctx *ctx, const char *fn, float *loss, const float *p,
                      const float *y, size_t n);
int siam_cpu_bce_forward(siam_ctx *ctx, float *loss_host, const float *p, const float *y,
                         size_t n);
int siam_cpu_bce_backward(siam_ctx *ctx, float *dp, const float *p, const float *y, size_t n,
                          float dloss);

int siam_cpu_margin_softmax(siam_ctx *ctx, float *loss_host, float *dE, float *dW,
                            const float *E, const int32_t *labels, const float *W, int N, int D,
                            int C, int kind, float s, float m, float dloss);

int siam_cpu_adam_step(siam_ctx *ctx, float *param, const float *grad, float *m, float *v,
                       size_t n, float lr, float beta1, float beta2, float eps, float weight_decay,
                       int decoupled, long step);
int siam_cpu_sgd_step(siam_ctx *ctx, float *param, const float *grad, float *buf, size_t n,
                      float lr, float momentum, float weight_decay, int nesterov, int first_step);

int siam_cpu_nonfinite_count(siam_ctx *ctx, size_t *counts_host, const float *const *bufs,
                             const size_t *lens, int k);
int siam_cpu_step_report(siam_ctx *ctx, siam_step_report *rep, float *probs_host, const float *p,
                         const float *y, size_t n, const float *const *bufs, const size_t *lens,
                         int k);

int siam_cpu_gather_normalize(siam_ctx *ctx, float *out, const uint8_t *images,
                              const int32_t *idx, int n, int pixels, float mean, float std);
int siam_cpu_augment_batch(siam_ctx *ctx, float *out, const uint8_t *images, const int32_t *idx,
                           int n, int H, int W, const siam_augment *aug, uint64_t seed,
                           uint64_t offset, float mean, float std);

#endif
