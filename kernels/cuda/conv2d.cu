/* conv2d on the GPU through cuDNN (valid padding, stride 1, NCHW float,
 * cross-correlation as torch.nn.Conv2d). Each shape gets a plan the first
 * time it is seen (its descriptors), and each of its directions (forward,
 * backward-data, backward-filter) an algorithm the first time it runs,
 * from cuDNN's heuristics or a one-time search (siam_ctx_options.cudnn_find),
 * kept in the context for every later call. Bias add and bias gradient are
 * small kernels of our own. */
#include <stdlib.h>

#include "kernels/conv_algo.h"
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

static_assert(CUDNN_CONVOLUTION_FWD_ALGO_COUNT <= SIAM_CUDA_MAX_PROPOSALS &&
                  CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT <= SIAM_CUDA_MAX_PROPOSALS &&
                  CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT <= SIAM_CUDA_MAX_PROPOSALS,
              "room for every proposal of cuDNN's");

/* The three directions of a plan (siam_cuda_conv_plan.dir). */
enum { CONV_FWD = 0, CONV_BWD_DATA = 1, CONV_BWD_FILTER = 2 };
static const char *const dir_name[3] = { "forward", "backward-data", "backward-filter" };

/* cuDNN's algorithm names by enum value, per direction (cudnn_cnn.h). */
static const char *algo_name(int dir, int algo)
{
    static const char *const fwd[] = { "IMPLICIT_GEMM", "IMPLICIT_PRECOMP_GEMM", "GEMM",
                                       "DIRECT", "FFT", "FFT_TILING", "WINOGRAD",
                                       "WINOGRAD_NONFUSED" };
    static const char *const data[] = { "ALGO_0", "ALGO_1", "FFT", "FFT_TILING", "WINOGRAD",
                                        "WINOGRAD_NONFUSED" };
    static const char *const filter[] = { "ALGO_0", "ALGO_1", "FFT", "ALGO_3", "WINOGRAD",
                                          "WINOGRAD_NONFUSED", "FFT_TILING" };
    const char *const *t = dir == CONV_FWD ? fwd : dir == CONV_BWD_DATA ? data : filter;
    int n = dir == CONV_FWD ? 8 : dir == CONV_BWD_DATA ? 6 : 7;
    return algo >= 0 && algo < n ? t[algo] : "?";
}

/* One proposal in a form common to the three directions' perf structs. */
typedef struct proposal {
    int algo;
    cudnnStatus_t status;
    cudnnDeterminism_t determinism;
    cudnnMathType_t math;
    float ms; /* < 0: not measured */
} proposal;

#define TO_PROPOSALS(perf, count, out, measured)                                          \
    for (int i_ = 0; i_ < (count); i_++)                                                  \
        (out)[i_] = proposal{ (int)(perf)[i_].algo, (perf)[i_].status,                    \
                              (perf)[i_].determinism, (perf)[i_].mathType,                \
                              (measured) ? (perf)[i_].time : -1.0f };

/* cuDNN's proposals for one direction, best first: its heuristics
 * (cudnnGetConvolution*Algorithm_v7: nothing runs, no buffer is touched) or,
 * with cudnn_find, a search that runs every algorithm once on buffers cuDNN
 * allocates itself (cudnnFindConvolution*Algorithm: the model's buffers,
 * the accumulated filter gradient among them, are left alone). */
static int propose(siam_ctx *ctx, siam_cuda_conv_plan *p, int dir, proposal *out, int *count)
{
    cudnnHandle_t dnn = ctx->dnn;
    int find = ctx->cudnn_find;
    if (dir == CONV_FWD) {
        cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
        const int want = CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
        if (find)
            SIAM_CUDNN_CHECK(ctx, cudnnFindConvolutionForwardAlgorithm(dnn, p->x, p->w, p->conv,
                                                                       p->y, want, count, perf));
        else
            SIAM_CUDNN_CHECK(ctx, cudnnGetConvolutionForwardAlgorithm_v7(
                                      dnn, p->x, p->w, p->conv, p->y, want, count, perf));
        TO_PROPOSALS(perf, *count, out, find);
    } else if (dir == CONV_BWD_DATA) {
        cudnnConvolutionBwdDataAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT];
        const int want = CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
        if (find)
            SIAM_CUDNN_CHECK(ctx, cudnnFindConvolutionBackwardDataAlgorithm(
                                      dnn, p->w, p->y, p->conv, p->x, want, count, perf));
        else
            SIAM_CUDNN_CHECK(ctx, cudnnGetConvolutionBackwardDataAlgorithm_v7(
                                      dnn, p->w, p->y, p->conv, p->x, want, count, perf));
        TO_PROPOSALS(perf, *count, out, find);
    } else {
        cudnnConvolutionBwdFilterAlgoPerf_t perf[CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT];
        const int want = CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
        if (find)
            SIAM_CUDNN_CHECK(ctx, cudnnFindConvolutionBackwardFilterAlgorithm(
                                      dnn, p->x, p->y, p->conv, p->w, want, count, perf));
        else
            SIAM_CUDNN_CHECK(ctx, cudnnGetConvolutionBackwardFilterAlgorithm_v7(
                                      dnn, p->x, p->y, p->conv, p->w, want, count, perf));
        TO_PROPOSALS(perf, *count, out, find);
    }
    return 0;
}

