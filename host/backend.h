/* A compute backend (ops table + context) shared by the objects built on it:
 * a model and the optimizers bound to it hold one reference each, so the
 * context outlives every buffer allocated in it, whatever order Lua's
 * collector finalises them in. Lua-free. */
#ifndef SIAM_HOST_BACKEND_H
#define SIAM_HOST_BACKEND_H

#include "kernels/error.h"
#include "kernels/ops.h"

typedef struct siam_backend {
    int refs;
    const siam_ops *ops;
    siam_ctx *ctx;
    char device[8]; /* "cpu" or "cuda": what "auto" resolved to */
} siam_backend;

/* Opens "cpu", "cuda" or "auto" (CUDA when this build has it and a device
 * answers, else the CPU) with the context options `opt` (NULL: the
 * defaults; opt->threads CPU threads, 0 = all cores). The CPU side uses
 * `cpu_ops` (a table with siam_ops_cpu's semantics, such as the per-layer
 * convolution choice; NULL: siam_ops_cpu). Returns a backend with one
 * reference, or NULL with the reason in err. */
siam_backend *siam_backend_open(const char *device, const siam_ctx_options *opt,
                                const siam_ops *cpu_ops, siam_error *err);

/* The CUDA context options the environment sets, the only place siamlua
 * reads them (kernels/ reads no environment; tests/ uses this too):
 *   SIAM_CUDA_BATCHNORM  "cudnn" (also empty or unset) or "own": opt->batchnorm
 *   SIAM_CUDA_VERBOSE    "1": opt->log prints each choice the backend makes
 *                        (cuDNN algorithms per layer shape) on stderr as
 *                        "cuda: <line>"; "0", empty or unset: no log
 * Other fields of opt are left alone. Returns 0, or -1 naming the variable
 * and its value in err. */
int siam_backend_env_options(siam_ctx_options *opt, siam_error *err);
void siam_backend_retain(siam_backend *b);
/* Drops one reference; the last frees the context. NULL is fine. */
void siam_backend_release(siam_backend *b);

#endif
