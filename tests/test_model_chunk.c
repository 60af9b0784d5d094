/* Inference in chunks (host/model.h, siam_model_set_eval_chunk): an eval
 * forward that streams the images through the conv tower a few at a time
 * gives the probabilities of the whole batch at once within CHUNK_TOL, at
 * batches that are not multiples of the chunk, on the direct and the
 * Fourier convolutions, before and after training; the eval buffers hold
 * one chunk, and bad chunks are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "host/model.h"
#include "kernels/cpu/conv2d_select.h"
#include "kernels/philox.h"
#include "tests/support/tiny_model.h"

#define MAXB 13

/* Not bit for bit: OpenBLAS picks its SGEMM kernel, and with it the order
 * of each dot product's sum, by the shape of the call, and the number of
 * images in a conv call is one of its dimensions. The differences seen are
 * one float ulp of the probability (3e-8 near 0.5, docs/perf.md); a chunk
 * that read or wrote the wrong images moves a probability by far more
 * than this, since the pairs' probabilities are at least MIN_GAP apart. */
#define CHUNK_TOL 1e-6
#define MIN_GAP 1e-5

/* Large enough that conv1 and conv2 take the Fourier path on the "auto"
 * table (kernels/cpu/conv2d_select.c), whose products batch the images. */
static void fft_config(siam_model_config *cfg)
{
    siam_model_config_default(cfg);
    cfg->in_h = cfg->in_w = 40;
    int ch[4] = { 16, 32, 32, 32 }, k[4] = { 8, 4, 3, 2 };
    memcpy(cfg->channels, ch, sizeof ch);
    memcpy(cfg->kernels, k, sizeof k);
    cfg->fc_units = 64;
    cfg->head = SIAM_HEAD_RICH;
}

/* A model of max_batch B with PyTorch init (the out layer scaled), BN running statistics moved
 * away from (0, 1) so that eval's batch norm does real work, and the same
 * random input in all 2*B rows. */
static siam_model *make(const siam_ops *ops, siam_ctx *ctx, const siam_model_config *cfg,
                        int B, float out_scale)
{
    siam_error err;
    siam_model *m = siam_model_new(ops, ctx, cfg, B, &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 7, &err), 0);
    /* PyTorch's init leaves every probability near 0.46; a larger out
     * layer (by out_scale, chosen per configuration) spreads them over
     * (0, 1). */
    size_t n = siam_model_numel(m);
    float *p = malloc(n * sizeof *p);
    assert_int_equal(siam_model_download_params(m, p, &err), 0);
    const siam_param_info *ow = siam_model_param(m, siam_model_param_find(m, "out.weight"));
    for (size_t i = 0; i < ow->numel; i++)
        p[ow->offset + i] *= out_scale;
    assert_int_equal(siam_model_upload_params(m, p, &err), 0);
    free(p);
    size_t nb = siam_model_buffer_numel(m);
    float *rs = malloc(nb * sizeof *rs);
    for (int j = 0; j < 8; j++) {
        const siam_param_info *b = siam_model_buffer(m, j);
        for (size_t i = 0; i < b->numel; i++)
            rs[b->offset + i] = (j % 2 ? 0.5f : -0.2f) + siam_philox_uniform(3, (uint64_t)j, i);
    }
    assert_int_equal(ops->upload(ctx, siam_model_buffers(m), rs, nb * sizeof *rs), 0);
    free(rs);
    size_t nx = (size_t)2 * B * cfg->in_h * cfg->in_w;
    float *x = malloc(nx * sizeof *x);
    /* Each image its own contrast and brightness, so that the pairs'
     * probabilities are far apart. */
    size_t hw = (size_t)cfg->in_h * cfg->in_w;
    for (size_t i = 0; i < nx; i++) {
        float row = (float)(i / hw);
        x[i] = (1.0f + 0.37f * row) * siam_philox_uniform(11, 0, i) - 0.11f * row;
    }
    assert_int_equal(ops->upload(ctx, siam_model_input(m), x, nx * sizeof *x), 0);
    free(x);
    siam_model_set_training(m, 0);
    return m;
}

/* Eval forward of B pairs with the given chunk into probs (B). Forward reads
 * rows 0..2B-1 of the input make() uploaded: below max_batch the right
 * images are other left images, which is as good an input as any, as long
 * as both models see the same one. */
