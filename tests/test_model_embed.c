/* The tower alone (siam_model_embed_forward/backward, host/model.h) on
 * every backend: its backward from d(embedding) against central finite
 * differences of the double-precision tower (tests/support/ref_tower.h) in
 * every parameter of the whole model, for each embedding activation, on an
 * odd number of single images; its embeddings against the pair forward's
 * of the same images; and the refusals that keep a backward from using the
 * other kind of forward. */
#include "tests/support/ops_check.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/model.h"
#include "host/predict.h"
#include "kernels/philox.h"
#include "tests/support/ref_tower.h"

enum { MAXB = 3, N = 5 };

static siam_model *tiny(const siam_check_backend *be, int embed_act)
{
    siam_model_config cfg;
    siam_model_config_default(&cfg);
    cfg.in_h = 28;
    cfg.in_w = 30; /* non-square, to catch h/w mix-ups */
    int ch[4] = { 2, 3, 3, 4 }, k[4] = { 5, 3, 2, 2 };
    memcpy(cfg.channels, ch, sizeof ch);
    memcpy(cfg.kernels, k, sizeof k);
    cfg.fc_units = 6;
    cfg.dropout = 0.3f; /* the head's: the tower alone must not draw it */
    cfg.embed_act = embed_act;
    siam_error err;
    siam_model *m = siam_model_new(be->ops, be->ctx, &cfg, MAXB, &err);
    if (!m)
        fail_msg("%s", err.msg);
    assert_int_equal(siam_model_init(m, SIAM_INIT_PYTORCH, 11, &err), 0);
    return m;
}

static float *images(const siam_check_backend *be, siam_model *m, int n)
{
    size_t nx = (size_t)n * 28 * 30;
    float *x = siam_check_floats(nx);
    for (size_t i = 0; i < nx; i++)
        x[i] = siam_philox_uniform(5, 9, i) * 2.0f - 1.0f;
    siam_check_ok(be, be->ops->upload(be->ctx, siam_model_input(m), x, nx * sizeof *x), "upload");
    return x;
}

/* L = sum_ij c_ij e_ij with fixed random c, so that d(embedding) = c. The
 * float backward against central differences (h = 1e-6) of the double
 * tower along three directions per tensor: the unit gradient, a random
 * +-1/sqrt(n) vector, the element of largest |g|; within 1e-6 + 2e-4 |fd|,
 * test_model_grad.c's bound. The out layer (the head) gets no gradient. */
