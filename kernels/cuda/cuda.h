/* Private to the CUDA backend: the context layout (stream, cuBLAS and cuDNN
 * handles, workspace, per-shape convolution plans), the status check macros
 * and the siam_cuda_* functions that kernels/cuda/table.cu collects into the
 * table returned by siam_ops_cuda(). Host code uses the table, never these
 * names. Compiled by nvcc only (C++17). */
#ifndef SIAM_CUDA_H
#define SIAM_CUDA_H

#include <stddef.h>
#include <stdint.h>

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

/* The SIAM_HD helpers get C++ linkage (they are inline); the rest of the
 * interface is C, compiled by the C compiler in kernels/ and host/. */
#include "kernels/augment.h"
#include "kernels/margin.h"
#include "kernels/philox.h"
extern "C" {
#include "kernels/error.h"
#include "kernels/op_checks.h"
#include "kernels/ops.h"
}

/* Threads per block for the elementwise kernels, and the most blocks one
 * launch uses: grid-stride loops cover the rest, so any n fits. */
#define SIAM_CUDA_THREADS 256
#define SIAM_CUDA_MAX_BLOCKS 32768

/* Grid-stride loop over [0, n) in a kernel launched with siam_cuda_blocks. */
#define SIAM_CUDA_FOR(i, n)                                                               \
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < (n);               \
         i += (size_t)gridDim.x * blockDim.x)

/* A convolution algorithm needing more workspace than this is skipped in
 * favour of the next one cuDNN proposes. */
#define SIAM_CUDA_WORKSPACE_LIMIT ((size_t)1 << 30)

/* Room for cuDNN's proposals of any direction (its *_ALGO_COUNT are 8 or
 * fewer). */
#define SIAM_CUDA_MAX_PROPOSALS 16

/* The algorithm of one direction of a convolution shape, chosen the first
 * time that direction runs; math is the cuDNN math type it runs with (the
 * convolution descriptor is set to it before each call). */
typedef struct siam_cuda_conv_dir {
    int ready;
    int algo; /* the direction's cudnn*Algo_t */
    cudnnMathType_t math;
    size_t ws;
} siam_cuda_conv_dir;

/* One convolution shape: its descriptors, made the first time the shape is
 * seen, and its forward, backward-data and backward-filter algorithms. */
typedef struct siam_cuda_conv_plan {
    int N, Ci, H, W, Co, KH, KW;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t conv;
    siam_cuda_conv_dir dir[3];
} siam_cuda_conv_plan;

struct siam_ctx {
    int device;
    int allow_tf32;      /* the options' (kernels/ops.h) */
    int bn_own;          /* batch norm by batchnorm_own.cu instead of cuDNN */
    int cudnn_find;
    siam_log_fn log;
    void *log_user;
    cudaStream_t stream;
    cublasHandle_t blas; /* bound to stream */
    cudnnHandle_t dnn;   /* bound to stream */
    cudnnTensorDescriptor_t bn_x, bn_param; /* reset by each batchnorm call */
    void *ws;            /* the one workspace: grow-only, reused by every op */
    size_t ws_bytes;
    /* Reductions and readbacks: a siam_cuda_scalars header, then room for
     * step_report's probabilities; host_scalars is its pinned mirror. Both
     * are scalars_bytes long (grown by siam_cuda_scalars_reserve). */
    void *dev_scalars;
    void *host_scalars;
    size_t scalars_bytes;
    cudaEvent_t stamps[SIAM_STAMP_MAX]; /* made on first use; NULL until then */
    siam_cuda_conv_plan *plans;
    int nplans, cap_plans;
    siam_error err;
};

/* The head of ctx->dev_scalars. fault is where kernels that find bad input
 * (a negative batch index) leave it, since they cannot return an error:
 * SIAM_CUDA_NO_FAULT, or the lowest siam_cuda_fault_pack word of the faults
 * since the last readback. Every readback (siam_cuda_readback) copies it
 * with its own results and reports it. */
