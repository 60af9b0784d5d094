/* Weight averaging: an exponential moving average of the parameters over
 * optimizer steps (Polyak averaging as in tf.train.ExponentialMovingAverage
 * and timm's ModelEma), or an equal-weight running mean over epoch ends
 * (stochastic weight averaging, Izmailov et al. 2018). The average covers
 * the flat parameters and the BN running statistics, in the model's layout
 * (parameters then statistics), and lives on the device. The training loop
 * (host/train.h) drives it; this file holds only the arithmetic. */
#ifndef SIAM_WEIGHT_AVG_H
#define SIAM_WEIGHT_AVG_H

#include <stdint.h>

#include "host/model.h"
#include "kernels/error.h"

typedef enum siam_wavg_kind {
    SIAM_WAVG_OFF = 0,
    SIAM_WAVG_EMA = 1,    /* after every optimizer step: avg = decay avg + (1 - decay) w */
    SIAM_WAVG_SWA = 2     /* after every epoch: avg = mean of the weights of epochs so far */
} siam_wavg_kind;

typedef struct siam_wavg_config {
    siam_wavg_kind kind;
    double decay;         /* EMA decay in [0, 1) (0.999) */
    int start_epoch;      /* 0-based epoch from which updates count (0) */
} siam_wavg_config;

/* Off, decay 0.999, start 0. */
void siam_wavg_config_default(siam_wavg_config *cfg);
/* "off", "ema", "swa"; -1 with a message otherwise. */
int siam_wavg_kind_parse(const char *name, siam_wavg_kind *out, siam_error *err);

typedef struct siam_wavg siam_wavg;

/* An empty average for model m (borrowed; it must outlive the average).
 * Fails for kind OFF or a decay outside [0, 1). Free with siam_wavg_free
 * (NULL is fine). */
siam_wavg *siam_wavg_new(siam_model *m, const siam_wavg_config *cfg, siam_error *err);
void siam_wavg_free(siam_wavg *w);

const siam_wavg_config *siam_wavg_config_of(const siam_wavg *w);
/* Number of weight sets folded in so far. */
uint64_t siam_wavg_count(const siam_wavg *w);
/* Folds the model's current weights in: the first update copies them;
 * then EMA uses weight 1 - decay, SWA weight 1/(count + 1). */
int siam_wavg_update(siam_wavg *w, siam_error *err);
/* The same update in two halves, for a training loop that learns whether
 * an update's parameters are finite only after the next forward pass has
 * changed the batch-norm statistics (host/train.c): first the statistics,
 * then the parameters, which completes the update (count + 1). The two
 * together give siam_wavg_update's values bit for bit. */
int siam_wavg_update_buffers(siam_wavg *w, siam_error *err);
int siam_wavg_update_params(siam_wavg *w, siam_error *err);
/* Exchanges the model's weights with the average (twice restores both).
 * Fails when nothing has been averaged yet. */
int siam_wavg_swap(siam_wavg *w, siam_error *err);
/* Copies the average into the model (the model's weights are lost). */
int siam_wavg_apply(siam_wavg *w, siam_error *err);
/* The average on the host (numel + buffer_numel floats) and back, with the
 * count, for checkpoints. */
int siam_wavg_download(siam_wavg *w, float *host, siam_error *err);
int siam_wavg_upload(siam_wavg *w, const float *host, uint64_t count, siam_error *err);

#endif
