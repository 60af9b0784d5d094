/* The operator interface: every compute step of siamlua, as forward/backward
 * pairs over plain float buffers that live on the backend's device. The CPU
 * backend (kernels/cpu/) and the CUDA backend (kernels/cuda/) fill the same
 * table; host code picks one table when it builds a model and never tests
 * the device again.
 *
 * Conventions (llm.c order): context, outputs, saved values, inputs, sizes.
 * Backward functions ADD into parameter gradients (dw, db, dgamma, dbeta) so
 * that both Siamese towers accumulate into one gradient; they OVERWRITE input
 * gradients (din). A NULL din means "not needed" (the first layer).
 * Every function returns 0, or -1 with the message in siam_ctx_error(ctx).
 * Semantics follow PyTorch's layers of the same name. */
#ifndef SIAM_OPS_H
#define SIAM_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/augment.h"
#include "kernels/error.h"
#include "kernels/margin.h"

typedef enum siam_device { SIAM_DEVICE_CPU = 0, SIAM_DEVICE_CUDA = 1 } siam_device;

/* Backend state: thread count, reusable scratch memory, library handles.
 * Created by ops->ctx_new, freed by ops->ctx_free (NULL is fine). Not shared
 * between threads. */
typedef struct siam_ctx siam_ctx;

/* Which batch norm a CUDA context runs (siam_ctx_options.batchnorm). */
#define SIAM_CUDA_BN_CUDNN 0 /* cuDNN's spatial batch normalisation */
#define SIAM_CUDA_BN_OWN 1   /* kernels/cuda/batchnorm_own.cu: the CPU's arithmetic */

/* Receives one line (no newline) of what a backend chose, e.g. a CUDA
 * context's convolution algorithms per shape; user is the options'. */
typedef void (*siam_log_fn)(void *user, const char *line);

/* Zero is the default of every field. The CPU backend reads `threads` only;
 * the others are the CUDA backend's and the CPU ignores them. Nothing is
 * read from the environment: the bindings and the tests fill these. */
typedef struct siam_ctx_options {
    int threads;      /* CPU threads (0: all cores); ignored by CUDA */
    int device_index; /* CUDA device ordinal */
    int allow_tf32;   /* CUDA convolutions and linear layers may use TF32 tensor cores
                       * (docs/cuda.md gives the error bounds); off: full FP32 */
    int batchnorm;    /* SIAM_CUDA_BN_CUDNN or SIAM_CUDA_BN_OWN */
    int cudnn_find;   /* CUDA convolutions: 0, cuDNN's heuristics choose each shape's
                       * algorithms; 1, a one-time measured search (cudnnFind*) does */
    siam_log_fn log;  /* NULL: silent */
    void *log_user;
} siam_ctx_options;

/* The most buffers one nonfinite_count or step_report call counts. */
#define SIAM_NONFINITE_MAX 4

/* What a step's readback brings to the host (siam_ops.step_report). */
typedef struct siam_step_report {
    float loss;                           /* bce_forward's, or NaN (see step_report) */
    size_t nonfinite[SIAM_NONFINITE_MAX]; /* per buffer, as nonfinite_count */
} siam_step_report;

