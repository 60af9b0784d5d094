/* The model's conv tower, forward and backward: four blocks conv -> batch
 * norm -> ReLU (-> 2x2 max-pool for blocks 1-3), run fused or plain (see
 * host/model_priv.h). Both ways give bit-identical results, except that an
 * eval forward on the fused way runs in chunks of images, whose convolutions
 * may sum in another order (host/model.h, SIAM_MODEL_EVAL_CHUNK). */
#include "host/model_priv.h"

static const char *conv_names[4] = { "conv1", "conv2", "conv3", "conv4" };

/* Input side of block k: channels and plane size. */
static void block_input(const siam_model *m, int k, int *cin, int *h, int *w)
{
    const siam_model_config *cfg = &m->cfg;
    *cin = k == 0 ? 1 : cfg->channels[k - 1];
    *h = k == 0 ? cfg->in_h : m->sizes[2 * (k - 1)] / 2;
    *w = k == 0 ? cfg->in_w : m->sizes[2 * (k - 1) + 1] / 2;
}

/* Block 4 (no pooling) of N images: batch norm into out, ReLU in place. */
static int last_block_forward(siam_model *m, int N, float *out, const float *conv,
                              siam_error *err)
{
    const siam_ops *o = m->ops;
    const siam_model_config *cfg = &m->cfg;
    int co = cfg->channels[3], hw = m->sizes[6] * m->sizes[7];
    int rc =
        m->training
            ? o->batchnorm_forward_train(
                  m->ctx, out, m->save_mean[3], m->save_invstd[3], SIAM_RS(m, SIAM_BUF_MEAN(3)),
                  SIAM_RS(m, SIAM_BUF_VAR(3)), conv, SIAM_P(m, SIAM_PARAM_BN_W(3)),
                  SIAM_P(m, SIAM_PARAM_BN_B(3)), N, co, hw, cfg->bn_momentum, cfg->bn_eps)
            : o->batchnorm_forward_eval(m->ctx, out, conv, SIAM_RS(m, SIAM_BUF_MEAN(3)),
                                        SIAM_RS(m, SIAM_BUF_VAR(3)), SIAM_P(m, SIAM_PARAM_BN_W(3)),
                                        SIAM_P(m, SIAM_PARAM_BN_B(3)), N, co, hw, cfg->bn_eps);
    if (rc)
        return siam_model_op_fail(m, err, "batchnorm");
    if (o->relu_forward(m->ctx, out, out, (size_t)N * co * hw))
        return siam_model_op_fail(m, err, "relu");
    return 0;
}

static int forward_fused_train(siam_model *m, int N, siam_error *err)
{
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    const siam_model_config *cfg = &m->cfg;
    const float *in = m->x;
    m->tower_consumed = 0;
    for (int k = 0; k < 4; k++) {
        int cin, h, w, co = cfg->channels[k], kk = cfg->kernels[k];
        int oh = m->sizes[2 * k], ow = m->sizes[2 * k + 1];
        block_input(m, k, &cin, &h, &w);
        if (o->conv2d_forward(c, m->conv[k], in, SIAM_P(m, SIAM_PARAM_CONV_W(k)),
                              SIAM_P(m, SIAM_PARAM_CONV_B(k)), N, cin, h, w, co, kk, kk))
            return siam_model_op_fail(m, err, conv_names[k]);
        if (k == 3)
            return last_block_forward(m, N, m->bn[3], m->conv[3], err);
        if (o->bn_relu_pool_forward_train(
                c, m->pool[k], m->win[k], m->save_mean[k], m->save_invstd[k],
                SIAM_RS(m, SIAM_BUF_MEAN(k)), SIAM_RS(m, SIAM_BUF_VAR(k)), m->conv[k],
                SIAM_P(m, SIAM_PARAM_BN_W(k)), SIAM_P(m, SIAM_PARAM_BN_B(k)), N, co, oh, ow,
                cfg->bn_momentum, cfg->bn_eps))
            return siam_model_op_fail(m, err, "batchnorm-relu-pool");
        in = m->pool[k];
    }
    return 0;
}

/* Eval keeps nothing for backward, and under the running statistics each
 * image's activations depend on that image alone. So a batch goes through
 * the tower a chunk of images at a time (siam_model_embed_pass), every
 * block of a chunk through the same two arenas (each input dead once its
 * conv has run): the n images from image i0 of m->x, block 4's output into
 * bn[3] (n images). */