/* The workspace algorithm `algo` of direction dir needs with the math type
 * currently set on the convolution descriptor. */
static cudnnStatus_t workspace_of(siam_ctx *ctx, const siam_cuda_conv_plan *p, int dir, int algo,
                                  size_t *bytes)
{
    if (dir == CONV_FWD)
        return cudnnGetConvolutionForwardWorkspaceSize(ctx->dnn, p->x, p->w, p->conv, p->y,
                                                       (cudnnConvolutionFwdAlgo_t)algo, bytes);
    if (dir == CONV_BWD_DATA)
        return cudnnGetConvolutionBackwardDataWorkspaceSize(
            ctx->dnn, p->w, p->y, p->conv, p->x, (cudnnConvolutionBwdDataAlgo_t)algo, bytes);
    return cudnnGetConvolutionBackwardFilterWorkspaceSize(
        ctx->dnn, p->x, p->y, p->conv, p->w, (cudnnConvolutionBwdFilterAlgo_t)algo, bytes);
}

/* Chooses direction dir's algorithm of plan p, the first time that
 * direction runs: a model's first layer never asks for backward-data (its
 * input needs no gradient), so that choice, and its search, are never made.
 * The rule is siam_conv_algo_choose's (kernels/conv_algo.h): the first
 * deterministic FP32 proposal within the workspace limit, and so on. With a
 * log in the options, one line says what was chosen. */
static int choose_direction(siam_ctx *ctx, siam_cuda_conv_plan *p, int dir)
{
    siam_cuda_conv_dir *d = &p->dir[dir];
    if (d->ready)
        return 0;
    /* Asking for FMA_MATH makes cuDNN propose FP32 algorithms (PyTorch
     * relies on it); DEFAULT_MATH lets it propose TF32 tensor-core ones. */
    cudnnMathType_t ask = ctx->allow_tf32 ? CUDNN_DEFAULT_MATH : CUDNN_FMA_MATH;
    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, ask));
    proposal prop[SIAM_CUDA_MAX_PROPOSALS];
    int count = 0;
    if (propose(ctx, p, dir, prop, &count))
        return -1;
    siam_conv_candidate cand[SIAM_CUDA_MAX_PROPOSALS];
    for (int i = 0; i < count; i++) {
        siam_conv_candidate *c = &cand[i];
        c->algo = prop[i].algo;
        c->name = algo_name(dir, prop[i].algo);
        c->ok = prop[i].status == CUDNN_STATUS_SUCCESS;
        c->deterministic = prop[i].determinism == CUDNN_DETERMINISTIC;
        c->fp32 = prop[i].math == CUDNN_FMA_MATH;
        c->ms = prop[i].ms;
        c->workspace = 0;
        c->workspace_ok = c->ok
                          && cudnnSetConvolutionMathType(p->conv, prop[i].math)
                                 == CUDNN_STATUS_SUCCESS
                          && workspace_of(ctx, p, dir, c->algo, &c->workspace)
                                 == CUDNN_STATUS_SUCCESS;
    }
    int forced = 0;
    int k = siam_conv_algo_choose(cand, count, ctx->allow_tf32, SIAM_CUDA_WORKSPACE_LIMIT,
                                  &forced);
    if (k < 0)
        return siam_cuda_fail(ctx,
                              "conv2d: cuDNN proposed no usable %s algorithm for N=%d Ci=%d "
                              "H=%d W=%d Co=%d kernel %dx%d (%d proposals%s)",
                              dir_name[dir], p->N, p->Ci, p->H, p->W, p->Co, p->KH, p->KW, count,
                              ctx->allow_tf32 ? "" : ", FP32 only");
    d->algo = cand[k].algo;
    d->math = forced ? CUDNN_FMA_MATH : prop[k].math;
    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, d->math));
    SIAM_CUDNN_CHECK(ctx, workspace_of(ctx, p, dir, d->algo, &d->ws));
    d->ready = 1;
    if (ctx->log) {
        char line[320];
        const int shape[7] = { p->N, p->Ci, p->H, p->W, p->Co, p->KH, p->KW };
        cand[k].workspace = d->ws;
        siam_conv_algo_describe(line, sizeof line, shape, dir_name[dir], &cand[k], k, count,
                                forced, ctx->allow_tf32);
        ctx->log(ctx->log_user, line);
    }
    return 0;
}

