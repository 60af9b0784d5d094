/* The model's two ways through the conv tower (host/model_priv.h): fused on
 * the CPU table, against plain on a copy of that table without the fused
 * ops (the straightforward reference: batchnorm, relu and maxpool2 as
 * separate ops, every buffer allocated up front). A run of eval forward,
 * training steps with Adam, eval again, a smaller batch and a repeated
 * backward must give bit-identical probabilities, losses, gradients,
 * parameters and running statistics. Also: an eval-only model allocates
 * no training buffers, and the first training forward adds them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "host/model.h"
#include "host/optim.h"
#include "kernels/philox.h"

#define MAXB 4

/* Bytes live through the counting table below. Test-only state: the ops
 * interface gives an allocator no user pointer. */
static size_t live_bytes;

/* Allocations still live, and how many more may succeed (-1: no limit):
 * past the limit the real allocator is asked for an impossible size, so
 * the failure carries its own message. */
static long live_count, allocs_left = -1;

static void *counting_alloc(siam_ctx *ctx, size_t bytes)
{
    if (allocs_left == 0)
        return siam_ops_cpu.mem_alloc(ctx, SIZE_MAX);
    if (allocs_left > 0)
        allocs_left--;
    void *p = siam_ops_cpu.mem_alloc(ctx, bytes);
    if (p) {
        live_bytes += bytes;
        live_count++;
    }
    return p;
}

static void counting_free(siam_ctx *ctx, void *p)
{
    if (p)
        live_count--;
    siam_ops_cpu.mem_free(ctx, p);
}

typedef struct trace {
    float probs[4][MAXB];
    float loss[3];
    float *grads, *params, *runstats;
    size_t n, nb;
    size_t eval_bytes, train_bytes; /* live after the eval forward, after training */
} trace;

static void small_config(siam_model_config *cfg)
{
    siam_model_config_default(cfg);
    /* Odd conv outputs (19, 7, 3) leave rows and columns outside every
     * pooling window. */
    cfg->in_h = cfg->in_w = 22;
    int ch[4] = { 4, 6, 8, 8 }, k[4] = { 4, 3, 2, 1 };
    memcpy(cfg->channels, ch, sizeof ch);
    memcpy(cfg->kernels, k, sizeof k);
    cfg->fc_units = 16;
    cfg->dropout = 0.2f;
}

static void step(siam_model *m, siam_optim *opt, const float *labels, int B, float *loss,
                 int twice)
{
    siam_error err;
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    assert_int_equal(siam_model_forward(m, B, &err), 0);
    assert_int_equal(siam_model_loss(m, B, labels, loss, &err), 0);
    assert_int_equal(siam_model_backward(m, B, labels, &err), 0);
    if (twice)
        assert_int_equal(siam_model_backward(m, B, labels, &err), 0);
    assert_int_equal(siam_optim_step(opt, siam_model_params(m), siam_model_grads(m), &err), 0);
}

static void eval(siam_model *m, int B, float *probs)
{
    siam_error err;
    const siam_ops *o = siam_model_ops(m);
    siam_model_set_training(m, 0);
    assert_int_equal(siam_model_forward(m, B, &err), 0);
    assert_int_equal(o->download(siam_model_ctx(m), probs, siam_model_probs(m),
                                 (size_t)B * sizeof(float)), 0);
    siam_model_set_training(m, 1);
}

static void run(const siam_ops *o, const siam_model_config *cfg, int maxb, int steps, trace *t)
{
    siam_error err;
    siam_ctx *c = o->ctx_new(&(siam_ctx_options){ .threads = 2 }, &err);
    assert_non_null(c);
    live_bytes = 0;
    siam_model *m = siam_model_new(o, c, cfg, maxb, &err);
    assert_non_null(m);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 5, &err), 0);
    siam_model_set_dropout_state(m, 3, 0);
    size_t nx = (size_t)2 * maxb * cfg->in_h * cfg->in_w;
    float *x = malloc(nx * sizeof *x), y[MAXB] = { 1, 0, 0, 1 };
    for (size_t i = 0; i < nx; i++)
        x[i] = 2.0f * siam_philox_uniform(8, 300, i) - 1.0f;
    float *labels = o->mem_alloc(c, sizeof y);
    assert_int_equal(o->upload(c, siam_model_input(m), x, nx * sizeof *x), 0);
    assert_int_equal(o->upload(c, labels, y, sizeof y), 0);
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    oc.lr = 1e-2;
    siam_optim *opt = siam_optim_new(o, c, &oc, siam_model_numel(m), &err);
    assert_non_null(opt);

    size_t before = live_bytes;
    eval(m, maxb, t->probs[0]);
    t->eval_bytes = live_bytes - before;
    step(m, opt, labels, maxb, &t->loss[0], 0);
    t->train_bytes = live_bytes - before;
    eval(m, maxb, t->probs[1]);
    if (steps > 1) {
        step(m, opt, labels, maxb - 1, &t->loss[1], 1);
        eval(m, maxb - 1, t->probs[2]);
        step(m, opt, labels, maxb, &t->loss[2], 0);
        eval(m, maxb, t->probs[3]);
    }
    t->n = siam_model_numel(m);
    t->nb = siam_model_buffer_numel(m);
    t->grads = malloc(t->n * sizeof(float));
    t->params = malloc(t->n * sizeof(float));
    t->runstats = malloc(t->nb * sizeof(float));
    assert_int_equal(o->download(c, t->grads, siam_model_grads(m), t->n * sizeof(float)), 0);
    assert_int_equal(siam_model_download_params(m, t->params, &err), 0);
    assert_int_equal(o->download(c, t->runstats, siam_model_buffers(m), t->nb * sizeof(float)),
                     0);
    free(x);
    o->mem_free(c, labels);
    siam_optim_free(opt);
    siam_model_free(m);
    o->ctx_free(c);
}

