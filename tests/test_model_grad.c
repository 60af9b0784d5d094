/* Whole-model gradient check: the float model's backward against central
 * finite differences of a double-precision reference forward, on a reduced-size
 * configuration (every layer type: four conv+BN+ReLU blocks, three pools,
 * fc+sigmoid, |e1-e2|, dropout, out+sigmoid, BCE) on a batch of 3 pairs, so
 * both towers contribute to every weight gradient; then again for every
 * embedding activation and distance head variant (model.h options). The paper-size model is
 * checked against PyTorch in test_model_torch.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/metrics.h"
#include "host/model.h"
#include "kernels/philox.h"
#include "tests/support/ref_tower.h"

enum { B = 3 };

/* One architecture option set; the first is the paper's network. */
typedef struct variant {
    const char *name;
    int embed_act;
    unsigned head;
} variant;

static const variant variants[] = {
    { "paper: sigmoid, l1", SIAM_EMBED_SIGMOID, SIAM_HEAD_L1 },
    { "sigmoid, rich", SIAM_EMBED_SIGMOID, SIAM_HEAD_RICH },
    { "none, abs+sq+prod+cos", SIAM_EMBED_NONE, SIAM_PAIRFEAT_ALL },
    { "relu, rich", SIAM_EMBED_RELU, SIAM_HEAD_RICH },
    { "none, l1", SIAM_EMBED_NONE, SIAM_HEAD_L1 },
    { "relu, prod+cos", SIAM_EMBED_RELU, SIAM_PAIRFEAT_PROD | SIAM_PAIRFEAT_COS },
};

typedef struct fixture {
    siam_ctx *ctx;
    siam_model *m;
    float *labels_dev;
    float *x; /* host copy of the input batch */
} fixture;

