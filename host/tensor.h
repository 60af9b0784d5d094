/* Float32 tensors of up to 4 dimensions (NCHW), contiguous, living on one
 * backend's device. A tensor either owns its buffer (siam_tensor_new: freed
 * by siam_tensor_free through ops->mem_free) or views memory owned by
 * someone else (siam_tensor_view: free releases only the struct). Host data
 * moves in and out only through ops->upload / ops->download. */
#ifndef SIAM_TENSOR_H
#define SIAM_TENSOR_H

#include <stddef.h>

#include "kernels/error.h"
#include "kernels/ops.h"

#define SIAM_TENSOR_MAX_DIMS 4

typedef struct siam_tensor {
    float *data;                    /* device memory of `ops` */
    int ndim;                       /* 1..4 */
    int shape[SIAM_TENSOR_MAX_DIMS]; /* unused trailing entries are 1 */
    siam_device device;
    const siam_ops *ops;            /* borrowed: outlives the tensor */
    siam_ctx *ctx;                  /* borrowed: outlives the tensor */
    int owns;                       /* 1: data is freed with the tensor */
} siam_tensor;

/* New zero-filled tensor owning its buffer. NULL with err set on a bad shape
 * or when the backend cannot allocate. */
siam_tensor *siam_tensor_new(const siam_ops *ops, siam_ctx *ctx, int ndim, const int *shape,
                             siam_error *err);
/* A tensor over existing device memory `data` (not owned, not freed). */
siam_tensor *siam_tensor_view(const siam_ops *ops, siam_ctx *ctx, float *data, int ndim,
                              const int *shape, siam_error *err);
/* Frees the struct and, when it owns it, the buffer. NULL is fine. */
void siam_tensor_free(siam_tensor *t);

size_t siam_tensor_numel(const siam_tensor *t);
size_t siam_tensor_bytes(const siam_tensor *t);
/* 1 when both have the same ndim and shape. */
int siam_tensor_same_shape(const siam_tensor *a, const siam_tensor *b);
/* "(2,64,96,96)" into buf (truncated to len); returns buf, for messages. */
const char *siam_tensor_shape_str(const siam_tensor *t, char *buf, size_t len);

/* Copies n floats (n must equal numel) from host memory into the tensor,
 * or out of it. */
int siam_tensor_upload(siam_tensor *t, const float *host, size_t n, siam_error *err);
int siam_tensor_download(const siam_tensor *t, float *host, size_t n, siam_error *err);

#endif
