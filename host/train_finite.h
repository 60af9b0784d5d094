/* The training loop's check for non-finite values (NaN, +-Inf) in a model's
 * gradients, parameters and batch-norm running statistics
 * (docs/training.md, "Non-finite values"): one ops->nonfinite_count call
 * per check, and only when something is found, one more per tensor to name
 * the first bad one. */
#ifndef SIAM_TRAIN_FINITE_H
#define SIAM_TRAIN_FINITE_H

#include <stddef.h>

#include "host/model.h"

/* Parts of the model a check covers (bits). */
#define SIAM_FINITE_GRADS 1u
#define SIAM_FINITE_BUFFERS 2u
#define SIAM_FINITE_PARAMS 4u

/* Counts the non-finite values of the parts of m in `parts`. Returns 0 when
 * every value is finite; 1 when some are not, with msg (cap bytes) saying
 * what and `where`, for the first part in the order gradients, statistics,
 * parameters, e.g. "non-finite gradient at epoch 1, batch 3 (3 of 1234
 * values; first in conv1.weight)"; -1 when the backend fails (err). */
int siam_train_check_finite(siam_model *m, unsigned parts, const char *where, char *msg,
                            size_t cap, siam_error *err);

/* The two halves of that check, for a caller that counts in a call of its
 * own (ops->step_report): the device buffers of `parts` in that order
 * (bufs, lens: room for 3; returns how many), and, from their counts bad,
 * the verdict and message of siam_train_check_finite (1 or 0). */
int siam_train_finite_buffers(siam_model *m, unsigned parts, const float **bufs, size_t *lens);
int siam_train_finite_message(siam_model *m, unsigned parts, const size_t *bad,
                              const char *where, char *msg, size_t cap);

#endif
