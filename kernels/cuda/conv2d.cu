/* conv2d on the GPU through cuDNN (valid padding, stride 1, NCHW float,
 * cross-correlation as torch.nn.Conv2d). Each shape gets a plan the first
 * time it is seen: descriptors plus the forward, backward-data and
 * backward-filter algorithms from cuDNN's heuristics
 * (cudnnGetConvolution*Algorithm_v7), kept in the context for every later
 * call. Bias add and bias gradient are small kernels of our own. */
#include <stdlib.h>

#include "kernels/cuda/cuda.h"

#define BIAS_GRAD_THREADS 256

static void plan_destroy(siam_cuda_conv_plan *p)
{
    if (p->x)
        cudnnDestroyTensorDescriptor(p->x);
    if (p->y)
        cudnnDestroyTensorDescriptor(p->y);
    if (p->w)
        cudnnDestroyFilterDescriptor(p->w);
    if (p->conv)
        cudnnDestroyConvolutionDescriptor(p->conv);
}

void siam_cuda_conv_plans_free(siam_ctx *ctx)
{
    for (int i = 0; i < ctx->nplans; i++)
        plan_destroy(&ctx->plans[i]);
    free(ctx->plans);
    ctx->plans = NULL;
    ctx->nplans = ctx->cap_plans = 0;
}

/* The algorithm choice, the same for the three directions: walk cuDNN's
 * ranked proposals (fastest first) and take the first that ran in the
 * heuristics, keeps full FP32 unless TF32 is allowed, fits the workspace
 * limit and is deterministic (pass 0); failing that, the first that meets
 * the rest (pass 1). Determinism keeps seeded runs repeatable (the fast
 * backward-filter algorithms 0 and 3 accumulate with atomics). With the
 * descriptor set to FMA_MATH, cuDNN proposes FMA_MATH entries (PyTorch
 * asserts as much); should a version label them otherwise, pass 2 takes the
 * first working one and forces FMA_MATH on it rather than fail. */
template <typename Perf, typename Algo, typename SizeFn>
static int choose_algo(siam_ctx *ctx, siam_cuda_conv_plan *p, const char *what,
                       const Perf *perf, int count, SizeFn workspace_of, Algo *algo,
                       cudnnMathType_t *math, size_t *ws)
{
    int passes = ctx->allow_tf32 ? 2 : 3;
    for (int pass = 0; pass < passes; pass++) {
        for (int i = 0; i < count; i++) {
            if (perf[i].status != CUDNN_STATUS_SUCCESS)
                continue;
            if (pass == 0 && perf[i].determinism != CUDNN_DETERMINISTIC)
                continue;
            cudnnMathType_t m = perf[i].mathType;
            if (!ctx->allow_tf32 && m != CUDNN_FMA_MATH) {
                if (pass < 2)
                    continue;
                m = CUDNN_FMA_MATH;
            }
            if (cudnnSetConvolutionMathType(p->conv, m) != CUDNN_STATUS_SUCCESS)
                continue;
            size_t bytes = 0;
            if (workspace_of(perf[i].algo, &bytes) != CUDNN_STATUS_SUCCESS
                || bytes > SIAM_CUDA_WORKSPACE_LIMIT)
                continue;
            *algo = perf[i].algo;
            *math = m;
            *ws = bytes;
            return 0;
        }
    }
    return siam_cuda_fail(ctx,
                          "conv2d: cuDNN proposed no usable %s algorithm for N=%d Ci=%d H=%d "
                          "W=%d Co=%d kernel %dx%d (%d proposals%s)",
                          what, p->N, p->Ci, p->H, p->W, p->Co, p->KH, p->KW, count,
                          ctx->allow_tf32 ? "" : ", FP32 only");
}

