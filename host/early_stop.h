/* Early stopping on a per-epoch metric (docs/training.md, "Early stopping",
 * gives the rule). Pure bookkeeping: the training loop keeps the best
 * weights when restore_best is set. */
#ifndef SIAM_EARLY_STOP_H
#define SIAM_EARLY_STOP_H

#include <stddef.h>

#include "kernels/error.h"

typedef struct siam_early_stop_config {
    char metric[32];    /* "val_acc", "val_loss", "train_loss", ... */
    int mode_max;       /* 1: larger is better; 0: smaller is better */
    int patience;       /* epochs without improvement before stopping (>= 0) */
    double min_delta;   /* improvement must exceed this (>= 0) */
    int restore_best;   /* restore the best epoch's weights when training ends */
} siam_early_stop_config;

typedef struct siam_early_stop {
    siam_early_stop_config cfg;
    int seen;           /* an epoch has been recorded */
    double best;
    int best_epoch;     /* -1 before the first epoch */
    int wait;           /* epochs since the last improvement */
    int stopped;        /* patience ran out */
} siam_early_stop;

/* "max"/"min" and defaults: val_acc, max, patience 5, min_delta 0, restore
 * best off. metric NULL keeps the default. */
int siam_early_stop_init(siam_early_stop *es, const siam_early_stop_config *cfg,
                         siam_error *err);
/* Records `value` of 0-based `epoch`. Returns 1 when it is an improvement
 * (the caller saves the weights), 0 otherwise; sets es->stopped when the
 * patience is exhausted. A NaN value is never an improvement. */
int siam_early_stop_update(siam_early_stop *es, int epoch, double value);

/* When epochs 0..n-1 were recorded without ever improving (the metric
 * values h NaN, or the infinity the rule starts from, in every one), so
 * that best_epoch is -1, a sentence saying so into msg (the run ends with
 * no best epoch and its last weights); else msg is "". h may be NULL (the
 * metric was never recorded). */
void siam_early_stop_no_best_note(const siam_early_stop_config *cfg, int best_epoch,
                                  const double *h, int n, char *msg, size_t cap);

#endif
