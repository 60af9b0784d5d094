/* Prediction over pair sets (host/predict.h). */
#include "host/predict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void siam_pairs_layout(const siam_pairset *ps, const int32_t *order, int batch, int32_t *idx,
                   float *labels)
{
    size_t n = ps->count;
    for (size_t s = 0; s < n; s += (size_t)batch) {
        size_t nb = n - s < (size_t)batch ? n - s : (size_t)batch;
        for (size_t i = 0; i < nb; i++) {
            const siam_pair *p = &ps->pairs[order ? (size_t)order[s + i] : s + i];
            idx[2 * s + i] = p->a;
            idx[2 * s + nb + i] = p->b;
            labels[s + i] = p->label;
        }
    }
}

int siam_pairs_check(const siam_pairset *ps, const char *what, siam_error *err)
{
    const siam_images *im = ps->images;
    if (!im || !im->pixels)
        return siam_fail(err, "%s set has no image bank", what);
    for (size_t i = 0; i < ps->count; i++) {
        const siam_pair *p = &ps->pairs[i];
        if (p->a < 0 || p->a >= im->count || p->b < 0 || p->b >= im->count)
            return siam_fail(err, "%s pair %zu indexes images %d, %d outside 0..%d", what, i,
                             (int)p->a, (int)p->b, im->count - 1);
    }
    return 0;
}

uint8_t *siam_images_to_device(const siam_ops *ops, siam_ctx *ctx, const siam_images *im,
                               siam_error *err)
{
    size_t bytes = (size_t)im->count * im->height * im->width;
    uint8_t *d = ops->mem_alloc(ctx, bytes ? bytes : 1);
    if (!d) {
        siam_fail(err, "image bank: device allocation of %zu bytes failed: %s", bytes,
                  ops->ctx_error(ctx));
        return NULL;
    }
    if (bytes && ops->upload(ctx, d, im->pixels, bytes)) {
        siam_fail(err, "image bank: upload failed: %s", ops->ctx_error(ctx));
        ops->mem_free(ctx, d);
        return NULL;
    }
    return d;
}

double siam_pairs_accuracy(const siam_pairset *ps, const float *probs, float thr)
{
    size_t correct = 0;
    for (size_t i = 0; i < ps->count; i++)
        correct += (probs[i] >= thr) == (ps->pairs[i].label >= 0.5f);
    return ps->count ? (double)correct / (double)ps->count : NAN;
}

int siam_dev_pairs_alloc(const siam_ops *o, siam_ctx *c, siam_dev_pairs *d, size_t n,
                           siam_error *err)
{
    d->n = n;
    d->idx = o->mem_alloc(c, (2 * n + 1) * sizeof(int32_t));
    d->labels = o->mem_alloc(c, (n + 1) * sizeof(float));
    if (!d->idx || !d->labels)
        return siam_fail(err, "trainer: device allocation for %zu pairs failed: %s", n,
                         o->ctx_error(c));
    return 0;
}

int siam_dev_pairs_upload(const siam_ops *o, siam_ctx *c, siam_dev_pairs *d, const int32_t *idx,
                            const float *labels, siam_error *err)
{
    if (o->upload(c, d->idx, idx, 2 * d->n * sizeof(int32_t)) ||
        o->upload(c, d->labels, labels, d->n * sizeof(float)))
        return siam_fail(err, "trainer: upload of the pair order failed: %s", o->ctx_error(c));
    return 0;
}

void siam_dev_pairs_free(const siam_ops *o, siam_ctx *c, siam_dev_pairs *d)
{
    o->mem_free(c, d->idx);
    o->mem_free(c, d->labels);
}

int siam_images_assemble(siam_model *m, const uint8_t *images, const int32_t *idx_dev, int n,
                         float mean, float std, const siam_augment *aug, uint64_t seed,
                         uint64_t aug_offset, const char *what, siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    const siam_model_config *mc = siam_model_config_of(m);
    int rc = aug && aug->enabled && o->augment_batch
        ? o->augment_batch(c, siam_model_input(m), images, idx_dev, n, mc->in_h, mc->in_w, aug,
                           seed, aug_offset, mean, std)
        : o->gather_normalize(c, siam_model_input(m), images, idx_dev, n,
                              mc->in_h * mc->in_w, mean, std);
    if (rc)
        return siam_fail(err, "%s: %s", what, o->ctx_error(c));
    return 0;
}

/* Fills the model input with batch [start, start+nb) of a laid-out set. */
int siam_batch_assemble(siam_model *m, const uint8_t *images, const int32_t *idx_dev, size_t start,
                    int nb, float mean, float std, const siam_augment *aug, uint64_t seed,
                    uint64_t aug_offset, siam_error *err)
{
    char what[64];
    snprintf(what, sizeof what, "batch assembly at pair %zu", start);
    return siam_images_assemble(m, images, idx_dev + 2 * start, 2 * nb, mean, std, aug, seed,
                                aug_offset, what, err);
}

/* Eval-mode pass over a laid-out set: mean loss (may be NULL) and the
 * probabilities of every pair. aug: NULL, or a fixed transform of every
 * image (test-time augmentation); its draws do not depend on the slot. */