static void trace_free(trace *t)
{
    free(t->grads);
    free(t->params);
    free(t->runstats);
}

static void compare(const siam_model_config *cfg, int maxb, int steps)
{
    siam_ops fused = siam_ops_cpu, plain = siam_ops_cpu;
    fused.mem_alloc = plain.mem_alloc = counting_alloc;
    plain.bn_relu_pool_forward_train = NULL;
    plain.bn_relu_pool_forward_eval = NULL;
    plain.bn_relu_pool_backward = NULL;
    trace f, p;
    memset(&f, 0, sizeof f);
    memset(&p, 0, sizeof p);
    run(&fused, cfg, maxb, steps, &f);
    run(&plain, cfg, maxb, steps, &p);
    assert_memory_equal(f.probs, p.probs, sizeof f.probs);
    assert_memory_equal(f.loss, p.loss, sizeof f.loss);
    assert_int_equal(f.n, p.n);
    assert_memory_equal(f.grads, p.grads, f.n * sizeof(float));
    assert_memory_equal(f.params, p.params, f.n * sizeof(float));
    assert_memory_equal(f.runstats, p.runstats, f.nb * sizeof(float));
    /* The trace is not trivially equal: training moved the outputs. */
    assert_true(f.probs[0][0] != f.probs[1][0]);
    printf("bytes after eval / after a training step: fused %zu / %zu, plain %zu / %zu\n",
           f.eval_bytes, f.train_bytes, p.eval_bytes, p.train_bytes);
    /* Eval allocates nothing; training adds its buffers to the fused model
     * only (the plain one had them from the start). */
    assert_int_equal(f.eval_bytes, 0);
    assert_int_equal(p.eval_bytes, 0);
    assert_true(f.train_bytes > 0);
    trace_free(&f);
    trace_free(&p);
}

static void small_model_runs_identically(void **state)
{
    (void)state;
    siam_model_config cfg;
    small_config(&cfg);
    compare(&cfg, MAXB, 3);
}

static void paper_model_step_identical(void **state)
{
    (void)state;
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    compare(&cfg, 1, 1);
}

/* Memory: an inference-only fused model holds its parameters and one
 * conv-sized and one pool-sized activation; the plain one everything. */
static void eval_only_model_is_small(void **state)
{
    (void)state;
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    siam_ops fused = siam_ops_cpu, plain = siam_ops_cpu;
    fused.mem_alloc = plain.mem_alloc = counting_alloc;
    plain.bn_relu_pool_backward = NULL;
    siam_error err;
    siam_ctx *c = siam_ops_cpu.ctx_new(&(siam_ctx_options){ .threads = 1 }, &err);
    size_t bytes[2], params = 0;
    const siam_ops *tables[2] = { &fused, &plain };
    for (int k = 0; k < 2; k++) {
        live_bytes = 0;
        siam_model *m = siam_model_new(tables[k], c, &cfg, 8, &err);
        assert_non_null(m);
        bytes[k] = live_bytes;
        params = siam_model_numel(m);
        siam_model_free(m);
    }
    /* 16 images: conv1's output is 16*64*96*96 floats (37.7 MB). The fused
     * model holds it once, pool1 (a quarter of it), the parameters and
     * gradients, and small buffers; the plain one also holds bn1 and two
     * gradient buffers of conv1's size. */
    size_t conv1 = (size_t)16 * 64 * 96 * 96 * 4;
    printf("eval-only model at max_batch 8: fused %zu bytes, plain %zu\n", bytes[0], bytes[1]);
    assert_true(bytes[0] < 2 * params * 4 + conv1 + conv1 / 4 + conv1 / 8);
    assert_true(bytes[1] > bytes[0] + 3 * conv1);
    siam_ops_cpu.ctx_free(c);
}

