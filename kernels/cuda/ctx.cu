/* CUDA backend context: device choice, one non-blocking stream with the
 * cuBLAS and cuDNN handles bound to it, the grow-only workspace, the small
 * buffers used to read back reductions, and the last error message. */
#include <stdlib.h>
#include <string.h>

#include "kernels/cuda/cuda.h"

/* Like SIAM_CUDA_CHECK and friends, but for ctx_new: the message goes to the
 * caller's err and the half-built context is released. */
#define NEW_CHECK(kind, call)                                                             \
    do {                                                                                  \
        if (siam_cuda_check_##kind(err, (call), __FILE__, __LINE__, #call)) {             \
            siam_fail_wrap(err, "cuda ctx_new (device %d)", device);                      \
            siam_cuda_ctx_free(ctx);                                                      \
            return NULL;                                                                  \
        }                                                                                 \
    } while (0)

siam_ctx *siam_cuda_ctx_new(const siam_ctx_options *opt, siam_error *err)
{
    const siam_ctx_options none = {};
    if (opt == NULL)
        opt = &none;
    int device = opt->device_index;
    if (opt->batchnorm != SIAM_CUDA_BN_CUDNN && opt->batchnorm != SIAM_CUDA_BN_OWN) {
        siam_fail(err, "cuda ctx_new: batchnorm must be SIAM_CUDA_BN_CUDNN (%d) or "
                       "SIAM_CUDA_BN_OWN (%d), got %d",
                  SIAM_CUDA_BN_CUDNN, SIAM_CUDA_BN_OWN, opt->batchnorm);
        return NULL;
    }
    int count = 0;
    /* No driver (libcuda missing or too old) and no GPU both surface here;
     * the caller gets a message to show, not a crash. */
    if (siam_cuda_check_rt(err, cudaGetDeviceCount(&count), __FILE__, __LINE__,
                           "cudaGetDeviceCount")) {
        siam_fail_wrap(err, "cuda ctx_new: no usable CUDA device (no driver or no GPU)");
        return NULL;
    }
    if (count < 1) {
        siam_fail(err, "cuda ctx_new: no usable CUDA device (the driver reports 0 GPUs)");
        return NULL;
    }
    if (device < 0 || device >= count) {
        siam_fail(err, "cuda ctx_new: device_index %d out of range (%d device%s: 0..%d)", device,
                  count, count == 1 ? "" : "s", count - 1);
        return NULL;
    }
    siam_ctx *ctx = (siam_ctx *)calloc(1, sizeof *ctx);
    if (ctx == NULL) {
        siam_fail(err, "cuda ctx_new: out of host memory");
        return NULL;
    }
    ctx->device = device;
    ctx->allow_tf32 = opt->allow_tf32 != 0;
    ctx->bn_own = opt->batchnorm == SIAM_CUDA_BN_OWN;
    ctx->cudnn_find = opt->cudnn_find != 0;
    ctx->log = opt->log;
    ctx->log_user = opt->log_user;
    NEW_CHECK(rt, cudaSetDevice(device));
    NEW_CHECK(rt, cudaStreamCreateWithFlags(&ctx->stream, cudaStreamNonBlocking));
    NEW_CHECK(blas, cublasCreate(&ctx->blas));
    NEW_CHECK(blas, cublasSetStream(ctx->blas, ctx->stream));
    /* DEFAULT_MATH keeps FP32 GEMMs in full FP32, so results match the CPU
     * to rounding; TF32 trades 13 mantissa bits for tensor-core speed. */
    NEW_CHECK(blas, cublasSetMathMode(ctx->blas, ctx->allow_tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                 : CUBLAS_DEFAULT_MATH));
    NEW_CHECK(dnn, cudnnCreate(&ctx->dnn));
    NEW_CHECK(dnn, cudnnSetStream(ctx->dnn, ctx->stream));
    NEW_CHECK(dnn, cudnnCreateTensorDescriptor(&ctx->bn_x));
    NEW_CHECK(dnn, cudnnCreateTensorDescriptor(&ctx->bn_param));
    NEW_CHECK(rt, cudaMalloc(&ctx->dev_scalars, SIAM_CUDA_SCALAR_BYTES));
    NEW_CHECK(rt, cudaMallocHost(&ctx->host_scalars, SIAM_CUDA_SCALAR_BYTES));
    return ctx;
}

void siam_cuda_ctx_free(siam_ctx *ctx)
{
    if (ctx == NULL)
        return;
    /* Best effort: a context freed after a device fault still releases what
     * it can; the statuses have nowhere useful to go. */
    cudaSetDevice(ctx->device);
    if (ctx->stream)
        cudaStreamSynchronize(ctx->stream);
    siam_cuda_conv_plans_free(ctx);
    if (ctx->bn_x)
        cudnnDestroyTensorDescriptor(ctx->bn_x);
    if (ctx->bn_param)
        cudnnDestroyTensorDescriptor(ctx->bn_param);
    if (ctx->dnn)
        cudnnDestroy(ctx->dnn);
    if (ctx->blas)
        cublasDestroy(ctx->blas);
    cudaFree(ctx->ws);
    cudaFree(ctx->dev_scalars);
    if (ctx->host_scalars)
        cudaFreeHost(ctx->host_scalars);
    if (ctx->stream)
        cudaStreamDestroy(ctx->stream);
    free(ctx);
}

const char *siam_cuda_ctx_error(const siam_ctx *ctx)
{
    return ctx ? ctx->err.msg : "no context";
}

int siam_cuda_workspace(siam_ctx *ctx, size_t bytes, void **out)
{
    if (bytes <= ctx->ws_bytes) {
        *out = ctx->ws;
        return 0;
    }
    /* Work queued earlier may still read the old buffer. */
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    SIAM_CUDA_CHECK(ctx, cudaFree(ctx->ws));
    ctx->ws = NULL;
    ctx->ws_bytes = 0;
    size_t rounded = (bytes + ((size_t)1 << 20) - 1) & ~(((size_t)1 << 20) - 1);
    if (siam_cuda_check_rt(&ctx->err, cudaMalloc(&ctx->ws, rounded), __FILE__, __LINE__,
                           "cudaMalloc")) {
        ctx->ws = NULL;
        return siam_fail_wrap(&ctx->err, "cuda workspace of %zu bytes", rounded);
    }
    ctx->ws_bytes = rounded;
    *out = ctx->ws;
    return 0;
}