typedef struct siam_cuda_scalars {
    unsigned long long fault;
    double bce_sum;                               /* sum of y log p + (1 - y) log(1 - p) */
    unsigned long long bce_bad;                   /* first p outside [0, 1], or SIAM_CUDA_NO_FAULT */
    unsigned long long counts[SIAM_NONFINITE_MAX]; /* nonfinite_count, step_report */
    double loss_sum;                              /* an embedding loss's sum over anchors */
    unsigned long long loss_count;                /* and how many anchors it has */
    unsigned long long pad;
    double margin_sum;                            /* margin_softmax: sum of the rows' losses */
    unsigned long long margin_bad;                /* its first (row << 32 | label) out of range */
} siam_cuda_scalars;

#define SIAM_CUDA_NO_FAULT 0xFFFFFFFFFFFFFFFFull
/* Operations that record faults (the top byte of a fault word). */
#define SIAM_CUDA_FAULT_GATHER 1
#define SIAM_CUDA_FAULT_AUGMENT 2

/* A fault word: operation, image position (< 2^24) and the bad index, so
 * that the lowest word is the first position of the earliest operation. */
SIAM_HD unsigned long long siam_cuda_fault_pack(unsigned op, int pos, int32_t value)
{
    return ((unsigned long long)op << 56) | ((unsigned long long)(pos & 0xFFFFFF) << 32)
           | (unsigned long long)(uint32_t)value;
}

/* Makes ctx->dev_scalars and host_scalars at least `bytes` long (keeping the
 * fault word). Returns 0, or -1 with the message in ctx. */
int siam_cuda_scalars_reserve(siam_ctx *ctx, size_t bytes);
/* Copies the first `bytes` (>= 8) of dev_scalars to host_scalars after the
 * work queued so far, waits for it, and reports a recorded fault (clearing
 * it on the device): -1 with the operation's message, e.g.
 * "gather_normalize: idx[2] = -7 is negative". */
int siam_cuda_readback(siam_ctx *ctx, size_t bytes);

/* Status checks. Each records "file:line: call: NAME: message" in err and
 * returns -1, or returns 0 on success. */
int siam_cuda_check_rt(siam_error *err, cudaError_t st, const char *file, int line,
                       const char *call);
int siam_cuda_check_blas(siam_error *err, cublasStatus_t st, const char *file, int line,
                         const char *call);
int siam_cuda_check_dnn(siam_error *err, cudnnStatus_t st, const char *file, int line,
                        const char *call);

/* The macros used after every runtime, cuBLAS and cuDNN call and after every
 * kernel launch inside an operator: on failure the message goes to the
 * context and the operator returns -1. */
