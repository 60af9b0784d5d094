/* Augmentation: paper defaults; identity settings give the exact image; flip,
 * translation and rotation give the matrices they should; draws are
 * deterministic per (seed, slot), bounded, and apply each component with the
 * set probability; the backends' augment_batch matches the shared inline
 * reference and equals gather_normalize when disabled. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "kernels/augment.h"
#include "tests/support/ops_check.h"

enum { H = 105, W = 105 };

static uint8_t *test_image(void)
{
    uint8_t *img = malloc(H * W);
    assert_non_null(img);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            img[y * W + x] = (uint8_t)((x * 5 + y * 3 + (x * y) % 17) & 255);
    return img;
}

static siam_augment quiet(void)
{
    siam_augment a;
    siam_augment_defaults(&a);
    a.enabled = 1;
    a.p_component = 1.0f;
    a.rotate_deg = 0.0f;
    a.shear = 0.0f;
    a.scale_min = a.scale_max = 1.0f;
    a.translate_px = 0.0f;
    return a;
}

static void defaults_are_the_paper_values(void **state)
{
    (void)state;
    siam_augment a;
    memset(&a, 0xff, sizeof a);
    siam_augment_defaults(&a);
    assert_int_equal(a.enabled, 0);
    assert_true(a.p_component == 0.5f && a.rotate_deg == 10.0f && a.shear == 0.3f);
    assert_true(a.scale_min == 0.8f && a.scale_max == 1.2f && a.translate_px == 2.0f);
    assert_true(a.p_flip == 0.0f && a.brightness == 0.0f && a.contrast == 0.0f);
}

static void identity_settings_give_the_exact_image(void **state)
{
    (void)state;
    uint8_t *img = test_image();
    siam_augment off, none, all_zero = quiet(); /* every component applied, all of size 0 */
    siam_augment_defaults(&off);
    siam_augment_defaults(&none);
    none.enabled = 1;
    none.p_component = 0.0f; /* enabled, paper ranges, but nothing applied */
    const siam_augment *cases[3] = {&off, &none, &all_zero};
    for (int c = 0; c < 3; c++) {
        for (uint64_t slot = 0; slot < 5; slot++) {
            siam_augment_params p;
            siam_augment_draw(cases[c], 9, slot, H, W, &p);
            for (int y = 0; y < H; y++)
                for (int x = 0; x < W; x++)
                    if (siam_augment_pixel(img, H, W, &p, x, y) != img[y * W + x] / 255.0f)
                        fail_msg("case %d slot %d pixel (%d,%d)", c, (int)slot, x, y);
        }
    }
    free(img);
}

static void flip_mirrors_exactly(void **state)
{
    (void)state;
    uint8_t *img = test_image();
    siam_augment a = quiet();
    a.p_flip = 1.0f;
    siam_augment_params p;
    siam_augment_draw(&a, 3, 17, H, W, &p);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            assert_true(siam_augment_pixel(img, H, W, &p, x, y) ==
                        img[y * W + (W - 1 - x)] / 255.0f);
    free(img);
}

/* Bilinear sampling with clamping, in double, as the reference. */
static double ref_pixel(const uint8_t *img, const siam_augment_params *p, int x, int y)
{
    double sx = (double)p->m[0] * x + (double)p->m[1] * y + p->m[2];
    double sy = (double)p->m[3] * x + (double)p->m[4] * y + p->m[5];
    sx = fmin(fmax(sx, 0), W - 1);
    sy = fmin(fmax(sy, 0), H - 1);
    int x0 = (int)floor(sx), y0 = (int)floor(sy);
    int x1 = x0 + 1 < W ? x0 + 1 : x0, y1 = y0 + 1 < H ? y0 + 1 : y0;
    double ax = sx - x0, ay = sy - y0;
    double v = (1 - ay) * ((1 - ax) * img[y0 * W + x0] + ax * img[y0 * W + x1]) +
               ay * ((1 - ax) * img[y1 * W + x0] + ax * img[y1 * W + x1]);
    v = v / 255.0 * p->gain + p->bias;
    return fmin(fmax(v, 0), 1);
}