static int plan_build(siam_ctx *ctx, siam_cuda_conv_plan *p)
{
    int OH = p->H - p->KH + 1, OW = p->W - p->KW + 1;
    SIAM_CUDNN_CHECK(ctx, cudnnCreateTensorDescriptor(&p->x));
    SIAM_CUDNN_CHECK(ctx, cudnnCreateTensorDescriptor(&p->y));
    SIAM_CUDNN_CHECK(ctx, cudnnCreateFilterDescriptor(&p->w));
    SIAM_CUDNN_CHECK(ctx, cudnnCreateConvolutionDescriptor(&p->conv));
    SIAM_CUDNN_CHECK(ctx, cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                     p->N, p->Ci, p->H, p->W));
    SIAM_CUDNN_CHECK(ctx, cudnnSetFilter4dDescriptor(p->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW,
                                                     p->Co, p->Ci, p->KH, p->KW));
    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolution2dDescriptor(p->conv, 0, 0, 1, 1, 1, 1,
                                                          CUDNN_CROSS_CORRELATION,
                                                          CUDNN_DATA_FLOAT));
    /* FMA_MATH keeps FP32 convolutions off TF32 tensor cores (which
     * DEFAULT_MATH permits on Ampere and later), so results match the CPU. */
    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, ctx->allow_tf32
                                                                   ? CUDNN_DEFAULT_MATH
                                                                   : CUDNN_FMA_MATH));
    int n, c, h, w;
    SIAM_CUDNN_CHECK(ctx, cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->w, &n, &c, &h,
                                                                &w));
    if (n != p->N || c != p->Co || h != OH || w != OW)
        return siam_cuda_fail(ctx, "conv2d: cuDNN output shape %dx%dx%dx%d, expected %dx%dx%dx%d",
                              n, c, h, w, p->N, p->Co, OH, OW);
    SIAM_CUDNN_CHECK(ctx, cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                     p->N, p->Co, OH, OW));
    cudnnHandle_t dnn = ctx->dnn;

    cudnnConvolutionFwdAlgoPerf_t fwd[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int count = 0;
    SIAM_CUDNN_CHECK(ctx, cudnnGetConvolutionForwardAlgorithm_v7(
                              dnn, p->x, p->w, p->conv, p->y, CUDNN_CONVOLUTION_FWD_ALGO_COUNT,
                              &count, fwd));
    if (choose_algo(ctx, p, "forward", fwd, count,
                    [&](cudnnConvolutionFwdAlgo_t a, size_t *bytes) {
                        return cudnnGetConvolutionForwardWorkspaceSize(dnn, p->x, p->w, p->conv,
                                                                       p->y, a, bytes);
                    },
                    &p->fwd, &p->math_fwd, &p->ws_fwd))
        return -1;

    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, ctx->allow_tf32
                                                                   ? CUDNN_DEFAULT_MATH
                                                                   : CUDNN_FMA_MATH));
    cudnnConvolutionBwdDataAlgoPerf_t bwd_data[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
    SIAM_CUDNN_CHECK(ctx, cudnnGetConvolutionBackwardDataAlgorithm_v7(
                              dnn, p->w, p->y, p->conv, p->x,
                              CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT, &count, bwd_data));
    if (choose_algo(ctx, p, "backward-data", bwd_data, count,
                    [&](cudnnConvolutionBwdDataAlgo_t a, size_t *bytes) {
                        return cudnnGetConvolutionBackwardDataWorkspaceSize(
                            dnn, p->w, p->y, p->conv, p->x, a, bytes);
                    },
                    &p->bwd_data, &p->math_bwd_data, &p->ws_bwd_data))
        return -1;

    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, ctx->allow_tf32
                                                                   ? CUDNN_DEFAULT_MATH
                                                                   : CUDNN_FMA_MATH));
    cudnnConvolutionBwdFilterAlgoPerf_t bwd_filter[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
    SIAM_CUDNN_CHECK(ctx, cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                              dnn, p->x, p->y, p->conv, p->w,
                              CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT, &count, bwd_filter));
    if (choose_algo(ctx, p, "backward-filter", bwd_filter, count,
                    [&](cudnnConvolutionBwdFilterAlgo_t a, size_t *bytes) {
                        return cudnnGetConvolutionBackwardFilterWorkspaceSize(
                            dnn, p->x, p->y, p->conv, p->w, a, bytes);
                    },
                    &p->bwd_filter, &p->math_bwd_filter, &p->ws_bwd_filter))
        return -1;
    return 0;
}

