/* Verification metrics over host arrays of probabilities and 0/1 labels
 * (label >= 0.5 counts as a match). A pair is predicted a match when
 * p >= threshold. Definitions: docs/training.md, "Metrics". */
#ifndef SIAM_METRICS_H
#define SIAM_METRICS_H

#include <stddef.h>

#include "kernels/error.h"

typedef struct siam_confusion {
    size_t tp, fp, tn, fn;
} siam_confusion;

void siam_metrics_confusion(siam_confusion *out, const float *prob, const float *label,
                            size_t n, float threshold);
/* Fraction of correct predictions at `threshold`; 0 when n == 0. */
double siam_metrics_accuracy(const float *prob, const float *label, size_t n, float threshold);
/* Mean binary cross-entropy in double, logs clamped at -100 (as BCELoss). */
double siam_metrics_bce(const float *prob, const float *label, size_t n);

/* Area under the ROC curve as the Mann-Whitney statistic: the probability
 * that a random match scores above a random non-match, ties counting 1/2.
 * Fails when either class is absent. */
int siam_metrics_auc(double *auc, const float *prob, const float *label, size_t n,
                     siam_error *err);
/* Equal error rate: the ROC polyline (thresholds at every distinct score)
 * is walked from the strictest threshold down; where FNR - FPR changes sign
 * the two rates are interpolated linearly and the crossing value returned.
 * *threshold (may be NULL) receives the score at which the crossing segment
 * ends. Fails when either class is absent. */
int siam_metrics_eer(double *eer, float *threshold, const float *prob, const float *label,
                     size_t n, siam_error *err);
/* The threshold among the distinct scores (and "above every score") that
 * maximises accuracy; on ties the highest such threshold. */
int siam_metrics_best_threshold(float *threshold, double *accuracy, const float *prob,
                                const float *label, size_t n, siam_error *err);

/* Balanced accuracy (TPR + TNR) / 2 at `threshold`: the accuracy the same
 * rates give on a set with as many matches as non-matches (LFW's test sets).
 * With one class absent it is that class's rate; 0 when n == 0. */
double siam_metrics_balanced_accuracy(const float *prob, const float *label, size_t n,
                                      float threshold);
/* As siam_metrics_best_threshold, maximising balanced accuracy instead, so
 * that a validation set with a skewed class ratio (an identity-disjoint split
 * keeps far more matched pairs than mismatched ones) does not pull the
 * threshold towards its majority class. On a set with equal classes it picks
 * the same threshold. With one class absent it falls back to accuracy. */
int siam_metrics_best_threshold_balanced(float *threshold, double *balanced, const float *prob,
                                         const float *label, size_t n, siam_error *err);

#endif
