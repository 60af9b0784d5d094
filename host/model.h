/* The Siamese twin CNN (Koch et al. 2015; seed report Part 3): one tower of
 * four conv blocks and a sigmoid fully-connected layer, shared by both images
 * of a pair, and a head |e1 - e2| -> dropout -> linear -> sigmoid. Options
 * (zero = the paper): the embedding's width (fc_units) and activation, and
 * richer distance heads.
 * This file holds the parameter layout, initialisation, forward, loss and
 * backward; optimizers, training and checkpoints live in their own files.
 *
 * All tensor memory lives on the backend's device and is reached only
 * through the ops table (kernels/ops.h), so the same code drives the CPU and
 * CUDA backends. */
#ifndef SIAM_MODEL_H
#define SIAM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"
#include "kernels/ops.h"

/* Sizes of the network. siam_model_config_default gives the paper's
 * (105x105 input, 64/128/128/256 channels, kernels 10/7/4/4, 4096 units);
 * smaller configurations exist for fast tests and keep every layer type. */
typedef struct siam_model_config {
    int in_h, in_w;        /* input image size (1 channel) */
    int channels[4];       /* output channels of conv1..conv4 */
    int kernels[4];        /* square kernel size of conv1..conv4 */
    int fc_units;          /* width of fc (the embedding) */
    float dropout;         /* head dropout probability p */
    float bn_momentum;     /* PyTorch BatchNorm2d momentum (0.1) */
    float bn_eps;          /* PyTorch BatchNorm2d eps (1e-5) */
    /* Options beyond the paper; zero is the paper's network. */
    int embed_act;         /* siam_embed_act of the fc output (the embedding) */
    unsigned head;         /* 0: |e1 - e2| (SIAM_HEAD_L1); else the SIAM_PAIRFEAT_* blocks
                            * of kernels/ops.h concatenated, e.g. SIAM_HEAD_RICH */
} siam_model_config;

/* Activation of the embedding. The paper's is the sigmoid. */
typedef enum siam_embed_act {
    SIAM_EMBED_SIGMOID = 0,
    SIAM_EMBED_NONE = 1,   /* the fc output itself */
    SIAM_EMBED_RELU = 2
} siam_embed_act;

/* Distance heads: |e1 - e2| -> dropout -> out (the paper), or a
 * concatenation of pair features -> dropout -> out. */
#define SIAM_HEAD_L1 0u
#define SIAM_HEAD_RICH (SIAM_PAIRFEAT_ABS | SIAM_PAIRFEAT_SQ | SIAM_PAIRFEAT_COS)

/* "sigmoid", "none", "relu"; -1 with a message otherwise. */
int siam_embed_act_parse(const char *name, siam_embed_act *out, siam_error *err);
const char *siam_embed_act_name(int act);
/* "l1" (the paper), "rich" (|a-b|, (a-b)^2, cosine), or blocks joined by
 * '+' from "abs", "sq", "prod", "cos" (e.g. "abs+prod"; "abs" alone is the
 * l1 head through the pair-feature op). -1 with a message otherwise. */
int siam_head_parse(const char *name, unsigned *out, siam_error *err);
/* Width of the head's feature vector (the out layer's input). */
int siam_model_head_width(const siam_model_config *cfg);

void siam_model_config_default(siam_model_config *cfg);
/* Limits of a configuration. They keep every size the model and the
 * kernels compute in `int` (a tensor's element count, a layer's fan-in, one
 * image's activation) below 2^31, so a configuration read from a file can
 * never overflow them. */
#define SIAM_MODEL_MAX_SIDE 65536      /* input side, channels of a layer */
#define SIAM_MODEL_MAX_UNITS (1 << 24) /* fc_units */
/* Checks that every layer has a positive output size and that the
 * configuration is within the limits above; fills the derived spatial
 * sizes when `sizes` is non-NULL: sizes[k] is the conv k output side pair
 * (h, w) as sizes[2k], sizes[2k+1]. */
int siam_model_config_check(const siam_model_config *cfg, int sizes[8], siam_error *err);

/* Parameter and BN-statistic counts of a configuration (what
 * siam_model_numel and siam_model_buffer_numel of its model return), without
 * building it; fails as siam_model_config_check does. */
