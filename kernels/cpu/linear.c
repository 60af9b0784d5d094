/* Fully connected layer on the CPU (torch.nn.Linear): SGEMM with the weight
 * in PyTorch's (out, in) layout. */
#include "kernels/cpu/blas.h"

#include "kernels/cpu/cpu.h"

int siam_cpu_linear_forward(siam_ctx *ctx, float *out, const float *in, const float *w,
                            const float *b, int N, int I, int O)
{
    if (siam_check_linear(&ctx->err, "linear_forward", N, I, O))
        return -1;
    if (N == 0)
        return 0;
    if (!out || !in || !w || !b)
        return siam_cpu_fail(ctx, "linear_forward: NULL buffer");
#pragma omp parallel for schedule(static)
    for (int n = 0; n < N; n++)
        for (int o = 0; o < O; o++)
            out[(size_t)n * O + o] = b[o];
    /* out (N,O) += in (N,I) * w^T (I,O). */
    siam_cpu_blas_threads(ctx, 0);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, N, O, I, 1.0f, in, I, w, I, 1.0f, out,
                O);
    return 0;
}

int siam_cpu_linear_backward(siam_ctx *ctx, float *din, float *dw, float *db, const float *dout,
                             const float *in, const float *w, int N, int I, int O)
{
    if (siam_check_linear(&ctx->err, "linear_backward", N, I, O))
        return -1;
    if (N == 0)
        return 0;
    if (!dw || !db || !dout || !in || !w)
        return siam_cpu_fail(ctx, "linear_backward: NULL buffer");
#pragma omp parallel for schedule(static)
    for (int o = 0; o < O; o++) {
        double s = 0.0;
        for (int n = 0; n < N; n++)
            s += dout[(size_t)n * O + o];
        db[o] += (float)s;
    }
    /* dw (O,I) += dout^T (O,N) * in (N,I). */
    siam_cpu_blas_threads(ctx, 0);
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, O, I, N, 1.0f, dout, O, in, I, 1.0f, dw,
                I);
    /* din (N,I) = dout (N,O) * w (O,I). */
    if (din)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, I, O, 1.0f, dout, O, w, I, 0.0f,
                    din, I);
    return 0;
}