/* A training forward whose buffers cannot all be allocated fails with the
 * allocator's message, leaks nothing, and leaves the model usable: eval
 * still runs, and a later training forward allocates them. */
static void failed_training_allocation_leaks_nothing(void **state)
{
    (void)state;
    siam_model_config cfg;
    small_config(&cfg);
    siam_ops o = siam_ops_cpu;
    o.mem_alloc = counting_alloc;
    o.mem_free = counting_free;
    siam_error err;
    siam_ctx *c = o.ctx_new(&(siam_ctx_options){ .threads = 1 }, &err);
    live_count = 0;
    siam_model *m = siam_model_new(&o, c, &cfg, 2, &err);
    assert_non_null(m);
    long before = live_count;
    for (long ok = 0; ok < 12; ok += 5) {
        allocs_left = ok; /* the (ok+1)-th training buffer fails */
        assert_int_equal(siam_model_forward(m, 2, &err), -1);
        assert_string_equal(err.msg, "model forward: cannot allocate the training buffers "
                                     "(max_batch 2): cpu mem_alloc: size 18446744073709551615 "
                                     "overflows");
        assert_int_equal(live_count, before);
    }
    allocs_left = -1;
    assert_int_equal(siam_model_backward(m, 2, siam_model_probs(m), &err), -1);
    siam_model_set_training(m, 0);
    assert_int_equal(siam_model_forward(m, 2, &err), 0);
    siam_model_set_training(m, 1);
    assert_int_equal(siam_model_forward(m, 2, &err), 0);
    assert_true(live_count > before);
    siam_model_free(m);
    assert_int_equal(live_count, 0);
    o.ctx_free(c);
}

/* The eps each batchnorm_backward call received, through the spy below. */
static float seen_eps[8];
static int bn_backward_calls;

static int spy_bn_backward(siam_ctx *ctx, float *din, float *dgamma, float *dbeta,
                           const float *dout, const float *in, const float *save_mean,
                           const float *save_invstd, const float *gamma, int N, int C, int HW,
                           float eps)
{
    if (bn_backward_calls < 8)
        seen_eps[bn_backward_calls] = eps;
    bn_backward_calls++;
    return siam_ops_cpu.batchnorm_backward(ctx, din, dgamma, dbeta, dout, in, save_mean,
                                           save_invstd, gamma, N, C, HW, eps);
}

/* Batch-norm backward gets the forward's eps (the model's bn_eps) in every
 * block: four calls on the plain way (cuDNN's), one (block 4) on the fused. */
static void batchnorm_backward_gets_the_forward_eps(void **state)
{
    (void)state;
    siam_model_config cfg;
    small_config(&cfg);
    cfg.bn_eps = 0.05f;
    siam_ops fused = siam_ops_cpu, plain = siam_ops_cpu;
    fused.batchnorm_backward = plain.batchnorm_backward = spy_bn_backward;
    plain.bn_relu_pool_backward = NULL;
    const siam_ops *tables[2] = { &plain, &fused };
    const int calls[2] = { 4, 1 };
    siam_error err;
    siam_ctx *c = siam_ops_cpu.ctx_new(&(siam_ctx_options){ .threads = 1 }, &err);
    for (int k = 0; k < 2; k++) {
        siam_model *m = siam_model_new(tables[k], c, &cfg, 2, &err);
        assert_non_null(m);
        assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 1, &err), 0);
        float *y = tables[k]->mem_alloc(c, 2 * sizeof(float));
        y[1] = 1.0f;
        bn_backward_calls = 0;
        assert_int_equal(siam_model_forward(m, 2, &err), 0);
        assert_int_equal(siam_model_backward(m, 2, y, &err), 0);
        assert_int_equal(bn_backward_calls, calls[k]);
        for (int i = 0; i < calls[k]; i++)
            assert_true(seen_eps[i] == 0.05f);
        tables[k]->mem_free(c, y);
        siam_model_free(m);
    }
    siam_ops_cpu.ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(small_model_runs_identically),
        cmocka_unit_test(paper_model_step_identical),
        cmocka_unit_test(eval_only_model_is_small),
        cmocka_unit_test(failed_training_allocation_leaks_nothing),
        cmocka_unit_test(batchnorm_backward_gets_the_forward_eps),
    };
    return cmocka_run_group_tests_name("model_fused", tests, NULL, NULL);
}
