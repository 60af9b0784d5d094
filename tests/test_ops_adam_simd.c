/* The CPU Adam step (kernels/cpu/optim.c: AVX lanes plus a scalar tail,
 * in blocks across threads) against the plain one-element-at-a-time loop
 * it replaced: parameters and both moments must be bit-identical, for
 * lengths around the vector width and across blocks, for unaligned
 * buffers, with L2 and decoupled weight decay. Its agreement with PyTorch
 * is tests/test_torch_optim.c's. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernels/ops.h"
#include "kernels/philox.h"

/* The loop as it was, torch.optim.Adam's single-tensor order. */
static void adam_reference(float *param, const float *grad, float *m, float *v, size_t n,
                           float lr, float beta1, float beta2, float eps, float weight_decay,
                           int decoupled, long step)
{
    double bc1 = 1.0 - pow(beta1, (double)step);
    double bc2 = 1.0 - pow(beta2, (double)step);
    float step_size = (float)(lr / bc1);
    float bc2_sqrt = (float)sqrt(bc2);
    float decay = decoupled ? 1.0f - lr * weight_decay : 1.0f;
    float l2 = decoupled ? 0.0f : weight_decay;
    for (size_t i = 0; i < n; i++) {
        float p = param[i] * decay;
        float g = grad[i] + l2 * param[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * g;
        float vi = beta2 * v[i] + (1.0f - beta2) * g * g;
        m[i] = mi;
        v[i] = vi;
        param[i] = p - step_size * (mi / (sqrtf(vi) / bc2_sqrt + eps));
    }
}

static void check(size_t n, size_t offset, float wd, int decoupled)
{
    siam_error err;
    siam_ctx *c = siam_ops_cpu.ctx_new(&(siam_ctx_options){ .threads = 2 }, &err);
    assert_non_null(c);
    size_t total = n + offset;
    float *buf[8];
    for (int k = 0; k < 8; k++) {
        buf[k] = malloc(total * sizeof(float) + 1);
        assert_non_null(buf[k]);
    }
    /* p, g, m, v for the op (0..3) and the reference (4..7), from offset on. */
    for (size_t i = 0; i < total; i++) {
        buf[0][i] = buf[4][i] = siam_philox_uniform(21, 1, i) - 0.5f;
        buf[1][i] = buf[5][i] = 0.1f * (siam_philox_uniform(21, 2, i) - 0.5f);
        buf[2][i] = buf[6][i] = 0.01f * (siam_philox_uniform(21, 3, i) - 0.5f);
        buf[3][i] = buf[7][i] = 1e-4f * siam_philox_uniform(21, 4, i);
    }
    for (long step = 1; step <= 3; step++) {
        assert_int_equal(siam_ops_cpu.adam_step(c, buf[0] + offset, buf[1] + offset,
                                                buf[2] + offset, buf[3] + offset, n, 1e-3f,
                                                0.9f, 0.999f, 1e-8f, wd, decoupled, step), 0);
        adam_reference(buf[4] + offset, buf[5] + offset, buf[6] + offset, buf[7] + offset, n,
                       1e-3f, 0.9f, 0.999f, 1e-8f, wd, decoupled, step);
    }
    for (int k = 0; k < 4; k++)
        assert_memory_equal(buf[k], buf[k + 4], total * sizeof(float));
    /* Not vacuous: the parameters moved. */
    assert_true(n == 0 || buf[0][offset] != siam_philox_uniform(21, 1, offset) - 0.5f);
    for (int k = 0; k < 8; k++)
        free(buf[k]);
    siam_ops_cpu.ctx_free(c);
}

static void short_lengths(void **state)
{
    (void)state;
    for (size_t n = 0; n <= 17; n++)
        check(n, n % 3, 0.0f, 0);
}

static void across_blocks_unaligned(void **state)
{
    (void)state;
    check((size_t)3 * 65536 + 13, 1, 0.0f, 0);
}

static void weight_decay_l2_and_decoupled(void **state)
{
    (void)state;
    check(1000, 2, 0.01f, 0);
    check(1000, 3, 0.01f, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(short_lengths),
        cmocka_unit_test(across_blocks_unaligned),
        cmocka_unit_test(weight_decay_l2_and_decoupled),
    };
    return cmocka_run_group_tests_name("ops_adam_simd", tests, NULL, NULL);
}
