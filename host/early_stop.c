/* Early-stopping rule: improvement means beating the best value by more than
 * min_delta in the monitored direction; patience counts the epochs since. */
#include "host/early_stop.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int siam_early_stop_init(siam_early_stop *es, const siam_early_stop_config *cfg,
                         siam_error *err)
{
    memset(es, 0, sizeof *es);
    es->cfg = *cfg;
    if (es->cfg.metric[0] == '\0')
        strcpy(es->cfg.metric, "val_acc");
    if (cfg->patience < 0)
        return siam_fail(err, "early stopping: patience %d must be >= 0", cfg->patience);
    if (!(cfg->min_delta >= 0.0))
        return siam_fail(err, "early stopping: min_delta %g must be >= 0", cfg->min_delta);
    es->best = cfg->mode_max ? -INFINITY : INFINITY;
    es->best_epoch = -1;
    return 0;
}

int siam_early_stop_update(siam_early_stop *es, int epoch, double value)
{
    /* As Keras' EarlyStopping: the first finite value is always an
     * improvement (best starts at -inf / +inf). */
    int better = es->cfg.mode_max ? value - es->cfg.min_delta > es->best
                                  : value + es->cfg.min_delta < es->best;
    if (isnan(value))
        better = 0;
    if (better) {
        es->best = value;
        es->best_epoch = epoch;
        es->wait = 0;
    } else {
        es->wait++;
        if (es->wait >= es->cfg.patience)
            es->stopped = 1;
    }
    es->seen = 1;
    return better;
}

void siam_early_stop_no_best_note(const siam_early_stop_config *cfg, int best_epoch,
                                  const double *h, int n, char *msg, size_t cap)
{
    msg[0] = '\0';
    if (best_epoch >= 0 || n == 0 || !h)
        return;
    int all_nan = 1;
    for (int e = 0; e < n; e++)
        all_nan &= isnan(h[e]) != 0;
    char epochs[48];
    if (n == 1)
        snprintf(epochs, sizeof epochs, "epoch 1");
    else
        snprintf(epochs, sizeof epochs, "epochs 1-%d", n);
    snprintf(msg, cap,
             "early stopping: '%s' was %s in every epoch (%s), so no best epoch was chosen "
             "and the last weights are kept", cfg->metric,
             all_nan ? "NaN" : cfg->mode_max ? "NaN or -inf" : "NaN or +inf", epochs);
}
