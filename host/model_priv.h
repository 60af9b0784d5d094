/* Private to host/model*.c: the model's layout and buffers, and the conv
 * tower's passes (host/model_tower.c). Everything else reaches the model
 * through host/model.h. */
#ifndef SIAM_MODEL_PRIV_H
#define SIAM_MODEL_PRIV_H

#include "host/model.h"

/* Two ways through the conv tower, chosen once from the ops table:
 * - fused (the table has the bn_relu_pool ops, as the CPU's): a block keeps
 *   only its conv output, its pooled output and the pool winners; the
 *   batch-norm output is never stored, and backward overwrites the conv
 *   output with its own gradient. Buffers needed only by training are
 *   allocated by the first training forward, and an eval forward runs
 *   every block of eval_chunk images at a time through conv[0] and
 *   pool[0], then fc through bn[3] and fc, so an inference-only model
 *   holds those four activations for eval_cap images whatever its
 *   max_batch.
 * - plain (other tables): batchnorm, relu and maxpool2 as separate ops,
 *   every buffer allocated with the model (the first design, kept for
 *   backends whose batch norm may not run in place). */
struct siam_model {
    const siam_ops *ops;
    siam_ctx *ctx;
    siam_model_config cfg;
    int sizes[8];           /* conv k output (h, w) */
    int max_batch;
    int training;
    int fused;
    int train_ready;        /* the training-only buffers exist */
    int tower_consumed;     /* fused: backward overwrote the saved conv outputs */
    int eval_chunk;         /* fused: images per eval pass through the tower (0: all) */
    int eval_cap;           /* fused: images conv[0], pool[0], bn[3] and fc hold; at least
                             * min(eval_chunk, 2 * max_batch), 2 * max_batch once the
                             * training buffers exist */
    uint64_t drop_seed, drop_offset;
    int dry;                /* a plan (siam_model_plan_of): allocations are only counted */
    int overflow;           /* a size overflowed 64 bits */
    uint64_t planned;       /* bytes counted by a dry run */

    siam_param_info params[SIAM_MODEL_NPARAMS];
    siam_param_info bufs[SIAM_MODEL_NBUFFERS];
    size_t nparams, nbufs;

    float *flat;            /* the parameters (n) */
    float *grad;            /* their gradients (n, same layout); fused: a training buffer,
                             * NULL until the first training forward */
    float *runstats;        /* BN running statistics (nbufs) */

    /* Activations for 2*max_batch images. */
    float *x;               /* (2B, 1, H, W) */
    float *conv[4];         /* conv k output, BN input; fused: its gradient in backward,
                             * and conv[0] is sized for the largest conv output
                             * (eval_cap images) */
    float *bn[4];           /* BN output, ReLU applied in place; fused: bn[3] only,
                             * eval_cap images */
    float *pool[3];         /* max-pool output; fused: pool[0] sized for the largest
                             * (eval_cap images) */
    int32_t *argmax[3];     /* plain: winners as plane indices */
    uint8_t *win[3];        /* fused: winners as window positions */
    float *save_mean[4], *save_invstd[4];
    float *fc;              /* (2B, U) pre-activation; fused: eval_cap images */
    float *emb;             /* (2B, U) the embeddings */
    float *dist;            /* (B, F) head features: |e1 - e2| (F = U) or pair features */
    float *drop;            /* (B, F) after dropout */
    float *mask;            /* (B, F) dropout scales */
    float *logit;           /* (B) */
    float *prob;            /* (B) */
    float *dprob, *dlogit;  /* (B) */
    float *g[2];            /* ping-pong gradient scratch: plain, the largest activation;
                             * fused, the head and the conv4 block */
    float *dpool;           /* fused: d(pool output), the largest pool */
    int last_forward_training; /* whether the saved activations are usable by backward */
    int last_B;             /* pairs of the last pair forward (0 after an embed forward) */
    int last_embed_N;       /* images of the last embed forward (0 after a pair forward) */
};

#define SIAM_P(m, j) ((m)->flat + (m)->params[j].offset)
#define SIAM_G(m, j) (siam_model_grads(m) + (m)->params[j].offset)
#define SIAM_RS(m, j) ((m)->runstats + (m)->bufs[j].offset)

/* Wraps a failed op with the layer it belongs to and the backend message. */
int siam_model_op_fail(siam_model *m, siam_error *err, const char *what);

/* Forward of the four conv blocks of n images from m->x; *out receives the
 * conv4 block output (n, flat). i0 > 0 (images i0 .. i0 + n - 1 of m->x)
 * only for a fused eval forward, which takes at most eval_cap images: the
 * other ways run the whole input from image 0. */
int siam_model_tower_forward(siam_model *m, int i0, int n, const float **out, siam_error *err);
/* Backward from d(conv4 block output) in `cur` (one of m->g); `other` is the
 * other m->g. Adds into the tower's parameter gradients. */
int siam_model_tower_backward(siam_model *m, int N, float *cur, float *other, siam_error *err);

/* N images of m->x through the tower, fc and its activation into m->emb
 * (host/model_embed.c); the pair forward's first half. */
int siam_model_embed_pass(siam_model *m, int N, siam_error *err);
/* Back from d(embedding) (N, U): demb may be m->g[0] or m->g[1] (the pair
 * backward's) or another buffer; it is only read. Adds into fc's and the
 * tower's gradients. */
int siam_model_embed_grad_pass(siam_model *m, int N, const float *demb, siam_error *err);

#endif
