/* One training step of a model whose input already holds the batch, as
 * the training loop (host/train.c) and the benchmark (tests/bench/) run it:
 * zero the gradients, forward, backward, one readback of everything the
 * host needs (ops->step_report: the loss, the probabilities, and the
 * non-finite counts of the gradients and batch-norm statistics), the
 * optimizer's update, and the non-finite check of the updated parameters.
 * On CUDA those are the step's only two waits for the device
 * (docs/cuda.md, "Host round trips"). */
#ifndef SIAM_TRAIN_STEP_H
#define SIAM_TRAIN_STEP_H

#include <stddef.h>

#include "host/model.h"
#include "host/optim.h"

/* Runs the step on the first B pairs of the model's input with the device
 * labels y (B). checks: 0 skips the two non-finite counts (a benchmark's
 * comparison), else both are made. Returns
 *   0  a finite step: *loss and probs_host (B floats, host) are filled;
 *   1  a non-finite value stopped it: msg (cap bytes) says what, with
 *      `where` ("at epoch 1, batch 3") for the loss, a gradient or a
 *      statistic, whose step is not applied (the weights stay the last
 *      finite ones), or `after` ("after the update of epoch 1, batch 3")
 *      for the updated parameters; *loss is set;
 *  -1  a backend failure, in err. */
int siam_train_step(siam_model *m, siam_optim *opt, const float *y, int B, int checks,
                    const char *where, const char *after, float *loss, float *probs_host,
                    char *msg, size_t cap, siam_error *err);

#endif
