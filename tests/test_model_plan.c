/* The model's memory plan (host/model.h, siam_model_plan_of): it equals the
 * bytes the model really allocates on both ways through the tower, sizes
 * that overflow are refused before any allocation, a batch that cannot fit
 * is refused with what it needs, and /proc/meminfo's MemAvailable is read
 * right. No test allocates more than a few megabytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host_memory.h"
#include "host/model.h"
#include "kernels/philox.h"
#include "tests/support/counting_ops.h"
#include "tests/support/tiny_model.h"

/* Builds the model on the counting table, runs one training forward (which
 * allocates the fused way's training buffers) and compares the bytes that
 * went through mem_alloc with the plan: eval_bytes at construction, then
 * total_bytes. Above SIAM_MODEL_EVAL_CHUNK images the fused way's four
 * eval arenas are made for one chunk, and the training forward replaces
 * them with whole-batch ones: the counter, which never subtracts, then
 * also holds the chunk-sized ones. */
static void plan_is_what_the_model_allocates(int plain, unsigned head, int B)
{
    const siam_ops *ops = siam_counting_ops(plain);
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = ops->ctx_new(&o, &err);
    assert_non_null(ctx);
    siam_model_config cfg;
    siam_test_small_config(&cfg);
    cfg.head = head;
    siam_model_plan plan;
    if (siam_model_plan_of(ops, &cfg, B, &plan, &err))
        fail_msg("%s", err.msg);
    siam_counting_ops_reset();
    siam_model *m = siam_model_new(ops, ctx, &cfg, B, &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(plan.params, siam_model_numel(m));
    assert_int_equal(plan.buffers, siam_model_buffer_numel(m));
    /* parameters, their gradients, BN statistics */
    assert_int_equal(plan.weight_bytes, (2 * plan.params + plan.buffers) * 4);
    assert_int_equal(plan.weight_bytes + plan.activation_bytes, plan.total_bytes);
    uint64_t at_new = siam_counting_ops_count().bytes;
    assert_int_equal(at_new, plan.eval_bytes);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 1, &err), 0);
    size_t nx = (size_t)2 * B * 32 * 32;
    float *x = malloc(nx * sizeof *x);
    for (size_t i = 0; i < nx; i++)
        x[i] = siam_philox_uniform(1, 0, i);
    assert_int_equal(ops->upload(ctx, siam_model_input(m), x, nx * sizeof *x), 0);
    free(x);
    if (siam_model_forward(m, B, &err))
        fail_msg("%s", err.msg);
    siam_alloc_count c = siam_counting_ops_count();
    /* conv1 output 4x28x28 and pool1 output 4x14x14, the largest of each,
     * conv4's output (16 values) and fc (32) */
    uint64_t arenas = !plain && 2 * B > SIAM_MODEL_EVAL_CHUNK
                    ? (uint64_t)SIAM_MODEL_EVAL_CHUNK * (4 * 28 * 28 + 4 * 14 * 14 + 16 + 32) * 4
                    : 0;
    assert_int_equal(c.bytes, plan.total_bytes + arenas);
    if (plain)
        assert_int_equal(at_new, plan.total_bytes); /* all of it at construction */
    else
        assert_true(at_new < plan.total_bytes); /* training buffers came with the forward */
    siam_model_free(m);
    ops->ctx_free(ctx);
}

static void plan_matches_allocations(void **state)
{
    (void)state;
    plan_is_what_the_model_allocates(0, SIAM_HEAD_L1, 5);
    plan_is_what_the_model_allocates(1, SIAM_HEAD_L1, 5);
    plan_is_what_the_model_allocates(0, SIAM_HEAD_RICH, 5);
    plan_is_what_the_model_allocates(1, SIAM_HEAD_RICH, 5);
    plan_is_what_the_model_allocates(0, SIAM_HEAD_L1, 40);
    plan_is_what_the_model_allocates(1, SIAM_HEAD_L1, 40);
}

/* Sizes whose int products would wrap (a bit flipped in a checkpoint's
 * architecture gave one of 18446741874686696968 bytes) are refused by the
 * configuration check. */
static void oversized_configurations_are_refused(void **state)
{
    (void)state;
    siam_error err;
    siam_model_config cfg;
    siam_test_small_config(&cfg);
    cfg.in_h = cfg.in_w = 2056; /* conv4 output 254x254 */
    cfg.channels[3] = 65536;    /* 65536 * 254 * 254 > 2^31 */
    cfg.kernels[3] = 2;
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: conv4 (65536 x 8 x 2x2, output 254x254) exceeds "
                                 "2^31 elements in a tensor");
    siam_test_small_config(&cfg);
    cfg.in_h = 65537;
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: input height 65537 is outside 1..65536");
    siam_test_small_config(&cfg);
    cfg.channels[1] = 1 << 20;
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: conv2 has 1048576 channels, more than 65536");
    siam_test_small_config(&cfg);
    cfg.fc_units = (1 << 24) + 1;
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: fc_units 16777217 is outside 1..16777216");
    siam_test_small_config(&cfg);
    cfg.channels[3] = 128; /* conv4 output 128 x 1x1: fc weight fc_units x 128 */
    cfg.fc_units = 1 << 24;
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: fc weight (16777216 x 128) exceeds 2^31 elements");

    /* A configuration within the limits whose activations at the largest
     * batch overflow 64 bits: refused by the plan, nothing allocated. */
    siam_model_config_default(&cfg);
    cfg.in_h = 32768;
    cfg.in_w = 32767;
    int two[4] = { 2, 2, 2, 2 };
    memcpy(cfg.channels, two, sizeof two);
    cfg.kernels[0] = 1; /* conv1 output 2 x 32768 x 32767, just below 2^31 per image */
    cfg.fc_units = 1;
    siam_model_plan plan;
    assert_int_equal(siam_model_plan_of(&siam_ops_cpu, &cfg, (1 << 30) - 1, &plan, &err), -1);
    assert_string_equal(err.msg, "model: the memory for batch 1073741823 overflows 64-bit sizes");
    assert_int_equal(siam_model_plan_of(&siam_ops_cpu, &cfg, 1 << 30, &plan, &err), -1);
    assert_string_equal(err.msg, "model: max_batch 1073741824 must be in 1..1073741823");
}