static int setup(void **state)
{
    const variant *v = *state ? *state : &variants[0];
    printf("variant: %s\n", v->name);
    fixture *f = calloc(1, sizeof *f);
    siam_error err;
    siam_ctx_options opt = { .threads = 1 };
    f->ctx = siam_ops_cpu.ctx_new(&opt, &err);
    assert_non_null(f->ctx);
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    cfg.in_h = 28;
    cfg.in_w = 30; /* non-square, to catch h/w mix-ups */
    int ch[4] = { 2, 3, 3, 4 }, k[4] = { 5, 3, 2, 2 };
    memcpy(cfg.channels, ch, sizeof ch);
    memcpy(cfg.kernels, k, sizeof k);
    cfg.fc_units = 6;
    cfg.dropout = 0.3f;
    cfg.embed_act = v->embed_act;
    cfg.head = v->head;
    f->m = siam_model_new(&siam_ops_cpu, f->ctx, &cfg, B, &err);
    if (!f->m)
        fail_msg("%s", err.msg);
    assert_int_equal(siam_model_init(f->m, SIAM_INIT_PYTORCH, 11, &err), 0);
    size_t nx = 2 * B * 28 * 30;
    float *x = malloc(nx * sizeof *x);
    for (size_t i = 0; i < nx; i++)
        x[i] = siam_philox_uniform(5, 9, i) * 2.0f - 1.0f;
    assert_int_equal(siam_ops_cpu.upload(f->ctx, siam_model_input(f->m), x, nx * sizeof *x), 0);
    f->x = x;
    float y[B] = { 1, 0, 1 };
    f->labels_dev = siam_ops_cpu.mem_alloc(f->ctx, sizeof y);
    assert_int_equal(siam_ops_cpu.upload(f->ctx, f->labels_dev, y, sizeof y), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    siam_ops_cpu.mem_free(f->ctx, f->labels_dev);
    free(f->x);
    siam_model_free(f->m);
    siam_ops_cpu.ctx_free(f->ctx);
    free(f);
    return 0;
}

/* Loss at the current parameters with the same dropout mask every time. */
static double loss_at(fixture *f)
{
    siam_error err;
    float prob[B], loss;
    const float y[B] = { 1, 0, 1 };
    siam_model_set_dropout_state(f->m, 3, 1000);
    assert_int_equal(siam_model_forward(f->m, B, &err), 0);
    assert_int_equal(siam_model_loss(f->m, B, f->labels_dev, &loss, &err), 0);
    assert_int_equal(siam_ops_cpu.download(f->ctx, prob, siam_model_probs(f->m), sizeof prob), 0);
    assert_float_equal(loss, siam_metrics_bce(prob, y, B), 1e-6);
    return loss;
}

/* ---- the same model in double precision, naive loops (PyTorch layer
 * semantics), as the reference for finite differences: the tower is
 * tests/support/ref_tower.c's, the head is here ---- */

typedef struct ref {
    const siam_model *m;
    const float *x;     /* (2B, 1, H, W) */
    double *a, *b;      /* scratch activations */
    size_t cap;
} ref;

/* Mean BCE of the whole model at parameters `pd` (the model's layout). */
static double ref_loss(ref *r, const double *pd)
{
    const siam_model *m = r->m;
    const siam_model_config *c = siam_model_config_of(m);
    const float y[B] = { 1, 0, 1 };
#define RP(j) (pd + siam_model_param(m, j)->offset)
    int U = c->fc_units, F = siam_model_head_width(c);
    const double *e = siam_ref_embed(m, r->x, 2 * B, pd, r->a, r->b); /* (2B, U) */
    double loss = 0.0, feat[64];
    unsigned head = c->head == SIAM_HEAD_L1 ? SIAM_PAIRFEAT_ABS : c->head;
    for (int n = 0; n < B; n++) {
        const double *e1 = e + n * U, *e2 = e + (B + n) * U;
        double dot = 0.0, n1 = 0.0, n2 = 0.0;
        int k = 0;
        for (int blk = 0; blk < 3; blk++) {
            if (!(head & (1u << blk)))
                continue;
            for (int u = 0; u < U; u++) {
                double d = e1[u] - e2[u];
                feat[k++] = blk == 0 ? fabs(d) : blk == 1 ? d * d : e1[u] * e2[u];
            }
        }
        for (int u = 0; u < U; u++) {
            dot += e1[u] * e2[u];
            n1 += e1[u] * e1[u];
            n2 += e2[u] * e2[u];
        }
        if (head & SIAM_PAIRFEAT_COS)
            feat[k++] = dot / fmax(sqrt(n1) * sqrt(n2), SIAM_PAIRFEAT_EPS);
        assert_int_equal(k, F);
        double z = RP(19)[0];
        for (int j = 0; j < F; j++) {
            size_t i = (size_t)n * F + j;
            /* Inverted dropout with the mask loss_at's state draws. */
            double keep = siam_philox_uniform(3, SIAM_STREAM_DROPOUT, 1000 + i) >= c->dropout
                ? 1.0 / (1.0 - c->dropout) : 0.0;
            z += RP(18)[j] * feat[j] * keep;
        }
        double p = 1.0 / (1.0 + exp(-z));
        loss -= y[n] ? fmax(log(p), -100.0) : fmax(log1p(-p), -100.0);
    }
#undef RP
    return loss / B;
}

/* Direction `trial` over tensor pi with gradient g: 0 the unit gradient,
 * 1 a random +-1/sqrt(numel) vector, 2 the element of largest |g|, 3 a
 * random element. */
static void direction(double *d, const float *g, const siam_param_info *pi, int j, int trial)
{
    size_t n = pi->numel, big = 0;
    double norm = 0.0;
    for (size_t i = 0; i < n; i++) {
        norm += (double)g[i] * g[i];
        if (fabsf(g[i]) > fabsf(g[big]))
            big = i;
    }
    size_t pick = (size_t)(siam_philox_uniform(8, (uint64_t)j, 0) * n);
    for (size_t i = 0; i < n; i++) {
        double r = (siam_philox_u32(4, (uint64_t)j, i) & 1 ? 1.0 : -1.0) / sqrt((double)n);
        switch (trial) {
        case 0: d[i] = norm > 0.0 ? g[i] / sqrt(norm) : r; break;
        case 1: d[i] = r; break;
        case 2: d[i] = i == big; break;
        default: d[i] = i == pick; break;
        }
    }
}

/* The float model's backward against central differences of the double
 * reference (h = 1e-6: truncation ~1e-12, rounding ~1e-10, and too small
 * a step to cross a ReLU or max-pool switch in practice), along four
 * directions d per parameter tensor (see direction). The float gradient
 * must match within 1e-6 + 2e-4 |grad . d| (measured over init seeds
 * 11..20: at most a tenth of that). The reference's loss must also match
 * the float forward's. */
static void gradients_match_finite_differences(void **state)
{
    fixture *f = *state;
    siam_model *m = f->m;
    siam_error err;
    size_t n = siam_model_numel(m);
    float *p0 = malloc(n * sizeof *p0), *g = malloc(n * sizeof *g);
    double *pd = malloc(n * sizeof *pd), *d = malloc(n * sizeof *d);
    assert_int_equal(siam_model_download_params(m, p0, &err), 0);
    for (size_t i = 0; i < n; i++)
        pd[i] = p0[i];
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    double lf = loss_at(f);
    assert_int_equal(siam_model_backward(m, B, f->labels_dev, &err), 0);
    assert_int_equal(siam_ops_cpu.download(f->ctx, g, siam_model_grads(m), n * sizeof *g), 0);

    ref r = { m, f->x, NULL, NULL, 0 };
    r.cap = siam_ref_embed_scratch(m, 2 * B);
    r.a = malloc(r.cap * sizeof(double));
    r.b = malloc(r.cap * sizeof(double));
    double l0 = ref_loss(&r, pd);
    printf("loss: float model %.9f, double reference %.9f\n", lf, l0);
    assert_float_equal(lf, l0, 1e-6);

    const double h = 1e-6;
    double worst = 0.0;
    int checked = 0;
    for (int j = 0; j < siam_model_param_count(m); j++) {
        const siam_param_info *pi = siam_model_param(m, j);
        const float *gj = g + pi->offset;
        for (int trial = 0; trial < 4; trial++) {
            direction(d, gj, pi, j, trial);
            double an = 0.0, l[2];
            for (size_t i = 0; i < pi->numel; i++)
                an += gj[i] * d[i];
            for (int s = 0; s < 2; s++) {
                for (size_t i = 0; i < pi->numel; i++)
                    pd[pi->offset + i] = p0[pi->offset + i] + (s ? h : -h) * d[i];
                l[s] = ref_loss(&r, pd);
            }
            for (size_t i = 0; i < pi->numel; i++)
                pd[pi->offset + i] = p0[pi->offset + i];
            double fd = (l[1] - l[0]) / (2 * h);
            double diff = fabs(fd - an), tol = 1e-6 + 2e-4 * fabs(fd);
            worst = fmax(worst, diff / tol);
            if (diff > tol)
                fail_msg("%s direction %d: finite difference %.9f, backward %.9f", pi->name,
                         trial, fd, an);
            checked += fabs(fd) > 1e-4;
        }
    }
    /* Conv biases have zero gradient (BN removes any per-channel shift);
     * nearly everything else must have been a real comparison. */
    assert_true(checked >= 55);
    printf("worst |fd - backward| / tolerance %.3f over %d checks of a derivative above 1e-4\n",
           worst, checked);
    free(r.a);
    free(r.b);
    free(p0);
    free(g);
    free(pd);
    free(d);
}

/* Backward ADDS: two backward passes of the same forward double the
 * gradient (the towers and steps accumulate into one buffer). */
static void backward_accumulates(void **state)
{
    fixture *f = *state;
    siam_model *m = f->m;
    siam_error err;
    size_t n = siam_model_numel(m);
    float *g1 = malloc(n * sizeof *g1), *g2 = malloc(n * sizeof *g2);
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    loss_at(f);
    assert_int_equal(siam_model_backward(m, B, f->labels_dev, &err), 0);
    assert_int_equal(siam_ops_cpu.download(f->ctx, g1, siam_model_grads(m), n * sizeof *g1), 0);
    assert_int_equal(siam_model_backward(m, B, f->labels_dev, &err), 0);
    assert_int_equal(siam_ops_cpu.download(f->ctx, g2, siam_model_grads(m), n * sizeof *g2), 0);
    size_t nonzero = 0;
    for (size_t i = 0; i < n; i++) {
        assert_float_equal(g2[i], 2.0f * g1[i], 1e-6f * (1.0f + fabsf(g1[i])));
        nonzero += g1[i] != 0.0f;
    }
    assert_true(nonzero > n / 2);
    free(g1);
    free(g2);
}

/* Eval mode forward leaves no saved activations for backward. */
static void backward_refuses_eval_forward(void **state)
{
    fixture *f = *state;
    siam_error err;
    siam_model_set_training(f->m, 0);
    assert_int_equal(siam_model_forward(f->m, B, &err), 0);
    assert_int_equal(siam_model_backward(f->m, B, f->labels_dev, &err), -1);
    assert_string_equal(err.msg, "model backward: needs a training-mode forward of batch 3 "
                                 "(last: batch 3, eval mode)");
    siam_model_set_training(f->m, 1);
    assert_int_equal(siam_model_forward(f->m, B + 1, &err), -1);
    assert_string_equal(err.msg, "model forward: batch 4 outside 1..3");
}

/* The option parsers and the configuration check. */
static void options_parse_and_check(void **state)
{
    (void)state;
    siam_error err;
    unsigned head = 99;
    siam_embed_act act;
    assert_int_equal(siam_head_parse("l1", &head, &err), 0);
    assert_int_equal(head, SIAM_HEAD_L1);
    assert_int_equal(siam_head_parse("rich", &head, &err), 0);
    assert_int_equal(head, SIAM_PAIRFEAT_ABS | SIAM_PAIRFEAT_SQ | SIAM_PAIRFEAT_COS);
    assert_int_equal(siam_head_parse("cos+abs+prod", &head, &err), 0);
    assert_int_equal(head, SIAM_PAIRFEAT_ABS | SIAM_PAIRFEAT_PROD | SIAM_PAIRFEAT_COS);
    static const char *bad[] = { "", "abs+", "abs+abs", "l2", "+sq" };
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        assert_int_equal(siam_head_parse(bad[k], &head, &err), -1);
        char want[160];
        snprintf(want, sizeof want, "unknown distance head '%s' (l1, rich, or blocks joined by "
                 "'+' from abs, sq, prod, cos, each once)", bad[k]);
        assert_string_equal(err.msg, want);
    }
    assert_int_equal(siam_embed_act_parse("relu", &act, &err), 0);
    assert_int_equal(act, SIAM_EMBED_RELU);
    assert_int_equal(siam_embed_act_parse("tanh", &act, &err), -1);
    assert_string_equal(err.msg, "unknown embedding activation 'tanh' (sigmoid, none, relu)");
    assert_string_equal(siam_embed_act_name(SIAM_EMBED_NONE), "none");
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    assert_int_equal(cfg.embed_act, 0);
    assert_int_equal(cfg.head, 0);
    assert_int_equal(siam_model_head_width(&cfg), 4096);
    cfg.fc_units = 512;
    cfg.head = SIAM_HEAD_RICH;
    assert_int_equal(siam_model_head_width(&cfg), 2 * 512 + 1);
    cfg.head = 16;
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: head 0x10 has bits outside 0xf");
    cfg.head = 0;
    cfg.embed_act = 3;
    assert_int_equal(siam_model_config_check(&cfg, NULL, &err), -1);
    assert_string_equal(err.msg, "model config: embed_act 3 is not 0 (sigmoid), 1 (none) or "
                                 "2 (relu)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gradients_match_finite_differences),
        cmocka_unit_test(backward_accumulates),
        cmocka_unit_test(backward_refuses_eval_forward),
        cmocka_unit_test(options_parse_and_check),
    };
    int failed = cmocka_run_group_tests_name("model_grad", tests, setup, teardown);
    /* Every option variant: the whole-model gradient check again, with
     * the out layer's parameter table following the head width. */
    for (size_t v = 1; v < sizeof variants / sizeof variants[0]; v++) {
        const struct CMUnitTest vt[] = {
            cmocka_unit_test_prestate_setup_teardown(gradients_match_finite_differences, setup,
                                                     teardown, (void *)&variants[v]),
            cmocka_unit_test_prestate_setup_teardown(backward_accumulates, setup, teardown,
                                                     (void *)&variants[v]),
        };
        char name[80];
        snprintf(name, sizeof name, "model_grad %s", variants[v].name);
        failed += _cmocka_run_group_tests(name, vt, 2, NULL, NULL);
    }
    return failed;
}
