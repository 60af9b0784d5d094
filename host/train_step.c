/* One training step (host/train_step.h). */
#include "host/train_step.h"

#include <math.h>
#include <stdio.h>

#include "host/train_finite.h"

int siam_train_step(siam_model *m, siam_optim *opt, const float *y, int B, int checks,
                    const char *where, const char *after, float *loss, float *probs_host,
                    char *msg, size_t cap, siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    if (siam_model_zero_grad(m, err) || siam_model_forward(m, B, err) ||
        siam_model_backward(m, B, y, err))
        return -1;
    /* The loss and probabilities are those of this forward whatever the
     * backward did (it does not touch them), so one readback after the
     * backward serves both. The loss and probabilities can stay finite
     * while NaN spreads (ReLU, max-pool and the BCE clamps hide it), so the
     * gradients and this forward's running statistics are counted too,
     * before the update, so that a stop keeps the last finite weights. */
    unsigned before = checks ? SIAM_FINITE_GRADS | SIAM_FINITE_BUFFERS : 0;
    const float *bufs[3];
    size_t lens[3];
    int k = siam_train_finite_buffers(m, before, bufs, lens);
    siam_step_report rep;
    if (o->step_report(c, &rep, probs_host, siam_model_probs(m), y, (size_t)B, bufs, lens, k))
        return siam_fail(err, "step readback: %s", o->ctx_error(c));
    *loss = rep.loss;
    if (!isfinite(rep.loss)) {
        snprintf(msg, cap, "non-finite loss (%s) %s", isinf(rep.loss) ? "inf" : "nan", where);
        return 1;
    }
    if (siam_train_finite_message(m, before, rep.nonfinite, where, msg, cap))
        return 1;
    if (siam_optim_step(opt, siam_model_params(m), siam_model_grads(m), err))
        return -1;
    /* Finite gradients can still overflow the update (a huge lr). The
     * parameters are checked after every step, before a weight average
     * takes them in: the pass costs as little as the gradients' one
     * (docs/perf.md), and a per-epoch check would let non-finite weights
     * into the average and lose the batch at fault. */
    if (!checks)
        return 0;
    int found = siam_train_check_finite(m, SIAM_FINITE_PARAMS, after, msg, cap, err);
    return found < 0 ? -1 : found;
}
