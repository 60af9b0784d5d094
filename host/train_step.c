/* Training steps (host/train_step.h). */
#include "host/train_step.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "host/train_finite.h"

void siam_train_steps_init(siam_train_steps *s, siam_model *m, siam_optim *opt, int checks)
{
    memset(s, 0, sizeof *s);
    s->m = m;
    s->opt = opt;
    s->checks = checks;
    s->pair = 1;
    s->pair_loss = NAN;
}

int siam_train_steps_run(siam_train_steps *s, const float *y, int B, const char *where,
                         float *loss, float *probs_host, char *msg, size_t cap, siam_error *err)
{
    siam_model *m = s->m;
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    if (siam_model_zero_grad(m, err))
        return -1;
    if (s->pair && (siam_model_forward(m, B, err) || siam_model_backward(m, B, y, err)))
        return -1;
    siam_train_embed *e = s->embed;
    if (e && (e->fill(e->fill_user, err) ||
              siam_embed_step_run(e->step, e->losses, e->nlosses, e->n, e->labels, e->values,
                                  err)))
        return -1;
    /* The loss and probabilities are those of this forward whatever the
     * backward did (it does not touch them), so one readback after the
     * backward serves both. The loss and probabilities can stay finite
     * while NaN spreads (ReLU, max-pool and the BCE clamps hide it), so the
     * gradients and this forward's running statistics are counted too,
     * before the update, so that a stop keeps the last finite weights; and
     * the parameters, which no kernel has changed since the last update. */
    unsigned now = s->checks ? SIAM_FINITE_GRADS | SIAM_FINITE_BUFFERS : 0;
    unsigned prev = s->unchecked ? SIAM_FINITE_PARAMS : 0;
    const float *bufs[3];
    size_t lens[3];
    int k = siam_train_finite_buffers(m, now | prev, bufs, lens);
    siam_step_report rep;
    memset(&rep, 0, sizeof rep);
    if (s->pair ? o->step_report(c, &rep, probs_host, siam_model_probs(m), y, (size_t)B, bufs,
                                 lens, k)
                : k > 0 && o->nonfinite_count(c, rep.nonfinite, bufs, lens, k))
        return siam_fail(err, "step readback: %s", o->ctx_error(c));
    s->pair_loss = s->pair ? rep.loss : NAN;
    double total = s->pair ? rep.loss : 0.0;
    for (int j = 0; e && j < e->nlosses; j++)
        total += (double)e->losses[j]->weight * e->values[j];
    *loss = (float)total;
    /* The previous update's parameters come first: they fed this forward,
     * so a NaN among them shows in the loss and gradients too. Their
     * counts follow the gradients' and statistics' (parts in bit order). */
    if (prev && siam_train_finite_message(m, prev, rep.nonfinite + (k - 1), s->after, msg, cap))
        return 1;
    s->unchecked = 0;
    if (!isfinite(*loss)) {
        snprintf(msg, cap, "non-finite loss (%s) %s", isinf(*loss) ? "inf" : "nan", where);
        return 1;
    }
    return siam_train_finite_message(m, now, rep.nonfinite, where, msg, cap);
}

int siam_train_steps_update(siam_train_steps *s, const char *after, siam_error *err)
{
    if (siam_optim_step(s->opt, siam_model_params(s->m), siam_model_grads(s->m), err))
        return -1;
    /* Finite gradients can still overflow the update (a huge lr). The
     * parameters are counted after every update, before a weight average
     * takes them in: the pass costs as little as the gradients' one
     * (docs/perf.md), and a per-epoch check would let non-finite weights
     * into the average and lose the batch at fault. */
    s->unchecked = s->checks;
    snprintf(s->after, sizeof s->after, "%s", after);
    return 0;
}

int siam_train_steps_flush(siam_train_steps *s, char *msg, size_t cap, siam_error *err)
{
    if (!s->unchecked)
        return 0;
    int found = siam_train_check_finite(s->m, SIAM_FINITE_PARAMS, s->after, msg, cap, err);
    if (found == 0)
        s->unchecked = 0;
    return found;
}
