/* Optimizers over the model's flat parameter buffer: Adam, AdamW and SGD
 * with torch.optim semantics. The moments live on the device with the
 * parameter layout (offset j of a moment belongs to parameter j); the
 * update itself is ops->adam_step / ops->sgd_step. */
#ifndef SIAM_OPTIM_H
#define SIAM_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"
#include "kernels/ops.h"

typedef enum siam_optim_kind { SIAM_OPTIM_ADAM = 0, SIAM_OPTIM_ADAMW = 1, SIAM_OPTIM_SGD = 2 } siam_optim_kind;

typedef struct siam_optim_config {
    siam_optim_kind kind;
    double lr;
    double beta1, beta2, eps;  /* Adam/AdamW */
    double weight_decay;       /* Adam: L2 added to the gradient; AdamW: decoupled */
    double momentum;           /* SGD */
    int nesterov;              /* SGD */
} siam_optim_config;

/* torch.optim defaults for `kind`: Adam lr 1e-3, betas (0.9, 0.999), eps
 * 1e-8, weight_decay 0; AdamW the same with weight_decay 1e-2; SGD lr 1e-2
 * (torch has no default; ours), momentum 0, nesterov off. */
void siam_optim_config_default(siam_optim_config *cfg, siam_optim_kind kind);
/* The one rule for a hyper-parameter, used by siam_optim_new, the Lua
 * constructors and the lr setter: NULL when `value` is acceptable for
 * `name`, else what it must be, e.g. "a finite number >= 0". name is "lr",
 * "weight_decay" or "momentum" (finite, >= 0), "eps" (finite, > 0), or
 * "betas" (either beta: in [0, 1)). NaN is refused by every rule. */
const char *siam_optim_rule(const char *name, double value);
/* Every field of cfg against siam_optim_rule: 0, or -1 with "optimizer
 * adam: lr must be a finite number >= 0, got inf". */
int siam_optim_config_check(const siam_optim_config *cfg, siam_error *err);
/* "adam", "adamw", "sgd". */
int siam_optim_kind_parse(const char *name, siam_optim_kind *out, siam_error *err);
const char *siam_optim_kind_name(siam_optim_kind kind);

typedef struct siam_optim siam_optim;

/* New optimizer for `n` parameters; ops and ctx are borrowed. Moments
 * start at zero and the step count at 0. */
siam_optim *siam_optim_new(const siam_ops *ops, siam_ctx *ctx, const siam_optim_config *cfg,
                           size_t n, siam_error *err);
void siam_optim_free(siam_optim *o);

/* One update of param (n, device) from grad (n, device). */
int siam_optim_step(siam_optim *o, float *param, const float *grad, siam_error *err);

double siam_optim_lr(const siam_optim *o);
void siam_optim_set_lr(siam_optim *o, double lr);
const siam_optim_config *siam_optim_config_of(const siam_optim *o);
long siam_optim_steps(const siam_optim *o);
size_t siam_optim_numel(const siam_optim *o);

/* Serialisable state: the step count and the moment buffers (Adam: m then
 * v; SGD with momentum: the momentum buffer; plain SGD: none). */
int siam_optim_moment_count(const siam_optim *o);
/* Host copy of moment k (n floats). */
int siam_optim_moment_download(siam_optim *o, int k, float *host, siam_error *err);
int siam_optim_moment_upload(siam_optim *o, int k, const float *host, siam_error *err);
void siam_optim_set_steps(siam_optim *o, long steps);

#endif