/* The plan for this shape, built on first use. Linear search: a model has a
 * handful of convolution shapes (times the batch sizes it meets). */
static siam_cuda_conv_plan *plan_get(siam_ctx *ctx, const char *fn, int N, int Ci, int H, int W,
                                     int Co, int KH, int KW)
{
    for (int i = 0; i < ctx->nplans; i++) {
        siam_cuda_conv_plan *p = &ctx->plans[i];
        if (p->N == N && p->Ci == Ci && p->H == H && p->W == W && p->Co == Co && p->KH == KH
            && p->KW == KW)
            return p;
    }
    if (ctx->nplans == ctx->cap_plans) {
        int cap = ctx->cap_plans ? 2 * ctx->cap_plans : 8;
        siam_cuda_conv_plan *grown =
            (siam_cuda_conv_plan *)realloc(ctx->plans, (size_t)cap * sizeof *grown);
        if (grown == NULL) {
            siam_cuda_fail(ctx, "%s: out of host memory for convolution plans", fn);
            return NULL;
        }
        ctx->plans = grown;
        ctx->cap_plans = cap;
    }
    siam_cuda_conv_plan p = {};
    p.N = N, p.Ci = Ci, p.H = H, p.W = W, p.Co = Co, p.KH = KH, p.KW = KW;
    if (plan_build(ctx, &p)) {
        plan_destroy(&p);
        siam_fail_wrap(&ctx->err, "%s", fn);
        return NULL;
    }
    ctx->plans[ctx->nplans++] = p;
    return &ctx->plans[ctx->nplans - 1];
}

static int conv_check(siam_ctx *ctx, const char *fn, int N, int Ci, int H, int W, int Co, int KH,
                      int KW)
{
    if (N < 0 || Ci < 1 || Co < 1 || KH < 1 || KW < 1)
        return siam_cuda_fail(ctx, "%s: bad sizes N=%d Ci=%d Co=%d kernel %dx%d", fn, N, Ci, Co,
                              KH, KW);
    if (H < KH || W < KW)
        return siam_cuda_fail(ctx, "%s: kernel %dx%d larger than input %dx%d", fn, KH, KW, H, W);
    return 0;
}

/* out (N,Co,P) += b[c]. */
static __global__ void bias_planes_kernel(float *out, const float *b, int Co, size_t P,
                                          size_t total)
{
    SIAM_CUDA_FOR(k, total)
        out[k] += b[(k / P) % (size_t)Co];
}

/* The bias gradient db[c] += sum over n and p of dout (N,Co,P), in two
 * steps so that a few channels still fill the GPU: block (s, c) sums images
 * [s*N/S, (s+1)*N/S) of channel c in double into part[c*S + s]; then one
 * thread per channel adds its S partial sums in order (deterministic, no
 * atomics). */
static __global__ void bias_grad_partial_kernel(double *part, const float *dout, int N, int Co,
                                                size_t P, int S)
{
    __shared__ double sum[BIAS_GRAD_THREADS];
    int s = blockIdx.x, c = blockIdx.y;
    int n0 = (int)((long long)s * N / S), n1 = (int)((long long)(s + 1) * N / S);
    double v = 0.0;
    for (int n = n0; n < n1; n++) {
        const float *plane = dout + ((size_t)n * Co + c) * P;
        for (size_t q = threadIdx.x; q < P; q += BIAS_GRAD_THREADS)
            v += plane[q];
    }
    sum[threadIdx.x] = v;
    __syncthreads();
    for (int half = BIAS_GRAD_THREADS / 2; half > 0; half /= 2) {
        if ((int)threadIdx.x < half)
            sum[threadIdx.x] += sum[threadIdx.x + half];
        __syncthreads();
    }
    if (threadIdx.x == 0)
        part[(size_t)c * S + s] = sum[0];
}

static __global__ void bias_grad_finish_kernel(float *db, const double *part, int Co, int S)
{
    SIAM_CUDA_FOR(c, (size_t)Co) {
        double t = 0.0;
        for (int s = 0; s < S; s++)
            t += part[c * S + s];
        db[c] += (float)t;
    }
}

