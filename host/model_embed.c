/* The tower alone: N single images (not pairs) through the conv tower and
 * fc to the embedding, and back from d(embedding) into the same parameter
 * gradients. The pair forward and backward (host/model.c) run the very
 * same passes on their 2B images, so a metric or identity loss trains the
 * weights that verification uses. */
#include "host/model_priv.h"

/* fc and its activation of n images from `in` (block 4's output), the
 * embeddings into emb. */
static int fc_forward(siam_model *m, int n, const float *in, float *emb, siam_error *err)
{
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    const siam_model_config *cfg = &m->cfg;
    int flat = cfg->channels[3] * m->sizes[6] * m->sizes[7], U = cfg->fc_units;
    size_t k = (size_t)n * U;
    if (o->linear_forward(c, m->fc, in, SIAM_P(m, SIAM_PARAM_FC_W), SIAM_P(m, SIAM_PARAM_FC_B), n,
                          flat, U))
        return siam_model_op_fail(m, err, "fc");
    int rc = cfg->embed_act == SIAM_EMBED_SIGMOID ? o->sigmoid_forward(c, emb, m->fc, k)
             : cfg->embed_act == SIAM_EMBED_RELU  ? o->relu_forward(c, emb, m->fc, k)
                                                  : o->copy(c, emb, m->fc, k * sizeof(float));
    if (rc)
        return siam_model_op_fail(m, err, "fc activation");
    return 0;
}

/* A fused eval forward runs the tower and fc a chunk of images at a time,
 * so that only the input and the embeddings grow with the batch. */
int siam_model_embed_pass(siam_model *m, int N, siam_error *err)
{
    int chunk = N;
    if (m->fused && !m->training && m->eval_chunk > 0 && m->eval_chunk < N)
        chunk = m->eval_chunk;
    for (int i0 = 0; i0 < N; i0 += chunk) {
        int n = N - i0 < chunk ? N - i0 : chunk;
        const float *in;
        if (siam_model_tower_forward(m, i0, n, &in, err) ||
            fc_forward(m, n, in, m->emb + (size_t)i0 * m->cfg.fc_units, err))
            return -1;
    }
    return 0;
}

int siam_model_embed_grad_pass(siam_model *m, int N, const float *demb, siam_error *err)
{
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    const siam_model_config *cfg = &m->cfg;
    float *g0 = m->g[0], *g1 = m->g[1];
    size_t n = (size_t)N * cfg->fc_units;
    /* Without an activation d(fc) is d(embedding) itself. */
    const float *dfc = demb;
    if (cfg->embed_act != SIAM_EMBED_NONE) {
        float *d = demb == g0 ? g1 : g0;
        int rc = cfg->embed_act == SIAM_EMBED_SIGMOID ? o->sigmoid_backward(c, d, demb, m->emb, n)
                                                      : o->relu_backward(c, d, demb, m->emb, n);
        if (rc)
            return siam_model_op_fail(m, err, "fc activation backward");
        dfc = d;
    }
    int flat = cfg->channels[3] * m->sizes[6] * m->sizes[7];
    float *cur = dfc == g0 ? g1 : g0; /* receives d(conv4 block output) */
    if (o->linear_backward(c, cur, SIAM_G(m, SIAM_PARAM_FC_W), SIAM_G(m, SIAM_PARAM_FC_B), dfc,
                           m->bn[3], SIAM_P(m, SIAM_PARAM_FC_W), N, flat, cfg->fc_units))
        return siam_model_op_fail(m, err, "fc backward");
    return siam_model_tower_backward(m, N, cur, cur == g0 ? g1 : g0, err);
}

int siam_model_embed_forward(siam_model *m, int N, siam_error *err)
{
    if (N <= 0 || N > 2 * m->max_batch)
        return siam_fail(err, "model embed forward: %d images outside 1..%d", N,
                         2 * m->max_batch);
    if (m->training && siam_model_prepare_training(m, err))
        return -1;
    /* Neither kind of backward may use a failed forward, nor the pair
     * backward this one. */
    m->last_forward_training = 0;
    m->last_B = 0;
    m->last_embed_N = 0;
    if (siam_model_embed_pass(m, N, err))
        return -1;
    m->last_forward_training = m->training;
    m->last_embed_N = N;
    return 0;
}

int siam_model_embed_backward(siam_model *m, int N, const float *demb_dev, siam_error *err)
{
    if (!m->last_forward_training || N != m->last_embed_N)
        return siam_fail(err, "model embed backward: needs a training-mode embed forward of %d "
                              "images (last: %d images, %s mode)", N, m->last_embed_N,
                         m->last_forward_training ? "training" : "eval");
    if (demb_dev == m->g[0] || demb_dev == m->g[1])
        return siam_fail(err, "model embed backward: d(embedding) must not be the model's own "
                              "scratch");
    return siam_model_embed_grad_pass(m, N, demb_dev, err);
}

const float *siam_model_embeddings(const siam_model *m) { return m->emb; }
