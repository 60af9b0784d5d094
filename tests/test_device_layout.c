/* Where the buffers carved out of one device allocation start: a model's
 * gradients follow its parameters, an optimizer's second moment follows
 * its first, and both must start on a SIAM_DEVICE_ALIGN boundary (cuDNN's
 * and cuBLAS's vector paths; the paper network has an odd parameter count,
 * so "right after" is only 4-byte aligned). Checked on the CPU table, whose
 * allocations are aligned the same way, through the pointers the model
 * hands out and those an optimizer passes to the Adam kernel. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "host/model.h"
#include "host/optim.h"

static int aligned(const void *p)
{
    return (uintptr_t)p % SIAM_DEVICE_ALIGN == 0;
}

static void rounding_to_whole_blocks(void **state)
{
    (void)state;
    assert_int_equal(siam_align_floats(0), 0);
    assert_int_equal(siam_align_floats(1), 64);
    assert_int_equal(siam_align_floats(64), 64);
    assert_int_equal(siam_align_floats(65), 128);
    assert_int_equal(siam_align_floats(38951745), 38951808);
}

static void cpu_allocations_are_device_aligned(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx *c = siam_ops_cpu.ctx_new(NULL, &err);
    assert_non_null(c);
    for (size_t bytes = 1; bytes < 5000; bytes += 999) {
        void *p = siam_ops_cpu.mem_alloc(c, bytes);
        assert_non_null(p);
        assert_true(aligned(p));
        siam_ops_cpu.mem_free(c, p);
    }
    siam_ops_cpu.ctx_free(c);
}

static void paper_gradients_start_aligned(void **state)
{
    (void)state;
    siam_error err;
    siam_ctx *c = siam_ops_cpu.ctx_new(NULL, &err);
    assert_non_null(c);
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    siam_model *m = siam_model_new(&siam_ops_cpu, c, &cfg, 1, &err);
    assert_non_null(m);
    size_t n = siam_model_numel(m);
    assert_int_equal(n % 2, 1); /* the case the layout must handle */
    assert_true(aligned(siam_model_params(m)));
    /* An untrained model has no gradients; zero_grad has nothing to do. */
    assert_null(siam_model_grads(m));
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    assert_int_equal(siam_model_prepare_training(m, &err), 0);
    assert_true(aligned(siam_model_grads(m)));
    assert_true(siam_model_grads(m) >= siam_model_params(m) + n ||
                siam_model_grads(m) + n <= siam_model_params(m));
    /* Every tensor of the paper network then starts aligned in both. */
    for (int j = 0; j < siam_model_param_count(m); j++) {
        const siam_param_info *p = siam_model_param(m, j);
        if (!aligned(siam_model_grads(m) + p->offset))
            fail_msg("%s's gradient at offset %zu is not %d-byte aligned", p->name, p->offset,
                     SIAM_DEVICE_ALIGN);
    }
    /* zero_grad clears exactly the gradients: the parameters keep their
     * values. */
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 1, &err), 0);
    float last = siam_model_params(m)[n - 1];
    float *g = siam_model_grads(m);
    g[0] = g[n - 1] = 3.0f;
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    assert_true(g[0] == 0.0f && g[n - 1] == 0.0f);
    assert_true(siam_model_params(m)[n - 1] == last);
    siam_model_free(m);
    siam_ops_cpu.ctx_free(c);
}

/* The moment pointers the optimizer hands to the kernel. */
static const float *seen_m, *seen_v;
static int cpu_adam_step(siam_ctx *ctx, float *param, const float *grad, float *m, float *v,
                         size_t n, float lr, float beta1, float beta2, float eps,
                         float weight_decay, int decoupled, long step)
{
    seen_m = m;
    seen_v = v;
    return siam_ops_cpu.adam_step(ctx, param, grad, m, v, n, lr, beta1, beta2, eps,
                                  weight_decay, decoupled, step);
}

static void adam_second_moment_starts_aligned(void **state)
{
    (void)state;
    siam_ops spy = siam_ops_cpu;
    spy.adam_step = cpu_adam_step;
    siam_error err;
    siam_ctx *c = spy.ctx_new(NULL, &err);
    assert_non_null(c);
    enum { n = 1001 };
    float *p = spy.mem_alloc(c, n * sizeof(float)), *g = spy.mem_alloc(c, n * sizeof(float));
    assert_non_null(p);
    assert_non_null(g);
    for (int i = 0; i < n; i++)
        g[i] = 1.0f;
    siam_optim_config oc;
    siam_optim_config_default(&oc, SIAM_OPTIM_ADAM);
    siam_optim *o = siam_optim_new(&spy, c, &oc, n, &err);
    assert_non_null(o);
    assert_int_equal(siam_optim_step(o, p, g, &err), 0);
    assert_true(aligned(seen_m));
    assert_true(aligned(seen_v));
    assert_true(seen_v >= seen_m + n);
    /* The moments still read back as the step left them: m = (1 - beta1) g,
     * v = (1 - beta2) g^2. */
    float host[n];
    assert_int_equal(siam_optim_moment_download(o, 1, host, &err), 0);
    for (int i = 0; i < n; i++)
        assert_float_equal(host[i], 1.0f - (float)oc.beta2, 1e-9f);
    assert_int_equal(siam_optim_moment_download(o, 0, host, &err), 0);
    assert_float_equal(host[n - 1], 1.0f - (float)oc.beta1, 1e-9f);
    siam_optim_free(o);
    spy.mem_free(c, p);
    spy.mem_free(c, g);
    spy.ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rounding_to_whole_blocks),
        cmocka_unit_test(cpu_allocations_are_device_aligned),
        cmocka_unit_test(paper_gradients_start_aligned),
        cmocka_unit_test(adam_second_moment_starts_aligned),
    };
    return cmocka_run_group_tests_name("device_layout", tests, NULL, NULL);
}
