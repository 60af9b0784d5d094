/* The parameter table of the paper-size model (names, shapes, offsets as
 * PyTorch's state_dict) and the three initialisations: statistics of
 * "paper" and "pytorch", exact values of "crosscheck", seeding, and the
 * configuration checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/model.h"
#include "kernels/philox.h"

static siam_ctx *ctx_new(void)
{
    siam_error err;
    siam_ctx *c = siam_ops_cpu.ctx_new(NULL, &err);
    assert_non_null(c);
    return c;
}

static void paper_table_matches_the_state_dict(void **state)
{
    (void)state;
    siam_ctx *ctx = ctx_new();
    siam_error err;
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    siam_model *m = siam_model_new(&siam_ops_cpu, ctx, &cfg, 1, &err);
    assert_non_null(m);
    static const struct { const char *name; int ndim, shape[4]; } want[20] = {
        { "conv1.weight", 4, { 64, 1, 10, 10 } }, { "conv1.bias", 1, { 64 } },
        { "bn1.weight", 1, { 64 } }, { "bn1.bias", 1, { 64 } },
        { "conv2.weight", 4, { 128, 64, 7, 7 } }, { "conv2.bias", 1, { 128 } },
        { "bn2.weight", 1, { 128 } }, { "bn2.bias", 1, { 128 } },
        { "conv3.weight", 4, { 128, 128, 4, 4 } }, { "conv3.bias", 1, { 128 } },
        { "bn3.weight", 1, { 128 } }, { "bn3.bias", 1, { 128 } },
        { "conv4.weight", 4, { 256, 128, 4, 4 } }, { "conv4.bias", 1, { 256 } },
        { "bn4.weight", 1, { 256 } }, { "bn4.bias", 1, { 256 } },
        { "fc.weight", 2, { 4096, 9216 } }, { "fc.bias", 1, { 4096 } },
        { "out.weight", 2, { 1, 4096 } }, { "out.bias", 1, { 1 } },
    };
    assert_int_equal(siam_model_param_count(m), 20);
    size_t off = 0;
    for (int j = 0; j < 20; j++) {
        const siam_param_info *p = siam_model_param(m, j);
        assert_string_equal(p->name, want[j].name);
        assert_int_equal(p->ndim, want[j].ndim);
        size_t numel = 1;
        for (int d = 0; d < p->ndim; d++) {
            assert_int_equal(p->shape[d], want[j].shape[d]);
            numel *= (size_t)want[j].shape[d];
        }
        assert_int_equal(p->numel, numel);
        assert_int_equal(p->offset, off);
        off += numel;
        assert_int_equal(siam_model_param_find(m, want[j].name), j);
    }
    assert_int_equal(siam_model_numel(m), off);
    assert_null(siam_model_param(m, SIAM_MODEL_NPARAMS));
    assert_int_equal(siam_model_param_find(m, "fc.running_mean"), -1);
    assert_string_equal(siam_model_buffer(m, 0)->name, "bn1.running_mean");
    assert_string_equal(siam_model_buffer(m, 7)->name, "bn4.running_var");
    assert_int_equal(siam_model_buffer_numel(m), 2 * (64 + 128 + 128 + 256));
    assert_int_equal(siam_model_param(m, SIAM_PARAM_FC_W)->fan_in, 9216); /* 256 x 6 x 6 */
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
}

/* A mid-size model: enough values per tensor for statistics, quick. */
static siam_model *medium(siam_ctx *ctx)
{
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    cfg.in_h = cfg.in_w = 40;
    int ch[4] = { 16, 32, 32, 64 }, k[4] = { 5, 5, 3, 2 };
    memcpy(cfg.channels, ch, sizeof ch);
    memcpy(cfg.kernels, k, sizeof k);
    cfg.fc_units = 256;
    siam_error err;
    siam_model *m = siam_model_new(&siam_ops_cpu, ctx, &cfg, 1, &err);
    if (!m)
        fail_msg("%s", err.msg);
    return m;
}

static void stats(const float *v, size_t n, double *mean, double *sd, double *lo, double *hi)
{
    double s = 0.0, q = 0.0;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        s += v[i];
        *lo = fmin(*lo, v[i]);
        *hi = fmax(*hi, v[i]);
    }
    *mean = s / (double)n;
    for (size_t i = 0; i < n; i++)
        q += (v[i] - *mean) * (v[i] - *mean);
    *sd = sqrt(q / (double)(n - 1));
}

static float *init_host(siam_model *m, siam_init_kind kind, uint64_t seed)
{
    siam_error err;
    assert_int_equal(siam_model_init(m, kind, seed, &err), 0);
    float *v = malloc(siam_model_numel(m) * sizeof *v);
    assert_int_equal(siam_model_download_params(m, v, &err), 0);
    return v;
}

