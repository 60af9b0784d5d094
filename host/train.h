/* The training loop: epochs over seeded shuffled mini-batches of a pair
 * set, validation, learning-rate schedule, early stopping, a hook for a
 * driver (the Lua layer) and a stop flag for signal handlers. The image
 * bank is uploaded to the device once; per epoch the shuffled image-index
 * order and labels are uploaded once; batches are assembled on the device
 * (host/predict.h, shared with prediction). Only the scalar loss and the
 * batch probabilities come back to the host. */
#ifndef SIAM_TRAIN_H
#define SIAM_TRAIN_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "host/dataset.h"
#include "host/early_stop.h"
#include "host/history.h"
#include "host/model.h"
#include "host/optim.h"
#include "host/pair_sampler.h"
#include "host/predict.h"
#include "host/schedule.h"
#include "host/weight_avg.h"
#include "kernels/augment.h"

typedef struct siam_trainer siam_trainer;

typedef enum siam_train_event_kind {
    SIAM_EVENT_EPOCH_BEGIN = 0, /* before the first batch; the hook may set the lr */
    SIAM_EVENT_BATCH_END = 1,   /* after each optimizer step */
    SIAM_EVENT_EPOCH_END = 2    /* after validation and recording; the hook may record
                                 * more metrics, early stopping runs after it */
} siam_train_event_kind;

typedef struct siam_train_event {
    siam_train_event_kind kind;
    int epoch;                  /* 0-based */
    int batch;                  /* 0-based (BATCH_END) */
    int batches;                /* batches in this epoch (known from EPOCH_BEGIN on) */
    int batch_size;             /* pairs in this batch (BATCH_END) */
    double loss;                /* this batch's mean loss (BATCH_END) */
    double lr;                  /* learning rate in use */
} siam_train_event;

/* Returns 0 to continue, 1 to stop training after this event (the epoch is
 * finished first when the event is EPOCH_END), -1 to fail with a message in
 * err. */
typedef int (*siam_train_hook)(void *user, siam_trainer *t, const siam_train_event *ev,
                               siam_error *err);

typedef struct siam_train_config {
    int epochs;                 /* total epochs (a resumed run continues up to this) */
    int batch_size;             /* pairs per batch, <= the model's max_batch */
    int drop_last;              /* 0: keep the last partial batch (default) */
    uint64_t seed;              /* shuffle and augmentation seed */
    float mean, std;            /* normalisation of x/255 (defaults 0, 1) */
    float threshold;            /* accuracy threshold (0.5) */
    siam_augment augment;       /* used when augment.enabled and the op exists */
    int use_schedule;           /* lr = siam_schedule_lr(&schedule, epoch) at each epoch start */
    siam_schedule schedule;
    int use_early_stop;
    siam_early_stop_config early_stop;
    siam_train_hook hook;       /* may be NULL */
    void *hook_user;
    volatile sig_atomic_t *stop_flag; /* checked after each batch; may be NULL */
    const char *checkpoint_path;      /* written after every epoch when non-NULL */
    const struct siam_model_meta *meta; /* copied; NULL: defaults. The init, seed and tta
                                       * that checkpoint records; its threshold is
                                       * siam_trainer_threshold's, its crop the training
                                       * images' (host/model_meta.h) */
    /* Options beyond the seed's loop; zero (as set by the default) is off. */
    siam_wavg_config wavg;      /* weight averaging: validation, and the model after fit,
                                 * use the average (docs/training.md) */
    int threshold_from_val;     /* record val_threshold (best balanced-accuracy threshold
                                 * on the validation set) each epoch; siam_trainer_evaluate then
                                 * uses it instead of `threshold` */
    const siam_pair_sampler *sampler; /* borrowed: each epoch trains on its pairs for that
                                       * epoch instead of the training set's (same bank) */
} siam_train_config;

void siam_train_config_default(siam_train_config *cfg);

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

/* New trainer over borrowed objects: the model, optimizer and pair sets
 * must outlive it (val may be NULL: no validation, val metrics NaN). The
 * image banks are uploaded here. */
