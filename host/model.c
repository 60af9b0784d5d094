/* The Siamese twin CNN: parameter table, buffers, forward, BCE loss and
 * backward through the head; the conv tower's passes are in model_tower.c,
 * initialisation in model_init.c. Device memory is touched only through
 * the ops table. */
#include "host/model_priv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_memory.h"

void siam_model_config_default(siam_model_config *cfg)
{
    static const int ch[4] = { 64, 128, 128, 256 }, k[4] = { 10, 7, 4, 4 };
    memset(cfg, 0, sizeof *cfg);
    cfg->in_h = cfg->in_w = 105;
    memcpy(cfg->channels, ch, sizeof ch);
    memcpy(cfg->kernels, k, sizeof k);
    cfg->fc_units = 4096;
    cfg->dropout = 0.0f;
    cfg->bn_momentum = 0.1f;
    cfg->bn_eps = 1e-5f;
}

/* Fails unless 1 <= v <= max, naming the field. */
static int check_range(long long v, long long max, const char *what, siam_error *err)
{
    if (v < 1 || v > max)
        return siam_fail(err, "model config: %s %lld is outside 1..%lld", what, v, max);
    return 0;
}

int siam_model_config_check(const siam_model_config *cfg, int sizes[8], siam_error *err)
{
    int h = cfg->in_h, w = cfg->in_w;
    if (h <= 0 || w <= 0)
        return siam_fail(err, "model config: input size %dx%d must be positive", h, w);
    if (cfg->fc_units <= 0)
        return siam_fail(err, "model config: fc_units %d must be positive", cfg->fc_units);
    if (check_range(h, SIAM_MODEL_MAX_SIDE, "input height", err) ||
        check_range(w, SIAM_MODEL_MAX_SIDE, "input width", err) ||
        check_range(cfg->fc_units, SIAM_MODEL_MAX_UNITS, "fc_units", err))
        return -1;
    if (!(cfg->dropout >= 0.0f && cfg->dropout < 1.0f))
        return siam_fail(err, "model config: dropout %g must be in [0, 1)", (double)cfg->dropout);
    if (cfg->embed_act < SIAM_EMBED_SIGMOID || cfg->embed_act > SIAM_EMBED_RELU)
        return siam_fail(err, "model config: embed_act %d is not 0 (sigmoid), 1 (none) or "
                              "2 (relu)", cfg->embed_act);
    if (cfg->head & ~SIAM_PAIRFEAT_ALL)
        return siam_fail(err, "model config: head 0x%x has bits outside 0x%x", cfg->head,
                         SIAM_PAIRFEAT_ALL);
    if (!(cfg->bn_eps > 0.0f) || !(cfg->bn_momentum >= 0.0f && cfg->bn_momentum <= 1.0f))
        return siam_fail(err, "model config: bn_eps %g / bn_momentum %g out of range",
                         (double)cfg->bn_eps, (double)cfg->bn_momentum);
    long long cin = 1;
    for (int k = 0; k < 4; k++) {
        if (cfg->channels[k] <= 0 || cfg->kernels[k] <= 0)
            return siam_fail(err, "model config: conv%d has %d channels, kernel %d", k + 1,
                             cfg->channels[k], cfg->kernels[k]);
        if (cfg->channels[k] > SIAM_MODEL_MAX_SIDE)
            return siam_fail(err, "model config: conv%d has %d channels, more than %d", k + 1,
                             cfg->channels[k], SIAM_MODEL_MAX_SIDE);
        int oh = h - cfg->kernels[k] + 1, ow = w - cfg->kernels[k] + 1;
        if (oh <= 0 || ow <= 0)
            return siam_fail(err, "model config: conv%d kernel %d does not fit its %dx%d input",
                             k + 1, cfg->kernels[k], h, w);
        /* Sides, channels and kernels are at most 2^16 here, so these
         * products are exact in 64 bits; each must stay below 2^31, the
         * range of the int sizes the layers and kernels compute with. */
        long long kk = (long long)cfg->kernels[k] * cfg->kernels[k], co = cfg->channels[k];
        long long out = co * oh * ow;
        if (cin * kk > INT_MAX || co * cin * kk > INT_MAX || out > INT_MAX)
            return siam_fail(err, "model config: conv%d (%lld x %lld x %dx%d, output %dx%d) "
                                  "exceeds 2^31 elements in a tensor", k + 1, co, cin,
                             cfg->kernels[k], cfg->kernels[k], oh, ow);
        if (sizes) {
            sizes[2 * k] = oh;
            sizes[2 * k + 1] = ow;
        }
        if (k < 3) {
            h = oh / 2;
            w = ow / 2;
            if (h <= 0 || w <= 0)
                return siam_fail(err, "model config: pooling after conv%d leaves %dx%d", k + 1,
                                 h, w);
        } else if (out * cfg->fc_units > INT_MAX) {
            return siam_fail(err, "model config: fc weight (%d x %lld) exceeds 2^31 elements",
                             cfg->fc_units, out);
        }
        cin = co;
    }
    return 0;
}

