/* The training loop's configuration, with its defaults and its checks
 * against the model and the pair sets (host/train_config.c), and the hook
 * through which a driver follows and steers the loop (host/train.h). */
#ifndef SIAM_TRAIN_CONFIG_H
#define SIAM_TRAIN_CONFIG_H

#include <signal.h>
#include <stdint.h>

#include "host/dataset.h"
#include "host/early_stop.h"
#include "host/identity_sampler.h"
#include "host/model.h"
#include "host/pair_sampler.h"
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

/* What a step trains on (docs/training.md, "Training on identities"). */
typedef enum siam_objective {
    SIAM_OBJECTIVE_PAIR = 0,        /* the pair loss (BCE of the head), the paper's */
    SIAM_OBJECTIVE_TRIPLET = 1,     /* the batch-hard triplet loss on P x K batches alone */
    SIAM_OBJECTIVE_PAIR_TRIPLET = 2 /* both: each step a pair batch and a P x K batch,
                                     * the losses summed (the triplet's times its weight) */
} siam_objective;

/* "pair", "triplet", "pair+triplet"; -1 with a message otherwise. */
int siam_objective_parse(const char *name, siam_objective *out, siam_error *err);
const char *siam_objective_name(int objective);

typedef struct siam_train_config {
    int epochs;                 /* total epochs (a resumed run continues up to this) */
    int batch_size;             /* pairs per batch, <= the model's max_batch */
    int drop_last;              /* 0: keep the last partial batch (default) */
    uint64_t seed;              /* shuffle and augmentation seed */
    float mean, std;            /* normalisation of x/255 (defaults 0, 1) */
    float threshold;            /* accuracy threshold (0.5) */
    siam_augment augment;       /* used when augment.enabled and the op exists */
    int use_schedule;           /* lr = siam_schedule_lr(&schedule, epoch) at each epoch start,
                                 * or for a plateau the lr siam_plateau_step gives at each
                                 * epoch end, after the EPOCH_END hook */
    siam_schedule schedule;
    int use_early_stop;
    siam_early_stop_config early_stop;
    siam_train_hook hook;       /* may be NULL */
    void *hook_user;
    volatile sig_atomic_t *stop_flag; /* checked after each batch; may be NULL */
    /* Options beyond the seed's loop; zero (as set by the default) is off. */
    siam_wavg_config wavg;      /* weight averaging: validation, and the model after fit,
                                 * use the average (docs/training.md) */
    int threshold_from_val;     /* record val_threshold (best balanced-accuracy threshold
                                 * on the validation set) each epoch; siam_trainer_evaluate then
                                 * uses it instead of `threshold` */
    const siam_pair_sampler *sampler; /* borrowed: each epoch trains on its pairs for that
                                       * epoch instead of the training set's (same bank) */
    siam_objective objective;   /* SIAM_OBJECTIVE_PAIR (the default) is the loop above */
    const siam_identity_sampler *identity; /* borrowed; the P x K batches of the triplet
                                            * objectives (same bank as the training set's):
                                            * alone, an epoch is its batches; with the pair
                                            * loss, step k takes its batch k */
    float triplet_margin;       /* cosine-distance margin (0.2) */
    int triplet_soft;           /* 1: softplus instead of the hinge */
    float triplet_weight;       /* the triplet loss's weight in the sum (1) */
} siam_train_config;

void siam_train_config_default(siam_train_config *cfg);
/* The configuration against the model (batch size within its max batch,
 * image size) and the sets (non-empty training set, pairs inside their
 * banks, one crop for both); siam_trainer_new runs it first. */
int siam_train_config_check(const siam_train_config *cfg, siam_model *m,
                            const siam_pairset *train, const siam_pairset *val, siam_error *err);
/* Batches in a pair epoch: every epoch trains on the same number of pairs
 * (the training set's, or the sampler's fixed count). */
int siam_train_pair_batches(const siam_train_config *cfg, const siam_pairset *train);

#endif