/* Images per bias-gradient block: enough work per block, at most 32 blocks
 * per channel. */
static int bias_grad_split(int N, size_t P)
{
    size_t per_image = P ? P : 1;
    size_t want = ((size_t)N * per_image + 16383) / 16384;
    int S = (int)(want < 1 ? 1 : want > 32 ? 32 : want);
    return S < N ? S : N;
}

int siam_cuda_conv2d_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                             const float *b, int N, int Ci, int H, int W, int Co, int KH, int KW)
{
    if (conv_check(ctx, "conv2d_forward", N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!out || !in || !w || !b)
        return siam_cuda_fail(ctx, "conv2d_forward: NULL buffer");
    siam_cuda_conv_plan *p = plan_get(ctx, "conv2d_forward", N, Ci, H, W, Co, KH, KW);
    if (p == NULL)
        return -1;
    void *ws = NULL;
    if (siam_cuda_workspace(ctx, p->ws_fwd, &ws))
        return siam_fail_wrap(&ctx->err, "conv2d_forward");
    const float one = 1.0f, zero = 0.0f;
    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, p->math_fwd));
    SIAM_CUDNN_CHECK(ctx, cudnnConvolutionForward(ctx->dnn, &one, p->x, in, p->w, w, p->conv,
                                                  p->fwd, ws, p->ws_fwd, &zero, p->y, out));
    size_t P = (size_t)(H - KH + 1) * (W - KW + 1);
    size_t total = (size_t)N * Co * P;
    bias_planes_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        out, b, Co, P, total);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_conv2d_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, int N, int Ci, int H, int W, int Co,
                              int KH, int KW)
{
    if (conv_check(ctx, "conv2d_backward", N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!dw || !db || !dout || !in || !w)
        return siam_cuda_fail(ctx, "conv2d_backward: NULL buffer");
    siam_cuda_conv_plan *p = plan_get(ctx, "conv2d_backward", N, Ci, H, W, Co, KH, KW);
    if (p == NULL)
        return -1;
    /* Workspace: cuDNN's (the larger of the two directions), then the
     * bias-gradient partial sums, 256-byte aligned. */
    size_t conv_ws = p->ws_bwd_filter;
    if (din && p->ws_bwd_data > conv_ws)
        conv_ws = p->ws_bwd_data;
    size_t P = (size_t)(H - KH + 1) * (W - KW + 1);
    int S = bias_grad_split(N, P);
    size_t part_at = (conv_ws + 255) & ~(size_t)255;
    void *ws = NULL;
    if (siam_cuda_workspace(ctx, part_at + (size_t)Co * S * sizeof(double), &ws))
        return siam_fail_wrap(&ctx->err, "conv2d_backward");
    double *part = (double *)((char *)ws + part_at);
    const float one = 1.0f, zero = 0.0f;
    bias_grad_partial_kernel<<<dim3((unsigned)S, (unsigned)Co), BIAS_GRAD_THREADS, 0,
                               ctx->stream>>>(part, dout, N, Co, P, S);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    bias_grad_finish_kernel<<<siam_cuda_blocks((size_t)Co), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        db, part, Co, S);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    /* beta = 1: the filter gradient accumulates (both Siamese towers). */
    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, p->math_bwd_filter));
    SIAM_CUDNN_CHECK(ctx, cudnnConvolutionBackwardFilter(ctx->dnn, &one, p->x, in, p->y, dout,
                                                         p->conv, p->bwd_filter, ws,
                                                         p->ws_bwd_filter, &one, p->w, dw));
    if (din) {
        /* beta = 0: the input gradient is overwritten. */
        SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, p->math_bwd_data));
        SIAM_CUDNN_CHECK(ctx, cudnnConvolutionBackwardData(ctx->dnn, &one, p->w, w, p->y, dout,
                                                           p->conv, p->bwd_data, ws,
                                                           p->ws_bwd_data, &zero, p->x, din));
    }
    return 0;
}