static void probs_at(siam_model *m, int chunk, int B, float *probs)
{
    siam_error err;
    if (siam_model_set_eval_chunk(m, chunk, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(siam_model_eval_chunk(m), chunk);
    if (siam_model_forward(m, B, &err))
        fail_msg("%s", err.msg);
    const siam_ops *o = siam_model_ops(m);
    assert_int_equal(o->download(siam_model_ctx(m), probs, siam_model_probs(m),
                                 (size_t)B * sizeof *probs), 0);
}

/* Chunks of 1, 3, 5 and 8 images against the whole batch, at batches of 1,
 * 2, 7 and 13 pairs (2, 4, 14 and 26 images: never all multiples of a
 * chunk). Each chunked run is a new model with the same parameters, so
 * nothing is left in its buffers by an earlier run: a chunk that wrote
 * over another's output, read the wrong input rows or dropped the tail
 * would show. */
static void chunked_equals_whole(const siam_ops *ops, const siam_model_config *cfg,
                                 float out_scale)
{
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = ops->ctx_new(&o, &err);
    assert_non_null(ctx);
    siam_model *whole = make(ops, ctx, cfg, MAXB, out_scale);
    static const int batches[4] = { 1, 2, 7, 13 }, chunks[4] = { 1, 3, 5, 8 };
    float want[MAXB], got[MAXB];
    int compared = 0;
    double worst = 0;
    for (int b = 0; b < 4; b++) {
        int B = batches[b];
        probs_at(whole, 0, B, want);
        for (int i = 0; i < B; i++) {
            assert_true(want[i] > 0.0f && want[i] < 1.0f);
            for (int j = 0; j < i; j++)
                if (fabs((double)want[i] - want[j]) < MIN_GAP)
                    fail_msg("batch %d: pairs %d and %d are too alike to tell apart (%.9g, %.9g)",
                             B, j, i, (double)want[j], (double)want[i]);
        }
        for (int c = 0; c < 4; c++) {
            siam_model *chunked = make(ops, ctx, cfg, MAXB, out_scale);
            probs_at(chunked, chunks[c], B, got);
            siam_model_free(chunked);
            for (int i = 0; i < B; i++) {
                double d = fabs((double)got[i] - want[i]);
                worst = d > worst ? d : worst;
                if (!(d <= CHUNK_TOL))
                    fail_msg("batch %d, chunk %d: pair %d gives %.9g, the whole batch %.9g", B,
                             chunks[c], i, (double)got[i], (double)want[i]);
            }
            compared += B;
        }
    }
    assert_int_equal(compared, 4 * (1 + 2 + 7 + 13));
    printf("  largest |chunked - whole| over %d probabilities: %.3g\n", compared, worst);
    siam_model_free(whole);
    ops->ctx_free(ctx);
}

static void chunks_on_direct_convolution(void **state)
{
    (void)state;
    siam_model_config cfg;
    siam_test_small_config(&cfg);
    chunked_equals_whole(&siam_ops_cpu, &cfg, 300.0f);
}

static void chunks_on_fourier_convolution(void **state)
{
    (void)state;
    siam_ops ops;
    siam_ops_cpu_fast_init(&ops, SIAM_CONV_AUTO);
    siam_model_config cfg;
    fft_config(&cfg);
    chunked_equals_whole(&ops, &cfg, 20.0f);
}

static void assert_close(const float *want, const float *got, int B)
{
    for (int i = 0; i < B; i++)
        if (!(fabs((double)got[i] - want[i]) <= CHUNK_TOL))
            fail_msg("pair %d of %d gives %.9g, the whole batch %.9g", i, B, (double)got[i],
                     (double)want[i]);
}

/* At max_batch 40 (80 images, more than the default chunk) the first
 * training forward replaces the chunk-sized arenas with whole-batch ones;
 * eval before and after it still matches the whole batch, and the step
 * itself is the same with and without chunked evals before it. */
static void chunks_after_training(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&o, &err);
    assert_non_null(ctx);
    siam_model_config cfg;
    siam_test_small_config(&cfg);
    siam_model *a = make(&siam_ops_cpu, ctx, &cfg, 40, 30.0f);
    siam_model *b = make(&siam_ops_cpu, ctx, &cfg, 40, 30.0f);
    float want[40], got[40];
    probs_at(a, 0, 40, want);
    probs_at(b, SIAM_MODEL_EVAL_CHUNK, 40, got);
    assert_close(want, got, 40);
    float labels[40], *labels_dev = siam_ops_cpu.mem_alloc(ctx, sizeof labels);
    for (int i = 0; i < 40; i++)
        labels[i] = (float)(i % 2);
    assert_int_equal(siam_ops_cpu.upload(ctx, labels_dev, labels, sizeof labels), 0);
    siam_model *ms[2] = { a, b };
    for (int k = 0; k < 2; k++) {
        siam_model_set_training(ms[k], 1);
        if (siam_model_zero_grad(ms[k], &err) || siam_model_forward(ms[k], 37, &err) ||
            siam_model_backward(ms[k], 37, labels_dev, &err))
            fail_msg("%s", err.msg);
        siam_model_set_training(ms[k], 0);
    }
    size_t n = siam_model_numel(a);
    float *ga = malloc(n * sizeof *ga), *gb = malloc(n * sizeof *gb);
    assert_int_equal(siam_ops_cpu.download(ctx, ga, siam_model_grads(a), n * sizeof *ga), 0);
    assert_int_equal(siam_ops_cpu.download(ctx, gb, siam_model_grads(b), n * sizeof *gb), 0);
    assert_memory_equal(ga, gb, n * sizeof *ga);
    free(ga);
    free(gb);
    probs_at(a, 0, 21, want);
    probs_at(b, 5, 21, got);
    assert_close(want, got, 21);
    probs_at(b, SIAM_MODEL_EVAL_CHUNK, 40, got);
    probs_at(a, 0, 40, want);
    assert_close(want, got, 40);
    siam_ops_cpu.mem_free(ctx, labels_dev);
    siam_model_free(a);
    siam_model_free(b);
    siam_ops_cpu.ctx_free(ctx);
}

/* The plan's eval_bytes is what a new model holds: with the default chunk
 * its arenas (the conv and pool outputs, block 4's output, fc) hold
 * SIAM_MODEL_EVAL_CHUNK images however large the batch, so two batches
 * differ only by what grows with the pairs (input, embeddings, head). */
static void eval_memory_is_one_chunk(void **state)
{
    (void)state;
    siam_error err;
    siam_model_config cfg;
    siam_test_small_config(&cfg);
    siam_model_plan p100, p200;
    assert_int_equal(siam_model_plan_of(&siam_ops_cpu, &cfg, 100, &p100, &err), 0);
    assert_int_equal(siam_model_plan_of(&siam_ops_cpu, &cfg, 200, &p200, &err), 0);
    /* Per pair: two 32x32 inputs, two embeddings (2 x 32), the head (32),
     * logit and probability. */
    uint64_t per_pair = (2 * 1024 + 2 * 32 + 32 + 2) * 4;
    assert_int_equal(p200.eval_bytes - p100.eval_bytes, 100 * per_pair);
    /* Once trained it holds whole-batch activations, as before chunking. */
    assert_true(p200.total_bytes - p100.total_bytes > 2 * (p200.eval_bytes - p100.eval_bytes));
    /* Chunk arenas per image: conv1 output 4x28x28, pool1 output 4x14x14,
     * conv4 output (16 values), fc (32). */
    uint64_t arenas = (uint64_t)SIAM_MODEL_EVAL_CHUNK * (4 * 28 * 28 + 4 * 14 * 14 + 16 + 32) * 4;
    /* The parameters and BN statistics, without gradients (a training
     * buffer). */
    assert_int_equal(p100.eval_bytes,
                     (p100.params + p100.buffers) * 4 + arenas + 100 * per_pair);
}

static void bad_chunks_are_refused(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx_options o = { .threads = 1 };
    siam_ctx *ctx = siam_ops_cpu.ctx_new(&o, &err);
    siam_model_config cfg;
    siam_test_small_config(&cfg);
    siam_model *m = siam_model_new(&siam_ops_cpu, ctx, &cfg, 4, &err);
    assert_non_null(m);
    assert_int_equal(siam_model_eval_chunk(m), SIAM_MODEL_EVAL_CHUNK);
    assert_int_equal(siam_model_set_eval_chunk(m, -1, &err), -1);
    assert_string_equal(err.msg, "model: eval chunk -1 must be 0 (the whole batch) or positive");
    assert_int_equal(siam_model_eval_chunk(m), SIAM_MODEL_EVAL_CHUNK);
    assert_int_equal(siam_model_set_eval_chunk(m, 1000, &err), 0); /* more than the batch */
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(chunks_on_direct_convolution),
        cmocka_unit_test(chunks_on_fourier_convolution),
        cmocka_unit_test(chunks_after_training),
        cmocka_unit_test(eval_memory_is_one_chunk),
        cmocka_unit_test(bad_chunks_are_refused),
    };
    return cmocka_run_group_tests_name("model_chunk", tests, NULL, NULL);
}
