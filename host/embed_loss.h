/* Losses on the tower's embeddings, and the part of a training step that
 * runs them: a batch of N single images through the tower alone
 * (siam_model_embed_forward), its embeddings L2-normalised, every loss of
 * the step given the unit rows E (N, U) and the images' identity labels,
 * each ADDING its weighted d(loss)/dE into one gradient, then back through
 * the normalisation and the tower into the model's gradients. Any loss of
 * that shape plugs in as an siam_embed_loss (the batch-hard triplet loss,
 * siam_triplet_loss_new; an identity classifier with a margin head takes
 * its class weights in its state). Device memory throughout; nothing
 * comes back to the host but each loss's value. */
#ifndef SIAM_EMBED_LOSS_H
#define SIAM_EMBED_LOSS_H

#include <stdint.h>

#include "host/model.h"
#include "kernels/error.h"

typedef struct siam_embed_loss siam_embed_loss;
struct siam_embed_loss {
    const char *name;      /* "triplet": the history's train_<name>_loss */
    float weight;          /* its weight in the step's loss */
    /* The mean loss of the batch into *loss (host); ADDS weight * dL/dE
     * into dE (N, D, device). labels (N) are device int32. */
    int (*run)(siam_embed_loss *l, float *loss, float *dE, const float *E,
               const int32_t *labels, int N, int D, siam_error *err);
    void (*free)(siam_embed_loss *l);
};

/* Frees through l->free (NULL is fine). */
void siam_embed_loss_free(siam_embed_loss *l);

/* The batch-hard triplet loss (ops->triplet_hard_*, cosine distance on
 * the unit rows) for batches of at most max_n images; margin >= 0, soft 0
 * (hinge) or 1 (softplus). Fails naming the value at fault. */
siam_embed_loss *siam_triplet_loss_new(const siam_ops *ops, siam_ctx *ctx, int max_n,
                                       float margin, int soft, float weight, siam_error *err);

/* The embedding part of a step, with its buffers for max_n images. */
typedef struct siam_embed_step siam_embed_step;
siam_embed_step *siam_embed_step_new(siam_model *m, int max_n, siam_error *err);
void siam_embed_step_free(siam_embed_step *s);

/* With the first N images of the model's input holding the batch and
 * labels_dev (N) their identities: the losses' values into losses[k]
 * (host), their gradients added into the model's gradients (which are not
 * zeroed here). The model must be in training mode. */
int siam_embed_step_run(siam_embed_step *s, siam_embed_loss *const *losses, int nlosses, int N,
                        const int32_t *labels_dev, float *losses_host, siam_error *err);

/* The unit embeddings of the last run (N, U, device). */
const float *siam_embed_step_unit(const siam_embed_step *s);

#endif
