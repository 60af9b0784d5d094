/* Adam / AdamW / SGD state and dispatch to the backend's update kernels. */
#include "host/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct siam_optim {
    const siam_ops *ops;
    siam_ctx *ctx;
    siam_optim_config cfg;
    size_t n;
    long steps;
    float *moments; /* one allocation: moment k at moment(o, k), each SIAM_DEVICE_ALIGN aligned */
};

void siam_optim_config_default(siam_optim_config *cfg, siam_optim_kind kind)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->kind = kind;
    cfg->lr = kind == SIAM_OPTIM_SGD ? 1e-2 : 1e-3;
    cfg->beta1 = 0.9;
    cfg->beta2 = 0.999;
    cfg->eps = 1e-8;
    cfg->weight_decay = kind == SIAM_OPTIM_ADAMW ? 1e-2 : 0.0;
}

int siam_optim_kind_parse(const char *name, siam_optim_kind *out, siam_error *err)
{
    if (name && strcmp(name, "adam") == 0)
        *out = SIAM_OPTIM_ADAM;
    else if (name && strcmp(name, "adamw") == 0)
        *out = SIAM_OPTIM_ADAMW;
    else if (name && strcmp(name, "sgd") == 0)
        *out = SIAM_OPTIM_SGD;
    else
        return siam_fail(err, "unknown optimizer '%s' (expected adam, adamw or sgd)",
                         name ? name : "(null)");
    return 0;
}

const char *siam_optim_kind_name(siam_optim_kind kind)
{
    switch (kind) {
    case SIAM_OPTIM_ADAM: return "adam";
    case SIAM_OPTIM_ADAMW: return "adamw";
    case SIAM_OPTIM_SGD: return "sgd";
    }
    return "?";
}

const char *siam_optim_rule(const char *name, double value)
{
    if (strcmp(name, "betas") == 0)
        return value >= 0.0 && value < 1.0 ? NULL : "in [0, 1)";
    if (strcmp(name, "eps") == 0) /* eps 0 divides 0 by 0 for a parameter never updated */
        return isfinite(value) && value > 0.0 ? NULL : "a finite number > 0";
    return isfinite(value) && value >= 0.0 ? NULL : "a finite number >= 0";
}

int siam_optim_config_check(const siam_optim_config *cfg, siam_error *err)
{
    const struct {
        const char *name, *rule_name;
        double value;
    } f[] = { { "lr", "lr", cfg->lr },
              { "weight_decay", "weight_decay", cfg->weight_decay },
              { "momentum", "momentum", cfg->momentum },
              { "eps", "eps", cfg->eps },
              { "beta1", "betas", cfg->beta1 },
              { "beta2", "betas", cfg->beta2 } };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        const char *rule = siam_optim_rule(f[i].rule_name, f[i].value);
        if (rule)
            return siam_fail(err, "optimizer %s: %s must be %s, got %g",
                             siam_optim_kind_name(cfg->kind), f[i].name, rule, f[i].value);
    }
    return 0;
}

int siam_optim_moment_count(const siam_optim *o)
{
    if (o->cfg.kind == SIAM_OPTIM_SGD)
        return o->cfg.momentum != 0.0 ? 1 : 0;
    return 2;
}

/* Moment k (0: Adam's first or SGD's momentum buffer, 1: Adam's second). */
static float *moment(const siam_optim *o, int k)
{
    return o->moments + (size_t)k * siam_align_floats(o->n);
}

siam_optim *siam_optim_new(const siam_ops *ops, siam_ctx *ctx, const siam_optim_config *cfg,
                           size_t n, siam_error *err)
{
    if (cfg->kind != SIAM_OPTIM_ADAM && cfg->kind != SIAM_OPTIM_ADAMW &&
        cfg->kind != SIAM_OPTIM_SGD) {
        siam_fail(err, "optimizer: unknown kind %d", (int)cfg->kind);
        return NULL;
    }
    if (siam_optim_config_check(cfg, err))
        return NULL;
    if (cfg->kind == SIAM_OPTIM_SGD && cfg->nesterov && cfg->momentum <= 0.0) {
        siam_fail(err, "optimizer sgd: nesterov needs momentum > 0 (as torch.optim.SGD)");
        return NULL;
    }
    siam_optim *o = calloc(1, sizeof *o);
    if (!o) {
        siam_fail(err, "optimizer: out of host memory");
        return NULL;
    }
    o->ops = ops;
    o->ctx = ctx;
    o->cfg = *cfg;
    o->n = n;
    int k = siam_optim_moment_count(o);
    if (k > 0) {
        o->moments = ops->mem_alloc(ctx, ((size_t)(k - 1) * siam_align_floats(n) + n) *
                                             sizeof(float));
        if (!o->moments) {
            siam_fail(err, "optimizer: device allocation of %d x %zu floats failed: %s", k, n,
                      ops->ctx_error(ctx));
            free(o);
            return NULL;
        }
    }
    return o;
}

void siam_optim_free(siam_optim *o)
{
    if (!o)
        return;
    o->ops->mem_free(o->ctx, o->moments);
    free(o);
}

int siam_optim_step(siam_optim *o, float *param, const float *grad, siam_error *err)
{
    const siam_optim_config *c = &o->cfg;
    int rc;
    if (c->kind == SIAM_OPTIM_SGD) {
        /* torch.optim.SGD creates the momentum buffer as a copy of the first
         * gradient; the kernel does that when first_step is set. */
        rc = o->ops->sgd_step(o->ctx, param, grad, o->moments, o->n, (float)c->lr,
                              (float)c->momentum, (float)c->weight_decay, c->nesterov,
                              o->steps == 0);
    } else {
        rc = o->ops->adam_step(o->ctx, param, grad, moment(o, 0), moment(o, 1), o->n,
                               (float)c->lr, (float)c->beta1, (float)c->beta2, (float)c->eps,
                               (float)c->weight_decay, c->kind == SIAM_OPTIM_ADAMW,
                               o->steps + 1);
    }
    if (rc)
        return siam_fail(err, "optimizer %s step %ld: %s", siam_optim_kind_name(c->kind),
                         o->steps + 1, o->ops->ctx_error(o->ctx));
    o->steps++;
    return 0;
}

double siam_optim_lr(const siam_optim *o) { return o->cfg.lr; }
void siam_optim_set_lr(siam_optim *o, double lr) { o->cfg.lr = lr; }
const siam_optim_config *siam_optim_config_of(const siam_optim *o) { return &o->cfg; }
long siam_optim_steps(const siam_optim *o) { return o->steps; }
void siam_optim_set_steps(siam_optim *o, long steps) { o->steps = steps; }
size_t siam_optim_numel(const siam_optim *o) { return o->n; }

int siam_optim_moment_download(siam_optim *o, int k, float *host, siam_error *err)
{
    if (k < 0 || k >= siam_optim_moment_count(o))
        return siam_fail(err, "optimizer: no moment %d", k);
    if (o->ops->download(o->ctx, host, moment(o, k), o->n * sizeof(float)))
        return siam_fail(err, "optimizer: moment download: %s", o->ops->ctx_error(o->ctx));
    return 0;
}

int siam_optim_moment_upload(siam_optim *o, int k, const float *host, siam_error *err)
{
    if (k < 0 || k >= siam_optim_moment_count(o))
        return siam_fail(err, "optimizer: no moment %d", k);
    if (o->ops->upload(o->ctx, moment(o, k), host, o->n * sizeof(float)))
        return siam_fail(err, "optimizer: moment upload: %s", o->ops->ctx_error(o->ctx));
    return 0;
}
