/* BatchNorm2d on the GPU through cuDNN's spatial batch normalisation
 * (torch.nn.BatchNorm2d; Ioffe & Szegedy 2015, Alg. 1). The semantics match
 * kernels/cpu/batchnorm.c:
 *  - cuDNN normalises with the biased batch variance and updates the running
 *    variance with the unbiased one, as PyTorch, whose cuDNN path makes this
 *    very call with exponentialAverageFactor = momentum (MXNet observed the
 *    same: apache/mxnet#21111);
 *  - resultSaveMean / resultSaveInvVariance are the batch mean and
 *    1/sqrt(var + eps), the save_mean / save_invstd of the interface;
 *  - backward writes dgamma/dbeta into workspace and adds them, so they
 *    accumulate like every parameter gradient; it gets the forward's eps,
 *    which cuDNN's documentation requires even with the saved statistics
 *    passed in.
 * x is described as (N, C, HW, 1): spatial mode reduces over N, H and W, so
 * how HW splits into H and W does not matter.
 * A context made with siam_ctx_options.batchnorm = SIAM_CUDA_BN_OWN (the
 * bindings set it from SIAM_CUDA_BATCHNORM=own) goes through the same
 * checks to batchnorm_own.cu instead (the CPU's arithmetic). */
#include "kernels/cuda/cuda.h"

static int bn_describe(siam_ctx *ctx, int N, int C, int HW)
{
    SIAM_CUDNN_CHECK(ctx, cudnnSetTensor4dDescriptor(ctx->bn_x, CUDNN_TENSOR_NCHW,
                                                     CUDNN_DATA_FLOAT, N, C, HW, 1));
    SIAM_CUDNN_CHECK(ctx, cudnnDeriveBNTensorDescriptor(ctx->bn_param, ctx->bn_x,
                                                        CUDNN_BATCHNORM_SPATIAL));
    return 0;
}

static __global__ void add_param_grads_kernel(float *dgamma, float *dbeta, const float *tmp,
                                              int C)
{
    SIAM_CUDA_FOR(c, (size_t)C) {
        dgamma[c] += tmp[c];
        dbeta[c] += tmp[C + c];
    }
}

int siam_cuda_batchnorm_forward_train(siam_ctx *ctx, float *out, float *save_mean,
                                      float *save_invstd, float *running_mean, float *running_var,
                                      const float *in, const float *gamma, const float *beta,
                                      int N, int C, int HW, float momentum, float eps)
{
    if (siam_check_batchnorm(&ctx->err, "batchnorm_forward_train", N, C, HW))
        return -1;
    size_t M = (size_t)N * HW;
    /* PyTorch refuses this too: the unbiased variance needs two values. */
    if (M < 2)
        return siam_cuda_fail(ctx,
                              "batchnorm_forward_train: expected more than 1 value per channel "
                              "when training, got N=%d HW=%d",
                              N, HW);
    if (!out || !save_mean || !save_invstd || !running_mean || !running_var || !in || !gamma
        || !beta)
        return siam_cuda_fail(ctx, "batchnorm_forward_train: NULL buffer");
    if (ctx->bn_own)
        return siam_cuda_bn_own_forward_train(ctx, out, save_mean, save_invstd, running_mean,
                                              running_var, in, gamma, beta, N, C, HW, momentum,
                                              eps);
    if (!((double)eps >= CUDNN_BN_MIN_EPSILON))
        return siam_cuda_fail(ctx, "batchnorm_forward_train: eps %g below cuDNN's minimum %g",
                              (double)eps, (double)CUDNN_BN_MIN_EPSILON);
    if (bn_describe(ctx, N, C, HW))
        return -1;
    const float one = 1.0f, zero = 0.0f;
    SIAM_CUDNN_CHECK(ctx, cudnnBatchNormalizationForwardTraining(
                              ctx->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, ctx->bn_x, in,
                              ctx->bn_x, out, ctx->bn_param, gamma, beta, (double)momentum,
                              running_mean, running_var, (double)eps, save_mean, save_invstd));
    return 0;
}

