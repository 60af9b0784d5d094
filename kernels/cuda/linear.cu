/* Fully connected layer on the GPU (torch.nn.Linear) through cuBLAS SGEMM.
 * cuBLAS is column-major; a row-major (R, C) matrix is the column-major
 * (C, R) matrix, its transpose, so each row-major product below is written
 * as the transposed column-major one (out^T = w * in^T and so on). TF32 is
 * used only when the context allows it (siam_ctx_options.allow_tf32). */
#include "kernels/cuda/cuda.h"

/* out (N,O) += b (O) broadcast over rows. */
static __global__ void bias_rows_kernel(float *out, const float *b, int N, int O)
{
    size_t total = (size_t)N * O;
    SIAM_CUDA_FOR(k, total)
        out[k] += b[k % (size_t)O];
}

/* db (O) += sum over rows of dout (N,O), in double as the CPU twin; adjacent
 * threads read adjacent columns, so the loads coalesce. */
static __global__ void bias_grad_rows_kernel(float *db, const float *dout, int N, int O)
{
    SIAM_CUDA_FOR(o, (size_t)O) {
        double s = 0.0;
        for (int n = 0; n < N; n++)
            s += dout[(size_t)n * O + o];
        db[o] += (float)s;
    }
}

int siam_cuda_linear_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                             const float *b, int N, int I, int O)
{
    if (siam_check_linear(&ctx->err, "linear_forward", N, I, O))
        return -1;
    if (N == 0)
        return 0;
    if (!out || !in || !w || !b)
        return siam_cuda_fail(ctx, "linear_forward: NULL buffer");
    const float one = 1.0f, zero = 0.0f;
    /* out^T (O,N) = w (O,I; stored as col-major I x O, so op T) * in^T (I,N). */
    SIAM_CUBLAS_CHECK(ctx, cublasSgemm(ctx->blas, CUBLAS_OP_T, CUBLAS_OP_N, O, N, I, &one, w, I,
                                       in, I, &zero, out, O));
    size_t total = (size_t)N * O;
    bias_rows_kernel<<<siam_cuda_blocks(total), SIAM_CUDA_THREADS, 0, ctx->stream>>>(out, b, N,
                                                                                    O);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    return 0;
}

int siam_cuda_linear_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                              const float *in, const float *w, int N, int I, int O)
{
    if (siam_check_linear(&ctx->err, "linear_backward", N, I, O))
        return -1;
    if (N == 0)
        return 0;
    if (!dw || !db || !dout || !in || !w)
        return siam_cuda_fail(ctx, "linear_backward: NULL buffer");
    const float one = 1.0f, zero = 0.0f;
    /* dw (O,I) += dout^T (O,N) * in (N,I); column-major: dw^T (I,O) =
     * in^T (I,N) * dout (N,O), where dout's storage is dout^T (O,N): op T. */
    SIAM_CUBLAS_CHECK(ctx, cublasSgemm(ctx->blas, CUBLAS_OP_N, CUBLAS_OP_T, I, O, N, &one, in, I,
                                       dout, O, &one, dw, I));
    bias_grad_rows_kernel<<<siam_cuda_blocks((size_t)O), SIAM_CUDA_THREADS, 0, ctx->stream>>>(
        db, dout, N, O);
    SIAM_CUDA_LAUNCH_CHECK(ctx);
    if (din) {
        /* din (N,I) = dout (N,O) * w (O,I); column-major: din^T (I,N) =
         * w^T (I,O; w's storage as is) * dout^T (O,N). */
        SIAM_CUBLAS_CHECK(ctx, cublasSgemm(ctx->blas, CUBLAS_OP_N, CUBLAS_OP_N, I, N, O, &one, w,
                                           I, dout, O, &zero, din, I));
    }
    return 0;
}
