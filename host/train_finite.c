/* Non-finite checks over a model's flat buffers (host/train_finite.h). */
#include "host/train_finite.h"

#include <stdio.h>

static const struct {
    unsigned bit;
    const char *what;
} part[3] = { { SIAM_FINITE_GRADS, "gradient" },
              { SIAM_FINITE_BUFFERS, "batch-norm running statistic" },
              { SIAM_FINITE_PARAMS, "parameter" } };

/* The first tensor (parameter-table order) of the buffer at base holding a
 * non-finite value: one round trip per tensor, on the rare path only. */
static const char *first_bad(siam_model *m, const float *base, int buffers)
{
    const siam_ops *o = siam_model_ops(m);
    int count = buffers ? SIAM_MODEL_NBUFFERS : siam_model_param_count(m);
    for (int j = 0; j < count; j++) {
        const siam_param_info *p = buffers ? siam_model_buffer(m, j) : siam_model_param(m, j);
        const float *at = base + p->offset;
        size_t bad = 0;
        if (p->numel && o->nonfinite_count(siam_model_ctx(m), &bad, &at, &p->numel, 1) == 0 &&
            bad > 0)
            return p->name;
    }
    return "?";
}

int siam_train_finite_buffers(siam_model *m, unsigned parts, const float **bufs, size_t *lens)
{
    int k = 0;
    for (int j = 0; j < 3; j++) {
        if (!(parts & part[j].bit))
            continue;
        int buffers = part[j].bit == SIAM_FINITE_BUFFERS;
        bufs[k] = part[j].bit == SIAM_FINITE_GRADS ? siam_model_grads(m)
                  : buffers                        ? siam_model_buffers(m)
                                                   : siam_model_params(m);
        lens[k++] = buffers ? siam_model_buffer_numel(m) : siam_model_numel(m);
    }
    return k;
}

int siam_train_finite_message(siam_model *m, unsigned parts, const size_t *bad,
                              const char *where, char *msg, size_t cap)
{
    const float *bufs[3];
    size_t lens[3];
    siam_train_finite_buffers(m, parts, bufs, lens);
    int i = 0;
    for (int j = 0; j < 3; j++) {
        if (!(parts & part[j].bit))
            continue;
        if (bad[i] > 0) {
            snprintf(msg, cap, "non-finite %s %s (%zu of %zu values; first in %s)",
                     part[j].what, where, bad[i], lens[i],
                     first_bad(m, bufs[i], part[j].bit == SIAM_FINITE_BUFFERS));
            return 1;
        }
        i++;
    }
    return 0;
}

int siam_train_check_finite(siam_model *m, unsigned parts, const char *where, char *msg,
                            size_t cap, siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    const float *bufs[3];
    size_t lens[3], bad[3];
    int k = siam_train_finite_buffers(m, parts, bufs, lens);
    if (k == 0)
        return 0;
    if (o->nonfinite_count(siam_model_ctx(m), bad, bufs, lens, k))
        return siam_fail(err, "non-finite check: %s", o->ctx_error(siam_model_ctx(m)));
    return siam_train_finite_message(m, parts, bad, where, msg, cap);
}
