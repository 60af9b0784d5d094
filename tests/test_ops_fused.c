/* The fused conv-block tail (bn_relu_pool_*, kernels/cpu/bn_relu_pool.c)
 * against the separate ops it replaces, batchnorm -> relu -> maxpool2 and
 * their backwards: every output must be bit-identical (the fused kernels
 * promise the same arithmetic), at even and odd plane sizes (odd ones leave
 * a row and a column outside every window), with many ties (ReLU zeros and
 * values on a coarse grid), with din separate and din == in. The CPU table
 * is the only one that has these ops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernels/ops.h"
#include "kernels/philox.h"

typedef struct shape {
    int N, C, H, W;
} shape;

static const siam_ops *o = &siam_ops_cpu;

static siam_ctx *ctx_new(void)
{
    siam_error err;
    siam_ctx *c = o->ctx_new(&(siam_ctx_options){ .threads = 2 }, &err);
    assert_non_null(c);
    return c;
}

/* Values on a grid of 1/8 in [lo, hi): many exact ties within windows. */
static float *grid(size_t n, uint64_t stream, float lo, float hi)
{
    float *x = malloc(n * sizeof *x);
    assert_non_null(x);
    for (size_t i = 0; i < n; i++)
        x[i] = lo + (float)(int)((hi - lo) * 8.0f * siam_philox_uniform(11, stream, i)) / 8.0f;
    return x;
}

static float *zeros(size_t n)
{
    float *x = calloc(n, sizeof *x);
    assert_non_null(x);
    return x;
}

/* Eval mode: bn_relu_pool_forward_eval against batchnorm_forward_eval ->
 * relu -> maxpool2, bit for bit; returns how many pooled outputs are
 * positive. */
static size_t eval_matches_separate(siam_ctx *c, const float *in, const float *rm,
                                    const float *rv, const float *gamma, const float *beta, int N,
                                    int C, int H, int W)
{
    size_t n = (size_t)N * C * H * W, np = (size_t)N * C * (H / 2) * (W / 2), positive = 0;
    float *y = zeros(n), *p1 = zeros(np), *p2 = zeros(np);
    int32_t *am = calloc(np, sizeof *am);
    assert_non_null(am);
    assert_int_equal(o->batchnorm_forward_eval(c, y, in, rm, rv, gamma, beta, N, C, H * W,
                                               1e-5f), 0);
    assert_int_equal(o->relu_forward(c, y, y, n), 0);
    assert_int_equal(o->maxpool2_forward(c, p1, am, y, N * C, H, W), 0);
    assert_int_equal(o->bn_relu_pool_forward_eval(c, p2, in, rm, rv, gamma, beta, N, C, H, W,
                                                  1e-5f), 0);
    assert_memory_equal(p1, p2, np * sizeof *p1);
    for (size_t i = 0; i < np; i++)
        positive += p1[i] > 0.0f;
    free(y), free(p1), free(p2), free(am);
    return positive;
}