static int forward_fused_eval(siam_model *m, int i0, int n, siam_error *err)
{
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    const siam_model_config *cfg = &m->cfg;
    const float *in = m->x + (size_t)i0 * cfg->in_h * cfg->in_w;
    for (int k = 0; k < 4; k++) {
        int cin, h, w, co = cfg->channels[k], kk = cfg->kernels[k];
        int oh = m->sizes[2 * k], ow = m->sizes[2 * k + 1];
        block_input(m, k, &cin, &h, &w);
        if (o->conv2d_forward(c, m->conv[0], in, SIAM_P(m, SIAM_PARAM_CONV_W(k)),
                              SIAM_P(m, SIAM_PARAM_CONV_B(k)), n, cin, h, w, co, kk, kk))
            return siam_model_op_fail(m, err, conv_names[k]);
        if (k == 3)
            return last_block_forward(m, n, m->bn[3], m->conv[0], err);
        if (o->bn_relu_pool_forward_eval(
                c, m->pool[0], m->conv[0], SIAM_RS(m, SIAM_BUF_MEAN(k)),
                SIAM_RS(m, SIAM_BUF_VAR(k)), SIAM_P(m, SIAM_PARAM_BN_W(k)),
                SIAM_P(m, SIAM_PARAM_BN_B(k)), n, co, oh, ow, cfg->bn_eps))
            return siam_model_op_fail(m, err, "batchnorm-relu-pool");
        in = m->pool[0];
    }
    return 0;
}

static int forward_plain(siam_model *m, int N, siam_error *err)
{
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    const siam_model_config *cfg = &m->cfg;
    const float *in = m->x;
    for (int k = 0; k < 4; k++) {
        int cin, h, w, co = cfg->channels[k], kk = cfg->kernels[k];
        int oh = m->sizes[2 * k], ow = m->sizes[2 * k + 1], hw = oh * ow;
        block_input(m, k, &cin, &h, &w);
        if (o->conv2d_forward(c, m->conv[k], in, SIAM_P(m, SIAM_PARAM_CONV_W(k)),
                              SIAM_P(m, SIAM_PARAM_CONV_B(k)), N, cin, h, w, co, kk, kk))
            return siam_model_op_fail(m, err, conv_names[k]);
        if (k == 3)
            return last_block_forward(m, N, m->bn[3], m->conv[3], err);
        int rc =
            m->training
                ? o->batchnorm_forward_train(
                      c, m->bn[k], m->save_mean[k], m->save_invstd[k], SIAM_RS(m, SIAM_BUF_MEAN(k)),
                      SIAM_RS(m, SIAM_BUF_VAR(k)), m->conv[k], SIAM_P(m, SIAM_PARAM_BN_W(k)),
                      SIAM_P(m, SIAM_PARAM_BN_B(k)), N, co, hw, cfg->bn_momentum, cfg->bn_eps)
                : o->batchnorm_forward_eval(c, m->bn[k], m->conv[k], SIAM_RS(m, SIAM_BUF_MEAN(k)),
                                            SIAM_RS(m, SIAM_BUF_VAR(k)),
                                            SIAM_P(m, SIAM_PARAM_BN_W(k)),
                                            SIAM_P(m, SIAM_PARAM_BN_B(k)), N, co, hw, cfg->bn_eps);
        if (rc)
            return siam_model_op_fail(m, err, "batchnorm");
        if (o->relu_forward(c, m->bn[k], m->bn[k], (size_t)N * co * hw))
            return siam_model_op_fail(m, err, "relu");
        if (o->maxpool2_forward(c, m->pool[k], m->argmax[k], m->bn[k], N * co, oh, ow))
            return siam_model_op_fail(m, err, "maxpool");
        in = m->pool[k];
    }
    return 0;
}

int siam_model_tower_forward(siam_model *m, int i0, int n, const float **out, siam_error *err)
{
    int rc = !m->fused   ? forward_plain(m, n, err)
           : m->training ? forward_fused_train(m, n, err)
                         : forward_fused_eval(m, i0, n, err);
    *out = m->bn[3];
    return rc;
}

/* Block 4 backward: ReLU in place on cur, batch norm into other. */
static int last_block_backward(siam_model *m, int N, float *cur, float *other, siam_error *err)
{
    const siam_ops *o = m->ops;
    int co = m->cfg.channels[3], hw = m->sizes[6] * m->sizes[7];
    if (o->relu_backward(m->ctx, cur, cur, m->bn[3], (size_t)N * co * hw))
        return siam_model_op_fail(m, err, "relu backward");
    if (o->batchnorm_backward(m->ctx, other, SIAM_G(m, SIAM_PARAM_BN_W(3)),
                              SIAM_G(m, SIAM_PARAM_BN_B(3)), cur, m->conv[3], m->save_mean[3],
                              m->save_invstd[3], SIAM_P(m, SIAM_PARAM_BN_W(3)), N, co, hw,
                              m->cfg.bn_eps))
        return siam_model_op_fail(m, err, "batchnorm backward");
    return 0;
}