/* The descriptors of a new plan; the algorithms come later, per direction,
 * from choose_direction. */
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
    int n, c, h, w;
    SIAM_CUDNN_CHECK(ctx, cudnnGetConvolution2dForwardOutputDim(p->conv, p->x, p->w, &n, &c, &h,
                                                                &w));
    if (n != p->N || c != p->Co || h != OH || w != OW)
        return siam_cuda_fail(ctx, "conv2d: cuDNN output shape %dx%dx%dx%d, expected %dx%dx%dx%d",
                              n, c, h, w, p->N, p->Co, OH, OW);
    SIAM_CUDNN_CHECK(ctx, cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT,
                                                     p->N, p->Co, OH, OW));
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
    if (siam_check_conv2d(&ctx->err, "conv2d_forward", N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!out || !in || !w || !b)
        return siam_cuda_fail(ctx, "conv2d_forward: NULL buffer");
    siam_cuda_conv_plan *p = plan_get(ctx, "conv2d_forward", N, Ci, H, W, Co, KH, KW);
    if (p == NULL)
        return -1;
    if (choose_direction(ctx, p, CONV_FWD))
        return siam_fail_wrap(&ctx->err, "conv2d_forward");
    const siam_cuda_conv_dir *d = &p->dir[CONV_FWD];
    void *ws = NULL;
    if (siam_cuda_workspace(ctx, d->ws, &ws))
        return siam_fail_wrap(&ctx->err, "conv2d_forward");
    const float one = 1.0f, zero = 0.0f;
    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, d->math));
    SIAM_CUDNN_CHECK(ctx, cudnnConvolutionForward(ctx->dnn, &one, p->x, in, p->w, w, p->conv,
                                                  (cudnnConvolutionFwdAlgo_t)d->algo, ws, d->ws,
                                                  &zero, p->y, out));
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
    if (siam_check_conv2d(&ctx->err, "conv2d_backward", N, Ci, H, W, Co, KH, KW))
        return -1;
    if (N == 0)
        return 0;
    if (!dw || !db || !dout || !in || !w)
        return siam_cuda_fail(ctx, "conv2d_backward: NULL buffer");
    siam_cuda_conv_plan *p = plan_get(ctx, "conv2d_backward", N, Ci, H, W, Co, KH, KW);
    if (p == NULL)
        return -1;
    if (choose_direction(ctx, p, CONV_BWD_FILTER) || (din && choose_direction(ctx, p, CONV_BWD_DATA)))
        return siam_fail_wrap(&ctx->err, "conv2d_backward");
    const siam_cuda_conv_dir *df = &p->dir[CONV_BWD_FILTER], *dd = &p->dir[CONV_BWD_DATA];
    /* Workspace: cuDNN's (the larger of the two directions), then the
     * bias-gradient partial sums, 256-byte aligned. */
    size_t conv_ws = df->ws;
    if (din && dd->ws > conv_ws)
        conv_ws = dd->ws;
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
    SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, df->math));
    SIAM_CUDNN_CHECK(ctx, cudnnConvolutionBackwardFilter(
                              ctx->dnn, &one, p->x, in, p->y, dout, p->conv,
                              (cudnnConvolutionBwdFilterAlgo_t)df->algo, ws, df->ws, &one, p->w,
                              dw));
    if (din) {
        /* beta = 0: the input gradient is overwritten. */
        SIAM_CUDNN_CHECK(ctx, cudnnSetConvolutionMathType(p->conv, dd->math));
        SIAM_CUDNN_CHECK(ctx, cudnnConvolutionBackwardData(
                                  ctx->dnn, &one, p->w, w, p->y, dout, p->conv,
                                  (cudnnConvolutionBwdDataAlgo_t)dd->algo, ws, dd->ws, &zero,
                                  p->x, din));
    }
    return 0;
}
