/* Status checks for the CUDA runtime, cuBLAS and cuDNN: each turns a failed
 * status into "file:line: function: NAME: library message" in a siam_error.
 * Nothing here prints or exits. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kernels/cuda/cuda.h"

/* The name of the called function: the checked expression up to its '(' so
 * that a long argument list does not crowd out the library's message. */
static int call_name_len(const char *call)
{
    const char *paren = strchr(call, '(');
    return paren ? (int)(paren - call) : (int)strlen(call);
}

int siam_cuda_check_rt(siam_error *err, cudaError_t st, const char *file, int line,
                       const char *call)
{
    if (st == cudaSuccess)
        return 0;
    /* The runtime also records a failed call as the thread's last error;
     * clear it, or the next launch check (cudaGetLastError) would report
     * this failure again against an innocent kernel. Sticky errors (a
     * device fault) stay: every later call returns them anyway. */
    (void)cudaGetLastError();
    return siam_fail(err, "%s:%d: %.*s: %s: %s", file, line, call_name_len(call), call,
                     cudaGetErrorName(st), cudaGetErrorString(st));
}

int siam_cuda_check_blas(siam_error *err, cublasStatus_t st, const char *file, int line,
                         const char *call)
{
    if (st == CUBLAS_STATUS_SUCCESS)
        return 0;
    return siam_fail(err, "%s:%d: %.*s: %s: %s", file, line, call_name_len(call), call,
                     cublasGetStatusName(st), cublasGetStatusString(st));
}

int siam_cuda_check_dnn(siam_error *err, cudnnStatus_t st, const char *file, int line,
                        const char *call)
{
    if (st == CUDNN_STATUS_SUCCESS)
        return 0;
    /* cuDNN 9 keeps a longer explanation of the last failure per thread. */
    char detail[512];
    detail[0] = '\0';
    cudnnGetLastErrorString(detail, sizeof detail);
    return siam_fail(err, "%s:%d: %.*s: %s%s%s", file, line, call_name_len(call), call,
                     cudnnGetErrorString(st), detail[0] ? ": " : "", detail);
}

int siam_cuda_fail(siam_ctx *ctx, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ctx->err.msg, sizeof ctx->err.msg, fmt, ap);
    va_end(ap);
    return -1;
}

unsigned siam_cuda_blocks(size_t n)
{
    size_t b = (n + SIAM_CUDA_THREADS - 1) / SIAM_CUDA_THREADS;
    return (unsigned)(b < SIAM_CUDA_MAX_BLOCKS ? b : SIAM_CUDA_MAX_BLOCKS);
}
