/* Accuracy, confusion matrix, ROC AUC, EER and the best threshold. */
#include "host/metrics.h"

#include <math.h>
#include <stdlib.h>

static int is_pos(float label) { return label >= 0.5f; }

void siam_metrics_confusion(siam_confusion *out, const float *prob, const float *label,
                            size_t n, float threshold)
{
    out->tp = out->fp = out->tn = out->fn = 0;
    for (size_t i = 0; i < n; i++) {
        int pred = prob[i] >= threshold, pos = is_pos(label[i]);
        if (pred && pos) out->tp++;
        else if (pred) out->fp++;
        else if (pos) out->fn++;
        else out->tn++;
    }
}

double siam_metrics_accuracy(const float *prob, const float *label, size_t n, float threshold)
{
    if (n == 0)
        return 0.0;
    siam_confusion c;
    siam_metrics_confusion(&c, prob, label, n, threshold);
    return (double)(c.tp + c.tn) / (double)n;
}

double siam_metrics_bce(const float *prob, const float *label, size_t n)
{
    if (n == 0)
        return 0.0;
    double s = 0.0;
    for (size_t i = 0; i < n; i++) {
        double p = prob[i], y = label[i];
        double lp = p > 0.0 ? fmax(log(p), -100.0) : -100.0;
        double lq = p < 1.0 ? fmax(log1p(-p), -100.0) : -100.0;
        s -= y * lp + (1.0 - y) * lq;
    }
    return s / (double)n;
}

/* Score order: descending, for the ROC sweep from the strictest threshold. */
typedef struct scored { float p; int pos; } scored;

static int by_score_desc(const void *a, const void *b)
{
    float x = ((const scored *)a)->p, y = ((const scored *)b)->p;
    return (x < y) - (x > y);
}

/* Sorted copy and class counts; -1 when a class is missing. */
static scored *sorted(const float *prob, const float *label, size_t n, size_t *npos,
                      size_t *nneg, const char *what, siam_error *err)
{
    *npos = *nneg = 0;
    for (size_t i = 0; i < n; i++)
        *npos += is_pos(label[i]);
    *nneg = n - *npos;
    if (*npos == 0 || *nneg == 0) {
        siam_fail(err, "%s: needs both classes (%zu matches, %zu non-matches)", what, *npos,
                  *nneg);
        return NULL;
    }
    scored *s = malloc(n * sizeof *s);
    if (!s) {
        siam_fail(err, "%s: out of memory for %zu scores", what, n);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        s[i].p = prob[i];
        s[i].pos = is_pos(label[i]);
    }
    qsort(s, n, sizeof *s, by_score_desc);
    return s;
}

int siam_metrics_auc(double *auc, const float *prob, const float *label, size_t n,
                     siam_error *err)
{
    size_t P, N;
    scored *s = sorted(prob, label, n, &P, &N, "auc", err);
    if (!s)
        return -1;
    /* Per group of equal scores: matches in the group beat every
     * non-match below it and tie (1/2) with the non-matches inside. */
    double wins = 0.0;
    size_t neg_below = N;
    for (size_t i = 0; i < n;) {
        size_t j = i, gp = 0, gn = 0;
        while (j < n && s[j].p == s[i].p) {
            gp += s[j].pos;
            gn += !s[j].pos;
            j++;
        }
        neg_below -= gn;
        wins += (double)gp * ((double)neg_below + 0.5 * (double)gn);
        i = j;
    }
    free(s);
    *auc = wins / ((double)P * (double)N);
    return 0;
}