int siam_embed_act_parse(const char *name, siam_embed_act *out, siam_error *err)
{
    static const char *names[3] = { "sigmoid", "none", "relu" };
    for (int k = 0; k < 3; k++)
        if (strcmp(name, names[k]) == 0) {
            *out = (siam_embed_act)k;
            return 0;
        }
    return siam_fail(err, "unknown embedding activation '%s' (sigmoid, none, relu)", name);
}

const char *siam_embed_act_name(int act)
{
    static const char *names[3] = { "sigmoid", "none", "relu" };
    return act >= 0 && act < 3 ? names[act] : "?";
}

int siam_head_parse(const char *name, unsigned *out, siam_error *err)
{
    static const char *blocks[4] = { "abs", "sq", "prod", "cos" };
    if (strcmp(name, "l1") == 0) {
        *out = SIAM_HEAD_L1;
        return 0;
    }
    if (strcmp(name, "rich") == 0) {
        *out = SIAM_HEAD_RICH;
        return 0;
    }
    unsigned mask = 0;
    const char *p = name;
    for (;;) {
        size_t len = strcspn(p, "+");
        int found = -1;
        for (int k = 0; k < 4; k++)
            if (strlen(blocks[k]) == len && strncmp(p, blocks[k], len) == 0)
                found = k;
        if (found < 0 || (mask & (1u << found)))
            return siam_fail(err, "unknown distance head '%s' (l1, rich, or blocks joined by "
                                  "'+' from abs, sq, prod, cos, each once)", name);
        mask |= 1u << found;
        p += len;
        if (*p == '\0')
            break;
        p++; /* past '+': a block must follow */
    }
    *out = mask;
    return 0;
}

int siam_model_head_width(const siam_model_config *cfg)
{
    return cfg->head == SIAM_HEAD_L1 ? cfg->fc_units
                                     : siam_pairfeat_width(cfg->head, cfg->fc_units);
}

static void param_set(siam_param_info *p, const char *layer, const char *what, int ndim,
                      const int *shape, int fan_in, siam_param_role role, size_t *offset)
{
    snprintf(p->name, sizeof p->name, "%s.%s", layer, what);
    p->ndim = ndim;
    p->numel = 1;
    for (int i = 0; i < 4; i++) {
        p->shape[i] = i < ndim ? shape[i] : 0;
        if (i < ndim)
            p->numel *= (size_t)shape[i];
    }
    p->fan_in = fan_in;
    p->role = role;
    p->offset = *offset;
    *offset += p->numel;
}