static void translation_and_rotation_matrices(void **state)
{
    (void)state;
    uint8_t *img = test_image();
    siam_augment t = quiet();
    t.translate_px = 2.0f;
    siam_augment r = quiet();
    r.rotate_deg = 10.0f;
    int moved = 0;
    for (uint64_t slot = 0; slot < 50; slot++) {
        siam_augment_params p;
        siam_augment_draw(&t, 1, slot, H, W, &p);
        assert_true(p.m[0] == 1.0f && p.m[1] == 0.0f && p.m[3] == 0.0f && p.m[4] == 1.0f);
        assert_true(fabsf(p.m[2]) <= 2.0f && fabsf(p.m[5]) <= 2.0f);
        moved += p.m[2] != 0.0f;
        for (int y = 0; y < H; y += 13)
            for (int x = 0; x < W; x += 7)
                assert_true(fabs(siam_augment_pixel(img, H, W, &p, x, y) -
                                 ref_pixel(img, &p, x, y)) < 1e-5);

        siam_augment_draw(&r, 1, slot, H, W, &p);
        /* The inverse of a rotation by theta is a rotation by -theta. */
        assert_true(fabsf(p.m[0] - p.m[4]) < 1e-6f && fabsf(p.m[1] + p.m[3]) < 1e-6f);
        assert_true(fabsf(p.m[0] * p.m[4] - p.m[1] * p.m[3] - 1.0f) < 1e-5f);
        assert_true(p.m[0] >= cosf(10.0f * 3.14159265f / 180.0f) - 1e-6f);
        /* The centre stays where it is. */
        float c = (W - 1) / 2.0f;
        assert_true(fabsf(p.m[0] * c + p.m[1] * c + p.m[2] - c) < 1e-4f);
        assert_true(fabsf(p.m[3] * c + p.m[4] * c + p.m[5] - c) < 1e-4f);
        for (int y = 0; y < H; y += 11)
            for (int x = 0; x < W; x += 9)
                assert_true(fabs(siam_augment_pixel(img, H, W, &p, x, y) -
                                 ref_pixel(img, &p, x, y)) < 1e-5);
    }
    assert_true(moved >= 45);
    free(img);
}

static void draws_are_deterministic_bounded_and_fair(void **state)
{
    (void)state;
    uint8_t *img = test_image();
    siam_augment a;
    siam_augment_defaults(&a);
    a.enabled = 1;
    a.p_flip = 0.5f;
    a.brightness = 0.4f;
    a.contrast = 0.5f;
    int identity = 0, flipped = 0;
    enum { N = 4000 };
    for (uint64_t slot = 0; slot < N; slot++) {
        siam_augment_params p, q;
        siam_augment_draw(&a, 77, slot, H, W, &p);
        siam_augment_draw(&a, 77, slot, H, W, &q);
        assert_memory_equal(&p, &q, sizeof p);
        siam_augment_draw(&a, 78, slot, H, W, &q);
        assert_true(memcmp(&p, &q, sizeof p) != 0);
        /* Inverse linear part: det in [1/1.57, 1/0.58] (forward det is
         * (1 - shx shy) sx sy with |sh| <= 0.3, s in [0.8, 1.2]), times
         * the flip's -1. */
        float det = fabsf(p.m[0] * p.m[4] - p.m[1] * p.m[3]);
        assert_true(det >= 1.0f / (1.44f * 1.09f) - 1e-4f && det <= 1.0f / (0.64f * 0.91f) + 1e-4f);
        assert_true(p.gain >= 0.5f && p.gain <= 1.5f);
        flipped += p.m[0] < 0 && p.m[4] > 0 && fabsf(p.m[1]) < 0.4f;
        siam_augment params_only = a;
        params_only.p_flip = 0.0f;
        params_only.brightness = params_only.contrast = 0.0f;
        siam_augment_draw(&params_only, 77, slot, H, W, &q);
        identity += q.m[0] == 1.0f && q.m[1] == 0.0f && q.m[2] == 0.0f && q.m[3] == 0.0f &&
                    q.m[4] == 1.0f && q.m[5] == 0.0f;
        if (slot % 97 == 0)
            for (int y = 0; y < H; y += 3)
                for (int x = 0; x < W; x += 3) {
                    float v = siam_augment_pixel(img, H, W, &p, x, y);
                    assert_true(v >= 0.0f && v <= 1.0f);
                    assert_true(fabs(v - ref_pixel(img, &p, x, y)) < 2e-4);
                }
    }
    /* No component applied: 0.5^4 of draws (250 of 4000, sd 15). */
    if (identity < 190 || identity > 310)
        fail_msg("%d identity draws of %d, expected about %d", identity, N, N / 16);
    if (flipped < 1800 || flipped > 2200)
        fail_msg("%d flips of %d, expected about %d", flipped, N, N / 2);
    free(img);
}

