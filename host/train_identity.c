/* The identity part of a training epoch (host/train_identity.h). */
#include "host/train_identity.h"

#include <stdlib.h>

#include "host/embed_loss.h"
#include "host/predict.h"

struct siam_train_identity {
    siam_model *m;
    const siam_ops *ops;
    siam_ctx *ctx;
    const siam_train_config *cfg; /* the trainer's copy */
    const uint8_t *images;        /* device, the training bank */
    uint64_t *augment_offset;     /* the trainer's */
    int n, batches, batch;        /* images per batch; batches an epoch; the one the fill takes */
    int32_t *idx, *lab, *idx_dev, *lab_dev; /* batches x n: host, then device */
    siam_embed_step *step;
    siam_embed_loss *triplet;
    siam_train_embed emb;
};

/* Batch `batch` of the epoch into the model input, augmented as the pairs
 * are, from the same counter. */
static int fill(void *user, siam_error *err)
{
    siam_train_identity *ti = user;
    const siam_train_config *cfg = ti->cfg;
    if (siam_images_assemble(ti->m, ti->images, ti->idx_dev + (size_t)ti->batch * ti->n, ti->n,
                             cfg->mean, cfg->std, &cfg->augment, cfg->seed, *ti->augment_offset,
                             "identity batch assembly", err))
        return -1;
    *ti->augment_offset += (uint64_t)ti->n;
    return 0;
}

siam_train_identity *siam_train_identity_new(siam_model *m, const siam_train_config *cfg,
                                             const uint8_t *images, uint64_t *augment_offset,
                                             siam_error *err)
{
    siam_train_identity *ti = calloc(1, sizeof *ti);
    if (!ti) {
        siam_fail(err, "trainer: out of host memory");
        return NULL;
    }
    ti->m = m;
    ti->ops = siam_model_ops(m);
    ti->ctx = siam_model_ctx(m);
    ti->cfg = cfg;
    ti->images = images;
    ti->augment_offset = augment_offset;
    ti->n = siam_identity_sampler_batch_size(cfg->identity);
    ti->batches = siam_identity_sampler_config_of(cfg->identity)->batches;
    size_t n = (size_t)ti->batches * ti->n;
    ti->idx = malloc(n * sizeof *ti->idx);
    ti->lab = malloc(n * sizeof *ti->lab);
    if (!ti->idx || !ti->lab) {
        siam_fail(err, "trainer: out of host memory for %zu identity images", n);
        goto fail;
    }
    ti->idx_dev = ti->ops->mem_alloc(ti->ctx, n * sizeof(int32_t));
    ti->lab_dev = ti->ops->mem_alloc(ti->ctx, n * sizeof(int32_t));
    if (!ti->idx_dev || !ti->lab_dev) {
        siam_fail(err, "trainer: device allocation for %zu identity images failed: %s", n,
                  ti->ops->ctx_error(ti->ctx));
        goto fail;
    }
    if (!(ti->step = siam_embed_step_new(m, ti->n, err)) ||
        !(ti->triplet = siam_triplet_loss_new(ti->ops, ti->ctx, ti->n, cfg->triplet_margin,
                                              cfg->triplet_soft, cfg->triplet_weight, err)))
        goto fail;
    ti->emb.step = ti->step;
    ti->emb.losses = &ti->triplet;
    ti->emb.nlosses = 1;
    ti->emb.fill = fill;
    ti->emb.fill_user = ti;
    ti->emb.n = ti->n;
    return ti;
fail:
    siam_train_identity_free(ti);
    return NULL;
}

void siam_train_identity_free(siam_train_identity *ti)
{
    if (!ti)
        return;
    free(ti->idx);
    free(ti->lab);
    ti->ops->mem_free(ti->ctx, ti->idx_dev);
    ti->ops->mem_free(ti->ctx, ti->lab_dev);
    siam_embed_step_free(ti->step);
    siam_embed_loss_free(ti->triplet);
    free(ti);
}

int siam_train_identity_epoch(siam_train_identity *ti, int epoch, siam_error *err)
{
    size_t n = (size_t)ti->batches * ti->n;
    if (siam_identity_sampler_epoch(ti->cfg->identity, epoch, ti->idx, ti->lab, err))
        return -1;
    if (ti->ops->upload(ti->ctx, ti->idx_dev, ti->idx, n * sizeof(int32_t)) ||
        ti->ops->upload(ti->ctx, ti->lab_dev, ti->lab, n * sizeof(int32_t)))
        return siam_fail(err, "trainer: upload of the identity batches failed: %s",
                         ti->ops->ctx_error(ti->ctx));
    return 0;
}

siam_train_embed *siam_train_identity_batch(siam_train_identity *ti, int k)
{
    ti->batch = k;
    ti->emb.labels = ti->lab_dev + (size_t)k * ti->n;
    return &ti->emb;
}

int siam_train_identity_images(const siam_train_identity *ti) { return ti->n; }