static void paper_init_has_the_papers_moments(void **state)
{
    (void)state;
    siam_ctx *ctx = ctx_new();
    siam_model *m = medium(ctx);
    float *v = init_host(m, SIAM_INIT_PAPER, 5);
    for (int j = 0; j < siam_model_param_count(m); j++) {
        const siam_param_info *p = siam_model_param(m, j);
        const float *t = v + p->offset;
        double mean, sd, lo, hi;
        stats(t, p->numel, &mean, &sd, &lo, &hi);
        double want_mean, want_sd;
        switch (p->role) {
        case SIAM_ROLE_CONV_WEIGHT: want_mean = 0.0; want_sd = 1e-2; break;
        case SIAM_ROLE_FC_WEIGHT: want_mean = 0.0; want_sd = 2e-1; break;
        case SIAM_ROLE_CONV_BIAS: case SIAM_ROLE_FC_BIAS: want_mean = 0.5; want_sd = 1e-2; break;
        default:
            /* BN: exactly 1 and 0. */
            assert_true(lo == hi && lo == (p->role == SIAM_ROLE_BN_WEIGHT ? 1.0 : 0.0));
            continue;
        }
        if (p->numel < 16) {
            assert_true(fabs(mean - want_mean) < 5 * want_sd);
            continue;
        }
        /* Sampling error of the mean is sd/sqrt(n); of the sd about
         * sd/sqrt(2n): allow 5 of each. */
        double n = (double)p->numel;
        if (fabs(mean - want_mean) > 5 * want_sd / sqrt(n) ||
            fabs(sd - want_sd) > 5 * want_sd / sqrt(2 * n))
            fail_msg("%s: mean %g sd %g, want %g and %g", p->name, mean, sd, want_mean, want_sd);
        /* Not the seed's swapped N(0.01, 0): values differ. */
        assert_true(hi - lo > want_sd);
    }
    free(v);
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
}

static void pytorch_init_is_uniform_in_the_bound(void **state)
{
    (void)state;
    siam_ctx *ctx = ctx_new();
    siam_model *m = medium(ctx);
    float *v = init_host(m, SIAM_INIT_PYTORCH, 5);
    for (int j = 0; j < siam_model_param_count(m); j++) {
        const siam_param_info *p = siam_model_param(m, j);
        if (p->role == SIAM_ROLE_BN_WEIGHT || p->role == SIAM_ROLE_BN_BIAS)
            continue;
        double mean, sd, lo, hi, bound = 1.0 / sqrt((double)p->fan_in);
        stats(v + p->offset, p->numel, &mean, &sd, &lo, &hi);
        assert_true(lo >= -bound && hi <= bound);
        if (p->numel >= 1000) {
            /* U(-b, b): sd b/sqrt(3); the extremes reach close to +-b. */
            double n = (double)p->numel, want_sd = bound / sqrt(3.0);
            assert_true(fabs(mean) < 5 * want_sd / sqrt(n));
            assert_true(fabs(sd - want_sd) < 5 * want_sd / sqrt(n));
            assert_true(hi > 0.99 * bound && lo < -0.99 * bound);
        }
    }
    free(v);
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
}

static void seeds_and_crosscheck_values(void **state)
{
    (void)state;
    siam_ctx *ctx = ctx_new();
    siam_model *m = medium(ctx);
    size_t n = siam_model_numel(m);
    float *a = init_host(m, SIAM_INIT_PAPER, 5), *b = init_host(m, SIAM_INIT_PAPER, 5);
    float *c = init_host(m, SIAM_INIT_PAPER, 6);
    assert_memory_equal(a, b, n * sizeof *a);
    const siam_param_info *w = siam_model_param(m, 0);
    assert_memory_not_equal(a + w->offset, c + w->offset, w->numel * sizeof *a);
    free(a);
    free(b);
    free(c);
    /* Crosscheck: (2u - 1) * (float)(1/sqrt(fan_in)), u from stream 100 + j. */
    float *x = init_host(m, SIAM_INIT_CROSSCHECK, 1234);
    for (int j = 0; j < siam_model_param_count(m); j++) {
        const siam_param_info *p = siam_model_param(m, j);
        for (size_t i = 0; i < p->numel; i += 1 + p->numel / 7) {
            float want;
            if (p->role == SIAM_ROLE_BN_WEIGHT)
                want = 1.0f;
            else if (p->role == SIAM_ROLE_BN_BIAS)
                want = 0.0f;
            else
                want = (siam_philox_uniform(1234, 100 + (uint64_t)j, i) * 2.0f - 1.0f) *
                       (float)(1.0 / sqrt((double)p->fan_in));
            assert_memory_equal(&x[p->offset + i], &want, sizeof want);
        }
    }
    free(x);
    siam_init_kind k;
    siam_error err;
    assert_int_equal(siam_init_kind_parse("pytorch", &k, &err), 0);
    assert_int_equal(k, SIAM_INIT_PYTORCH);
    assert_int_equal(siam_init_kind_parse("xavier", &k, &err), -1);
    assert_string_equal(err.msg, "unknown init 'xavier' (expected paper, pytorch or crosscheck)");
    siam_model_free(m);
    siam_ops_cpu.ctx_free(ctx);
}

static void configurations_are_checked(void **state)
{
    (void)state;
    siam_error err;
    siam_model_config cfg;
    int sizes[8];
    siam_model_config_default(&cfg);
    assert_int_equal(siam_model_config_check(&cfg, sizes, &err), 0);
    const int want[8] = { 96, 96, 42, 42, 18, 18, 6, 6 }; /* seed report Part 3 */
    assert_memory_equal(sizes, want, sizeof want);
    cfg.in_h = 60; /* 51 -> 25, 19 -> 9, 6 -> 3: conv4 (4x4) no longer fits */
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: conv4 kernel 4 does not fit its 3x9 input");
    siam_model_config_default(&cfg);
    cfg.dropout = 1.0f;
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: dropout 1 must be in [0, 1)");
    siam_model_config_default(&cfg);
    assert_null(siam_model_new(&siam_ops_cpu, NULL, &cfg, 0, &err));
    assert_string_equal(err.msg, "model: max_batch 0 must be in 1..1073741823");
    siam_model_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paper_table_matches_the_state_dict),
        cmocka_unit_test(paper_init_has_the_papers_moments),
        cmocka_unit_test(pytorch_init_is_uniform_in_the_bound),
        cmocka_unit_test(seeds_and_crosscheck_values),
        cmocka_unit_test(configurations_are_checked),
    };
    return cmocka_run_group_tests_name("model_init", tests, NULL, NULL);
}