/* The CUDA backend draws a launch's parameters on the host in chunks
 * (siam_augment_draw_chunk); image first+k of a chunk must get the draw of
 * slot offset+first+k, whatever the chunk. */
static void chunked_draws_equal_per_slot_draws(void **state)
{
    (void)state;
    siam_augment a;
    siam_augment_defaults(&a);
    a.enabled = 1;
    a.p_flip = 0.5f;
    a.contrast = 0.2f;
    enum { n = 70 };
    siam_augment_params chunk[n], one;
    siam_augment_draw_chunk(&a, 9, 1000, 0, 64, H, W, chunk);
    siam_augment_draw_chunk(&a, 9, 1000, 64, n - 64, H, W, chunk + 64);
    int differs = 0;
    for (int i = 0; i < n; i++) {
        siam_augment_draw(&a, 9, 1000 + (uint64_t)i, H, W, &one);
        assert_memory_equal(&chunk[i], &one, sizeof one);
        if (i > 0)
            differs |= memcmp(&chunk[i], &chunk[0], sizeof one) != 0;
    }
    assert_true(differs); /* the slots really draw different parameters */
}

static void backend_disabled_equals_gather_normalize(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    uint8_t *img = test_image();
    uint8_t bank[3 * H * W];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < H * W; j++)
            bank[i * H * W + j] = (uint8_t)(img[j] + 40 * i);
    const int32_t idx[4] = {2, 0, 1, 2};
    uint8_t *bank_ = siam_check_put_bytes(be, bank, sizeof bank);
    int32_t *idx_ = siam_check_put_bytes(be, idx, sizeof idx);
    float *a_ = siam_check_alloc(be, 4 * H * W), *b_ = siam_check_alloc(be, 4 * H * W);
    float *a = siam_check_floats(4 * H * W), *b = siam_check_floats(4 * H * W);
    siam_augment off;
    siam_augment_defaults(&off);
    siam_check_ok(be, be->ops->augment_batch(be->ctx, a_, bank_, idx_, 4, H, W, &off, 5, 0, 0.5f,
                                             0.25f),
                  "augment_batch");
    siam_check_ok(be,
                  be->ops->gather_normalize(be->ctx, b_, bank_, idx_, 4, H * W, 0.5f, 0.25f),
                  "gather_normalize");
    siam_check_get(be, a, a_, 4 * H * W);
    siam_check_get(be, b, b_, 4 * H * W);
    assert_memory_equal(a, b, sizeof(float) * 4 * H * W);
    siam_check_free(be, bank_), siam_check_free(be, idx_);
    siam_check_free(be, a_), siam_check_free(be, b_);
    free(a), free(b), free(img);
}

