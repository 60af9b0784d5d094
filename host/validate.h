/* Validation after a training epoch: the head's loss and accuracy on the
 * validation pairs, and, as the configuration asks, the threshold of the
 * best balanced accuracy (val_threshold, val_acc_at_threshold) and the
 * cosine verification of the embeddings (val_cos_threshold, val_cos_acc),
 * which are recorded in the run's history. The trainer owns one. */
#ifndef SIAM_VALIDATE_H
#define SIAM_VALIDATE_H

#include <stdint.h>

#include "host/dataset.h"
#include "host/history.h"
#include "host/model.h"
#include "host/predict.h"

typedef struct siam_validation {
    const siam_pairset *set;  /* borrowed */
    const uint8_t *images;    /* borrowed: the set's bank on the device */
    siam_dev_pairs pairs;     /* the whole set on the device, in the model's batches */
    float *labels;            /* host, set->count */
    float *scores;            /* host, set->count: the last pass's probabilities or cosines */
    float mean, std;          /* the run's normalisation */
    int thresholds;           /* record val_threshold and val_acc_at_threshold */
    int cosine;               /* record val_cos_threshold and val_cos_acc */
} siam_validation;

/* Puts the set's pairs on the device; v is cleared first, so that
 * siam_validation_clear is right after a failure too. */
int siam_validation_init(siam_validation *v, siam_model *m, const siam_pairset *set,
                         const uint8_t *images, float mean, float std, int thresholds,
                         int cosine, siam_error *err);
void siam_validation_clear(siam_validation *v, siam_model *m);

/* Validation of `epoch` (0-based): *loss and *acc (at `threshold`) of the
 * head, the recorded values into h. */
int siam_validation_run(siam_validation *v, siam_model *m, float threshold, siam_history *h,
                        int epoch, double *loss, double *acc, siam_error *err);

#endif
