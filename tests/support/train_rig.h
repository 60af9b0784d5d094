/* The trainer rig of the training tests: a CPU context, the toy network
 * (tests/support/toy_pairs.h) initialised from fixed seeds, an optimizer
 * and a trainer over given pair sets; and the epoch loop as bindings/fit.c
 * runs it, with a checkpoint after every epoch. Test support only; the
 * opening functions fail the calling cmocka test on any error but the
 * trainer's own. */
#ifndef SIAM_TEST_TRAIN_RIG_H
#define SIAM_TEST_TRAIN_RIG_H

#include "host/train.h"

enum { SIAM_RIG_SIDE = 32, SIAM_RIG_MAXB = 8 };

typedef struct siam_test_rig {
    siam_ctx *ctx;
    siam_model *m;
    siam_optim *opt;
    siam_trainer *t;
    const siam_pairset *train; /* the trainer's, for the checkpoints' crop */
} siam_test_rig;

/* Context (one thread) and the toy model for SIAM_RIG_SIDE pixels and
 * SIAM_RIG_MAXB pairs with `dropout`: PyTorch init from seed 21, dropout
 * stream (77, 0). */
void siam_test_rig_model(siam_test_rig *r, float dropout);
/* The model, the optimizer `oc`, and a trainer over train/val with tc.
 * Returns the trainer, or NULL with err set when siam_trainer_new fails
 * (the rest of the rig stays open for siam_test_rig_close). */
siam_trainer *siam_test_rig_open(siam_test_rig *r, float dropout, const siam_optim_config *oc,
                                 const siam_pairset *train, const siam_pairset *val,
                                 const siam_train_config *tc, siam_error *err);
/* Adam with learning rate `lr` (its other settings the defaults). */
void siam_test_rig_adam(siam_optim_config *oc, double lr);
/* Frees what was opened (a zeroed rig is fine). */
void siam_test_rig_close(siam_test_rig *r);

/* Runs the trainer's epochs and finishes the run, as fit does without a
 * checkpoint. */
int siam_test_run(siam_trainer *t, siam_error *err);
/* The same with a checkpoint of model, optimizer and run after every epoch
 * when `ckpt` is set, holding the default metadata with the threshold the
 * run would use now and the training images' crop, as fit writes it. */
int siam_test_fit(siam_test_rig *r, const char *ckpt, siam_error *err);
/* Loads a checkpoint siam_test_fit wrote into the trainer's model,
 * optimizer and run. */
int siam_test_resume(siam_trainer *t, const char *ckpt, siam_error *err);

#endif