static int conv_backward(siam_model *m, int k, int N, float *din, const float *dout,
                         siam_error *err)
{
    int cin, h, w, co = m->cfg.channels[k], kk = m->cfg.kernels[k];
    block_input(m, k, &cin, &h, &w);
    const float *in = k == 0 ? m->x : m->pool[k - 1];
    if (m->ops->conv2d_backward(m->ctx, din, SIAM_G(m, SIAM_PARAM_CONV_W(k)),
                                SIAM_G(m, SIAM_PARAM_CONV_B(k)), dout, in,
                                SIAM_P(m, SIAM_PARAM_CONV_W(k)), N, cin, h, w, co, kk, kk))
        return siam_model_op_fail(m, err, "conv backward");
    return 0;
}

static int conv_forward(siam_model *m, int k, int N, siam_error *err)
{
    int cin, h, w, co = m->cfg.channels[k], kk = m->cfg.kernels[k];
    block_input(m, k, &cin, &h, &w);
    const float *in = k == 0 ? m->x : m->pool[k - 1];
    if (m->ops->conv2d_forward(m->ctx, m->conv[k], in, SIAM_P(m, SIAM_PARAM_CONV_W(k)),
                               SIAM_P(m, SIAM_PARAM_CONV_B(k)), N, cin, h, w, co, kk, kk))
        return siam_model_op_fail(m, err, conv_names[k]);
    return 0;
}

/* d(pool output) always lives in dpool; each block's batch-norm gradient
 * overwrites its own conv output, which conv backward then reads. A second
 * backward of the same forward first recomputes those conv outputs from
 * the saved block inputs (bit-identical while the parameters are those of
 * the forward). */
static int backward_fused(siam_model *m, int N, float *cur, float *other, siam_error *err)
{
    for (int k = 0; k < 3 && m->tower_consumed; k++)
        if (conv_forward(m, k, N, err))
            return -1;
    m->tower_consumed = 1;
    if (last_block_backward(m, N, cur, other, err) || conv_backward(m, 3, N, m->dpool, other, err))
        return -1;
    for (int k = 2; k >= 0; k--) {
        int co = m->cfg.channels[k], oh = m->sizes[2 * k], ow = m->sizes[2 * k + 1];
        if (m->ops->bn_relu_pool_backward(m->ctx, m->conv[k], SIAM_G(m, SIAM_PARAM_BN_W(k)),
                                          SIAM_G(m, SIAM_PARAM_BN_B(k)), m->dpool, m->pool[k],
                                          m->win[k], m->conv[k], m->save_mean[k], m->save_invstd[k],
                                          SIAM_P(m, SIAM_PARAM_BN_W(k)), N, co, oh, ow))
            return siam_model_op_fail(m, err, "batchnorm-relu-pool backward");
        if (conv_backward(m, k, N, k == 0 ? NULL : m->dpool, m->conv[k], err))
            return -1;
    }
    return 0;
}

static int backward_plain(siam_model *m, int N, float *cur, float *other, siam_error *err)
{
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    float *t;
    if (last_block_backward(m, N, cur, other, err))
        return -1;
    t = cur; cur = other; other = t;
    if (conv_backward(m, 3, N, other, cur, err))
        return -1;
    t = cur; cur = other; other = t;
    for (int k = 2; k >= 0; k--) {
        int co = m->cfg.channels[k];
        int oh = m->sizes[2 * k], ow = m->sizes[2 * k + 1], hw = oh * ow;
        /* cur holds d(pool output); spread it back over the plane. */
        if (o->maxpool2_backward(c, other, cur, m->argmax[k], N * co, oh, ow))
            return siam_model_op_fail(m, err, "maxpool backward");
        t = cur; cur = other; other = t;
        if (o->relu_backward(c, cur, cur, m->bn[k], (size_t)N * co * hw))
            return siam_model_op_fail(m, err, "relu backward");
        if (o->batchnorm_backward(c, other, SIAM_G(m, SIAM_PARAM_BN_W(k)),
                                  SIAM_G(m, SIAM_PARAM_BN_B(k)), cur, m->conv[k], m->save_mean[k],
                                  m->save_invstd[k], SIAM_P(m, SIAM_PARAM_BN_W(k)), N, co, hw,
                                  m->cfg.bn_eps))
            return siam_model_op_fail(m, err, "batchnorm backward");
        t = cur; cur = other; other = t;
        if (conv_backward(m, k, N, k == 0 ? NULL : other, cur, err))
            return -1;
        t = cur; cur = other; other = t;
    }
    return 0;
}

int siam_model_tower_backward(siam_model *m, int N, float *cur, float *other, siam_error *err)
{
    return m->fused ? backward_fused(m, N, cur, other, err)
                    : backward_plain(m, N, cur, other, err);
}