int siam_model_config_counts(const siam_model_config *cfg, uint64_t *params, uint64_t *buffers,
                             siam_error *err);

/* What a model of this configuration holds at `max_batch` pairs per
 * forward: computed in 64 bits with every product checked, from the very
 * allocation list siam_model_new follows (one list, so the plan and the
 * allocations cannot drift apart). The training buffers are counted even
 * where they are allocated only by the first training forward: a model can
 * always be trained. eval_bytes is what a new model holds before that
 * forward, and so all that a model used only for inference ever holds
 * (with the default eval chunk). */
typedef struct siam_model_plan {
    uint64_t params;           /* parameter count */
    uint64_t buffers;          /* BN running statistics */
    uint64_t weight_bytes;     /* parameters, their gradients, BN statistics */
    uint64_t activation_bytes; /* input batch, activations and their gradients */
    uint64_t total_bytes;      /* once trained: weight_bytes + activation_bytes */
    uint64_t eval_bytes;       /* new, or used only for inference */
} siam_model_plan;

/* Fails with "model config: ..." for a configuration siam_model_config_check
 * refuses and "model: batch B ... overflows" when a size does not fit in 64
 * bits. `ops` decides the way through the tower (fused or plain). */
int siam_model_plan_of(const siam_ops *ops, const siam_model_config *cfg, int max_batch,
                       siam_model_plan *plan, siam_error *err);
/* Refuses a plan larger than `available` bytes (0: no check) with "model:
 * batch B needs 19.3 GiB (activations 19.1 GiB, parameters, gradients and BN
 * statistics 150.0 MiB); this machine has 12.0 GiB available", or "...; the
 * limit is 512.0 MiB" when `is_limit`. */
int siam_model_plan_check(const siam_model_plan *plan, int max_batch, uint64_t available,
                          int is_limit, siam_error *err);

typedef enum siam_init_kind {
    SIAM_INIT_PAPER = 0,   /* Koch et al. 2015, Section 3.1 */
    SIAM_INIT_PYTORCH = 1, /* PyTorch Conv2d/Linear defaults */
    SIAM_INIT_CROSSCHECK = 2 /* the cross-check spec's fixed weights */
} siam_init_kind;

/* Parses "paper", "pytorch" or "crosscheck"; -1 with a message otherwise. */
int siam_init_kind_parse(const char *name, siam_init_kind *out, siam_error *err);

typedef enum siam_param_role {
    SIAM_ROLE_CONV_WEIGHT, SIAM_ROLE_CONV_BIAS, SIAM_ROLE_BN_WEIGHT, SIAM_ROLE_BN_BIAS,
    SIAM_ROLE_FC_WEIGHT, SIAM_ROLE_FC_BIAS
} siam_param_role;

/* One row of the parameter table: a named tensor at `offset` floats into the
 * flat parameter buffer (and, with the same offset, into the gradient and
 * every optimizer moment). */
typedef struct siam_param_info {
    char name[32];         /* PyTorch state_dict name, e.g. "conv1.weight" */
    size_t offset;
    size_t numel;
    int ndim;
    int shape[4];
    int fan_in;            /* Ci*KH*KW or I, for initialisation */
    siam_param_role role;
} siam_param_info;

/* The parameter tensors by index, in layout order (siam_model_param(m, j)),
 * as llm.c names its parameter tensors: conv block k (0..3) holds its conv
 * weight and bias, then its batch norm's weight and bias; fc and out
 * follow. */
#define SIAM_PARAM_CONV_W(k) (4 * (k))     /* conv<k+1>.weight (Co, Ci, K, K) */
#define SIAM_PARAM_CONV_B(k) (4 * (k) + 1) /* conv<k+1>.bias (Co) */
#define SIAM_PARAM_BN_W(k) (4 * (k) + 2)   /* bn<k+1>.weight (Co), gamma */
#define SIAM_PARAM_BN_B(k) (4 * (k) + 3)   /* bn<k+1>.bias (Co), beta */
enum {
    SIAM_PARAM_FC_W = 16,  /* fc.weight (U, flat) */
    SIAM_PARAM_FC_B = 17,  /* fc.bias (U) */
    SIAM_PARAM_OUT_W = 18, /* out.weight (1, F) */
    SIAM_PARAM_OUT_B = 19  /* out.bias (1) */
};
#define SIAM_MODEL_NPARAMS 20  /* conv1..4, bn1..4, fc, out: weight and bias each */
/* The batch-norm buffers by index (siam_model_buffer(m, j)). */
#define SIAM_BUF_MEAN(k) (2 * (k))     /* bn<k+1>.running_mean (Co) */
#define SIAM_BUF_VAR(k) (2 * (k) + 1)  /* bn<k+1>.running_var (Co) */
#define SIAM_MODEL_NBUFFERS 8  /* bn1..4 running_mean, running_var */

