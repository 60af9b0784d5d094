/* The training loop: epochs over seeded shuffled mini-batches of a pair
 * set, validation, learning-rate schedule, early stopping, a hook for a
 * driver (the Lua layer) and a stop flag for signal handlers. The image
 * bank is uploaded to the device once; per epoch the shuffled image-index
 * order and labels are uploaded once; batches are assembled on the device
 * (host/predict.h, shared with prediction). Only the scalar loss and the
 * batch probabilities come back to the host. */
#ifndef SIAM_TRAIN_H
#define SIAM_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "host/dataset.h"
#include "host/history.h"
#include "host/model.h"
#include "host/optim.h"
#include "host/predict.h"
#include "host/train_config.h"
#include "host/train_state.h"
#include "host/weight_avg.h"

/* New trainer over borrowed objects: the model, optimizer and pair sets
 * must outlive it (val may be NULL: no validation, val metrics NaN). The
 * image banks are uploaded here. */
siam_trainer *siam_trainer_new(siam_model *m, siam_optim *opt, const siam_pairset *train,
                               const siam_pairset *val, const siam_train_config *cfg,
                               siam_error *err);
void siam_trainer_free(siam_trainer *t);

/* The caller runs the loop and saves checkpoints between epochs:
 *     while ((rc = siam_trainer_epoch(t, err)) > 0)
 *         save a checkpoint (optional);
 *     if (rc == 0)
 *         rc = siam_trainer_finish(t, err);
 * siam_trainer_epoch runs the next epoch, from epochs_done up to
 * cfg->epochs: 1 when it finished and was recorded (a checkpoint now holds
 * it), 0 when nothing is left to run (every epoch ran, or a stop:
 * siam_trainer_stop_reason), -1 on failure. A non-finite batch loss,
 * gradient, parameter or batch-norm statistic is a stop, not a failure
 * (SIAM_STOP_NAN, docs/training.md "Non-finite values"): the epoch it
 * happens in is not recorded, and unless the update itself overflowed the
 * model keeps the weights of the last finite step. The first call after
 * siam_trainer_new, a load or a finish starts a run: a trainer restored
 * from a checkpoint written after early stopping fired stays stopped. */
int siam_trainer_epoch(siam_trainer *t, siam_error *err);
/* Ends the run: when restore_best is set the best epoch's weights go back
 * into the model, else an average (weight averaging) does; after a signal
 * stop the model keeps its weights. */
int siam_trainer_finish(siam_trainer *t, siam_error *err);

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
 * train_loss, train_acc, val_loss, val_acc and lr, and with a triplet
 * objective train_pair_loss and train_triplet_loss (train_loss is then
 * their weighted sum; train_acc NaN without the pair loss) and, with a
 * validation set, val_cos_acc, the best balanced accuracy of the cosine of
 * the embeddings, at val_cos_threshold (siam_cosine_pass); the hook may record more
 * for the current epoch at EPOCH_END (siam_trainer_record). */
int siam_trainer_record(siam_trainer *t, const char *name, double value, siam_error *err);
const siam_history *siam_trainer_history(const siam_trainer *t);

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

void siam_trainer_get_state(const siam_trainer *t, siam_trainer_state *s);
/* The counters of a loaded checkpoint (siam_train_parts.state); the early
 * stopping rule stays the trainer's own. */
void siam_trainer_set_state(siam_trainer *t, const siam_trainer_state *s);
/* The parts a checkpoint saves and loads, borrowed (host/train_state.h). */
void siam_trainer_parts(siam_trainer *t, siam_train_parts *p);

#endif
