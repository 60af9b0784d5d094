/* Non-finite checks over a model's flat buffers (host/train_finite.h). */
#include "host/train_finite.h"

#include <stdio.h>

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

int siam_train_check_finite(siam_model *m, unsigned parts, const char *where, char *msg,
                            size_t cap, siam_error *err)
{
    static const struct {
        unsigned bit;
        const char *what;
    } part[3] = { { SIAM_FINITE_GRADS, "gradient" },
                  { SIAM_FINITE_BUFFERS, "batch-norm running statistic" },
                  { SIAM_FINITE_PARAMS, "parameter" } };
    const siam_ops *o = siam_model_ops(m);
    const float *bufs[3];
    size_t lens[3], bad[3];
    int which[3], k = 0;
    for (int j = 0; j < 3; j++) {
        if (!(parts & part[j].bit))
            continue;
        int buffers = part[j].bit == SIAM_FINITE_BUFFERS;
        bufs[k] = part[j].bit == SIAM_FINITE_GRADS ? siam_model_grads(m)
                  : buffers                        ? siam_model_buffers(m)
                                                   : siam_model_params(m);
        lens[k] = buffers ? siam_model_buffer_numel(m) : siam_model_numel(m);
        which[k++] = j;
    }
    if (k == 0)
        return 0;
    if (o->nonfinite_count(siam_model_ctx(m), bad, bufs, lens, k))
        return siam_fail(err, "non-finite check: %s", o->ctx_error(siam_model_ctx(m)));
    for (int i = 0; i < k; i++) {
        if (bad[i] == 0)
            continue;
        int buffers = part[which[i]].bit == SIAM_FINITE_BUFFERS;
        snprintf(msg, cap, "non-finite %s %s (%zu of %zu values; first in %s)",
                 part[which[i]].what, where, bad[i], lens[i], first_bad(m, bufs[i], buffers));
        return 1;
    }
    return 0;
}