typedef struct siam_model siam_model;

/* New model for at most `max_batch` pairs per forward (buffers for 2*max_batch
 * images are allocated once and reused). `ops` and `ctx` are borrowed and
 * must outlive the model. Parameters start at zero: call siam_model_init.
 * On a table with the fused bn_relu_pool ops (the CPU's) the buffers that
 * only training needs are allocated by the first training-mode forward, so
 * a model used only for evaluation never holds them, and an eval forward
 * streams the images through the conv tower and fc SIAM_MODEL_EVAL_CHUNK at
 * a time, so its activations up to fc do not grow with max_batch.
 * Before allocating anything the plan (siam_model_plan_of) is checked: on
 * the CPU against the memory this machine has available
 * (host/host_memory.h), so a batch that cannot fit is refused with what it
 * would need instead of being killed by the kernel; a CUDA allocation fails
 * cleanly by itself. */
siam_model *siam_model_new(const siam_ops *ops, siam_ctx *ctx, const siam_model_config *cfg,
                           int max_batch, siam_error *err);
/* The same with an explicit memory limit in bytes for any backend (0: as
 * siam_model_new). */
siam_model *siam_model_new_within(const siam_ops *ops, siam_ctx *ctx,
                                  const siam_model_config *cfg, int max_batch,
                                  uint64_t mem_limit, siam_error *err);
void siam_model_free(siam_model *m);

const siam_model_config *siam_model_config_of(const siam_model *m);
int siam_model_max_batch(const siam_model *m);

/* Images (not pairs) an eval forward sends through the conv tower and fc at once on
 * the fused way. In eval mode every image is independent of the others
 * (batch norm uses the running statistics), so the probabilities are those
 * of the whole batch at once up to the order of the convolutions' sums,
 * which OpenBLAS picks by the shape of each call: within 1e-6, one float
 * ulp where measured (tests/test_model_chunk.c, docs/perf.md, "Inference
 * in chunks"), as between two batch sizes before chunking. The value sets
 * the memory and the speed. */
#define SIAM_MODEL_EVAL_CHUNK 64
/* Sets the chunk: 0 is the whole batch, unchunked. The eval buffers grow to
 * min(images, 2 * max_batch) when they are smaller, and never shrink; fails
 * with a message, the model unchanged, when they cannot be allocated. The
 * plain way (a table without the fused ops, such as CUDA's) keeps whole-batch
 * buffers and ignores the chunk. */
int siam_model_set_eval_chunk(siam_model *m, int images, siam_error *err);
int siam_model_eval_chunk(const siam_model *m);
const siam_ops *siam_model_ops(const siam_model *m);
siam_ctx *siam_model_ctx(const siam_model *m);

/* Parameter table, in PyTorch state_dict order. */
int siam_model_param_count(const siam_model *m);
const siam_param_info *siam_model_param(const siam_model *m, int j);
/* -1 when no parameter has that name. */
int siam_model_param_find(const siam_model *m, const char *name);
size_t siam_model_numel(const siam_model *m);
/* BN running statistics: buffer j (0..7) is bn(j/2+1).running_mean for even
 * j and running_var for odd j; sizes follow the channels. */
size_t siam_model_buffer_numel(const siam_model *m);
const siam_param_info *siam_model_buffer(const siam_model *m, int j);

/* Device pointers (owned by the model): the flat parameters, their
 * gradients (same layout, another allocation), the BN running statistics,
 * the input batch (2B,1,H,W: rows 0..B-1 left images, B..2B-1 right) and
 * the probabilities (B) of the last forward. On the fused way the
 * gradients are a training buffer: siam_model_grads is NULL until the
 * first training forward or siam_model_prepare_training. */