int siam_metrics_eer(double *eer, float *threshold, const float *prob, const float *label,
                     size_t n, siam_error *err)
{
    size_t P, N;
    scored *s = sorted(prob, label, n, &P, &N, "eer", err);
    if (!s)
        return -1;
    double fpr_prev = 0.0, fnr_prev = 1.0; /* threshold above every score */
    size_t tp = 0, fp = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j].p == s[i].p) {
            tp += s[j].pos;
            fp += !s[j].pos;
            j++;
        }
        double fpr = (double)fp / (double)N, fnr = 1.0 - (double)tp / (double)P;
        double d_prev = fnr_prev - fpr_prev, d = fnr - fpr;
        if (d <= 0.0) {
            double a = d_prev / (d_prev - d);
            *eer = fpr_prev + a * (fpr - fpr_prev);
            if (threshold)
                *threshold = s[i].p;
            free(s);
            return 0;
        }
        fpr_prev = fpr;
        fnr_prev = fnr;
        i = j;
    }
    free(s);
    /* Unreachable: at the lowest threshold FNR = 0 and FPR = 1. */
    return siam_fail(err, "eer: no crossing found over %zu scores", n);
}

/* The threshold among the distinct scores (and above them all) that
 * maximises wp * TP + wn * TN over n scores with P matches; on ties the
 * highest. *value receives that maximum. Plain accuracy weighs both kinds 1;
 * balanced accuracy weighs them N and P, which compares TPR + TNR exactly. */
static int best_threshold_weighted(float *threshold, unsigned long long *value,
                                   const float *prob, const float *label, size_t n, size_t P,
                                   unsigned long long wp, unsigned long long wn, siam_error *err)
{
    scored *s = malloc(n * sizeof *s);
    if (!s)
        return siam_fail(err, "best threshold: out of memory for %zu scores", n);
    for (size_t i = 0; i < n; i++) {
        s[i].p = prob[i];
        s[i].pos = is_pos(label[i]);
    }
    qsort(s, n, sizeof *s, by_score_desc);
    /* Start above every score: everything predicted a non-match. */
    unsigned long long tp = 0, tn = n - P;
    unsigned long long best = wn * tn;
    float best_t = nextafterf(s[0].p, INFINITY);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && s[j].p == s[i].p) {
            if (s[j].pos)
                tp++;
            else
                tn--;
            j++;
        }
        unsigned long long v = wp * tp + wn * tn;
        if (v > best) {
            best = v;
            best_t = s[i].p;
        }
        i = j;
    }
    free(s);
    *threshold = best_t;
    *value = best;
    return 0;
}

static size_t count_pos(const float *label, size_t n)
{
    size_t P = 0;
    for (size_t i = 0; i < n; i++)
        P += is_pos(label[i]);
    return P;
}

int siam_metrics_best_threshold(float *threshold, double *accuracy, const float *prob,
                                const float *label, size_t n, siam_error *err)
{
    if (n == 0)
        return siam_fail(err, "best threshold: no scores");
    unsigned long long best;
    if (best_threshold_weighted(threshold, &best, prob, label, n, count_pos(label, n), 1, 1, err))
        return -1;
    *accuracy = (double)best / (double)n;
    return 0;
}

double siam_metrics_balanced_accuracy(const float *prob, const float *label, size_t n,
                                      float threshold)
{
    siam_confusion c;
    siam_metrics_confusion(&c, prob, label, n, threshold);
    size_t P = c.tp + c.fn, N = c.tn + c.fp;
    if (P == 0 || N == 0)
        return siam_metrics_accuracy(prob, label, n, threshold);
    return 0.5 * ((double)c.tp / (double)P + (double)c.tn / (double)N);
}

int siam_metrics_best_threshold_balanced(float *threshold, double *balanced, const float *prob,
                                         const float *label, size_t n, siam_error *err)
{
    if (n == 0)
        return siam_fail(err, "best threshold: no scores");
    size_t P = count_pos(label, n), N = n - P;
    if (P == 0 || N == 0)
        return siam_metrics_best_threshold(threshold, balanced, prob, label, n, err);
    unsigned long long best;
    if (best_threshold_weighted(threshold, &best, prob, label, n, P, N, P, err))
        return -1;
    *balanced = (double)best / (2.0 * (double)P * (double)N);
    return 0;
}
