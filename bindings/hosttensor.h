/* A minimal dense float tensor in host memory, used by the Lua bindings
 * until host/tensor.h (the shared tensor type) lands; the binding in
 * tensor.c is the only user. Lua-free. */
#ifndef SIAM_BINDINGS_HOSTTENSOR_H
#define SIAM_BINDINGS_HOSTTENSOR_H

#include <stddef.h>

#include "kernels/error.h"

#define SIAM_HOSTTENSOR_MAX_DIMS 8

/* Row-major, contiguous. Owns data. */
typedef struct siam_hosttensor {
    int ndim;
    long long shape[SIAM_HOSTTENSOR_MAX_DIMS];
    size_t numel;
    float *data; /* numel values, zero-filled by _new */
} siam_hosttensor;

/* New zero tensor of the given shape (1..8 dimensions, each >= 1). Returns
 * NULL with a message naming the bad dimension. Free with
 * siam_hosttensor_free (NULL is fine). */
siam_hosttensor *siam_hosttensor_new(int ndim, const long long *shape, siam_error *err);
void siam_hosttensor_free(siam_hosttensor *t);

/* Writes the shape as "2x3" into buf (always terminated). */
void siam_hosttensor_shape_string(const siam_hosttensor *t, char *buf, size_t size);

#endif