static void backend_matches_inline_reference(void **state)
{
    const siam_check_backend *be = siam_check_backend_of(state);
    uint8_t *img = test_image();
    uint8_t bank[2 * H * W];
    for (int j = 0; j < H * W; j++) {
        bank[j] = img[j];
        bank[H * W + j] = (uint8_t)(255 - img[j]);
    }
    enum { N = 6 };
    const int32_t idx[N] = {0, 1, 1, 0, 0, 1};
    siam_augment a;
    siam_augment_defaults(&a);
    a.enabled = 1;
    a.p_flip = 0.5f;
    a.brightness = 0.1f;
    a.contrast = 0.2f;
    uint8_t *bank_ = siam_check_put_bytes(be, bank, sizeof bank);
    int32_t *idx_ = siam_check_put_bytes(be, idx, sizeof idx);
    float *out_ = siam_check_alloc(be, N * H * W), *got = siam_check_floats(N * H * W);
    double *want = siam_check_doubles(N * H * W);
    const uint64_t seed = 1234, offset = 50;
    siam_check_ok(be, be->ops->augment_batch(be->ctx, out_, bank_, idx_, N, H, W, &a, seed,
                                             offset, 0.5f, 0.5f),
                  "augment_batch");
    siam_check_get(be, got, out_, N * H * W);
    for (int i = 0; i < N; i++) {
        siam_augment_params p;
        siam_augment_draw(&a, seed, offset + (uint64_t)i, H, W, &p);
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                want[(size_t)i * H * W + y * W + x] =
                    (ref_pixel(bank + idx[i] * H * W, &p, x, y) - 0.5) / 0.5;
    }
    siam_check_close("augment_batch", got, want, N * H * W, 1e-4);
    /* Slot i of a batch at offset o is slot 0 of a batch at offset o + i. */
    float *one_ = siam_check_alloc(be, H * W), *one = siam_check_floats(H * W);
    siam_check_ok(be, be->ops->augment_batch(be->ctx, one_, bank_, idx_ + 3, 1, H, W, &a, seed,
                                             offset + 3, 0.5f, 0.5f),
                  "augment_batch");
    siam_check_get(be, one, one_, H * W);
    assert_memory_equal(one, got + 3 * H * W, sizeof(float) * H * W);

    assert_int_equal(be->ops->augment_batch(be->ctx, out_, bank_, idx_, N, H, W, &a, seed,
                                            offset, 0.5f, 0.0f),
                     -1);
    assert_string_equal(be->ops->ctx_error(be->ctx), "augment_batch: std must be > 0, got 0");
    a.scale_min = 1.5f;
    assert_int_equal(be->ops->augment_batch(be->ctx, out_, bank_, idx_, N, H, W, &a, seed,
                                            offset, 0.5f, 0.5f),
                     -1);
    assert_string_equal(be->ops->ctx_error(be->ctx),
                        "augment_batch: bad settings p_component=0.5 p_flip=0.5 scale=[1.5, "
                        "1.2] (probabilities in [0, 1], 0 < min <= max)");
    siam_check_free(be, bank_), siam_check_free(be, idx_), siam_check_free(be, out_);
    siam_check_free(be, one_);
    free(got), free(want), free(one), free(img);
}

int main(void)
{
    const struct CMUnitTest pure[] = {
        cmocka_unit_test(defaults_are_the_paper_values),
        cmocka_unit_test(identity_settings_give_the_exact_image),
        cmocka_unit_test(flip_mirrors_exactly),
        cmocka_unit_test(translation_and_rotation_matrices),
        cmocka_unit_test(draws_are_deterministic_bounded_and_fair),
        cmocka_unit_test(chunked_draws_equal_per_slot_draws),
    };
    const struct CMUnitTest batch[] = {
        cmocka_unit_test(backend_disabled_equals_gather_normalize),
        cmocka_unit_test(backend_matches_inline_reference),
    };
    int failed = cmocka_run_group_tests_name("data_augment", pure, NULL, NULL);
    failed += siam_check_run("data_augment_batch", batch, sizeof batch / sizeof batch[0]);
    return failed;
}