static void check_activation(const siam_check_backend *be, int act)
{
    siam_model *m = tiny(be, act);
    siam_error err;
    float *x = images(be, m, N);
    int U = siam_model_config_of(m)->fc_units;
    float *c = siam_check_floats((size_t)N * U);
    siam_check_random(c, (size_t)N * U, 77, -1.0f, 1.0f);
    float *c_dev = siam_check_put(be, c, (size_t)N * U);
    size_t n = siam_model_numel(m);
    float *p0 = siam_check_floats(n), *g = siam_check_floats(n);
    double *pd = siam_check_doubles(n), *d = siam_check_doubles(n);
    assert_int_equal(siam_model_download_params(m, p0, &err), 0);
    for (size_t i = 0; i < n; i++)
        pd[i] = p0[i];
    assert_int_equal(siam_model_embed_forward(m, N, &err), 0);
    assert_int_equal(siam_model_zero_grad(m, &err), 0);
    if (siam_model_embed_backward(m, N, c_dev, &err))
        fail_msg("%s", err.msg);
    siam_check_get(be, g, siam_model_grads(m), n);
    float *e = siam_check_floats((size_t)N * U);
    siam_check_get(be, e, siam_model_embeddings(m), (size_t)N * U);

    size_t cap = siam_ref_embed_scratch(m, N);
    double *a = siam_check_doubles(cap), *b = siam_check_doubles(cap);
    const double *er = siam_ref_embed(m, x, N, pd, a, b);
    siam_check_close("embeddings", e, er, (size_t)N * U, 1e-5);
    const double h = 1e-6;
    double worst = 0.0;
    int checked = 0;
    for (int j = 0; j < siam_model_param_count(m); j++) {
        const siam_param_info *pi = siam_model_param(m, j);
        const float *gj = g + pi->offset;
        if (j == SIAM_PARAM_OUT_W || j == SIAM_PARAM_OUT_B) {
            for (size_t i = 0; i < pi->numel; i++)
                assert_true(gj[i] == 0.0f);
            continue;
        }
        double norm = 0.0;
        size_t big = 0;
        for (size_t i = 0; i < pi->numel; i++) {
            norm += (double)gj[i] * gj[i];
            big = fabsf(gj[i]) > fabsf(gj[big]) ? i : big;
        }
        for (int trial = 0; trial < 3; trial++) {
            double an = 0.0, l[2];
            for (size_t i = 0; i < pi->numel; i++) {
                double r = (siam_philox_u32(4, (uint64_t)j, i) & 1 ? 1.0 : -1.0) /
                           sqrt((double)pi->numel);
                d[i] = trial == 0 ? (norm > 0.0 ? gj[i] / sqrt(norm) : r)
                     : trial == 1 ? r : (double)(i == big);
                an += gj[i] * d[i];
            }
            for (int s = 0; s < 2; s++) {
                for (size_t i = 0; i < pi->numel; i++)
                    pd[pi->offset + i] = p0[pi->offset + i] + (s ? h : -h) * d[i];
                const double *es = siam_ref_embed(m, x, N, pd, a, b);
                l[s] = 0.0;
                for (size_t i = 0; i < (size_t)N * U; i++)
                    l[s] += c[i] * es[i];
            }
            for (size_t i = 0; i < pi->numel; i++)
                pd[pi->offset + i] = p0[pi->offset + i];
            double fd = (l[1] - l[0]) / (2 * h), diff = fabs(fd - an);
            double tol = 1e-6 + 2e-4 * fabs(fd);
            worst = fmax(worst, diff / tol);
            if (diff > tol)
                fail_msg("%s, %s direction %d: finite difference %.9f, backward %.9f",
                         siam_embed_act_name(act), pi->name, trial, fd, an);
            checked += fabs(fd) > 1e-4;
        }
    }
    printf("%s: worst |fd - backward| / tolerance %.3f over %d checks above 1e-4\n",
           siam_embed_act_name(act), worst, checked);
    /* conv biases have none (batch norm removes a per-channel shift) */
    assert_true(checked >= 40);
    free(a), free(b), free(e), free(p0), free(g), free(pd), free(d), free(c), free(x);
    siam_check_free(be, c_dev);
    siam_model_free(m);
}

static void backward_matches_finite_differences(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    check_activation(be, SIAM_EMBED_SIGMOID);
    check_activation(be, SIAM_EMBED_NONE);
    check_activation(be, SIAM_EMBED_RELU);
}

/* The same 2B images give the same embeddings whether they come in as B
 * pairs or as 2B single images: one tower, one code path (bit-exact), in
 * both modes; and the embed forward leaves the dropout state alone. */
static void embeddings_are_the_pair_forwards(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_model *m = tiny(be, SIAM_EMBED_SIGMOID);
    siam_error err;
    float *x = images(be, m, 2 * MAXB);
    size_t ne = (size_t)2 * MAXB * 6;
    float *pair = siam_check_floats(ne), *single = siam_check_floats(ne);
    for (int training = 1; training >= 0; training--) {
        siam_model_set_training(m, training);
        assert_int_equal(siam_model_forward(m, MAXB, &err), 0);
        siam_check_get(be, pair, siam_model_embeddings(m), ne);
        uint64_t seed, off0, off1;
        siam_model_dropout_state(m, &seed, &off0);
        assert_int_equal(siam_model_embed_forward(m, 2 * MAXB, &err), 0);
        siam_model_dropout_state(m, &seed, &off1);
        assert_true(off0 == off1);
        siam_check_get(be, single, siam_model_embeddings(m), ne);
        /* eval runs the tower in chunks whatever the entry: equal too */
        assert_memory_equal(pair, single, ne * sizeof *pair);
    }
    free(pair), free(single), free(x);
    siam_model_free(m);
}

