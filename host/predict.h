/* Prediction over pair sets: a pair set laid out in batches on the device,
 * batch assembly into the model input, the eval-mode pass, test-time
 * augmentation, and siam_model_predict. The trainer's validation and
 * evaluation and the Lua layer's prediction share this one path; the
 * training loop itself is host/train.h. */
#ifndef SIAM_PREDICT_H
#define SIAM_PREDICT_H

#include <stddef.h>
#include <stdint.h>

#include "host/dataset.h"
#include "host/model.h"
#include "kernels/augment.h"

/* A pair set laid out for the device: per batch of `batch` pairs (the last
 * may be shorter), the left image indices, then the right ones, so that a
 * batch of nb pairs is one gather of 2*nb images at idx + 2*start. */
typedef struct siam_dev_pairs {
    int32_t *idx;       /* device, 2*n */
    float *labels;      /* device, n */
    size_t n;
} siam_dev_pairs;

int siam_dev_pairs_alloc(const siam_ops *o, siam_ctx *c, siam_dev_pairs *d, size_t n,
                         siam_error *err);
/* idx (2*n) and labels (n) as siam_pairs_layout wrote them. */
int siam_dev_pairs_upload(const siam_ops *o, siam_ctx *c, siam_dev_pairs *d,
                          const int32_t *idx, const float *labels, siam_error *err);
/* Frees the device arrays (a zeroed struct is fine). */
void siam_dev_pairs_free(const siam_ops *o, siam_ctx *c, siam_dev_pairs *d);

/* Host layout of ps in batches of `batch`: idx (2*count) and labels
 * (count); order (count, may be NULL: identity) picks the pairs. */
void siam_pairs_layout(const siam_pairset *ps, const int32_t *order, int batch, int32_t *idx,
                       float *labels);
/* The whole of ps on the device in m's batches (siam_pairs_layout's order,
 * no shuffle), as evaluation reads it; `what` names the caller in the
 * out-of-memory message. Free d with siam_dev_pairs_free, also after a
 * failure. */
int siam_dev_pairs_of(siam_model *m, const siam_pairset *ps, siam_dev_pairs *d,
                      const char *what, siam_error *err);
/* Every pair indexes the set's image bank; `what` ("training", ...) names
 * the set in the message. */
int siam_pairs_check(const siam_pairset *ps, const char *what, siam_error *err);

/* The fraction of pairs whose prediction (p >= thr) matches the label
 * (label >= 0.5); NaN for an empty set. */
double siam_pairs_accuracy(const siam_pairset *ps, const float *probs, float thr);

/* Device copy of an image bank (count*H*W bytes); free with ops->mem_free. */
uint8_t *siam_images_to_device(const siam_ops *ops, siam_ctx *ctx, const siam_images *im,
                               siam_error *err);

/* Fills the model input with batch [start, start+nb) of a laid-out set,
 * normalised as (x/255 - mean) / std; with aug enabled (and the op
 * present) augmented from (seed, aug_offset) instead. */
int siam_batch_assemble(siam_model *m, const uint8_t *images, const int32_t *idx_dev,
                        size_t start, int nb, float mean, float std, const siam_augment *aug,
                        uint64_t seed, uint64_t aug_offset, siam_error *err);

/* Fills the first n rows of the model input with the images idx_dev[0..n)
 * (device), normalised or augmented as siam_batch_assemble does (image
 * slot i draws from aug_offset + i); `what` starts the message. */
int siam_images_assemble(siam_model *m, const uint8_t *images, const int32_t *idx_dev, int n,
                         float mean, float std, const siam_augment *aug, uint64_t seed,
                         uint64_t aug_offset, const char *what, siam_error *err);

/* Eval-mode pass over a laid-out set in batches of the model's max_batch:
 * mean loss (may be NULL) and the probabilities of every pair (d->n). aug:
 * NULL, or a fixed transform of every image (test-time augmentation); its
 * draws do not depend on the slot. The model's mode is restored. */
int siam_eval_pass(siam_model *m, const uint8_t *images, const siam_dev_pairs *d, float mean,
                   float std, const siam_augment *aug, double *loss, float *probs,
                   siam_error *err);

/* Test-time augmentation of a prediction. SIAM_TTA_FLIP: the mean of the
 * pair's probability and of its mirror image's (both faces flipped
 * left-right), the symmetry that flip augmentation trains for; it costs a
 * second forward pass. */
typedef enum siam_tta { SIAM_TTA_NONE = 0, SIAM_TTA_FLIP = 1 } siam_tta;
/* "none" / "flip"; parse returns -1 for any other name. */
const char *siam_tta_name(siam_tta tta);
int siam_tta_parse(const char *name, siam_tta *tta);

/* The one pair set -> device pairs -> eval pass path: the probabilities of
 * every pair of ps (checked already) into probs (ps->count) and the mean
 * loss of the plain pass into loss (may be NULL), with images_dev the
 * set's bank on the device. `what` ("evaluate", "predict") starts the
 * messages. */
int siam_predict_pairs(siam_model *m, const siam_pairset *ps, const uint8_t *images_dev,
                       float mean, float std, siam_tta tta, double *loss, float *probs,
                       const char *what, siam_error *err);

/* Probabilities of every pair of ps (eval mode, batches of the model's
 * max_batch) into probs (ps->count). images_dev: the bank on the device, or
 * NULL to upload it for this call. */
int siam_model_predict(siam_model *m, const siam_pairset *ps, const uint8_t *images_dev,
                       float mean, float std, siam_tta tta, float *probs, siam_error *err);

/* Verification by the embeddings (host/predict_cosine.c): the cosine
 * a.b / max(|a||b|, 1e-8) of the two embeddings of every pair, in [-1, 1],
 * eval mode, no head. The pass over a laid-out set (the model's mode is
 * restored), and the whole path for a pair set as siam_model_predict's
 * (images_dev NULL: uploaded for this call). */
int siam_cosine_pass(siam_model *m, const uint8_t *images, const siam_dev_pairs *d, float mean,
                     float std, float *scores, siam_error *err);
int siam_model_cosine(siam_model *m, const siam_pairset *ps, const uint8_t *images_dev,
                      float mean, float std, float *scores, siam_error *err);

#endif