static void fused_matches_separate(const shape *s, int in_place)
{
    siam_ctx *c = ctx_new();
    int N = s->N, C = s->C, H = s->H, W = s->W, OH = H / 2, OW = W / 2, HW = H * W;
    size_t n = (size_t)N * C * HW, np = (size_t)N * C * OH * OW;
    float *in = grid(n, 1, -2.0f, 3.0f), *dout = grid(np, 2, -1.0f, 1.0f);
    float *gamma = grid((size_t)C, 3, 0.5f, 1.5f), *beta = grid((size_t)C, 4, -0.5f, 0.5f);
    float rm1[64], rv1[64], rm2[64], rv2[64], sm1[64], si1[64], sm2[64], si2[64];
    float dg1[64] = { 0 }, db1[64] = { 0 }, dg2[64] = { 0 }, db2[64] = { 0 };
    assert_true(C <= 64);
    for (int k = 0; k < C; k++) {
        rm1[k] = rm2[k] = 0.1f * (float)k;
        rv1[k] = rv2[k] = 1.0f + 0.1f * (float)k;
    }
    /* Separate ops: bn -> relu -> pool, then their backwards. */
    float *y = zeros(n), *p1 = zeros(np), *g = zeros(n), *din1 = zeros(n);
    int32_t *am = calloc(np, sizeof *am);
    assert_int_equal(o->batchnorm_forward_train(c, y, sm1, si1, rm1, rv1, in, gamma, beta, N, C,
                                                HW, 0.1f, 1e-5f), 0);
    assert_int_equal(o->relu_forward(c, y, y, n), 0);
    assert_int_equal(o->maxpool2_forward(c, p1, am, y, N * C, H, W), 0);
    assert_int_equal(o->maxpool2_backward(c, g, dout, am, N * C, H, W), 0);
    assert_int_equal(o->relu_backward(c, g, g, y, n), 0);
    assert_int_equal(o->batchnorm_backward(c, din1, dg1, db1, g, in, sm1, si1, gamma, N, C, HW,
                                           1e-5f), 0);

    /* Fused. */
    float *p2 = zeros(np), *x2 = malloc(n * sizeof *x2);
    uint8_t *win = calloc(np, 1);
    memcpy(x2, in, n * sizeof *x2);
    assert_int_equal(o->bn_relu_pool_forward_train(c, p2, win, sm2, si2, rm2, rv2, x2, gamma,
                                                   beta, N, C, H, W, 0.1f, 1e-5f), 0);
    assert_memory_equal(p1, p2, np * sizeof *p1);
    assert_memory_equal(sm1, sm2, (size_t)C * sizeof *sm1);
    assert_memory_equal(si1, si2, (size_t)C * sizeof *si1);
    assert_memory_equal(rm1, rm2, (size_t)C * sizeof *rm1);
    assert_memory_equal(rv1, rv2, (size_t)C * sizeof *rv1);
    int ties = 0;
    for (size_t i = 0; i < np; i++) {
        size_t plane = i / ((size_t)OH * OW), o_ = i % ((size_t)OH * OW);
        int oh = (int)(o_ / OW), ow = (int)(o_ % OW);
        int want = (2 * oh + (win[i] >> 1)) * W + 2 * ow + (win[i] & 1);
        assert_int_equal(am[i], want);
        ties += p1[i] == 0.0f;
        (void)plane;
    }
    assert_true(ties > 0); /* the tie rule was exercised */
    float *din2 = in_place ? x2 : zeros(n);
    assert_int_equal(o->bn_relu_pool_backward(c, din2, dg2, db2, dout, p2, win, x2, sm2, si2,
                                              gamma, N, C, H, W), 0);
    assert_memory_equal(din1, din2, n * sizeof *din1);
    assert_memory_equal(dg1, dg2, (size_t)C * sizeof *dg1);
    assert_memory_equal(db1, db2, (size_t)C * sizeof *db1);

    /* Without din only the parameter gradients, accumulated a second time. */
    assert_int_equal(o->bn_relu_pool_backward(c, NULL, dg2, db2, dout, p2, win, in, sm2, si2,
                                              gamma, N, C, H, W), 0);
    assert_int_equal(o->batchnorm_backward(c, NULL, dg1, db1, g, in, sm1, si1, gamma, N, C, HW,
                                           1e-5f), 0);
    assert_memory_equal(dg1, dg2, (size_t)C * sizeof *dg1);
    assert_memory_equal(db1, db2, (size_t)C * sizeof *db1);

    eval_matches_separate(c, in, rm1, rv1, gamma, beta, N, C, H, W);

    if (!in_place)
        free(din2);
    free(in), free(dout), free(gamma), free(beta), free(y), free(p1), free(g), free(din1);
    free(am), free(p2), free(x2), free(win);
    o->ctx_free(c);
}