typedef struct siam_ops {
    const char *name; /* "cpu" or "cuda" */
    siam_device device;

    siam_ctx *(*ctx_new)(const siam_ctx_options *opt, siam_error *err);
    void (*ctx_free)(siam_ctx *ctx);
    const char *(*ctx_error)(const siam_ctx *ctx);

    /* Device memory. mem_alloc returns NULL (message in ctx) on failure;
     * memory is zero-filled. mem_free(NULL) is fine. */
    void *(*mem_alloc)(siam_ctx *ctx, size_t bytes);
    void (*mem_free)(siam_ctx *ctx, void *p);
    int (*upload)(siam_ctx *ctx, void *dst_dev, const void *src_host, size_t bytes);
    int (*download)(siam_ctx *ctx, void *dst_host, const void *src_dev, size_t bytes);
    int (*copy)(siam_ctx *ctx, void *dst_dev, const void *src_dev, size_t bytes);
    int (*fill)(siam_ctx *ctx, float *x, float value, size_t n);
    int (*synchronize)(siam_ctx *ctx);

    /* conv2d, valid padding, stride 1, with bias.
     * out (N,Co,H-KH+1,W-KW+1), in (N,Ci,H,W), w (Co,Ci,KH,KW), b (Co). */
    int (*conv2d_forward)(siam_ctx *ctx, float *out, const float *in, const float *w,
                          const float *b, int N, int Ci, int H, int W, int Co, int KH, int KW);
    /* din (N,Ci,H,W) or NULL; dw, db accumulate. */
    int (*conv2d_backward)(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int N, int Ci, int H, int W, int Co,
                           int KH, int KW);

    /* batchnorm2d, training mode: batch statistics, biased variance for the
     * normalisation, running_var updated with the unbiased variance,
     * running = (1-momentum)*running + momentum*batch. save_mean and
     * save_invstd (C) are kept for backward. x and out are (N,C,HW). */
    int (*batchnorm_forward_train)(siam_ctx *ctx, float *out, float *save_mean,
                                   float *save_invstd, float *running_mean, float *running_var,
                                   const float *in, const float *gamma, const float *beta,
                                   int N, int C, int HW, float momentum, float eps);
    /* eval mode: running statistics. */
    int (*batchnorm_forward_eval)(siam_ctx *ctx, float *out, const float *in,
                                  const float *running_mean, const float *running_var,
                                  const float *gamma, const float *beta, int N, int C, int HW,
                                  float eps);
    /* Training-mode backward; din may alias nothing; dgamma, dbeta accumulate.
     * eps is the forward's (cuDNN requires the same value in both; the CPU
     * reads 1/sqrt(var + eps) from save_invstd and only checks it). */
    int (*batchnorm_backward)(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                              const float *dout, const float *in, const float *save_mean,
                              const float *save_invstd, const float *gamma, int N, int C, int HW,
                              float eps);

    /* ReLU over n values; backward uses the forward output (out > 0). in-place
     * (out == in, din == dout) is allowed. */
    int (*relu_forward)(siam_ctx *ctx, float *out, const float *in, size_t n);
    int (*relu_backward)(siam_ctx *ctx, float *din, const float *dout, const float *out, size_t n);

    /* max-pool 2x2, stride 2, floor: out (N*C, H/2, W/2). argmax holds, per
     * output, the flat index within its (H,W) plane of the winner (first
     * maximum in row-major order on ties, as PyTorch). */
    int (*maxpool2_forward)(siam_ctx *ctx, float *out, int32_t *argmax, const float *in,
                            int NC, int H, int W);
    /* din (N*C,H,W) is overwritten (zeros where no output points). */
    int (*maxpool2_backward)(siam_ctx *ctx, float *din, const float *dout, const int32_t *argmax,
                             int NC, int H, int W);

    /* linear: out (N,O) = in (N,I) * w^T + b, w (O,I), b (O). */
    int (*linear_forward)(siam_ctx *ctx, float *out, const float *in, const float *w,
                          const float *b, int N, int I, int O);
    int (*linear_backward)(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                           const float *in, const float *w, int N, int I, int O);

    /* sigmoid; backward uses the output: din = dout * y * (1 - y). */
    int (*sigmoid_forward)(siam_ctx *ctx, float *out, const float *in, size_t n);
    int (*sigmoid_backward)(siam_ctx *ctx, float *din, const float *dout, const float *out,
                            size_t n);

    /* Siamese distance out = |a - b|; backward da = dout*sign(a-b), db = -da
     * (sign(0) = 0, as torch.abs). */
    int (*absdiff_forward)(siam_ctx *ctx, float *out, const float *a, const float *b, size_t n);
    int (*absdiff_backward)(siam_ctx *ctx, float *da, float *db, const float *dout,
                            const float *a, const float *b, size_t n);

    /* Inverted dropout: element i is kept when
     * siam_philox_uniform(seed, SIAM_STREAM_DROPOUT, offset + i) >= p, and
     * kept values are scaled by 1/(1-p). mask (n) receives that scale or 0,
     * and backward multiplies by it. p == 0 copies. */
    int (*dropout_forward)(siam_ctx *ctx, float *out, float *mask, const float *in, size_t n,
                           float p, uint64_t seed, uint64_t offset);
    int (*dropout_backward)(siam_ctx *ctx, float *din, const float *dout, const float *mask,
                            size_t n);

    /* Binary cross-entropy on probabilities, mean over n, each log clamped at
     * -100 (torch.nn.BCELoss). *loss_host is written on the host. */
    int (*bce_forward)(siam_ctx *ctx, float *loss_host, const float *p, const float *y, size_t n);
    /* dp = (p - y) / max(p(1-p), 1e-12) / n, times dloss. */
    int (*bce_backward)(siam_ctx *ctx, float *dp, const float *p, const float *y, size_t n,
                        float dloss);

    /* Optimiser updates over one flat parameter buffer (torch.optim
     * semantics). Adam: weight_decay is L2 added to the gradient; AdamW
     * (decoupled != 0): p -= lr*wd*p before the update. step counts from 1. */
    int (*adam_step)(siam_ctx *ctx, float *param, const float *grad, float *m, float *v,
                     size_t n, float lr, float beta1, float beta2, float eps, float weight_decay,
                     int decoupled, long step);
    /* SGD with momentum (dampening 0): buf is the momentum buffer; on
     * first_step buf = g (as torch when the buffer does not exist yet). */
    int (*sgd_step)(siam_ctx *ctx, float *param, const float *grad, float *buf, size_t n,
                    float lr, float momentum, float weight_decay, int nesterov, int first_step);

    /* Batch assembly: out[i] (pixels floats) = (images[idx[i]] / 255 - mean) / std
     * for n images of `pixels` uint8 values each. */
    int (*gather_normalize)(siam_ctx *ctx, float *out, const uint8_t *images,
                            const int32_t *idx, int n, int pixels, float mean, float std);
    /* The same with augmentation: image slot i (0..n-1) of this batch draws
     * its parameters from Philox (seed, SIAM_STREAM_AUGMENT, offset + i);
     * bilinear sampling with edge clamping, then normalisation. aug is a
     * host pointer. Images are H x W. */
    int (*augment_batch)(siam_ctx *ctx, float *out, const uint8_t *images, const int32_t *idx,
                         int n, int H, int W, const siam_augment *aug, uint64_t seed,
                         uint64_t offset, float mean, float std);

    /* Members below were added after the first table; copies of a table
     * (struct assignment) pick them up, positional tables list them last. */

    /* Siamese head features beyond the paper's |a - b| (SIAM_PAIRFEAT_*
     * bits in `mask`): for each of B rows of a, b (B,U), out (B,F) holds the
     * selected blocks in this order: |a-b| (U), (a-b)^2 (U), a*b (U),
     * cos(a,b) (1) = a.b / max(|a| |b|, SIAM_PAIRFEAT_EPS). F is
     * siam_pairfeat_width(mask, U). */
    int (*pair_features_forward)(siam_ctx *ctx, float *out, const float *a, const float *b,
                                 int B, int U, unsigned mask);
    /* da, db (B,U) are overwritten from dout (B,F). Derivatives: sign(a-b)
     * (sign(0) = 0), 2(a-b), b and a, and for the cosine
     * b/(|a||b|) - cos a/|a|^2 (the denominator taken as constant where the
     * clamp is active). */
    int (*pair_features_backward)(siam_ctx *ctx, float *da, float *db, const float *dout,
                                  const float *a, const float *b, int B, int U, unsigned mask);
    /* y = (1 - w) y + w x over n values, 0 <= w <= 1 (exact at w = 0 and 1):
     * an exponential moving average with w = 1 - decay, a running mean of
     * k+1 terms with w = 1/(k+1). */
    int (*lerp)(siam_ctx *ctx, float *y, const float *x, size_t n, float w);

    /* Optional: the fused tail of a conv block, batch norm -> ReLU -> 2x2
     * max-pool, which never stores the full-size normalised map. NULL in a
     * table without it (the CUDA one): the model then runs the three ops
     * above one after the other, with the same results. in (N,C,H,W) is
     * the conv output; out (N,C,H/2,W/2) the pooled block output.
     * Training: statistics, running updates and save_mean/save_invstd
     * exactly as batchnorm_forward_train, then relu_forward and
     * maxpool2_forward; win (N,C,H/2,W/2) receives each window's winner
     * as 2*dy + dx (0..3) in place of a plane index. */
    int (*bn_relu_pool_forward_train)(siam_ctx *ctx, float *out, uint8_t *win, float *save_mean,
                                      float *save_invstd, float *running_mean,
                                      float *running_var, const float *in, const float *gamma,
                                      const float *beta, int N, int C, int H, int W,
                                      float momentum, float eps);
    /* eval mode: running statistics, as batchnorm_forward_eval; no winners. */
    int (*bn_relu_pool_forward_eval)(siam_ctx *ctx, float *out, const float *in,
                                     const float *running_mean, const float *running_var,
                                     const float *gamma, const float *beta, int N, int C, int H,
                                     int W, float eps);
    /* Backward of the training forward from dout (N,C,H/2,W/2): ReLU' is
     * taken at the pooled output (the winner's own ReLU output, so this is
     * exact), the gradient is scattered to the winners, then
     * batchnorm_backward. din (N,C,H,W) or NULL is overwritten and MAY BE
     * `in` itself (each value is read before it is written); dgamma, dbeta
     * accumulate. */
    int (*bn_relu_pool_backward)(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                                 const float *dout, const float *out, const uint8_t *win,
                                 const float *in, const float *save_mean,
                                 const float *save_invstd, const float *gamma, int N, int C,
                                 int H, int W);

    /* Non-finite values (NaN, +-Inf) in k device buffers, 1 <= k <=
     * SIAM_NONFINITE_MAX: counts_host[j] (on the host) receives how many of
     * the lens[j] floats at bufs[j] are not finite. One call costs one
     * device round trip whatever k is, so the training loop checks the
     * gradients and the batch-norm statistics of a step in one call.
     * bufs and lens are host arrays; bufs[j] may be NULL when lens[j] is 0. */
    int (*nonfinite_count)(siam_ctx *ctx, size_t *counts_host, const float *const *bufs,
                           const size_t *lens, int k);

    /* Everything the host needs after a step's forward and backward, in one
     * device round trip (on CUDA one copy and one synchronisation, where
     * the separate calls cost three): rep->loss is bce_forward's loss of
     * the n probabilities p against the labels y, or NaN when some p is not
     * finite (a finite p outside [0, 1] is bce_forward's error);
     * probs_host (n floats, host) receives p; rep->nonfinite[j] counts the
     * non-finite values of bufs[j] for the k (0..SIAM_NONFINITE_MAX)
     * buffers, as nonfinite_count. p and y are not changed by a backward
     * pass, so the loss may be taken after it. */
    int (*step_report)(siam_ctx *ctx, siam_step_report *rep, float *probs_host, const float *p,
                       const float *y, size_t n, const float *const *bufs, const size_t *lens,
                       int k);

    /* Optional (NULL in the CPU table): timing on the device's own clock.
     * stamp records marker k (0 <= k < SIAM_STAMP_MAX) once the work queued
     * before it has run; stamp_ms waits for marker b and gives the
     * milliseconds from marker a to b. */
    int (*stamp)(siam_ctx *ctx, int k);
    int (*stamp_ms)(siam_ctx *ctx, int a, int b, double *ms);
    /* Optional: one line on the device and the libraries actually loaded
     * (versions, and where each library was found), into buf. */
    int (*describe)(siam_ctx *ctx, char *buf, size_t cap);

    /* Losses on embeddings (training on identities, docs/training.md). A
     * loss of this kind takes a batch's embeddings and their identity
     * labels and ADDS d(loss) into d(embeddings), so that several losses
     * of one batch sum into one gradient. */

    /* Row-wise L2 normalisation (torch.nn.functional.normalize, p = 2):
     * out (N,D) = x / max(|x|, eps). */
    int (*l2_normalize_forward)(siam_ctx *ctx, float *out, const float *x, int N, int D,
                                float eps);
    /* dx (N,D) is overwritten: (dout - out (out . dout)) / |x| where |x| > eps,
     * dout / eps where the clamp is active (its derivative is then 0). */
    int (*l2_normalize_backward)(siam_ctx *ctx, float *dx, const float *dout, const float *x,
                                 int N, int D, float eps);
    /* Batch-hard triplet loss (Hermans, Beyer and Leibe 2017, "In Defense
     * of the Triplet Loss", Section 2) with the cosine distance
     * d(i,j) = 1 - e_i . e_j of unit rows e (N,D): for each anchor a, its
     * hardest positive p (largest d among the other rows with its label)
     * and hardest negative n (smallest d among rows of another label),
     * first index on ties; l_a = max(d_ap - d_an + margin, 0), or with
     * soft softplus(d_ap - d_an + margin) (the paper's soft margin is
     * margin 0). *loss_host (host) is the mean over the anchors that have
     * both, 0 when none has; hard (2N, device) receives p and n per anchor,
     * -1 where there is none. labels (N) are device int32. */
    int (*triplet_hard_forward)(siam_ctx *ctx, float *loss_host, int32_t *hard, const float *e,
                                const int32_t *labels, int N, int D, float margin, int soft);
    /* ADDS dloss * d(mean loss)/d(e) into de (N,D) for the anchors and
     * partners the forward chose (hard); a hinge at exactly 0 has
     * derivative 0, as torch.relu's. */
    int (*triplet_hard_backward)(siam_ctx *ctx, float *de, const int32_t *hard, const float *e,
                                 int N, int D, float margin, int soft, float dloss);

    /* Identity classification over C classes (the training people): the
     * mean over the N rows of E (N,D) of the cross-entropy of softmax(z)
     * at the row's label, z from E, W (C,D) and kind (kernels/margin.h):
     * SIAM_MARGIN_SOFTMAX, z = E W^T (s and m are not read);
     * SIAM_MARGIN_COSFACE, z = s cos with s (cos - m) at the label;
     * SIAM_MARGIN_ARCFACE, z = s cos with s cos(theta + m) at the label
     * (insightface's threshold past pi - m); cos between rows normalised
     * as x / max(|x|, 1e-12). No bias (docs/ops.md says why). labels (N,
     * int32, device) lie in [0, C): anything else is an error that leaves
     * dE and dW as they were. *loss_host (host) receives the loss; dE
     * (N,D) and dW (C,D) ACCUMULATE dloss times its gradient, since the
     * embedding's gradient is the sum over the objectives that read it
     * (either may be NULL: not needed). One readback to the host per call. */
    int (*margin_softmax)(siam_ctx *ctx, float *loss_host, float *dE, float *dW, const float *E,
                          const int32_t *labels, const float *W, int N, int D, int C, int kind,
                          float s, float m, float dloss);
} siam_ops;

