/* Checkpoints: one versioned binary file holding the architecture, the
 * model metadata (threshold, crop, test-time augmentation, init and seed),
 * the parameters and BN running statistics, the optimizer state, the random
 * generator state, the epoch count, the early-stopping state, what the run
 * trained on and the metric history, closed by an FNV-1a 64 checksum.
 * Written atomically (temporary file, fsync, rename). Format:
 * docs/training.md, "Checkpoint format". */
#ifndef SIAM_CHECKPOINT_H
#define SIAM_CHECKPOINT_H

#include "host/checkpoint_version.h"
#include "host/model.h"
#include "host/model_meta.h"
#include "host/optim.h"
#include "host/train_state.h"
#include "kernels/error.h"

/* Saves the model with `meta` (NULL: siam_model_meta_default) and, when
 * non-NULL, the optimizer and the parts of a training run
 * (host/train_state.h; siam_trainer_parts hands out a trainer's). A
 * failed save leaves the file as it was. A "<path>.meta" beside it, the
 * sidecar of older formats, is removed once the new file is in place: it
 * would contradict the file. */
int siam_checkpoint_save(const char *path, siam_model *m, const siam_model_meta *meta,
                         siam_optim *opt, const siam_train_parts *t, siam_error *err);

/* Loads into existing objects built with the same architecture. Everything
 * is checked before anything is changed (size, checksum, every value of the
 * head, the architecture, the sections, that every weight to be loaded is
 * finite, and for a training run that the file was trained with its batch
 * size, training and validation sets); a file that fails any check changes
 * nothing. An optimizer or run passed in must have its section in the file
 * (the optimizer of the same kind); sections the caller does not ask for
 * are skipped. The optimizer's lr and step count come from the file, its
 * other hyperparameters stay as constructed. A run's history, best weights
 * and average are replaced in place and t->state receives the file's
 * counters (its seed included), for the caller to hand to
 * siam_trainer_set_state. `meta` (may be NULL) receives the model metadata: the
 * file's, or for format 1-2 the "<path>.meta" sidecar's (an error in it
 * fails the load), or the defaults. */
int siam_checkpoint_load(const char *path, siam_model *m, siam_model_meta *meta,
                         siam_optim *opt, siam_train_parts *t, siam_error *err);

/* A new model built from the checkpoint's architecture for `max_batch`
 * pairs per forward, its weights and dropout state loaded, in evaluation
 * mode; `meta` as for siam_checkpoint_load. Every check of the file runs
 * before the model is allocated, and the model's memory plan is checked
 * against `mem_limit` bytes (0: what the machine has, as siam_model_new).
 * The caller frees the model. */
siam_model *siam_checkpoint_load_model(const char *path, const siam_ops *ops, siam_ctx *ctx,
                                       int max_batch, uint64_t mem_limit,
                                       siam_model_meta *meta, siam_error *err);

#endif