static void even_planes(void **state)
{
    (void)state;
    fused_matches_separate(&(shape){ 3, 5, 8, 6 }, 0);
}

static void odd_planes(void **state)
{
    (void)state;
    fused_matches_separate(&(shape){ 2, 3, 7, 9 }, 0);
}

static void din_in_place(void **state)
{
    (void)state;
    fused_matches_separate(&(shape){ 2, 4, 11, 10 }, 1);
}

/* A model-sized block: 64 channels on conv3's 18x18 plane, 2 images. */
static void model_sized_block(void **state)
{
    (void)state;
    fused_matches_separate(&(shape){ 2, 64, 18, 18 }, 1);
}

/* Eval mode where the map x -> ReLU(bn(x)) falls (gamma < 0) or is flat
 * (gamma = 0, where an infinite input gives inf * 0 = NaN -> 0), with NaN,
 * infinities and both zeros among the inputs and means of zero, so that
 * every case of the one-evaluation-per-window route and its fallback meets
 * the separate ops: bit for bit. */
static void eval_signs_and_specials(void **state)
{
    (void)state;
    siam_ctx *c = ctx_new();
    const int N = 2, C = 8, H = 10, W = 9, OH = H / 2, OW = W / 2, HW = H * W;
    size_t n = (size_t)N * C * HW, np = (size_t)N * C * OH * OW;
    float *in = grid(n, 5, -2.0f, 2.0f);
    const float special[] = { NAN, INFINITY, -INFINITY, 0.0f, -0.0f };
    for (size_t i = 0; i < n; i += 7)
        in[i] = special[(i / 7) % 5];
    float gamma[8] = { -1.0f, -0.25f, 0.0f, -0.0f, 0.5f, 2.0f, -3.0f, 1.0f };
    float beta[8] = { 0.0f, -0.0f, 0.5f, -0.5f, 0.0f, 0.25f, 1.0f, -1.0f };
    float rm[8] = { 0.0f, 0.5f, 0.0f, 0.25f, 0.0f, -0.5f, 0.0f, 1.0f };
    float rv[8] = { 1.0f, 0.5f, 2.0f, 1.0f, 0.0f, 1.5f, 1.0f, 0.25f };
    size_t positive = eval_matches_separate(c, in, rm, rv, gamma, beta, N, C, H, W);
    assert_true(positive > 0 && positive < np); /* both sides of ReLU */
    free(in);
    o->ctx_free(c);
}

static void bad_sizes(void **state)
{
    (void)state;
    siam_ctx *c = ctx_new();
    float x[16] = { 0 }, y[4], s[1] = { 1 };
    uint8_t w[4];
    assert_int_equal(o->bn_relu_pool_forward_train(c, y, w, s, s, s, s, x, s, s, 1, 1, 1, 4,
                                                   0.1f, 1e-5f), -1);
    assert_string_equal(o->ctx_error(c),
                        "bn_relu_pool_forward_train: bad sizes N=1 C=1 H=1 W=4");
    assert_int_equal(o->bn_relu_pool_forward_eval(c, y, NULL, s, s, s, s, 1, 1, 4, 4, 1e-5f), -1);
    assert_string_equal(o->ctx_error(c), "bn_relu_pool_forward_eval: NULL buffer");
    assert_int_equal(o->bn_relu_pool_backward(c, x, s, s, y, y, w, x, s, s, s, 0, 1, 4, 4), -1);
    assert_string_equal(o->ctx_error(c), "bn_relu_pool_backward: bad sizes N=0 C=1 H=4 W=4");
    o->ctx_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(even_planes),
        cmocka_unit_test(odd_planes),
        cmocka_unit_test(din_in_place),
        cmocka_unit_test(model_sized_block),
        cmocka_unit_test(eval_signs_and_specials),
        cmocka_unit_test(bad_sizes),
    };
    return cmocka_run_group_tests_name("ops_fused", tests, NULL, NULL);
}
