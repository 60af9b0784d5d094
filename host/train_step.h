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

#include "host/embed_loss.h"
#include "host/model.h"
#include "host/optim.h"

#define SIAM_EMBED_LOSSES_MAX 4

/* The embedding part of a step (host/embed_loss.h), after the pair part
 * or alone. The trainer sets the batch before each run. */
typedef struct siam_train_embed {
    siam_embed_step *step;
    siam_embed_loss *const *losses;
    int nlosses;
    /* Puts the step's N single images into the model input (after the
     * pair backward, whose input they replace). */
    int (*fill)(void *user, siam_error *err);
    void *fill_user;
    int n;                         /* images of this step */
    const int32_t *labels;         /* device, n */
    float values[SIAM_EMBED_LOSSES_MAX]; /* out: each loss of the last run */
} siam_train_embed;

typedef struct {
    siam_model *m;
    siam_optim *opt;
    int checks;      /* 0 skips every non-finite count (a benchmark's comparison) */
    int unchecked;   /* the last update's parameters are not counted yet */
    char after[96];  /* that update's name: "after the update of epoch 1, batch 3" */
    int pair;        /* 1 (siam_train_steps_init's): the pair loss on the input's B pairs */
    siam_train_embed *embed; /* NULL: no embedding part */
    float pair_loss; /* out: the pair loss of the last run (NaN without one) */
} siam_train_steps;

void siam_train_steps_init(siam_train_steps *s, siam_model *m, siam_optim *opt, int checks);

/* The step's forward, backward and readback on the first B pairs of the
 * model's input with the device labels y (B), then the embedding part when
 * there is one (without the pair part, B, y and probs_host are unused);
 * *loss is the pair loss plus each embedding loss times its weight. Checked
 * in this order: the
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
