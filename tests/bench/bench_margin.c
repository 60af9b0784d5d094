/* Times ops->margin_softmax (loss and both gradients) at the identity
 * head's real sizes: N = 64, D = 512, C = 2000, s = 64, m = 0.5, for each
 * kind. Not a test and not run by make test or make bench; build and run by
 * hand (docs/training.md, "Identity heads"):
 *
 *     make build/tests/bench/bench_margin && build/tests/bench/bench_margin [cpu|cuda] [threads]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/ops.h"
#include "kernels/philox.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void *put(const siam_ops *o, siam_ctx *ctx, const void *host, size_t bytes)
{
    void *d = o->mem_alloc(ctx, bytes);
    if (!d || o->upload(ctx, d, host, bytes)) {
        fprintf(stderr, "bench_margin: %s\n", o->ctx_error(ctx));
        exit(1);
    }
    return d;
}

int main(int argc, char **argv)
{
    enum { N = 64, D = 512, C = 2000, REPS = 20 };
    const char *kinds[] = { "softmax", "cosface", "arcface" };
    int cuda = argc > 1 && strcmp(argv[1], "cuda") == 0;
    const siam_ops *o = cuda ? siam_ops_cuda() : &siam_ops_cpu;
    siam_ctx_options opt = { .threads = argc > 2 ? atoi(argv[2]) : 0 };
    siam_error err = {{0}};
    siam_ctx *ctx = o ? o->ctx_new(&opt, &err) : NULL;
    if (!ctx) {
        fprintf(stderr, "bench_margin: %s\n", o ? err.msg : "cuda backend not built");
        return 3;
    }
    float *e = malloc(sizeof(float) * N * D), *w = malloc(sizeof(float) * C * D);
    int32_t labels[N];
    if (!e || !w)
        return 1;
    for (size_t i = 0; i < (size_t)N * D; i++)
        e[i] = siam_philox_uniform(1, 1, i) * 2.0f - 1.0f;
    for (size_t i = 0; i < (size_t)C * D; i++)
        w[i] = siam_philox_uniform(1, 2, i) * 2.0f - 1.0f;
    for (int i = 0; i < N; i++)
        labels[i] = (int32_t)((i * 31) % C);
    float *E = put(o, ctx, e, sizeof(float) * N * D), *W = put(o, ctx, w, sizeof(float) * C * D);
    float *dE = o->mem_alloc(ctx, sizeof(float) * N * D);
    float *dW = o->mem_alloc(ctx, sizeof(float) * C * D);
    int32_t *l = put(o, ctx, labels, sizeof labels);
    for (int kind = 0; kind < 3; kind++) {
        float loss = 0.0f;
        double t0 = 0.0;
        for (int r = 0; r <= REPS; r++) {
            if (r == 1)
                t0 = now();
            if (o->margin_softmax(ctx, &loss, dE, dW, E, l, W, N, D, C, kind, 64.0f, 0.5f,
                                  1.0f) || o->synchronize(ctx)) {
                fprintf(stderr, "bench_margin: %s\n", o->ctx_error(ctx));
                return 1;
            }
        }
        printf("margin_softmax %s %s N=%d D=%d C=%d: %.2f ms per call (loss %.3f)\n", o->name,
               kinds[kind], N, D, C, (now() - t0) / REPS * 1e3, (double)loss);
    }
    o->mem_free(ctx, E), o->mem_free(ctx, W), o->mem_free(ctx, dE), o->mem_free(ctx, dW);
    o->mem_free(ctx, l);
    o->ctx_free(ctx);
    free(e), free(w);
    return 0;
}
