/* The identity part of a training epoch for the triplet objectives
 * (docs/training.md, "Training on identities"): the identity sampler's
 * P x K batches of an epoch on the host and the device, and the embedding
 * part of each step (host/train_step.h) that assembles and trains them.
 * The trainer owns one; it borrows the model, the sampler and the device
 * image bank from the trainer, and shares its augmentation counter. */
#ifndef SIAM_TRAIN_IDENTITY_H
#define SIAM_TRAIN_IDENTITY_H

#include <stdint.h>

#include "host/train_config.h"
#include "host/train_step.h"

typedef struct siam_train_identity siam_train_identity;

/* From cfg (objective, identity sampler, triplet margin, softness, weight,
 * normalisation, augmentation, seed); images is the training bank on the
 * device; *augment_offset is the counter the pair batches advance too, so
 * that both draw their augmentation from one stream. */
siam_train_identity *siam_train_identity_new(siam_model *m, const siam_train_config *cfg,
                                             const uint8_t *images, uint64_t *augment_offset,
                                             siam_error *err);
void siam_train_identity_free(siam_train_identity *ti);

/* The epoch's P x K batches, drawn (a function of the sampler's seed and
 * the epoch alone) and uploaded. */
int siam_train_identity_epoch(siam_train_identity *ti, int epoch, siam_error *err);

/* The embedding part of step k of the epoch: its labels set, its fill
 * assembling batch k when the step runs. */
siam_train_embed *siam_train_identity_batch(siam_train_identity *ti, int k);

int siam_train_identity_images(const siam_train_identity *ti); /* P x K, per batch */

#endif
