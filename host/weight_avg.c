/* Weight averaging over the model's flat layout (host/weight_avg.h); the
 * update is one ops->lerp per buffer, so it runs on the model's device. */
#include "host/weight_avg.h"

#include <stdlib.h>
#include <string.h>

struct siam_wavg {
    siam_model *m;
    siam_wavg_config cfg;
    const siam_ops *ops;
    siam_ctx *ctx;
    size_t n, nb;       /* parameters, BN statistics */
    float *avg;         /* device: n + nb */
    float *tmp;         /* device: n + nb, for swaps */
    uint64_t count;
};

void siam_wavg_config_default(siam_wavg_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = SIAM_WAVG_OFF;
    cfg->decay = 0.999;
    cfg->start_epoch = 0;
}

int siam_wavg_kind_parse(const char *name, siam_wavg_kind *out, siam_error *err)
{
    static const char *names[3] = { "off", "ema", "swa" };
    for (int k = 0; k < 3; k++)
        if (strcmp(name, names[k]) == 0) {
            *out = (siam_wavg_kind)k;
            return 0;
        }
    return siam_fail(err, "unknown weight averaging '%s' (off, ema, swa)", name);
}

siam_wavg *siam_wavg_new(siam_model *m, const siam_wavg_config *cfg, siam_error *err)
{
    if (cfg->kind != SIAM_WAVG_EMA && cfg->kind != SIAM_WAVG_SWA) {
        siam_fail(err, "weight averaging: kind %d is not ema (1) or swa (2)", (int)cfg->kind);
        return NULL;
    }
    if (cfg->kind == SIAM_WAVG_EMA && !(cfg->decay >= 0.0 && cfg->decay < 1.0)) {
        siam_fail(err, "weight averaging: EMA decay %g outside [0, 1)", cfg->decay);
        return NULL;
    }
    if (cfg->start_epoch < 0) {
        siam_fail(err, "weight averaging: start_epoch %d is negative", cfg->start_epoch);
        return NULL;
    }
    siam_wavg *w = calloc(1, sizeof *w);
    if (!w) {
        siam_fail(err, "weight averaging: out of host memory");
        return NULL;
    }
    w->m = m;
    w->cfg = *cfg;
    w->ops = siam_model_ops(m);
    w->ctx = siam_model_ctx(m);
    w->n = siam_model_numel(m);
    w->nb = siam_model_buffer_numel(m);
    size_t bytes = (w->n + w->nb) * sizeof(float);
    w->avg = w->ops->mem_alloc(w->ctx, bytes);
    w->tmp = w->avg ? w->ops->mem_alloc(w->ctx, bytes) : NULL;
    if (!w->tmp) {
        siam_fail(err, "weight averaging: device allocation of 2 x %zu bytes failed: %s", bytes,
                  w->ops->ctx_error(w->ctx));
        siam_wavg_free(w);
        return NULL;
    }
    return w;
}

void siam_wavg_free(siam_wavg *w)
{
    if (!w)
        return;
    w->ops->mem_free(w->ctx, w->avg);
    w->ops->mem_free(w->ctx, w->tmp);
    free(w);
}

const siam_wavg_config *siam_wavg_config_of(const siam_wavg *w) { return &w->cfg; }
uint64_t siam_wavg_count(const siam_wavg *w) { return w->count; }

/* Folds `src` (n floats) into `avg` with the weight of update count + 1. */
static int fold(siam_wavg *w, float *avg, const float *src, size_t n, siam_error *err)
{
    size_t f = sizeof(float);
    float k = w->cfg.kind == SIAM_WAVG_EMA ? (float)(1.0 - w->cfg.decay)
                                           : (float)(1.0 / (double)(w->count + 1));
    int rc = w->count == 0 ? w->ops->copy(w->ctx, avg, src, n * f)
                           : w->ops->lerp(w->ctx, avg, src, n, k);
    if (rc)
        return siam_fail(err, "weight averaging: update failed: %s", w->ops->ctx_error(w->ctx));
    return 0;
}

int siam_wavg_update_buffers(siam_wavg *w, siam_error *err)
{
    return fold(w, w->avg + w->n, siam_model_buffers(w->m), w->nb, err);
}

int siam_wavg_update_params(siam_wavg *w, siam_error *err)
{
    if (fold(w, w->avg, siam_model_params(w->m), w->n, err))
        return -1;
    w->count++;
    return 0;
}

int siam_wavg_update(siam_wavg *w, siam_error *err)
{
    return siam_wavg_update_buffers(w, err) || siam_wavg_update_params(w, err) ? -1 : 0;
}

int siam_wavg_swap(siam_wavg *w, siam_error *err)
{
    if (w->count == 0)
        return siam_fail(err, "weight averaging: nothing averaged yet");
    if (siam_model_weights_copy(w->m, w->tmp, 0, "weight averaging", err) ||
        siam_model_weights_copy(w->m, w->avg, 1, "weight averaging", err))
        return -1;
    float *t = w->avg;
    w->avg = w->tmp;
    w->tmp = t;
    return 0;
}

int siam_wavg_apply(siam_wavg *w, siam_error *err)
{
    if (w->count == 0)
        return siam_fail(err, "weight averaging: nothing averaged yet");
    return siam_model_weights_copy(w->m, w->avg, 1, "weight averaging", err);
}

int siam_wavg_download(siam_wavg *w, float *host, siam_error *err)
{
    if (w->ops->download(w->ctx, host, w->avg, (w->n + w->nb) * sizeof(float)))
        return siam_fail(err, "weight averaging: download: %s", w->ops->ctx_error(w->ctx));
    return 0;
}

int siam_wavg_upload(siam_wavg *w, const float *host, uint64_t count, siam_error *err)
{
    if (w->ops->upload(w->ctx, w->avg, host, (w->n + w->nb) * sizeof(float)))
        return siam_fail(err, "weight averaging: upload: %s", w->ops->ctx_error(w->ctx));
    w->count = count;
    return 0;
}
