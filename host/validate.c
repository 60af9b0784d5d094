/* Validation after a training epoch (host/validate.h). */
#include "host/validate.h"

#include <stdlib.h>
#include <string.h>

#include "host/metrics.h"

int siam_validation_init(siam_validation *v, siam_model *m, const siam_pairset *set,
                         const uint8_t *images, float mean, float std, int thresholds,
                         int cosine, siam_error *err)
{
    memset(v, 0, sizeof *v);
    v->set = set;
    v->images = images;
    v->mean = mean;
    v->std = std;
    v->thresholds = thresholds;
    v->cosine = cosine;
    v->labels = malloc((set->count + 1) * sizeof(float));
    v->scores = malloc((set->count + 1) * sizeof(float));
    if (!v->labels || !v->scores)
        return siam_fail(err, "trainer: out of host memory for %zu validation pairs",
                         set->count);
    for (size_t i = 0; i < set->count; i++)
        v->labels[i] = set->pairs[i].label;
    return siam_dev_pairs_of(m, set, &v->pairs, "trainer", err);
}

void siam_validation_clear(siam_validation *v, siam_model *m)
{
    siam_dev_pairs_free(siam_model_ops(m), siam_model_ctx(m), &v->pairs);
    free(v->labels);
    free(v->scores);
    memset(v, 0, sizeof *v);
}

/* The best balanced-accuracy threshold of the last pass's scores, and that
 * accuracy, as the history columns `thr` and `acc`. */
static int record_best(siam_validation *v, siam_history *h, int epoch, const char *thr,
                       const char *acc, siam_error *err)
{
    float t;
    double best;
    if (siam_metrics_best_threshold_balanced(&t, &best, v->scores, v->labels, v->set->count,
                                             err) ||
        siam_history_set(h, thr, epoch, t, err) || siam_history_set(h, acc, epoch, best, err))
        return -1;
    return 0;
}

int siam_validation_run(siam_validation *v, siam_model *m, float threshold, siam_history *h,
                        int epoch, double *loss, double *acc, siam_error *err)
{
    if (siam_eval_pass(m, v->images, &v->pairs, v->mean, v->std, NULL, loss, v->scores, err))
        return -1;
    *acc = siam_pairs_accuracy(v->set, v->scores, threshold);
    if (v->thresholds &&
        record_best(v, h, epoch, "val_threshold", "val_acc_at_threshold", err))
        return -1;
    /* A metric loss trains the embeddings, not the head: score by their
     * cosine too, the threshold chosen as the head's. */
    if (v->cosine &&
        (siam_cosine_pass(m, v->images, &v->pairs, v->mean, v->std, v->scores, err) ||
         record_best(v, h, epoch, "val_cos_threshold", "val_cos_acc", err)))
        return -1;
    return 0;
}
