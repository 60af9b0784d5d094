/* siam_tensor: shape bookkeeping and host transfers over a backend table;
 * no arithmetic lives here (that is the operators' job). */
#include "host/tensor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static siam_tensor *tensor_make(const siam_ops *ops, siam_ctx *ctx, int ndim, const int *shape,
                                const char *fn, siam_error *err)
{
    if (ops == NULL || ctx == NULL) {
        siam_fail(err, "%s: NULL backend or context", fn);
        return NULL;
    }
    if (ndim < 1 || ndim > SIAM_TENSOR_MAX_DIMS || shape == NULL) {
        siam_fail(err, "%s: ndim must be 1..%d, got %d", fn, SIAM_TENSOR_MAX_DIMS, ndim);
        return NULL;
    }
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) {
            siam_fail(err, "%s: dimension %d is %d, must be >= 1", fn, i, shape[i]);
            return NULL;
        }
        if (numel > SIZE_MAX / sizeof(float) / (size_t)shape[i]) {
            siam_fail(err, "%s: shape too large at dimension %d", fn, i);
            return NULL;
        }
        numel *= (size_t)shape[i];
    }
    siam_tensor *t = calloc(1, sizeof *t);
    if (t == NULL) {
        siam_fail(err, "%s: out of memory", fn);
        return NULL;
    }
    t->ndim = ndim;
    for (int i = 0; i < SIAM_TENSOR_MAX_DIMS; i++)
        t->shape[i] = i < ndim ? shape[i] : 1;
    t->device = ops->device;
    t->ops = ops;
    t->ctx = ctx;
    return t;
}

siam_tensor *siam_tensor_new(const siam_ops *ops, siam_ctx *ctx, int ndim, const int *shape,
                             siam_error *err)
{
    siam_tensor *t = tensor_make(ops, ctx, ndim, shape, "siam_tensor_new", err);
    if (t == NULL)
        return NULL;
    t->data = ops->mem_alloc(ctx, siam_tensor_bytes(t));
    if (t->data == NULL) {
        char s[64];
        siam_fail(err, "siam_tensor_new %s on %s: %s", siam_tensor_shape_str(t, s, sizeof s),
                  ops->name, ops->ctx_error(ctx));
        free(t);
        return NULL;
    }
    t->owns = 1;
    return t;
}

siam_tensor *siam_tensor_view(const siam_ops *ops, siam_ctx *ctx, float *data, int ndim,
                              const int *shape, siam_error *err)
{
    if (data == NULL) {
        siam_fail(err, "siam_tensor_view: NULL data");
        return NULL;
    }
    siam_tensor *t = tensor_make(ops, ctx, ndim, shape, "siam_tensor_view", err);
    if (t)
        t->data = data;
    return t;
}

void siam_tensor_free(siam_tensor *t)
{
    if (t == NULL)
        return;
    if (t->owns)
        t->ops->mem_free(t->ctx, t->data);
    free(t);
}

size_t siam_tensor_numel(const siam_tensor *t)
{
    size_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= (size_t)t->shape[i];
    return n;
}

size_t siam_tensor_bytes(const siam_tensor *t)
{
    return siam_tensor_numel(t) * sizeof(float);
}

int siam_tensor_same_shape(const siam_tensor *a, const siam_tensor *b)
{
    if (a->ndim != b->ndim)
        return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i])
            return 0;
    return 1;
}

const char *siam_tensor_shape_str(const siam_tensor *t, char *buf, size_t len)
{
    if (len == 0)
        return buf;
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->ndim && used < len; i++) {
        int k = snprintf(buf + used, len - used, "%s%d", i ? "," : "(", t->shape[i]);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (used < len)
        snprintf(buf + used, len - used, ")");
    return buf;
}

static int transfer_check(const siam_tensor *t, const float *host, size_t n, const char *fn,
                          siam_error *err)
{
    if (t == NULL || host == NULL)
        return siam_fail(err, "%s: NULL tensor or host buffer", fn);
    if (n != siam_tensor_numel(t)) {
        char s[64];
        return siam_fail(err, "%s: %zu values for a tensor %s of %zu", fn, n,
                         siam_tensor_shape_str(t, s, sizeof s), siam_tensor_numel(t));
    }
    return 0;
}

int siam_tensor_upload(siam_tensor *t, const float *host, size_t n, siam_error *err)
{
    if (transfer_check(t, host, n, "siam_tensor_upload", err))
        return -1;
    if (t->ops->upload(t->ctx, t->data, host, n * sizeof(float)))
        return siam_fail(err, "siam_tensor_upload: %s", t->ops->ctx_error(t->ctx));
    return 0;
}

int siam_tensor_download(const siam_tensor *t, float *host, size_t n, siam_error *err)
{
    if (transfer_check(t, host, n, "siam_tensor_download", err))
        return -1;
    if (t->ops->download(t->ctx, host, t->data, n * sizeof(float)))
        return siam_fail(err, "siam_tensor_download: %s", t->ops->ctx_error(t->ctx));
    return 0;
}