/* The eps of the embedding losses' normalisation (torch's default). */
#define SIAM_L2NORM_EPS 1e-12f

#define SIAM_STAMP_MAX 8

/* Buffers carved out of one device allocation (a model's parameters and
 * gradients, an optimizer's moments) start at multiples of this many bytes,
 * the alignment cudaMalloc gives: cuDNN's and cuBLAS's vectorised kernels
 * need 16-byte aligned pointers and run best on 128- or 256-byte ones. */
#define SIAM_DEVICE_ALIGN 256

/* n floats rounded up to a whole number of SIAM_DEVICE_ALIGN bytes. */
static inline size_t siam_align_floats(size_t n)
{
    const size_t a = SIAM_DEVICE_ALIGN / sizeof(float);
    return (n + a - 1) / a * a;
}

#define SIAM_PAIRFEAT_ABS 1u
#define SIAM_PAIRFEAT_SQ 2u
#define SIAM_PAIRFEAT_PROD 4u
#define SIAM_PAIRFEAT_COS 8u
#define SIAM_PAIRFEAT_ALL 15u
#define SIAM_PAIRFEAT_EPS 1e-8f

/* Width F of a pair-feature row of embeddings of U values. */
static inline int siam_pairfeat_width(unsigned mask, int U)
{
    return U * (int)(((mask & SIAM_PAIRFEAT_ABS) != 0) + ((mask & SIAM_PAIRFEAT_SQ) != 0) +
                     ((mask & SIAM_PAIRFEAT_PROD) != 0)) +
           ((mask & SIAM_PAIRFEAT_COS) != 0);
}

/* The CPU backend; always present. */
extern const siam_ops siam_ops_cpu;

/* The CUDA backend when built with CUDA=1, else NULL. */
const siam_ops *siam_ops_cuda(void);

#endif
