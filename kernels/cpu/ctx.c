/* CPU backend context: thread count, the grow-only scratch buffer and the
 * last error message. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "kernels/cpu/blas.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#include "kernels/cpu/cpu.h"

int siam_cpu_fail(siam_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
    va_end(ap);
    return -1;
}

float *siam_cpu_scratch(siam_ctx *ctx, size_t floats)
{
    if (floats <= ctx->scratch_floats)
        return ctx->scratch;
    /* Rounded up to a whole 64-byte line for aligned_alloc. */
    size_t bytes = (floats * sizeof(float) + 63) & ~(size_t)63;
    float *p = aligned_alloc(64, bytes);
    if (p == NULL) {
        siam_cpu_fail(ctx, "cpu scratch: cannot allocate %zu bytes", bytes);
        return NULL;
    }
    free(ctx->scratch);
    ctx->scratch = p;
    ctx->scratch_floats = bytes / sizeof(float);
    return p;
}

siam_ctx *siam_cpu_ctx_new(const siam_ctx_options *opt, siam_error *err)
{
    int threads = opt ? opt->threads : 0;
    if (threads < 0) {
        siam_fail(err, "cpu ctx_new: threads must be >= 0 (0 = all cores), got %d", threads);
        return NULL;
    }
    siam_ctx *ctx = calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        siam_fail(err, "cpu ctx_new: out of memory");
        return NULL;
    }
    if (threads == 0)
        threads = openblas_get_num_procs();
    if (threads < 1)
        threads = 1;
    ctx->threads = threads;
    /* Both settings are process-wide in OpenBLAS and per calling thread in
     * OpenMP; the context is used from the thread that created it. */
    ctx->blas_threads = threads;
    openblas_set_num_threads(threads);
#ifdef _OPENMP
    omp_set_num_threads(threads);
#endif
    return ctx;
}

void siam_cpu_blas_threads(siam_ctx *ctx, int single)
{
    int want = single ? 1 : ctx->threads;
    if (ctx->blas_threads != want) {
        openblas_set_num_threads(want);
        ctx->blas_threads = want;
    }
}

void siam_cpu_ctx_free(siam_ctx *ctx)
{
    if (ctx == NULL)
        return;
    free(ctx->scratch);
    free(ctx);
}

const char *siam_cpu_ctx_error(const siam_ctx *ctx)
{
    return ctx ? ctx->err.msg : "no context";
}