int siam_cuda_batchnorm_forward_eval(siam_ctx *ctx, float *out, const float *in,
                                     const float *running_mean, const float *running_var,
                                     const float *gamma, const float *beta, int N, int C, int HW,
                                     float eps)
{
    if (siam_check_batchnorm(&ctx->err, "batchnorm_forward_eval", N, C, HW))
        return -1;
    if (!out || !in || !running_mean || !running_var || !gamma || !beta)
        return siam_cuda_fail(ctx, "batchnorm_forward_eval: NULL buffer");
    if (ctx->bn_own)
        return siam_cuda_bn_own_forward_eval(ctx, out, in, running_mean, running_var, gamma,
                                             beta, N, C, HW, eps);
    if (!((double)eps >= CUDNN_BN_MIN_EPSILON))
        return siam_cuda_fail(ctx, "batchnorm_forward_eval: eps %g below cuDNN's minimum %g",
                              (double)eps, (double)CUDNN_BN_MIN_EPSILON);
    if (bn_describe(ctx, N, C, HW))
        return -1;
    const float one = 1.0f, zero = 0.0f;
    SIAM_CUDNN_CHECK(ctx, cudnnBatchNormalizationForwardInference(
                              ctx->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, ctx->bn_x, in,
                              ctx->bn_x, out, ctx->bn_param, gamma, beta, running_mean,
                              running_var, (double)eps));
    return 0;
}

int siam_cuda_batchnorm_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                                 const float *dout, const float *in, const float *save_mean,
                                 const float *save_invstd, const float *gamma, int N, int C,
                                 int HW, float eps)
{
    if (siam_check_batchnorm(&ctx->err, "batchnorm_backward", N, C, HW))
        return -1;
    if (siam_check_batchnorm_eps(&ctx->err, eps))
        return -1;
    if (!dgamma || !dbeta || !dout || !in || !save_mean || !save_invstd || !gamma)
        return siam_cuda_fail(ctx, "batchnorm_backward: NULL buffer");
    if (ctx->bn_own)
        return siam_cuda_bn_own_backward(ctx, din, dgamma, dbeta, dout, in, save_mean,
                                         save_invstd, gamma, N, C, HW);
    if (!((double)eps >= CUDNN_BN_MIN_EPSILON))
        return siam_cuda_fail(ctx, "batchnorm_backward: eps %g below cuDNN's minimum %g",
                              (double)eps, (double)CUDNN_BN_MIN_EPSILON);
    /* Workspace: dgamma and dbeta of this call, then (when the caller wants
     * no din) somewhere for cuDNN to write dx, 256-byte aligned. */
    size_t params = ((2 * (size_t)C * sizeof(float)) + 255) & ~(size_t)255;
    size_t need = params + (din ? 0 : (size_t)N * C * HW * sizeof(float));
    void *ws = NULL;
    if (siam_cuda_workspace(ctx, need, &ws))
        return siam_fail_wrap(&ctx->err, "batchnorm_backward");
    float *tmp = (float *)ws;
    float *dx = din ? din : (float *)((char *)ws + params);
    if (bn_describe(ctx, N, C, HW))
        return -1;
    const float one = 1.0f, zero = 0.0f;
    SIAM_CUDNN_CHECK(ctx, cudnnBatchNormalizationBackward(
                              ctx->dnn, CUDNN_BATCHNORM_SPATIAL, &one, &zero, &one, &zero,
                              ctx->bn_x, in, ctx->bn_x, dout, ctx->bn_x, dx, ctx->bn_param,
                              gamma, tmp, tmp + C, (double)eps, save_mean, save_invstd));
    add_param_grads_kernel<<<siam_cuda_blocks((size_t)C), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        dgamma, dbeta, tmp, C);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}