/* A batch the machine cannot hold is refused before any allocation, with
 * the memory it would need; an explicit limit is named as such. */
static void batch_that_cannot_fit_is_refused(void **state)
{
    (void)state;
    siam_error err;
    siam_model_config cfg;
    siam_model_config_default(&cfg); /* the paper's network */
    siam_model_plan plan;
    assert_int_equal(siam_model_plan_of(&siam_ops_cpu, &cfg, 65536, &plan, &err), 0);
    /* 38,952,897 parameters (BN weights and biases included), their
     * gradients and 1,152 BN running statistics, float32 */
    assert_int_equal(plan.params, 38952897);
    assert_int_equal(plan.buffers, 1152);
    assert_int_equal(plan.weight_bytes, (2 * 38952897ull + 1152) * 4);
    /* An inference-only paper model at batch 128: parameters and statistics,
     * 256 input images, arenas for one chunk of 64 images (conv1 and pool1
     * outputs, conv4 block output, fc), the embeddings, |e1 - e2|, logit and
     * probability: 365.5 MB, and over three times that once trained. */
    siam_model_plan p128;
    assert_int_equal(siam_model_plan_of(&siam_ops_cpu, &cfg, 128, &p128, &err), 0);
    assert_int_equal(SIAM_MODEL_EVAL_CHUNK, 64);
    assert_int_equal(p128.eval_bytes,
                     (38952897ull + 1152 + 256 * 105 * 105 +
                      64 * (64 * 96 * 96 + 64 * 48 * 48 + 256 * 6 * 6 + 4096) + 256 * 4096 +
                      128 * 4096 + 2 * 128) * 4);
    assert_true(p128.total_bytes > 3 * p128.eval_bytes);
    assert_int_equal(siam_model_plan_check(&plan, 65536, 1ull << 30, 0, &err), -1);
    char want[512], total[32], act[32];
    snprintf(want, sizeof want,
             "model: batch 65536 needs %s (activations %s, parameters, gradients and BN "
             "statistics 297.2 MiB); this machine has 1.0 GiB available",
             siam_format_bytes(total, sizeof total, plan.total_bytes),
             siam_format_bytes(act, sizeof act, plan.activation_bytes));
    assert_string_equal(err.msg, want);
    assert_int_equal(siam_model_plan_check(&plan, 65536, 1ull << 29, 1, &err), -1);
    assert_non_null(strstr(err.msg, "; the limit is 512.0 MiB"));
    assert_int_equal(siam_model_plan_check(&plan, 65536, 0, 0, &err), 0); /* unknown: no check */
    assert_int_equal(siam_model_plan_check(&plan, 65536, plan.total_bytes, 0, &err), 0);

    /* The real constructor: hundreds of GiB are more than a test machine has,
     * and nothing is allocated. */
    const siam_ops *ops = siam_counting_ops(0);
    siam_counting_ops_reset();
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = ops->ctx_new(&o, &err);
    assert_null(siam_model_new(ops, ctx, &cfg, 65536, &err));
    assert_memory_equal(err.msg, "model: batch 65536 needs ", 25);
    assert_non_null(strstr(err.msg, " available"));
    assert_int_equal(siam_counting_ops_count().calls, 0);
    siam_model_config small;
    siam_test_small_config(&small);
    assert_null(siam_model_new_within(ops, ctx, &small, 4, 1000, &err));
    assert_non_null(strstr(err.msg, "; the limit is 1000 B"));
    assert_int_equal(siam_counting_ops_count().calls, 0);
    ops->ctx_free(ctx);
}

static void meminfo_and_sizes(void **state)
{
    (void)state;
    const char *text = "MemTotal:       24683548 kB\nMemFree:          512000 kB\n"
                       "MemAvailable:   24293996 kB\nBuffers:  10 kB\n";
    assert_int_equal(siam_meminfo_available(text), 24293996ull * 1024);
    assert_int_equal(siam_meminfo_available("MemTotal: 5 kB\n"), 0);
    assert_int_equal(siam_meminfo_available("MemAvailable: x kB\n"), 0);
    assert_int_equal(siam_meminfo_available("MemAvailable: 12 MB\n"), 0);
    assert_int_equal(siam_meminfo_available("XMemAvailable: 12 kB\n"), 0);
    assert_true(siam_host_memory_available() > 0); /* this machine has a /proc/meminfo */
    char b[32];
    assert_string_equal(siam_format_bytes(b, sizeof b, 0), "0 B");
    assert_string_equal(siam_format_bytes(b, sizeof b, 1023), "1023 B");
    assert_string_equal(siam_format_bytes(b, sizeof b, 1536), "1.5 KiB");
    assert_string_equal(siam_format_bytes(b, sizeof b, 20723217203ull), "19.3 GiB");
    assert_string_equal(siam_format_bytes(b, sizeof b, UINT64_MAX), "16.0 EiB");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(plan_matches_allocations),
        cmocka_unit_test(oversized_configurations_are_refused),
        cmocka_unit_test(batch_that_cannot_fit_is_refused),
        cmocka_unit_test(meminfo_and_sizes),
    };
    return cmocka_run_group_tests_name("model_plan", tests, NULL, NULL);
}
