/* The embedding part of a training step and the triplet loss that plugs
 * into it (host/embed_loss.h). */
#include "host/embed_loss.h"

#include <stdlib.h>

void siam_embed_loss_free(siam_embed_loss *l)
{
    if (l && l->free)
        l->free(l);
}

typedef struct triplet_loss {
    siam_embed_loss base;  /* first: the interface */
    const siam_ops *ops;
    siam_ctx *ctx;
    int32_t *hard;         /* device (2 max_n): the partners the forward chose */
    int max_n;
    float margin;
    int soft;
} triplet_loss;

static int triplet_run(siam_embed_loss *l, float *loss, float *dE, const float *E,
                       const int32_t *labels, int N, int D, siam_error *err)
{
    triplet_loss *t = (triplet_loss *)l;
    if (N > t->max_n)
        return siam_fail(err, "triplet loss: %d images, more than its %d", N, t->max_n);
    if (t->ops->triplet_hard_forward(t->ctx, loss, t->hard, E, labels, N, D, t->margin,
                                     t->soft) ||
        t->ops->triplet_hard_backward(t->ctx, dE, t->hard, E, N, D, t->margin, t->soft,
                                      l->weight))
        return siam_fail(err, "triplet loss: %s", t->ops->ctx_error(t->ctx));
    return 0;
}

static void triplet_free(siam_embed_loss *l)
{
    triplet_loss *t = (triplet_loss *)l;
    t->ops->mem_free(t->ctx, t->hard);
    free(t);
}

siam_embed_loss *siam_triplet_loss_new(const siam_ops *ops, siam_ctx *ctx, int max_n,
                                       float margin, int soft, float weight, siam_error *err)
{
    if (!(margin >= 0.0f && margin <= 2.0f)) {
        /* cosine distances lie in [0, 2]: a larger margin never lets a triplet go */
        siam_fail(err, "triplet loss: margin %g must be in [0, 2]", (double)margin);
        return NULL;
    }
    if (soft != 0 && soft != 1) {
        siam_fail(err, "triplet loss: soft %d is not 0 or 1", soft);
        return NULL;
    }
    if (!(weight > 0.0f && weight < 1e30f)) {
        siam_fail(err, "triplet loss: weight %g must be positive and finite", (double)weight);
        return NULL;
    }
    if (max_n < 2) {
        siam_fail(err, "triplet loss: batches of %d images leave no pair", max_n);
        return NULL;
    }
    triplet_loss *t = calloc(1, sizeof *t);
    if (!t) {
        siam_fail(err, "triplet loss: out of host memory");
        return NULL;
    }
    t->base.name = "triplet";
    t->base.weight = weight;
    t->base.run = triplet_run;
    t->base.free = triplet_free;
    t->ops = ops;
    t->ctx = ctx;
    t->max_n = max_n;
    t->margin = margin;
    t->soft = soft;
    if (!(t->hard = ops->mem_alloc(ctx, 2 * (size_t)max_n * sizeof(int32_t)))) {
        siam_fail(err, "triplet loss: device allocation failed: %s", ops->ctx_error(ctx));
        free(t);
        return NULL;
    }
    return &t->base;
}

struct siam_embed_step {
    siam_model *m;
    int max_n;
    float *unit, *dunit, *demb; /* device (max_n, U) */
};

siam_embed_step *siam_embed_step_new(siam_model *m, int max_n, siam_error *err)
{
    if (max_n < 1 || max_n > 2 * siam_model_max_batch(m)) {
        siam_fail(err, "embedding step: %d images per batch outside 1..%d (twice the model's "
                       "max batch)", max_n, 2 * siam_model_max_batch(m));
        return NULL;
    }
    siam_embed_step *s = calloc(1, sizeof *s);
    if (!s) {
        siam_fail(err, "embedding step: out of host memory");
        return NULL;
    }
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    size_t bytes = (size_t)max_n * siam_model_config_of(m)->fc_units * sizeof(float);
    s->m = m;
    s->max_n = max_n;
    s->unit = o->mem_alloc(c, bytes);
    s->dunit = o->mem_alloc(c, bytes);
    s->demb = o->mem_alloc(c, bytes);
    if (!s->unit || !s->dunit || !s->demb) {
        siam_fail(err, "embedding step: device allocation failed: %s", o->ctx_error(c));
        siam_embed_step_free(s);
        return NULL;
    }
    return s;
}

void siam_embed_step_free(siam_embed_step *s)
{
    if (!s)
        return;
    const siam_ops *o = siam_model_ops(s->m);
    siam_ctx *c = siam_model_ctx(s->m);
    o->mem_free(c, s->unit);
    o->mem_free(c, s->dunit);
    o->mem_free(c, s->demb);
    free(s);
}

const float *siam_embed_step_unit(const siam_embed_step *s) { return s->unit; }

int siam_embed_step_run(siam_embed_step *s, siam_embed_loss *const *losses, int nlosses, int N,
                        const int32_t *labels_dev, float *losses_host, siam_error *err)
{
    siam_model *m = s->m;
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    int U = siam_model_config_of(m)->fc_units;
    if (N < 1 || N > s->max_n)
        return siam_fail(err, "embedding step: %d images outside 1..%d", N, s->max_n);
    if (siam_model_embed_forward(m, N, err))
        return -1;
    if (o->l2_normalize_forward(c, s->unit, siam_model_embeddings(m), N, U, SIAM_L2NORM_EPS) ||
        o->fill(c, s->dunit, 0.0f, (size_t)N * U))
        return siam_fail(err, "embedding step: %s", o->ctx_error(c));
    for (int k = 0; k < nlosses; k++)
        if (losses[k]->run(losses[k], &losses_host[k], s->dunit, s->unit, labels_dev, N, U, err))
            return -1;
    if (o->l2_normalize_backward(c, s->demb, s->dunit, siam_model_embeddings(m), N, U,
                                 SIAM_L2NORM_EPS))
        return siam_fail(err, "embedding step: %s", o->ctx_error(c));
    return siam_model_embed_backward(m, N, s->demb, err);
}