static void build_tables(siam_model *m)
{
    const siam_model_config *c = &m->cfg;
    size_t off = 0, boff = 0;
    int cin = 1;
    for (int k = 0; k < 4; k++) {
        char conv[16], bn[16];
        snprintf(conv, sizeof conv, "conv%d", k + 1);
        snprintf(bn, sizeof bn, "bn%d", k + 1);
        int co = c->channels[k], kk = c->kernels[k];
        int ws[4] = { co, cin, kk, kk }, bs[1] = { co };
        int fan = cin * kk * kk;
        param_set(&m->params[SIAM_PARAM_CONV_W(k)], conv, "weight", 4, ws, fan,
                  SIAM_ROLE_CONV_WEIGHT, &off);
        param_set(&m->params[SIAM_PARAM_CONV_B(k)], conv, "bias", 1, bs, fan,
                  SIAM_ROLE_CONV_BIAS, &off);
        param_set(&m->params[SIAM_PARAM_BN_W(k)], bn, "weight", 1, bs, 0, SIAM_ROLE_BN_WEIGHT,
                  &off);
        param_set(&m->params[SIAM_PARAM_BN_B(k)], bn, "bias", 1, bs, 0, SIAM_ROLE_BN_BIAS,
                  &off);
        param_set(&m->bufs[SIAM_BUF_MEAN(k)], bn, "running_mean", 1, bs, 0, SIAM_ROLE_BN_BIAS,
                  &boff);
        param_set(&m->bufs[SIAM_BUF_VAR(k)], bn, "running_var", 1, bs, 0, SIAM_ROLE_BN_WEIGHT,
                  &boff);
        cin = co;
    }
    int flat = c->channels[3] * m->sizes[6] * m->sizes[7];
    int U = c->fc_units, F = siam_model_head_width(c);
    int fw[2] = { U, flat }, fb[1] = { U }, ow[2] = { 1, F }, ob[1] = { 1 };
    param_set(&m->params[SIAM_PARAM_FC_W], "fc", "weight", 2, fw, flat, SIAM_ROLE_FC_WEIGHT,
              &off);
    param_set(&m->params[SIAM_PARAM_FC_B], "fc", "bias", 1, fb, flat, SIAM_ROLE_FC_BIAS, &off);
    param_set(&m->params[SIAM_PARAM_OUT_W], "out", "weight", 2, ow, F, SIAM_ROLE_FC_WEIGHT,
              &off);
    param_set(&m->params[SIAM_PARAM_OUT_B], "out", "bias", 1, ob, F, SIAM_ROLE_FC_BIAS, &off);
    m->nparams = off;
    m->nbufs = boff;
}

/* n * per elements of `size` bytes on the device. A dry run (m->dry, the
 * plan) only adds the bytes to m->planned. A size that overflows 64 bits
 * (or size_t) fails both and sets m->overflow. */
static void *dev_alloc(siam_model *m, size_t n, size_t per, size_t size, int *failed)
{
    if (*failed)
        return NULL;
    uint64_t bytes;
    if (__builtin_mul_overflow((uint64_t)n, (uint64_t)per, &bytes) ||
        __builtin_mul_overflow(bytes, (uint64_t)size, &bytes) || bytes > SIZE_MAX ||
        (m->dry && __builtin_add_overflow(m->planned, bytes, &m->planned))) {
        m->overflow = 1;
        *failed = 1;
        return NULL;
    }
    if (m->dry)
        return NULL;
    void *p = m->ops->mem_alloc(m->ctx, (size_t)bytes);
    if (!p)
        *failed = 1;
    return p;
}

/* Values per image of conv k's output, and of its pooled output. */
static size_t conv_numel(const siam_model *m, int k)
{
    return (size_t)m->cfg.channels[k] * m->sizes[2 * k] * m->sizes[2 * k + 1];
}

static size_t pool_numel(const siam_model *m, int k)
{
    return (size_t)m->cfg.channels[k] * (m->sizes[2 * k] / 2) * (m->sizes[2 * k + 1] / 2);
}

/* Values per image of the fused way's two arenas, conv[0] and pool[0]: an
 * eval forward runs every block through them. */
static void arena_numel(const siam_model *m, size_t *conv_max, size_t *pool_max)
{
    *conv_max = *pool_max = 0;
    for (int k = 0; k < 4; k++) {
        *conv_max = conv_numel(m, k) > *conv_max ? conv_numel(m, k) : *conv_max;
        if (k < 3)
            *pool_max = pool_numel(m, k) > *pool_max ? pool_numel(m, k) : *pool_max;
    }
}

/* The fused way's eval arenas for n images, as `a`: the largest conv
 * output, the largest pool output (conv[0] and pool[0]: every block runs
 * through them), block 4's output (bn[3]) and fc's pre-activation (fc),
 * which an eval forward computes a chunk at a time. */
enum { ARENAS = 4 };
static void alloc_arenas(siam_model *m, size_t n, float *a[ARENAS], int *failed)
{
    size_t conv_max, pool_max, f = sizeof(float);
    arena_numel(m, &conv_max, &pool_max);
    a[0] = dev_alloc(m, n, conv_max, f, failed);
    a[1] = dev_alloc(m, n, pool_max, f, failed);
    a[2] = dev_alloc(m, n, conv_numel(m, 3), f, failed);
    a[3] = dev_alloc(m, n, (size_t)m->cfg.fc_units, f, failed);
}

static float **arena_slot(siam_model *m, int j)
{
    return j == 0 ? &m->conv[0] : j == 1 ? &m->pool[0] : j == 2 ? &m->bn[3] : &m->fc;
}

