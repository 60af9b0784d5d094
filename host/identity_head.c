/* The identity head's state and its call into ops->margin_softmax
 * (host/identity_head.h). */
#include "host/identity_head.h"

#include <math.h>
#include <stdlib.h>

#include "kernels/op_checks.h"
#include "kernels/philox.h"

struct siam_identity_head {
    const siam_ops *ops;
    siam_ctx *ctx;
    siam_identity_head_config cfg;
    float *w;    /* (classes, dim), then the gradient at grad: one allocation */
    float *grad;
};

siam_identity_head *siam_identity_head_new(const siam_ops *ops, siam_ctx *ctx,
                                           const siam_identity_head_config *cfg, uint64_t seed,
                                           siam_error *err)
{
    /* The op's own rule, with a batch of one, refuses bad sizes and settings
     * before anything is allocated. */
    if (siam_check_margin_softmax(err, 1, cfg->dim, cfg->classes, cfg->kind, (float)cfg->s,
                                  (float)cfg->m)) {
        siam_fail_wrap(err, "identity head");
        return NULL;
    }
    siam_identity_head *h = calloc(1, sizeof *h);
    size_t n = (size_t)cfg->classes * cfg->dim;
    float *host = malloc(n * sizeof *host);
    if (!h || !host) {
        free(h), free(host);
        siam_fail(err, "identity head: out of host memory for %zu floats", n);
        return NULL;
    }
    h->ops = ops;
    h->ctx = ctx;
    h->cfg = *cfg;
    h->w = ops->mem_alloc(ctx, (siam_align_floats(n) + n) * sizeof(float));
    if (!h->w) {
        siam_fail(err, "identity head: device allocation of 2 x %zu floats failed: %s", n,
                  ops->ctx_error(ctx));
        free(h), free(host);
        return NULL;
    }
    h->grad = h->w + siam_align_floats(n);
    float bound = (float)(1.0 / sqrt((double)cfg->dim));
    for (size_t i = 0; i < n; i++)
        host[i] = (siam_philox_uniform(seed, SIAM_STREAM_HEAD, i) * 2.0f - 1.0f) * bound;
    int rc = ops->upload(ctx, h->w, host, n * sizeof(float));
    free(host);
    if (rc) {
        siam_fail(err, "identity head: upload of the class weights: %s", ops->ctx_error(ctx));
        siam_identity_head_free(h);
        return NULL;
    }
    return h;
}

void siam_identity_head_free(siam_identity_head *h)
{
    if (!h)
        return;
    h->ops->mem_free(h->ctx, h->w);
    free(h);
}

int siam_identity_head_loss_and_grad(siam_identity_head *h, const float *E_dev,
                                     const int32_t *labels_dev, int N, float *loss,
                                     float *dE_dev, siam_error *err)
{
    const siam_identity_head_config *c = &h->cfg;
    if (h->ops->margin_softmax(h->ctx, loss, dE_dev, h->grad, E_dev, labels_dev, h->w, N,
                               c->dim, c->classes, c->kind, (float)c->s, (float)c->m, 1.0f))
        return siam_fail(err, "identity head: %s", h->ops->ctx_error(h->ctx));
    return 0;
}

int siam_identity_head_zero_grad(siam_identity_head *h, siam_error *err)
{
    if (h->ops->fill(h->ctx, h->grad, 0.0f, siam_identity_head_numel(h)))
        return siam_fail(err, "identity head: zero_grad: %s", h->ops->ctx_error(h->ctx));
    return 0;
}

float *siam_identity_head_weights(siam_identity_head *h) { return h->w; }
float *siam_identity_head_grad(siam_identity_head *h) { return h->grad; }
size_t siam_identity_head_numel(const siam_identity_head *h)
{
    return (size_t)h->cfg.classes * h->cfg.dim;
}
const siam_identity_head_config *siam_identity_head_config_of(const siam_identity_head *h)
{
    return &h->cfg;
}