#define SIAM_CUDA_CHECK(ctx, call)                                                        \
    do {                                                                                  \
        if (siam_cuda_check_rt(&(ctx)->err, (call), __FILE__, __LINE__, #call))           \
            return -1;                                                                    \
    } while (0)
#define SIAM_CUBLAS_CHECK(ctx, call)                                                      \
    do {                                                                                  \
        if (siam_cuda_check_blas(&(ctx)->err, (call), __FILE__, __LINE__, #call))         \
            return -1;                                                                    \
    } while (0)
#define SIAM_CUDNN_CHECK(ctx, call)                                                       \
    do {                                                                                  \
        if (siam_cuda_check_dnn(&(ctx)->err, (call), __FILE__, __LINE__, #call))          \
            return -1;                                                                    \
    } while (0)
/* A launch reports configuration errors at once and faults later; this
 * catches the first kind here, the second at the next synchronising call. */
#define SIAM_CUDA_LAUNCH_CHECK(ctx) SIAM_CUDA_CHECK(ctx, cudaGetLastError())

/* Records the message in ctx and returns -1. */
int siam_cuda_fail(siam_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Blocks for an elementwise launch over n values (n > 0). */
unsigned siam_cuda_blocks(size_t n);

/* At least `bytes` of device workspace owned by ctx, valid until the next
 * call that asks for workspace; grows (never shrinks). *out may be NULL when
 * bytes is 0. Returns 0, or -1 with the message in ctx. */
int siam_cuda_workspace(siam_ctx *ctx, size_t bytes, void **out);

/* Releases the descriptors of every convolution plan (ctx_free). */
void siam_cuda_conv_plans_free(siam_ctx *ctx);

siam_ctx *siam_cuda_ctx_new(const siam_ctx_options *opt, siam_error *err);
void siam_cuda_ctx_free(siam_ctx *ctx);
const char *siam_cuda_ctx_error(const siam_ctx *ctx);

void *siam_cuda_mem_alloc(siam_ctx *ctx, size_t bytes);
void siam_cuda_mem_free(siam_ctx *ctx, void *p);
int siam_cuda_upload(siam_ctx *ctx, void *dst, const void *src, size_t bytes);
int siam_cuda_download(siam_ctx *ctx, void *dst, const void *src, size_t bytes);
int siam_cuda_copy(siam_ctx *ctx, void *dst, const void *src, size_t bytes);
int siam_cuda_fill(siam_ctx *ctx, float *x, float value, size_t n);
int siam_cuda_synchronize(siam_ctx *ctx);

int siam_cuda_conv2d_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                             const float *b, int N, int Ci, int H, int W, int Co, int KH, int KW);
int siam_cuda_conv2d_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, int N, int Ci, int H, int W, int Co,
                              int KH, int KW);

int siam_cuda_batchnorm_forward_train(siam_ctx *ctx, float *out, float *save_mean,
                                      float *save_invstd, float *running_mean, float *running_var,
                                      const float *in, const float *gamma, const float *beta,
                                      int N, int C, int HW, float momentum, float eps);
int siam_cuda_batchnorm_forward_eval(siam_ctx *ctx, float *out, const float *in,
                                     const float *running_mean, const float *running_var,
                                     const float *gamma, const float *beta, int N, int C, int HW,
                                     float eps);
int siam_cuda_batchnorm_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                                 const float *dout, const float *in, const float *save_mean,
                                 const float *save_invstd, const float *gamma, int N, int C,
                                 int HW, float eps);

/* The batch norm of batchnorm_own.cu, called by batchnorm.cu after it has
 * checked the arguments, when ctx->bn_own is set. */
int siam_cuda_bn_own_forward_train(siam_ctx *ctx, float *out, float *save_mean,
                                   float *save_invstd, float *running_mean, float *running_var,
                                   const float *in, const float *gamma, const float *beta, int N,
                                   int C, int HW, float momentum, float eps);
int siam_cuda_bn_own_forward_eval(siam_ctx *ctx, float *out, const float *in,
                                  const float *running_mean, const float *running_var,
                                  const float *gamma, const float *beta, int N, int C, int HW,
                                  float eps);
int siam_cuda_bn_own_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                              const float *dout, const float *in, const float *save_mean,
                              const float *save_invstd, const float *gamma, int N, int C, int HW);

int siam_cuda_relu_forward(siam_ctx *ctx, float *out, const float *in, size_t n);
int siam_cuda_relu_backward(siam_ctx *ctx, float *din, const float *dout, const float *out,
                            size_t n);
int siam_cuda_sigmoid_forward(siam_ctx *ctx, float *out, const float *in, size_t n);
int siam_cuda_sigmoid_backward(siam_ctx *ctx, float *din, const float *dout, const float *out,
                               size_t n);

int siam_cuda_maxpool2_forward(siam_ctx *ctx, float *out, int32_t *argmax, const float *in, int NC,
                               int H, int W);
int siam_cuda_maxpool2_backward(siam_ctx *ctx, float *din, const float *dout,
                                const int32_t *argmax, int NC, int H, int W);

int siam_cuda_linear_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                             const float *b, int N, int I, int O);
int siam_cuda_linear_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, int N, int I, int O);

int siam_cuda_absdiff_forward(siam_ctx *ctx, float *out, const float *a, const float *b,
                              size_t n);
int siam_cuda_absdiff_backward(siam_ctx *ctx, float *da, float *db, const float *dout,
                               const float *a, const float *b, size_t n);

int siam_cuda_l2_normalize_forward(siam_ctx *ctx, float *out, const float *x, int N, int D,
                                   float eps);
int siam_cuda_l2_normalize_backward(siam_ctx *ctx, float *dx, const float *dout, const float *x,
                                    int N, int D, float eps);
int siam_cuda_triplet_hard_forward(siam_ctx *ctx, float *loss_host, int32_t *hard,
                                   const float *e, const int32_t *labels, int N, int D,
                                   float margin, int soft);
int siam_cuda_triplet_hard_backward(siam_ctx *ctx, float *de, const int32_t *hard,
                                    const float *e, int N, int D, float margin, int soft,
                                    float dloss);
int siam_cuda_pair_features_forward(siam_ctx *ctx, float *out, const float *a, const float *b,
                                  int B, int U, unsigned mask);
int siam_cuda_pair_features_backward(siam_ctx *ctx, float *da, float *db, const float *dout,
                                   const float *a, const float *b, int B, int U,
                                   unsigned mask);
int siam_cuda_lerp(siam_ctx *ctx, float *y, const float *x, size_t n, float w);

int siam_cuda_dropout_forward(siam_ctx *ctx, float *out, float *mask, const float *in, size_t n,
                              float p, uint64_t seed, uint64_t offset);
int siam_cuda_dropout_backward(siam_ctx *ctx, float *din, const float *dout, const float *mask,
                               size_t n);

int siam_cuda_bce_forward(siam_ctx *ctx, float *loss_host, const float *p, const float *y,
                          size_t n);
int siam_cuda_bce_backward(siam_ctx *ctx, float *dp, const float *p, const float *y, size_t n,
                           float dloss);

int siam_cuda_margin_softmax(siam_ctx *ctx, float *loss_host, float *dE, float *dW,
                             const float *E, const int32_t *labels, const float *W, int N, int D,
                             int C, int kind, float s, float m, float dloss);

int siam_cuda_adam_step(siam_ctx *ctx, float *param, const float *grad, float *m, float *v,
                        size_t n, float lr, float beta1, float beta2, float eps,
                        float weight_decay, int decoupled, long step);
int siam_cuda_sgd_step(siam_ctx *ctx, float *param, const float *grad, float *buf, size_t n,
                       float lr, float momentum, float weight_decay, int nesterov,
                       int first_step);

int siam_cuda_nonfinite_count(siam_ctx *ctx, size_t *counts_host, const float *const *bufs,
                              const size_t *lens, int k);
/* The reductions step_report shares with bce_forward and nonfinite_count,
 * queued on the stream: the BCE sum and first bad index into the scalars'
 * header (copying p to copy_to on the way unless it is NULL), and the
 * non-finite counts of k buffers into its counts (zeroed first);
 * check_buffers validates such a list of kmin..SIAM_NONFINITE_MAX buffers. */
int siam_cuda_check_buffers(siam_ctx *ctx, const char *fn, const float *const *bufs,
                            const size_t *lens, int k, int kmin);
int siam_cuda_bce_queue(siam_ctx *ctx, const float *p, const float *y, size_t n, float *copy_to);
int siam_cuda_nonfinite_queue(siam_ctx *ctx, const float *const *bufs, const size_t *lens, int k);
int siam_cuda_step_report(siam_ctx *ctx, siam_step_report *rep, float *probs_host,
                          const float *p, const float *y, size_t n, const float *const *bufs,
                          const size_t *lens, int k);
int siam_cuda_stamp(siam_ctx *ctx, int k);
int siam_cuda_stamp_ms(siam_ctx *ctx, int a, int b, double *ms);
int siam_cuda_describe(siam_ctx *ctx, char *buf, size_t cap);

int siam_cuda_gather_normalize(siam_ctx *ctx, float *out, const uint8_t *images,
                               const int32_t *idx, int n, int pixels, float mean, float std);
/* Fault words hold the image position in 24 bits: a batch has fewer images. */
#define SIAM_CUDA_MAX_IMAGES (1 << 24)
/* gather_normalize's kernel, queued; a negative index records a fault of
 * operation fault_op (SIAM_CUDA_FAULT_*). */
int siam_cuda_gather_queue(siam_ctx *ctx, float *out, const uint8_t *images, const int32_t *idx,
                           int n, int pixels, float mean, float std, unsigned fault_op);
int siam_cuda_augment_batch(siam_ctx *ctx, float *out, const uint8_t *images, const int32_t *idx,
                            int n, int H, int W, const siam_augment *aug, uint64_t seed,
                            uint64_t offset, float mean, float std);

#endif