siam_trainer *siam_trainer_new(siam_model *m, siam_optim *opt, const siam_pairset *train,
                               const siam_pairset *val, const siam_train_config *cfg,
                               siam_error *err);
void siam_trainer_free(siam_trainer *t);

/* Runs epochs from epochs_done up to cfg->epochs, or until a stop. When
 * restore_best is set the best epoch's weights are restored at the end.
 * A non-finite batch loss, gradient, parameter or batch-norm statistic is
 * a stop, not a failure (SIAM_STOP_NAN, docs/training.md "Non-finite
 * values"): the epoch it happens in is not recorded or checkpointed, and
 * unless the update itself overflowed the model keeps the weights of the
 * last finite step. */
int siam_trainer_fit(siam_trainer *t, siam_error *err);

siam_stop_reason siam_trainer_stop_reason(const siam_trainer *t);
/* After a SIAM_STOP_NAN: what was found where (1-based numbers), e.g.
 * "non-finite gradient at epoch 1, batch 3 (12 of 38951745 values; first
 * in conv1.weight)" or "non-finite loss (nan) at epoch 2, batch 1"; else
 * NULL. Owned by the trainer. */
const char *siam_trainer_nan_message(const siam_trainer *t);
/* After a fit with early stopping that recorded epochs but chose no best
 * one (the metric never improved on its start: NaN, or -inf/+inf against
 * the mode, in every epoch), a sentence saying so; else NULL. */
const char *siam_trainer_early_stop_message(const siam_trainer *t);
int siam_trainer_epochs_done(const siam_trainer *t);
siam_model *siam_trainer_model(siam_trainer *t);
siam_optim *siam_trainer_optim(siam_trainer *t);
const siam_train_config *siam_trainer_config(const siam_trainer *t);
const siam_early_stop *siam_trainer_early_stop(const siam_trainer *t);

/* Metric history, one value per completed epoch. The trainer records
 * train_loss, train_acc, val_loss, val_acc and lr; the hook may record more
 * for the current epoch at EPOCH_END (siam_trainer_record). */
int siam_trainer_record(siam_trainer *t, const char *name, double value, siam_error *err);
const siam_history *siam_trainer_history(const siam_trainer *t);
siam_history *siam_trainer_history_mut(siam_trainer *t);

/* The decision threshold siam_trainer_evaluate applies: cfg.threshold, or
 * with threshold_from_val the val_threshold recorded for the best epoch
 * (early stopping with restore_best) or else the last epoch. */
float siam_trainer_threshold(const siam_trainer *t);
/* The weight average, or NULL when averaging is off. */
siam_wavg *siam_trainer_wavg(siam_trainer *t);

/* Mean loss and accuracy of the model (eval mode) over a pair set whose
 * images are those of the trainer's train or val set. probs may be NULL or
 * hold ps->count values. */
int siam_trainer_evaluate(siam_trainer *t, const siam_pairset *ps, double *loss, double *acc,
                          float *probs, siam_error *err);

/* Everything the checkpoint needs beyond model and optimizer. */
typedef struct siam_trainer_state {
    int epochs_done;
    uint64_t seed;              /* shuffle/augmentation seed (cfg.seed) */
    uint64_t augment_offset;
    siam_stop_reason stop_reason;
    siam_early_stop early_stop;
    int has_best;               /* a best-weights snapshot exists */
    /* What the run trains on, for a resume to check (read-only: set_state
     * leaves them): the sets' fingerprints (host/set_identity.h) and pair
     * counts (val: 0 and 0 without one), and the batch size. */
    uint64_t train_fingerprint, train_pairs;
    uint64_t val_fingerprint, val_pairs;
    int batch_size;
} siam_trainer_state;
void siam_trainer_get_state(const siam_trainer *t, siam_trainer_state *s);
void siam_trainer_set_state(siam_trainer *t, const siam_trainer_state *s);
/* The best-weights snapshot (params then BN buffers; numel + buffer_numel
 * floats) on the host. */
int siam_trainer_best_download(siam_trainer *t, float *host, siam_error *err);
int siam_trainer_best_upload(siam_trainer *t, const float *host, siam_error *err);
#endif