/* Frees a, arenas that alloc_arenas made (after a failure, in part). */
static void free_arenas(siam_model *m, float *a[ARENAS])
{
    for (int j = 0; j < ARENAS; j++)
        m->ops->mem_free(m->ctx, a[j]);
}

/* Puts a, arenas of n images, in place of the model's, which are freed. */
static void put_arenas(siam_model *m, float *a[ARENAS], int n)
{
    for (int j = 0; j < ARENAS; j++) {
        float **slot = arena_slot(m, j);
        m->ops->mem_free(m->ctx, *slot);
        *slot = a[j];
    }
    m->eval_cap = n;
}

/* Buffers that both modes' forwards use. Returns 0 or -1 (message in ctx). */
static int alloc_forward(siam_model *m)
{
    const siam_model_config *cfg = &m->cfg;
    size_t N = 2 * (size_t)m->max_batch, B = (size_t)m->max_batch, U = (size_t)cfg->fc_units;
    size_t F = (size_t)siam_model_head_width(cfg), f = sizeof(float);
    int failed = 0;
    m->flat = dev_alloc(m, 1, m->nparams, f, &failed);
    m->runstats = dev_alloc(m, 1, m->nbufs, f, &failed);
    m->x = dev_alloc(m, N, (size_t)cfg->in_h * cfg->in_w, f, &failed);
    if (m->fused) {
        /* Eval's arenas, sized for one chunk of images; training grows
         * them to the whole batch. */
        float *a[ARENAS];
        alloc_arenas(m, (size_t)m->eval_cap, a, &failed);
        for (int j = 0; j < ARENAS; j++)
            *arena_slot(m, j) = a[j];
    } else {
        for (int k = 0; k < 4; k++) {
            m->conv[k] = dev_alloc(m, N, conv_numel(m, k), f, &failed);
            m->bn[k] = dev_alloc(m, N, conv_numel(m, k), f, &failed);
            if (k < 3) {
                m->pool[k] = dev_alloc(m, N, pool_numel(m, k), f, &failed);
                m->argmax[k] = dev_alloc(m, N, pool_numel(m, k), sizeof(int32_t), &failed);
            }
        }
    }
    if (!m->fused)
        m->fc = dev_alloc(m, N, U, f, &failed);
    m->emb = dev_alloc(m, N, U, f, &failed);
    m->dist = dev_alloc(m, B, F, f, &failed);
    m->logit = dev_alloc(m, 1, B, f, &failed);
    m->prob = dev_alloc(m, 1, B, f, &failed);
    return failed ? -1 : 0;
}

/* Frees what alloc_training may have allocated on the fused path, so that a
 * failed attempt leaks nothing and a later one starts clean. */
static void free_training(siam_model *m)
{
#define SIAM_RELEASE(p) (m->ops->mem_free(m->ctx, (p)), (p) = NULL)
    for (int k = 0; k < 4; k++) {
        SIAM_RELEASE(m->save_mean[k]);
        SIAM_RELEASE(m->save_invstd[k]);
        if (k > 0)
            SIAM_RELEASE(m->conv[k]);
        if (k < 3)
            SIAM_RELEASE(m->win[k]);
        if (k == 1 || k == 2)
            SIAM_RELEASE(m->pool[k]);
    }
    SIAM_RELEASE(m->dpool);
    SIAM_RELEASE(m->drop);
    SIAM_RELEASE(m->mask);
    SIAM_RELEASE(m->dprob);
    SIAM_RELEASE(m->dlogit);
    SIAM_RELEASE(m->g[0]);
    SIAM_RELEASE(m->g[1]);
    SIAM_RELEASE(m->grad);
#undef SIAM_RELEASE
}

/* Buffers that only training (its forward's saved values, backward's
 * gradients) needs. Returns 0 or -1 (message in ctx). */
