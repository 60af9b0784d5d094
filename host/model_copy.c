/* The model's weights (parameters, then the batch-norm statistics) copied
 * to or from one device buffer: the best-weights snapshot and the weight
 * average both keep them so (host/model.h). */
#include "host/model.h"

int siam_model_weights_copy(siam_model *m, float *buf, int to_model, const char *what,
                            siam_error *err)
{
    const siam_ops *o = siam_model_ops(m);
    siam_ctx *c = siam_model_ctx(m);
    size_t n = siam_model_numel(m), nb = siam_model_buffer_numel(m), f = sizeof(float);
    float *p = siam_model_params(m), *b = siam_model_buffers(m);
    int rc = to_model ? o->copy(c, p, buf, n * f) || o->copy(c, b, buf + n, nb * f)
                      : o->copy(c, buf, p, n * f) || o->copy(c, buf + n, b, nb * f);
    if (rc)
        return siam_fail(err, "%s: copy failed: %s", what, o->ctx_error(c));
    return 0;
}
