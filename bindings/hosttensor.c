/* Allocation and shape formatting for the interim host tensor. */
#include "bindings/hosttensor.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

siam_hosttensor *siam_hosttensor_new(int ndim, const long long *shape, siam_error *err)
{
    if (ndim < 1 || ndim > SIAM_HOSTTENSOR_MAX_DIMS) {
        siam_fail(err, "a tensor has 1 to %d dimensions, got %d", SIAM_HOSTTENSOR_MAX_DIMS, ndim);
        return NULL;
    }
    size_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 1) {
            siam_fail(err, "dimension %d has size %lld, expected at least 1", i + 1, shape[i]);
            return NULL;
        }
        if ((unsigned long long)shape[i] > SIZE_MAX / sizeof(float) / numel) {
            siam_fail(err, "tensor too large: dimension %d of size %lld overflows", i + 1,
                      shape[i]);
            return NULL;
        }
        numel *= (size_t)shape[i];
    }
    siam_hosttensor *t = malloc(sizeof *t);
    float *data = calloc(numel, sizeof *data);
    if (t == NULL || data == NULL) {
        free(t);
        free(data);
        siam_fail(err, "out of memory allocating a tensor of %zu values", numel);
        return NULL;
    }
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->numel = numel;
    t->data = data;
    return t;
}

void siam_hosttensor_free(siam_hosttensor *t)
{
    if (t == NULL)
        return;
    free(t->data);
    free(t);
}

void siam_hosttensor_shape_string(const siam_hosttensor *t, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < t->ndim && used < size; i++) {
        int n = snprintf(buf + used, size - used, i ? "x%lld" : "%lld", t->shape[i]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