static int alloc_training(siam_model *m)
{
    const siam_model_config *cfg = &m->cfg;
    size_t N = 2 * (size_t)m->max_batch, B = (size_t)m->max_batch, U = (size_t)cfg->fc_units;
    size_t F = (size_t)siam_model_head_width(cfg), f = sizeof(float);
    /* The gradient scratch also carries d(head features), B x F <= N x F. */
    size_t gsize = U > F ? U : F;
    int failed = 0;
    /* Inference never reads the gradients: on the paper's network they are
     * as large as the parameters. */
    m->grad = dev_alloc(m, 1, m->nparams, f, &failed);
    for (int k = 0; k < 4; k++) {
        size_t C = (size_t)cfg->channels[k];
        m->save_mean[k] = dev_alloc(m, 1, C, f, &failed);
        m->save_invstd[k] = dev_alloc(m, 1, C, f, &failed);
    }
    /* A training forward keeps block 1's output and pooled output, block
     * 4's output and fc's for the whole batch: arenas of a chunk are
     * replaced by whole-batch ones, swapped in only once everything else
     * has been allocated. */
    float *arenas[ARENAS] = { NULL };
    int grow = m->fused && (size_t)m->eval_cap < N;
    if (m->fused) {
        size_t conv_max, pool_max;
        arena_numel(m, &conv_max, &pool_max);
        if (grow)
            alloc_arenas(m, N, arenas, &failed);
        for (int k = 0; k < 3; k++) {
            if (k > 0)
                m->pool[k] = dev_alloc(m, N, pool_numel(m, k), f, &failed);
            m->win[k] = dev_alloc(m, N, pool_numel(m, k), 1, &failed);
        }
        for (int k = 1; k < 4; k++)
            m->conv[k] = dev_alloc(m, N, conv_numel(m, k), f, &failed);
        m->dpool = dev_alloc(m, N, pool_max, f, &failed);
        gsize = conv_numel(m, 3) > gsize ? conv_numel(m, 3) : gsize;
    } else {
        for (int k = 0; k < 4; k++)
            gsize = conv_numel(m, k) > gsize ? conv_numel(m, k) : gsize;
    }
    m->drop = dev_alloc(m, B, F, f, &failed);
    m->mask = dev_alloc(m, B, F, f, &failed);
    m->dprob = dev_alloc(m, 1, B, f, &failed);
    m->dlogit = dev_alloc(m, 1, B, f, &failed);
    m->g[0] = dev_alloc(m, N, gsize, f, &failed);
    m->g[1] = dev_alloc(m, N, gsize, f, &failed);
    if (m->dry)
        return failed ? -1 : 0;
    if (failed) {
        if (m->fused) {
            free_arenas(m, arenas);
            free_training(m);
        }
        return -1;
    }
    if (grow)
        put_arenas(m, arenas, (int)N);
    m->train_ready = 1;
    return 0;
}

/* The struct a model of cfg starts from (tables built, nothing allocated);
 * -1 with a message for a configuration config_check refuses. */
static int model_init_struct(siam_model *m, const siam_ops *ops, siam_ctx *ctx,
                             const siam_model_config *cfg, int max_batch, siam_error *err)
{
    int sizes[8];
    if (siam_model_config_check(cfg, sizes, err))
        return -1;
    /* 2 * max_batch images go through the tower in one int-sized batch. */
    if (max_batch <= 0 || max_batch > INT_MAX / 2)
        return siam_fail(err, "model: max_batch %d must be in 1..%d", max_batch, INT_MAX / 2);
    memset(m, 0, sizeof *m);
    m->ops = ops;
    m->ctx = ctx;
    m->cfg = *cfg;
    memcpy(m->sizes, sizes, sizeof sizes);
    m->max_batch = max_batch;
    m->training = 1;
    m->fused = ops && ops->bn_relu_pool_forward_train && ops->bn_relu_pool_forward_eval
               && ops->bn_relu_pool_backward;
    m->eval_chunk = SIAM_MODEL_EVAL_CHUNK;
    m->eval_cap = 2 * max_batch < m->eval_chunk ? 2 * max_batch : m->eval_chunk;
    build_tables(m);
    return 0;
}

int siam_model_config_counts(const siam_model_config *cfg, uint64_t *params, uint64_t *buffers,
                             siam_error *err)
{
    siam_model *m = malloc(sizeof *m);
    if (!m)
        return siam_fail(err, "model: out of host memory");
    int rc = model_init_struct(m, NULL, NULL, cfg, 1, err);
    if (rc == 0) {
        *params = m->nparams;
        *buffers = m->nbufs;
    }
    free(m);
    return rc;
}

