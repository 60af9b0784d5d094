/* The CPU backend's context: option checking, the error text, and the
 * grow-only scratch that keeps the training step free of malloc after its
 * first iteration. Uses the private kernels/cpu/cpu.h to look inside. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernels/cpu/cpu.h"

static void ctx_options_and_errors(void **state)
{
    (void)state;
    siam_error err = {{0}};
    siam_ctx_options opt = {.threads = -2};
    assert_null(siam_ops_cpu.ctx_new(&opt, &err));
    assert_string_equal(err.msg, "cpu ctx_new: threads must be >= 0 (0 = all cores), got -2");
    opt.threads = 1;
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&opt, &err);
    assert_non_null(ctx);
    assert_int_equal(ctx->threads, 1);
    siam_ops_cpu.ctx_free(ctx);
    ctx = siam_ops_cpu.ctx_new(NULL, &err); /* NULL options: all cores */
    assert_non_null(ctx);
    assert_true(ctx->threads >= 1);
    assert_string_equal(siam_ops_cpu.ctx_error(ctx), "");
    assert_int_equal(siam_ops_cpu.relu_forward(ctx, NULL, NULL, 3), -1);
    assert_string_equal(siam_ops_cpu.ctx_error(ctx), "relu_forward: NULL buffer");
    siam_ops_cpu.ctx_free(ctx);
    siam_ops_cpu.ctx_free(NULL);
    assert_string_equal(siam_ops_cpu.name, "cpu");
    assert_int_equal(siam_ops_cpu.device, SIAM_DEVICE_CPU);
}

static void scratch_grows_only(void **state)
{
    (void)state;
    siam_error err = {{0}};
    siam_ctx *ctx = siam_ops_cpu.ctx_new(NULL, &err);
    assert_non_null(ctx);
    float *a = siam_cpu_scratch(ctx, 1000);
    assert_non_null(a);
    assert_true(((uintptr_t)a & 63) == 0);
    assert_ptr_equal(siam_cpu_scratch(ctx, 10), a); /* never shrinks */
    float *b = siam_cpu_scratch(ctx, 100000);
    assert_non_null(b);
    assert_true(ctx->scratch_floats >= 100000);

    /* A conv step at conv2's shape sizes the scratch on the first call; the
     * same step again reuses it (no allocation in the steady state), and the
     * chunked batch stays within the 64 MiB budget. */
    const int N = 3, Ci = 64, H = 48, W = 48, Co = 128, K = 7;
    size_t nin = (size_t)N * Ci * H * W, nw = (size_t)Co * Ci * K * K;
    size_t nout = (size_t)N * Co * (H - K + 1) * (W - K + 1);
    float *in = calloc(nin, sizeof *in), *w = calloc(nw, sizeof *w);
    float *bias = calloc(Co, sizeof *bias), *out = calloc(nout, sizeof *out);
    float *dw = calloc(nw, sizeof *dw), *din = calloc(nin, sizeof *din);
    assert_int_equal(siam_ops_cpu.conv2d_forward(ctx, out, in, w, bias, N, Ci, H, W, Co, K, K), 0);
    assert_int_equal(siam_ops_cpu.conv2d_backward(ctx, din, dw, bias, out, in, w, N, Ci, H, W, Co,
                                                  K, K),
                     0);
    float *first = ctx->scratch;
    size_t size = ctx->scratch_floats;
    print_message("scratch after one conv2 step: %.1f MiB\n", size * 4.0 / (1 << 20));
    assert_true(size * sizeof(float) <= SIAM_CPU_CONV_SCRATCH_BYTES);
    assert_int_equal(siam_ops_cpu.conv2d_forward(ctx, out, in, w, bias, N, Ci, H, W, Co, K, K), 0);
    assert_int_equal(siam_ops_cpu.conv2d_backward(ctx, din, dw, bias, out, in, w, N, Ci, H, W, Co,
                                                  K, K),
                     0);
    assert_ptr_equal(ctx->scratch, first);
    assert_int_equal(ctx->scratch_floats, size);
    free(in), free(w), free(bias), free(out), free(dw), free(din);
    siam_ops_cpu.ctx_free(ctx);
}

/* kB of transparent huge pages in the mapping that holds p, from
 * /proc/self/smaps; -1 when it cannot be read. */
static long huge_kb_at(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return -1;
    char line[512];
    int inside = 0;
    long kb = -1;
    uintptr_t a = (uintptr_t)p;
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2 && strchr(line, '-') < strchr(line, ' '))
            inside = a >= lo && a < hi;
        else if (inside && sscanf(line, "AnonHugePages: %ld kB", &kb) == 1)
            break;
    }
    fclose(f);
    return kb;
}

/* Buffers of 2 MiB and more start on a huge-page boundary and ask for
 * transparent huge pages: the optimizer and the memory-bound passes walk
 * hundreds of MiB, and with 4 KiB pages a training step was 15-25% slower
 * and twice as variable (docs/perf.md, "Huge pages"). Small buffers keep
 * the ordinary alignment. */
static void large_buffers_use_huge_pages(void **state)
{
    (void)state;
    siam_error err = {{0}};
    siam_ctx *ctx = siam_ops_cpu.ctx_new(NULL, &err);
    assert_non_null(ctx);
    size_t bytes = ((size_t)8 << 20) + 100;
    unsigned char *big = siam_ops_cpu.mem_alloc(ctx, bytes);
    void *small = siam_ops_cpu.mem_alloc(ctx, 1000);
    assert_non_null(big);
    assert_non_null(small);
    assert_true(((uintptr_t)big & (((uintptr_t)2 << 20) - 1)) == 0);
    assert_true(((uintptr_t)small & (SIAM_DEVICE_ALIGN - 1)) == 0);
    assert_int_equal(big[0], 0); /* still zero-filled */
    assert_int_equal(big[bytes - 1], 0);
    char mode[128] = "";
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (f) {
        if (!fgets(mode, sizeof mode, f))
            mode[0] = 0;
        fclose(f);
    }
    long kb = huge_kb_at(big);
    print_message("transparent huge pages: %s", mode[0] ? mode : "(no setting)\n");
    print_message("huge pages in the 8 MiB buffer's mapping: %ld kB\n", kb);
#if defined(__SANITIZE_ADDRESS__)
    (void)kb; /* ASan's allocator maps memory its own way */
#else
    if (strstr(mode, "[always]") || strstr(mode, "[madvise]"))
        assert_true(kb >= 8192);
#endif
    siam_ops_cpu.mem_free(ctx, big);
    siam_ops_cpu.mem_free(ctx, small);
    siam_ops_cpu.ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ctx_options_and_errors),
        cmocka_unit_test(scratch_grows_only),
        cmocka_unit_test(large_buffers_use_huge_pages),
    };
    return cmocka_run_group_tests_name("cpu_ctx", tests, NULL, NULL);
}