int siam_eval_pass(siam_model *m, const uint8_t *images, const siam_dev_pairs *d, float mean,
                     float std, const siam_augment *aug, double *loss, float *probs,
                     siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    int was_training = siam_model_training(m), batch = siam_model_max_batch(m);
    siam_model_set_training(m, 0);
    double lsum = 0.0;
    int rc = 0;
    for (size_t s = 0; s < d->n && rc == 0; s += (size_t)batch) {
        int nb = d->n - s < (size_t)batch ? (int)(d->n - s) : batch;
        float l = 0.0f;
        rc = siam_batch_assemble(m, images, d->idx, s, nb, mean, std, aug, 0, 0, err);
        if (!rc)
            rc = siam_model_forward(m, nb, err);
        /* The loss and the probabilities in one readback. */
        siam_step_report rep;
        if (!rc && o->step_report(c, &rep, probs + s, siam_model_probs(m), d->labels + s,
                                  (size_t)nb, NULL, NULL, 0))
            rc = siam_fail(err, "evaluation: %s", o->ctx_error(c));
        for (int i = 0; !rc && i < nb; i++)
            if (!isfinite(probs[s + i]))
                rc = siam_fail(err, "evaluation: probability of pair %zu is %g (the model's "
                                    "weights are not finite?)", s + (size_t)i,
                               (double)probs[s + i]);
        l = rc ? 0.0f : rep.loss;
        lsum += (double)l * nb;
    }
    siam_model_set_training(m, was_training);
    if (rc)
        return rc;
    if (loss)
        *loss = d->n ? lsum / (double)d->n : NAN;
    return 0;
}

/* Every image mirrored left-right and nothing else: the augmenter with
 * each affine component off and a flip probability of 1. */
static void mirror_settings(siam_augment *a)
{
    siam_augment_defaults(a);
    a->enabled = 1;
    a->p_component = 0.0f;
    a->p_flip = 1.0f;
}

const char *siam_tta_name(siam_tta tta)
{
    return tta == SIAM_TTA_FLIP ? "flip" : "none";
}

int siam_tta_parse(const char *name, siam_tta *tta)
{
    if (strcmp(name, "none") == 0)
        *tta = SIAM_TTA_NONE;
    else if (strcmp(name, "flip") == 0)
        *tta = SIAM_TTA_FLIP;
    else
        return -1;
    return 0;
}

int siam_dev_pairs_of(siam_model *m, const siam_pairset *ps, siam_dev_pairs *d,
                      const char *what, siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    int32_t *idx = malloc((2 * ps->count + 1) * sizeof(int32_t));
    float *labels = malloc((ps->count + 1) * sizeof(float));
    int rc = 0;
    if (!idx || !labels)
        rc = siam_fail(err, "%s: out of host memory for %zu pairs", what, ps->count);
    if (!rc)
        rc = siam_dev_pairs_alloc(o, c, d, ps->count, err);
    if (!rc) {
        siam_pairs_layout(ps, NULL, siam_model_max_batch(m), idx, labels);
        rc = siam_dev_pairs_upload(o, c, d, idx, labels, err);
    }
    free(idx);
    free(labels);
    return rc;
}

int siam_predict_pairs(siam_model *m, const siam_pairset *ps, const uint8_t *images_dev,
                       float mean, float std, siam_tta tta, double *loss, float *probs,
                       const char *what, siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    siam_dev_pairs d = { 0 };
    int rc = siam_dev_pairs_of(m, ps, &d, what, err);
    if (!rc)
        rc = siam_eval_pass(m, images_dev, &d, mean, std, NULL, loss, probs, err);
    if (!rc && tta == SIAM_TTA_FLIP) {
        float *mirrored = malloc((ps->count + 1) * sizeof(float));
        if (!o->augment_batch) {
            rc = siam_fail(err, "%s: tta 'flip' needs the augmentation op, which this "
                                "backend lacks", what);
        } else if (!mirrored) {
            rc = siam_fail(err, "%s: out of host memory for %zu pairs", what, ps->count);
        } else {
            siam_augment mirror;
            mirror_settings(&mirror);
            rc = siam_eval_pass(m, images_dev, &d, mean, std, &mirror, NULL, mirrored, err);
            for (size_t i = 0; !rc && i < ps->count; i++)
                probs[i] = 0.5f * (probs[i] + mirrored[i]);
        }
        free(mirrored);
    }
    siam_dev_pairs_free(o, c, &d);
    return rc;
}

int siam_model_predict(siam_model *m, const siam_pairset *ps, const uint8_t *images_dev,
                       float mean, float std, siam_tta tta, float *probs, siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    if (siam_pairs_check(ps, "prediction", err))
        return -1;
    uint8_t *own = NULL;
    if (!images_dev && !(images_dev = own = siam_images_to_device(o, c, ps->images, err)))
        return -1;
    int rc = siam_predict_pairs(m, ps, images_dev, mean, std, tta, NULL, probs, "predict", err);
    o->mem_free(c, own);
    return rc;
}