int siam_model_plan_of(const siam_ops *ops, const siam_model_config *cfg, int max_batch,
                       siam_model_plan *plan, siam_error *err)
{
    siam_model *m = malloc(sizeof *m);
    if (!m)
        return siam_fail(err, "model: out of host memory");
    if (model_init_struct(m, ops, NULL, cfg, max_batch, err)) {
        free(m);
        return -1;
    }
    /* The allocation list itself, counted instead of allocated: first what
     * a trained model holds (its arenas hold the whole batch), then what a
     * new one holds. */
    m->dry = 1;
    int cap = m->eval_cap;
    m->eval_cap = 2 * max_batch;
    alloc_forward(m);
    alloc_training(m);
    uint64_t trained = m->planned;
    m->planned = 0;
    m->eval_cap = cap;
    alloc_forward(m);
    if (!m->fused)
        alloc_training(m);
    int overflow = m->overflow;
    memset(plan, 0, sizeof *plan);
    plan->params = m->nparams;
    plan->buffers = m->nbufs;
    plan->weight_bytes = (2 * (uint64_t)m->nparams + m->nbufs) * sizeof(float);
    plan->total_bytes = trained;
    plan->activation_bytes = trained - plan->weight_bytes;
    plan->eval_bytes = m->planned;
    free(m);
    if (overflow)
        return siam_fail(err, "model: the memory for batch %d overflows 64-bit sizes",
                         max_batch);
    return 0;
}

int siam_model_plan_check(const siam_model_plan *plan, int max_batch, uint64_t available,
                          int is_limit, siam_error *err)
{
    if (available == 0 || plan->total_bytes <= available)
        return 0;
    char total[32], act[32], weights[32], avail[32];
    siam_format_bytes(total, sizeof total, plan->total_bytes);
    siam_format_bytes(act, sizeof act, plan->activation_bytes);
    siam_format_bytes(weights, sizeof weights, plan->weight_bytes);
    siam_format_bytes(avail, sizeof avail, available);
    return siam_fail(err, "model: batch %d needs %s (activations %s, parameters, gradients and "
                          "BN statistics %s); %s %s%s",
                     max_batch, total, act, weights, is_limit ? "the limit is" : "this machine has",
                     avail, is_limit ? "" : " available");
}

siam_model *siam_model_new_within(const siam_ops *ops, siam_ctx *ctx,
                                  const siam_model_config *cfg, int max_batch,
                                  uint64_t mem_limit, siam_error *err)
{
    siam_model_plan plan;
    if (siam_model_plan_of(ops, cfg, max_batch, &plan, err))
        return NULL;
    /* Only host memory can be measured here; cudaMalloc refuses by itself. */
    uint64_t avail = mem_limit ? mem_limit
                   : ops->device == SIAM_DEVICE_CPU ? siam_host_memory_available() : 0;
    if (siam_model_plan_check(&plan, max_batch, avail, mem_limit != 0, err))
        return NULL;
    siam_model *m = malloc(sizeof *m);
    if (!m) {
        siam_fail(err, "model: out of host memory");
        return NULL;
    }
    if (model_init_struct(m, ops, ctx, cfg, max_batch, err)) {
        free(m);
        return NULL;
    }
    /* The plain way keeps every buffer from the start; the fused one waits
     * for the first training forward. */
    if (alloc_forward(m) || (!m->fused && alloc_training(m))) {
        siam_fail(err, "model: device allocation failed (max_batch %d): %s", max_batch,
                  ops->ctx_error(ctx));
        siam_model_free(m);
        return NULL;
    }
    return m;
}

siam_model *siam_model_new(const siam_ops *ops, siam_ctx *ctx, const siam_model_config *cfg,
                           int max_batch, siam_error *err)
{
    return siam_model_new_within(ops, ctx, cfg, max_batch, 0, err);
}

void siam_model_free(siam_model *m)
{
    if (!m)
        return;
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    o->mem_free(c, m->flat);
    o->mem_free(c, m->grad);
    o->mem_free(c, m->runstats);
    o->mem_free(c, m->x);
    for (int k = 0; k < 4; k++) {
        o->mem_free(c, m->conv[k]);
        o->mem_free(c, m->bn[k]);
        o->mem_free(c, m->save_mean[k]);
        o->mem_free(c, m->save_invstd[k]);
        if (k < 3) {
            o->mem_free(c, m->pool[k]);
            o->mem_free(c, m->argmax[k]);
            o->mem_free(c, m->win[k]);
        }
    }
    float *rest[] = { m->fc, m->emb, m->dist, m->drop, m->mask, m->logit, m->prob,
                      m->dprob, m->dlogit, m->g[0], m->g[1], m->dpool };
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++)
        o->mem_free(c, rest[i]);
    free(m);
}