float *siam_model_params(siam_model *m);
float *siam_model_grads(siam_model *m);
float *siam_model_buffers(siam_model *m);
float *siam_model_input(siam_model *m);
const float *siam_model_probs(const siam_model *m);
/* buf (device, numel + buffer_numel floats) from the parameters and then the
 * BN statistics, or (to_model) back into them; `what` starts the message. */
int siam_model_weights_copy(siam_model *m, float *buf, int to_model, const char *what,
                            siam_error *err);

/* Seeded initialisation of every parameter; BN weight 1, bias 0, running
 * mean 0, running var 1. Paper: conv W ~ N(0, 1e-2), conv b ~ N(0.5, 1e-2),
 * fc W ~ N(0, 2e-1), fc b ~ N(0.5, 1e-2) (standard deviations). PyTorch:
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weights and biases (kaiming-uniform
 * with a = sqrt(5) reduces to that bound). Values are drawn from Philox
 * stream SIAM_STREAM_INIT under `seed`, tensor j using counters from j<<40.
 * Crosscheck: the shared cross-check spec (seed 1234 fixed there, stream
 * 100 + j; `seed` is used in place of 1234). */
int siam_model_init(siam_model *m, siam_init_kind kind, uint64_t seed, siam_error *err);

/* Training mode (batch statistics, dropout) or evaluation mode (running
 * statistics, no dropout). A new model is in training mode. */
void siam_model_set_training(siam_model *m, int training);
int siam_model_training(const siam_model *m);

/* Dropout masks of training forwards come from Philox (seed,
 * SIAM_STREAM_DROPOUT, offset + i); each training forward advances offset by
 * B * fc_units. Saved in checkpoints. */
void siam_model_set_dropout_state(siam_model *m, uint64_t seed, uint64_t offset);
void siam_model_dropout_state(const siam_model *m, uint64_t *seed, uint64_t *offset);

/* Forward of B pairs (B <= max_batch) from the input buffer; probabilities
 * stay on the device (siam_model_probs). */
int siam_model_forward(siam_model *m, int B, siam_error *err);
/* Mean binary cross-entropy of the last forward against labels_dev (B,
 * device), written to *loss on the host. */
int siam_model_loss(siam_model *m, int B, const float *labels_dev, float *loss, siam_error *err);
/* Backward of mean BCE of the last (training-mode) forward: ADDS into the
 * gradients; both towers accumulate into the same parameters. Zero them
 * first with siam_model_zero_grad (which does nothing while they do not
 * exist yet: they are born zero). It reads the current parameters; on the
 * fused path it overwrites the saved conv outputs with their gradients, and
 * a second backward of the same forward recomputes them first. */
int siam_model_backward(siam_model *m, int B, const float *labels_dev, siam_error *err);
int siam_model_zero_grad(siam_model *m, siam_error *err);
/* The tower alone (host/model_embed.c), for losses on single images: the
 * embeddings (the fc output after embed_act) of the first N <= 2*max_batch
 * images of the input buffer, through the same tower and fc the pair
 * forward runs both images of a pair through. In training mode batch norm
 * takes its statistics over these N images and updates the running ones;
 * no dropout is drawn (it belongs to the head). The embeddings stay on the
 * device (siam_model_embeddings, (N, U)) until the next forward. After it
 * a pair backward is refused, as an embed backward is after a pair
 * forward. */
int siam_model_embed_forward(siam_model *m, int N, siam_error *err);
/* The embeddings of the last forward, pair (2B rows: left images, then
 * right) or embed (N rows). Device memory owned by the model. */
const float *siam_model_embeddings(const siam_model *m);
/* Backward of the last (training-mode) embed forward of N images from
 * d(embedding) demb_dev (N, U, device, the caller's; only read): ADDS into
 * the fc and tower gradients, as siam_model_backward does. */
int siam_model_embed_backward(siam_model *m, int N, const float *demb_dev, siam_error *err);
/* Allocates now the training buffers (the gradients among them) that the
 * first training forward would; nothing when they exist. */
int siam_model_prepare_training(siam_model *m, siam_error *err);

/* Host copies of parameters / buffers (for tests, checkpoints). */
int siam_model_download_params(siam_model *m, float *host, siam_error *err);
int siam_model_upload_params(siam_model *m, const float *host, siam_error *err);

#endif
