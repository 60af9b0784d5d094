/* Verification by the embeddings alone: the cosine of the two embeddings
 * of every pair, in eval mode, with no head (host/predict.h). A model
 * trained with a metric loss has an untrained head, and even a pair-trained
 * one can be scored this way; the threshold is chosen on validation as the
 * head's is. */
#include "host/predict.h"

#include <math.h>
#include <stdlib.h>

int siam_cosine_pass(siam_model *m, const uint8_t *images, const siam_dev_pairs *d, float mean,
                     float std, float *scores, siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    int was_training = siam_model_training(m), batch = siam_model_max_batch(m);
    int U = siam_model_config_of(m)->fc_units;
    float *cos = o->mem_alloc(c, (size_t)batch * sizeof(float));
    if (!cos)
        return siam_fail(err, "cosine scores: device allocation failed: %s", o->ctx_error(c));
    siam_model_set_training(m, 0);
    int rc = 0;
    for (size_t s = 0; s < d->n && rc == 0; s += (size_t)batch) {
        int nb = d->n - s < (size_t)batch ? (int)(d->n - s) : batch;
        rc = siam_batch_assemble(m, images, d->idx, s, nb, mean, std, NULL, 0, 0, err);
        if (!rc)
            rc = siam_model_embed_forward(m, 2 * nb, err);
        const float *e = siam_model_embeddings(m);
        /* rows 0..nb-1 are the left images, nb..2nb-1 the right ones */
        if (!rc && (o->pair_features_forward(c, cos, e, e + (size_t)nb * U, nb, U,
                                             SIAM_PAIRFEAT_COS) ||
                    o->download(c, scores + s, cos, (size_t)nb * sizeof(float))))
            rc = siam_fail(err, "cosine scores: %s", o->ctx_error(c));
        for (int i = 0; !rc && i < nb; i++)
            if (!isfinite(scores[s + i]))
                rc = siam_fail(err, "cosine scores: pair %zu scores %g (the model's weights are "
                                    "not finite?)", s + (size_t)i, (double)scores[s + i]);
    }
    siam_model_set_training(m, was_training);
    o->mem_free(c, cos);
    return rc;
}

int siam_model_cosine(siam_model *m, const siam_pairset *ps, const uint8_t *images_dev,
                      float mean, float std, float *scores, siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    if (siam_pairs_check(ps, "cosine scores", err))
        return -1;
    uint8_t *own = NULL;
    siam_dev_pairs d = { 0 };
    int rc = 0;
    if (!images_dev && !(images_dev = own = siam_images_to_device(o, c, ps->images, err)))
        rc = -1;
    if (!rc)
        rc = siam_dev_pairs_of(m, ps, &d, "cosine scores", err);
    if (!rc)
        rc = siam_cosine_pass(m, images_dev, &d, mean, std, scores, err);
    siam_dev_pairs_free(o, c, &d);
    o->mem_free(c, own);
    return rc;
}