const siam_model_config *siam_model_config_of(const siam_model *m) { return &m->cfg; }
int siam_model_max_batch(const siam_model *m) { return m->max_batch; }
int siam_model_eval_chunk(const siam_model *m) { return m->eval_chunk; }
const siam_ops *siam_model_ops(const siam_model *m) { return m->ops; }
siam_ctx *siam_model_ctx(const siam_model *m) { return m->ctx; }
int siam_model_param_count(const siam_model *m) { (void)m; return SIAM_MODEL_NPARAMS; }
size_t siam_model_numel(const siam_model *m) { return m->nparams; }
size_t siam_model_buffer_numel(const siam_model *m) { return m->nbufs; }
float *siam_model_params(siam_model *m) { return m->flat; }
float *siam_model_grads(siam_model *m) { return m->grad; }
float *siam_model_buffers(siam_model *m) { return m->runstats; }
float *siam_model_input(siam_model *m) { return m->x; }
const float *siam_model_probs(const siam_model *m) { return m->prob; }
void siam_model_set_training(siam_model *m, int training) { m->training = training != 0; }
int siam_model_training(const siam_model *m) { return m->training; }

const siam_param_info *siam_model_param(const siam_model *m, int j)
{
    return j >= 0 && j < SIAM_MODEL_NPARAMS ? &m->params[j] : NULL;
}

const siam_param_info *siam_model_buffer(const siam_model *m, int j)
{
    return j >= 0 && j < SIAM_MODEL_NBUFFERS ? &m->bufs[j] : NULL;
}

int siam_model_param_find(const siam_model *m, const char *name)
{
    for (int j = 0; j < SIAM_MODEL_NPARAMS; j++)
        if (strcmp(m->params[j].name, name) == 0)
            return j;
    return -1;
}

int siam_model_set_eval_chunk(siam_model *m, int images, siam_error *err)
{
    int N = 2 * m->max_batch;
    if (images < 0)
        return siam_fail(err, "model: eval chunk %d must be 0 (the whole batch) or positive",
                         images);
    int need = images == 0 || images > N ? N : images;
    if (m->fused && need > m->eval_cap) {
        int failed = 0;
        float *a[ARENAS];
        alloc_arenas(m, (size_t)need, a, &failed);
        if (failed) {
            free_arenas(m, a);
            return siam_fail(err, "model: cannot allocate the eval buffers for %d images: %s",
                             need, m->ops->ctx_error(m->ctx));
        }
        put_arenas(m, a, need);
    }
    m->eval_chunk = images;
    return 0;
}

void siam_model_set_dropout_state(siam_model *m, uint64_t seed, uint64_t offset)
{
    m->drop_seed = seed;
    m->drop_offset = offset;
}

void siam_model_dropout_state(const siam_model *m, uint64_t *seed, uint64_t *offset)
{
    *seed = m->drop_seed;
    *offset = m->drop_offset;
}

int siam_model_op_fail(siam_model *m, siam_error *err, const char *what)
{
    return siam_fail(err, "model %s: %s", what, m->ops->ctx_error(m->ctx));
}


int siam_model_forward(siam_model *m, int B, siam_error *err)
{
    if (B <= 0 || B > m->max_batch)
        return siam_fail(err, "model forward: batch %d outside 1..%d", B, m->max_batch);
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    const siam_model_config *cfg = &m->cfg;
    if (m->training && !m->train_ready && alloc_training(m))
        return siam_fail(err, "model forward: cannot allocate the training buffers (max_batch "
                              "%d): %s", m->max_batch, o->ctx_error(c));
    /* A failed forward leaves nothing for backward to use. */
    m->last_forward_training = 0;
    m->last_embed_N = 0;
    if (siam_model_embed_pass(m, 2 * B, err))
        return -1;
    int U = cfg->fc_units, F = siam_model_head_width(cfg);
    size_t nu = (size_t)B * U, nf = (size_t)B * F;
    int rc = cfg->head == SIAM_HEAD_L1
        ? o->absdiff_forward(c, m->dist, m->emb, m->emb + nu, nu)
        : o->pair_features_forward(c, m->dist, m->emb, m->emb + nu, B, U, cfg->head);
    if (rc)
        return siam_model_op_fail(m, err, "distance");
    const float *head = m->dist;
    if (m->training) {
        if (cfg->dropout > 0.0f) {
            if (o->dropout_forward(c, m->drop, m->mask, m->dist, nf, cfg->dropout, m->drop_seed,
                                   m->drop_offset))
                return siam_model_op_fail(m, err, "dropout");
            head = m->drop;
        }
        m->drop_offset += nf;
    }
    if (o->linear_forward(c, m->logit, head, SIAM_P(m, SIAM_PARAM_OUT_W),
                          SIAM_P(m, SIAM_PARAM_OUT_B), B, F, 1))
        return siam_model_op_fail(m, err, "out");
    if (o->sigmoid_forward(c, m->prob, m->logit, (size_t)B))
        return siam_model_op_fail(m, err, "out sigmoid");
    m->last_forward_training = m->training;
    m->last_B = B;
    return 0;
}