static void each_backward_needs_its_own_forward(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_model *m = tiny(be, SIAM_EMBED_NONE);
    siam_error err;
    float *x = images(be, m, 2 * MAXB);
    float *demb = siam_check_alloc(be, (size_t)2 * MAXB * 6);
    float *y = siam_check_alloc(be, MAXB);
    assert_int_equal(siam_model_embed_forward(m, 0, &err), -1);
    assert_string_equal(err.msg, "model embed forward: 0 images outside 1..6");
    assert_int_equal(siam_model_embed_forward(m, 7, &err), -1);
    assert_string_equal(err.msg, "model embed forward: 7 images outside 1..6");
    assert_int_equal(siam_model_forward(m, MAXB, &err), 0);
    assert_int_equal(siam_model_embed_backward(m, 2 * MAXB, demb, &err), -1);
    assert_string_equal(err.msg, "model embed backward: needs a training-mode embed forward of "
                                 "6 images (last: 0 images, training mode)");
    assert_int_equal(siam_model_embed_forward(m, 4, &err), 0);
    assert_int_equal(siam_model_backward(m, MAXB, y, &err), -1);
    assert_string_equal(err.msg, "model backward: needs a training-mode forward of batch 3 "
                                 "(last: batch 0, training mode)");
    assert_int_equal(siam_model_embed_backward(m, 5, demb, &err), -1);
    assert_int_equal(siam_model_embed_backward(m, 4, demb, &err), 0);
    siam_model_set_training(m, 0);
    assert_int_equal(siam_model_embed_forward(m, 4, &err), 0);
    assert_int_equal(siam_model_embed_backward(m, 4, demb, &err), -1);
    assert_string_equal(err.msg, "model embed backward: needs a training-mode embed forward of "
                                 "4 images (last: 4 images, eval mode)");
    siam_check_free(be, demb);
    siam_check_free(be, y);
    free(x);
    siam_model_free(m);
}

/* siam_model_cosine against a naive computation: each image's embedding
 * from an eval forward of that image alone, the cosine in double, for a set
 * of 7 pairs in batches of 3 (so both the left/right layout and the last
 * short batch count). */
static void cosine_scores_match_a_naive_computation(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    siam_model *m = tiny(be, SIAM_EMBED_NONE);
    siam_error err;
    enum { IMAGES = 9, PAIRS = 7, U = 6 };
    siam_images *im = siam_images_new(IMAGES, 28, 30, "/nowhere", &err);
    assert_non_null(im);
    for (size_t i = 0; i < (size_t)IMAGES * 28 * 30; i++)
        im->pixels[i] = (uint8_t)(siam_philox_u32(12, 3, i) & 0xFF);
    siam_pairset *ps = siam_pairset_new(im, PAIRS, "test", &err);
    for (int i = 0; i < PAIRS; i++)
        ps->pairs[i] = (siam_pair){ i, (3 * i + 2) % IMAGES, (float)(i % 2), 0 };
    float scores[PAIRS];
    siam_model_set_training(m, 0);
    if (siam_model_cosine(m, ps, NULL, 0.0f, 1.0f, scores, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(siam_model_training(m), 0);
    /* one image at a time: pixel / 255 into the input, embed forward of 1 */
    double e[IMAGES][U];
    float x[28 * 30], row[U];
    for (int i = 0; i < IMAGES; i++) {
        for (int k = 0; k < 28 * 30; k++)
            x[k] = im->pixels[(size_t)i * 28 * 30 + k] / 255.0f;
        siam_check_ok(be, be->ops->upload(be->ctx, siam_model_input(m), x, sizeof x), "upload");
        assert_int_equal(siam_model_embed_forward(m, 1, &err), 0);
        siam_check_get(be, row, siam_model_embeddings(m), U);
        for (int u = 0; u < U; u++)
            e[i][u] = row[u];
    }
    double want[PAIRS];
    for (int i = 0; i < PAIRS; i++) {
        const double *a = e[ps->pairs[i].a], *b = e[ps->pairs[i].b];
        double dot = 0.0, na = 0.0, nb = 0.0;
        for (int u = 0; u < U; u++) {
            dot += a[u] * b[u];
            na += a[u] * a[u];
            nb += b[u] * b[u];
        }
        want[i] = dot / sqrt(na * nb);
        assert_true(want[i] >= -1.0 && want[i] <= 1.0);
    }
    siam_check_near("cosine scores", scores, want, PAIRS, 1e-6, 1e-5);
    siam_pairset_free(ps);
    siam_images_release(im);
    siam_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(backward_matches_finite_differences),
        cmocka_unit_test(embeddings_are_the_pair_forwards),
        cmocka_unit_test(each_backward_needs_its_own_forward),
        cmocka_unit_test(cosine_scores_match_a_naive_computation),
    };
    return siam_check_run("model_embed", tests, sizeof tests / sizeof tests[0]);
}
