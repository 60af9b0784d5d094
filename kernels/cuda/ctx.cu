/* CUDA backend context: device choice, one non-blocking stream with the
 * cuBLAS and cuDNN handles bound to it, the grow-only workspace, the
 * buffers reductions are read back through (and the fault word kernels
 * leave there), timing markers, the description of the device and
 * libraries, and the last error message. */
#include <dlfcn.h>
#include <stdio.h>
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
    /* Room for the header and a batch of 1024 probabilities to start. */
    size_t bytes = sizeof(siam_cuda_scalars) + 1024 * sizeof(float);
    NEW_CHECK(rt, cudaMalloc(&ctx->dev_scalars, bytes));
    NEW_CHECK(rt, cudaMallocHost(&ctx->host_scalars, bytes));
    ctx->scalars_bytes = bytes;
    NEW_CHECK(rt, cudaMemsetAsync(ctx->dev_scalars, 0xFF, sizeof(unsigned long long),
                                  ctx->stream));
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
    for (int k = 0; k < SIAM_STAMP_MAX; k++)
        if (ctx->stamps[k])
            cudaEventDestroy(ctx->stamps[k]);
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

int siam_cuda_scalars_reserve(siam_ctx *ctx, size_t bytes)
{
    if (bytes <= ctx->scalars_bytes)
        return 0;
    /* Rare (a larger batch than any before): wait, keep the fault word,
     * swap both buffers. */
    unsigned long long fault = SIAM_CUDA_NO_FAULT;
    SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(&fault, ctx->dev_scalars, sizeof fault,
                                         cudaMemcpyDeviceToHost, ctx->stream));
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    void *dev = NULL, *host = NULL;
    if (siam_cuda_check_rt(&ctx->err, cudaMalloc(&dev, bytes), __FILE__, __LINE__,
                           "cudaMalloc")
        || siam_cuda_check_rt(&ctx->err, cudaMallocHost(&host, bytes), __FILE__, __LINE__,
                              "cudaMallocHost")) {
        cudaFree(dev);
        return siam_fail_wrap(&ctx->err, "cuda readback buffers of %zu bytes", bytes);
    }
    cudaFree(ctx->dev_scalars);
    cudaFreeHost(ctx->host_scalars);
    ctx->dev_scalars = dev;
    ctx->host_scalars = host;
    ctx->scalars_bytes = bytes;
    SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(dev, &fault, sizeof fault, cudaMemcpyHostToDevice,
                                         ctx->stream));
    /* &fault is on this stack frame: the copy must finish before return. */
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    return 0;
}

int siam_cuda_readback(siam_ctx *ctx, size_t bytes)
{
    SIAM_CUDA_CHECK(ctx, cudaMemcpyAsync(ctx->host_scalars, ctx->dev_scalars, bytes,
                                         cudaMemcpyDeviceToHost, ctx->stream));
    SIAM_CUDA_CHECK(ctx, cudaStreamSynchronize(ctx->stream));
    unsigned long long fault = ((const siam_cuda_scalars *)ctx->host_scalars)->fault;
    if (fault == SIAM_CUDA_NO_FAULT)
        return 0;
    SIAM_CUDA_CHECK(ctx, cudaMemsetAsync(ctx->dev_scalars, 0xFF, sizeof fault, ctx->stream));
    unsigned op = (unsigned)(fault >> 56);
    int pos = (int)((fault >> 32) & 0xFFFFFF);
    int32_t value = (int32_t)(uint32_t)(fault & 0xFFFFFFFFu);
    const char *fn = op == SIAM_CUDA_FAULT_GATHER    ? "gather_normalize"
                     : op == SIAM_CUDA_FAULT_AUGMENT ? "augment_batch"
                                                     : "a kernel";
    return siam_cuda_fail(ctx, "%s: idx[%d] = %d is negative", fn, pos, (int)value);
}

int siam_cuda_stamp(siam_ctx *ctx, int k)
{
    if (k < 0 || k >= SIAM_STAMP_MAX)
        return siam_cuda_fail(ctx, "stamp: marker %d outside 0..%d", k, SIAM_STAMP_MAX - 1);
    if (ctx->stamps[k] == NULL)
        SIAM_CUDA_CHECK(ctx, cudaEventCreate(&ctx->stamps[k]));
    SIAM_CUDA_CHECK(ctx, cudaEventRecord(ctx->stamps[k], ctx->stream));
    return 0;
}

int siam_cuda_stamp_ms(siam_ctx *ctx, int a, int b, double *ms)
{
    if (a < 0 || a >= SIAM_STAMP_MAX || b < 0 || b >= SIAM_STAMP_MAX || !ctx->stamps[a]
        || !ctx->stamps[b])
        return siam_cuda_fail(ctx, "stamp_ms: markers %d and %d were not both recorded", a, b);
    SIAM_CUDA_CHECK(ctx, cudaEventSynchronize(ctx->stamps[b]));
    float t = 0.0f;
    SIAM_CUDA_CHECK(ctx, cudaEventElapsedTime(&t, ctx->stamps[a], ctx->stamps[b]));
    *ms = (double)t;
    return 0;
}

/* The file a symbol was loaded from, or "?". */
static const char *library_of(const char *symbol)
{
    Dl_info info;
    void *at = dlsym(RTLD_DEFAULT, symbol);
    if (at && dladdr(at, &info) && info.dli_fname)
        return info.dli_fname;
    return "?";
}

int siam_cuda_describe(siam_ctx *ctx, char *buf, size_t cap)
{
    cudaDeviceProp prop;
    int driver = 0, runtime = 0, blas = 0;
    SIAM_CUDA_CHECK(ctx, cudaGetDeviceProperties(&prop, ctx->device));
    SIAM_CUDA_CHECK(ctx, cudaDriverGetVersion(&driver));
    SIAM_CUDA_CHECK(ctx, cudaRuntimeGetVersion(&runtime));
    SIAM_CUBLAS_CHECK(ctx, cublasGetVersion(ctx->blas, &blas));
    size_t dnn = cudnnGetVersion();
    snprintf(buf, cap,
             "%s (sm_%d%d, %d SMs, %.0f GiB) driver API %d.%d, runtime %d.%d (static); "
             "cuDNN %zu.%zu.%zu (built with %d.%d.%d) from %s; cuBLAS %d.%d.%d from %s",
             prop.name, prop.major, prop.minor, prop.multiProcessorCount,
             (double)prop.totalGlobalMem / (1024.0 * 1024.0 * 1024.0), driver / 1000,
             driver % 1000 / 10, runtime / 1000, runtime % 1000 / 10, dnn / 10000,
             dnn % 10000 / 100, dnn % 100, CUDNN_MAJOR, CUDNN_MINOR, CUDNN_PATCHLEVEL,
             library_of("cudnnGetVersion"), blas / 10000, blas % 10000 / 100, blas % 100,
             library_of("cublasGetVersion_v2"));
    return 0;
}
