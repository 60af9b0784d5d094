/* Training steps of a model whose input already holds the batch, as the
 * training loop (host/train.c) and the benchmark (tests/bench/) run them:
 * zero the gradients, forward, backward, one readback of everything the
 * host needs (ops->step_report: the loss, the probabilities, and the
 * non-finite counts of the gradients, the batch-norm statistics and the
 * parameters of the previous update), then the optimizer's update. The
 * updated parameters are counted by the next step's readback, so that a
 * step waits for the device once (docs/cuda.md, "Host round trips"); the
 * last update of a run of steps is checked by siam_train_steps_flush. */
#ifndef SIAM_TRAIN_STEP_H
#define SIAM_TRAIN_STEP_H

#include <stddef.h>

#include "host/model.h"
#include "host/optim.h"

typedef struct {
    siam_model *m;
    siam_optim *opt;
    int checks;      /* 0 skips every non-finite count (a benchmark's comparison) */
    int unchecked;   /* the last update's parameters are not counted yet */
    char after[96];  /* that update's name: "after the update of epoch 1, batch 3" */
} siam_train_steps;

void siam_train_steps_init(siam_train_steps *s, siam_model *m, siam_optim *opt, int checks);

/* The step's forward, backward and readback on the first B pairs of the
 * model's input with the device labels y (B), checked in this order: the
 * previous update's parameters (named by its `after`), the loss, the
 * gradients and statistics (named by `where`: "at epoch 1, batch 3").
 * Returns 0 (finite: *loss and probs_host, B floats, filled; the previous
 * update's parameters, when there was one unchecked, are finite now), 1
 * (msg, cap bytes, says what was not; no update may follow, and unless it
 * was the parameters the weights are the last finite ones), -1 (err). */
int siam_train_steps_run(siam_train_steps *s, const float *y, int B, const char *where,
                         float *loss, float *probs_host, char *msg, size_t cap, siam_error *err);

/* The optimizer's update after a finite run; `after` names it. */
int siam_train_steps_update(siam_train_steps *s, const char *after, siam_error *err);

/* Counts the last update's parameters if they are unchecked (one wait):
 * 0 finite or nothing to count, 1 with msg, -1 with err. */
int siam_train_steps_flush(siam_train_steps *s, char *msg, size_t cap, siam_error *err);

#endif
