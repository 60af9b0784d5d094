/* What a checkpoint holds of a training run beyond the model and the
 * optimizer: the run's counters and flags, its metric history, the
 * best-weights snapshot and the weight average. The checkpoint code reads
 * and writes these parts without knowing the trainer (host/train.h), which
 * hands them out with siam_trainer_parts. */
#ifndef SIAM_TRAIN_STATE_H
#define SIAM_TRAIN_STATE_H

#include <stdint.h>

#include "host/early_stop.h"
#include "host/history.h"
#include "host/schedule.h"
#include "host/weight_avg.h"

/* Checkpoints store these numbers: append new reasons, never renumber. */
typedef enum siam_stop_reason {
    SIAM_STOP_NONE = 0,         /* not stopped yet / all epochs ran */
    SIAM_STOP_EARLY = 1,        /* early stopping's patience ran out */
    SIAM_STOP_SIGNAL = 2,       /* *stop_flag was set (mid-epoch: that epoch is lost) */
    SIAM_STOP_HOOK = 3,         /* the hook returned 1 */
    SIAM_STOP_NAN = 4           /* a non-finite loss, gradient, parameter or batch-norm
                                 * statistic (mid-epoch: that epoch is lost; see
                                 * siam_trainer_nan_message) */
} siam_stop_reason;

/* The counters and flags of a training run. */
typedef struct siam_trainer_state {
    int epochs_done;
    uint64_t seed;              /* shuffle/augmentation seed (cfg.seed) */
    uint64_t augment_offset;
    siam_stop_reason stop_reason;
    siam_early_stop early_stop;
    int has_best;               /* a best-weights snapshot exists */
    int has_plateau;            /* the run follows a plateau schedule: `plateau` is its state */
    siam_plateau plateau;
    /* What the run trains on, for a resume to check (read-only: siam_trainer_set_state
     * leaves them): the sets' fingerprints (host/set_identity.h) and pair
     * counts (val: 0 and 0 without one), and the batch size. */
    uint64_t train_fingerprint, train_pairs;
    uint64_t val_fingerprint, val_pairs;
    int batch_size;
} siam_trainer_state;

/* The parts of a run, borrowed from its trainer. A save writes them; a
 * load checks the file against them, then replaces the history, the best
 * weights and the average in place and the file's counters into `state`,
 * which the caller hands back with siam_trainer_set_state. */
typedef struct siam_train_parts {
    siam_trainer_state state;   /* a copy: the run's now, the file's after a load */
    siam_history *history;
    float *best;                /* device, params then BN buffers (numel +
                                 * buffer_numel floats); NULL: restore_best is off */
    siam_wavg *wavg;            /* NULL: no weight averaging */
} siam_train_parts;

#endif
