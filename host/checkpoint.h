/* Checkpoints: one versioned binary file holding the architecture, the
 * parameters and BN running statistics, the optimizer state, the random
 * generator state, the epoch count, the early-stopping state and the metric
 * history, closed by an FNV-1a 64 checksum. Written atomically (temporary
 * file, fsync, rename). Format: docs/training.md, "Checkpoint format". */
#ifndef SIAM_CHECKPOINT_H
#define SIAM_CHECKPOINT_H

#include "host/model.h"
#include "host/optim.h"
#include "host/train.h"
#include "kernels/error.h"

#define SIAM_CHECKPOINT_MAGIC "SIAMCKPT"
/* Version 2 added the embedding activation and distance head to the
 * architecture block; version 1 files (the paper's network) still load. */
#define SIAM_CHECKPOINT_VERSION 2u
#define SIAM_CHECKPOINT_VERSION_MIN 1u

/* Saves the model and, when non-NULL, the optimizer and the trainer's
 * state. */
int siam_checkpoint_save(const char *path, siam_model *m, siam_optim *opt, siam_trainer *t,
                         siam_error *err);

/* Loads into existing objects built with the same architecture. Everything
 * is checked (size, checksum, architecture, sections) before anything is
 * changed; a file that fails any check changes nothing. An optimizer or
 * trainer passed in must have its section in the file (the optimizer of the
 * same kind); sections the caller does not ask for are skipped. The
 * optimizer's lr and step count come from the file, its other
 * hyperparameters stay as constructed; the trainer's seed is set from the
 * file. */
int siam_checkpoint_load(const char *path, siam_model *m, siam_optim *opt, siam_trainer *t,
                         siam_error *err);

#endif
