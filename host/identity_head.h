/* An identity-classification head over the tower's embedding: the class
 * weights W (classes x dim) on the device, their gradient, their seeded
 * initialisation, and the loss of ops->margin_softmax (softmax, CosFace or
 * ArcFace). Not the sampler, the tower's pass or the training loop: the
 * caller runs those, then this, then the tower's backward from dE. W is
 * updated by a siam_optim of its own over siam_identity_head_numel values
 * (host/optim.h takes any flat buffer; the model's optimizer keeps its own
 * moments for the model's parameters). */
#ifndef SIAM_IDENTITY_HEAD_H
#define SIAM_IDENTITY_HEAD_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"
#include "kernels/ops.h"

typedef struct siam_identity_head_config {
    int kind;    /* SIAM_MARGIN_SOFTMAX, _COSFACE or _ARCFACE (kernels/margin.h) */
    int classes; /* C: the training people */
    int dim;     /* D: the embedding's width */
    double s, m; /* scale and margin (not read by softmax) */
} siam_identity_head_config;

typedef struct siam_identity_head siam_identity_head;

/* A head with W drawn from Philox (seed, SIAM_STREAM_HEAD): element i is
 * (2u - 1) / sqrt(dim), u = siam_philox_uniform(seed, SIAM_STREAM_HEAD, i),
 * torch.nn.Linear's default bound; the gradient starts at zero. ops and
 * ctx are borrowed; the caller frees the head (NULL is fine). */
siam_identity_head *siam_identity_head_new(const siam_ops *ops, siam_ctx *ctx,
                                           const siam_identity_head_config *cfg, uint64_t seed,
                                           siam_error *err);
void siam_identity_head_free(siam_identity_head *h);

/* The loss of the N embeddings E_dev (N, dim) with labels_dev (N, int32 in
 * [0, classes)), both on the device, into *loss (host); its gradient is
 * ADDED into dE_dev (N, dim; NULL: not needed) and into the head's own
 * gradient. */
int siam_identity_head_loss_and_grad(siam_identity_head *h, const float *E_dev,
                                     const int32_t *labels_dev, int N, float *loss,
                                     float *dE_dev, siam_error *err);
/* Zeroes the head's gradient (the caller's explicit step, as the model's). */
int siam_identity_head_zero_grad(siam_identity_head *h, siam_error *err);

/* W and its gradient on the device, classes * dim floats each, owned by
 * the head: what siam_optim_step(opt, weights, grad) updates. */
float *siam_identity_head_weights(siam_identity_head *h);
float *siam_identity_head_grad(siam_identity_head *h);
size_t siam_identity_head_numel(const siam_identity_head *h);
const siam_identity_head_config *siam_identity_head_config_of(const siam_identity_head *h);

#endif