int siam_model_loss(siam_model *m, int B, const float *labels_dev, float *loss, siam_error *err)
{
    if (B != m->last_B)
        return siam_fail(err, "model loss: batch %d differs from the last forward's %d", B,
                         m->last_B);
    if (m->ops->bce_forward(m->ctx, loss, m->prob, labels_dev, (size_t)B))
        return siam_model_op_fail(m, err, "loss");
    return 0;
}

int siam_model_prepare_training(siam_model *m, siam_error *err)
{
    if (!m->train_ready && alloc_training(m))
        return siam_fail(err, "model: cannot allocate the training buffers (max_batch %d): %s",
                         m->max_batch, m->ops->ctx_error(m->ctx));
    return 0;
}

int siam_model_zero_grad(siam_model *m, siam_error *err)
{
    /* Without training buffers there are no gradients yet; they are born
     * zero (mem_alloc zero-fills). */
    if (!m->grad)
        return 0;
    if (m->ops->fill(m->ctx, siam_model_grads(m), 0.0f, m->nparams))
        return siam_model_op_fail(m, err, "zero_grad");
    return 0;
}

int siam_model_backward(siam_model *m, int B, const float *labels_dev, siam_error *err)
{
    if (!m->last_forward_training || B != m->last_B)
        return siam_fail(err, "model backward: needs a training-mode forward of batch %d "
                              "(last: batch %d, %s mode)", B, m->last_B,
                         m->last_forward_training ? "training" : "eval");
    const siam_ops *o = m->ops;
    siam_ctx *c = m->ctx;
    const siam_model_config *cfg = &m->cfg;
    int N = 2 * B, U = cfg->fc_units, F = siam_model_head_width(cfg);
    size_t nu = (size_t)B * U, nf = (size_t)B * F;
    float *g0 = m->g[0], *g1 = m->g[1];

    if (o->bce_backward(c, m->dprob, m->prob, labels_dev, (size_t)B, 1.0f))
        return siam_model_op_fail(m, err, "loss backward");
    if (o->sigmoid_backward(c, m->dlogit, m->dprob, m->prob, (size_t)B))
        return siam_model_op_fail(m, err, "out sigmoid backward");
    int dropped = cfg->dropout > 0.0f;
    const float *head = dropped ? m->drop : m->dist;
    /* dhead -> g0; through dropout into g1 when there is one. */
    if (o->linear_backward(c, g0, SIAM_G(m, SIAM_PARAM_OUT_W), SIAM_G(m, SIAM_PARAM_OUT_B),
                           m->dlogit, head, SIAM_P(m, SIAM_PARAM_OUT_W), B, F, 1))
        return siam_model_op_fail(m, err, "out backward");
    float *ddist = g0;
    if (dropped) {
        if (o->dropout_backward(c, g1, g0, m->mask, nf))
            return siam_model_op_fail(m, err, "dropout backward");
        ddist = g1;
    }
    float *demb = dropped ? g0 : g1;
    int rc = cfg->head == SIAM_HEAD_L1
        ? o->absdiff_backward(c, demb, demb + nu, ddist, m->emb, m->emb + nu, nu)
        : o->pair_features_backward(c, demb, demb + nu, ddist, m->emb, m->emb + nu, B, U,
                                    cfg->head);
    if (rc)
        return siam_model_op_fail(m, err, "distance backward");
    return siam_model_embed_grad_pass(m, N, demb, err);
}

int siam_model_download_params(siam_model *m, float *host, siam_error *err)
{
    if (m->ops->download(m->ctx, host, m->flat, m->nparams * sizeof(float)))
        return siam_model_op_fail(m, err, "download");
    return 0;
}

int siam_model_upload_params(siam_model *m, const float *host, siam_error *err)
{
    if (m->ops->upload(m->ctx, m->flat, host, m->nparams * sizeof(float)))
        return siam_model_op_fail(m, err, "upload");
    return 0;
}
