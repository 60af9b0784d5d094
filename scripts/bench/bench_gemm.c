/* FLOP ceiling of this machine through OpenBLAS: sgemm at a large square
 * size and at conv2's im2col shape, and cgemm at the per-frequency shape of
 * the FFT convolution. Prints `gemm: name=GFLOP/s` lines. Not part of the
 * library; built by scripts/bench.sh. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static void sg(const char *name, int M, int N, int K, int reps)
{
    float *a = calloc((size_t)M * K, 4), *b = calloc((size_t)K * N, 4), *c = calloc((size_t)M * N, 4);
    for (size_t i = 0; i < (size_t)M * K; i++) a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)K * N; i++) b[i] = (float)(i % 5) * 0.1f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, b, N, 0, c, N);
    double t = now();
    for (int r = 0; r < reps; r++)
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1, a, K, b, N, 0, c, N);
    t = now() - t;
    printf("gemm: %s=%.1f GFLOP/s\n", name, 2.0 * M * N * K * reps / t * 1e-9);
    free(a); free(b); free(c);
}

static void cg(const char *name, int M, int N, int K, int reps)
{
    float *a = calloc((size_t)M * K * 2, 4), *b = calloc((size_t)K * N * 2, 4), *c = calloc((size_t)M * N * 2, 4);
    for (size_t i = 0; i < (size_t)M * K * 2; i++) a[i] = (float)(i % 7) * 0.1f;
    for (size_t i = 0; i < (size_t)K * N * 2; i++) b[i] = (float)(i % 5) * 0.1f;
    float one[2] = {1, 0}, zero[2] = {0, 0};
    cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, one, a, K, b, N, zero, c, N);
    double t = now();
    for (int r = 0; r < reps; r++)
        cblas_cgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, one, a, K, b, N, zero, c, N);
    t = now() - t;
    printf("gemm: %s=%.1f GFLOP/s (real-equivalent, 8 flops per complex MAC)\n", name,
           8.0 * M * N * K * reps / t * 1e-9);
    free(a); free(b); free(c);
}

int main(void)
{
    sg("sgemm_2048", 2048, 2048, 2048, 5);
    sg("sgemm_conv2_fwd_128x1764x3136", 128, 1764, 3136, 10);
    cg("cgemm_64x128x64", 64, 128, 64, 2000);
    cg("cgemm_64x64x128", 64, 64, 128, 2000);
    cg("cgemm_64x128x64_x16", 64 * 16, 128, 64, 200);
    return 0;
}
