/* pairset_sheet: the sheet of a pair set holds, in each cell, the exact
 * pixels of the pair siam_sheet_pick chose for it (checked by decoding the
 * written PNG), blank cells where a category runs out, and argument errors
 * name the value at fault. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <stb/stb_image.h>

#include "host/image_sheet.h"
#include "host/pairset_sheet.h"

/* Faces wide enough (2F+2 > "p=0.900" at text scale 2) that no cell's text
 * spills into a neighbour: image_sheet.c centres the text on the cell. */
enum { F = 48, IMAGES = 6, PAIRS = 6, K = 2, MARGIN = 8, GAP = 2, TEXT_H = 24 };

/* Six images, each with its own pixel pattern (no two equal anywhere), and
 * six pairs: labels 1 1 1 0 0 0. */
static siam_pairset *make_set(void)
{
    siam_error e;
    siam_images *im = siam_images_new(IMAGES, F, F, "", &e);
    assert_non_null(im);
    for (int i = 0; i < IMAGES; i++)
        for (int p = 0; p < F * F; p++)
            im->pixels[i * F * F + p] = (uint8_t)(i * 40 + p % 37);
    siam_pairset *ps = siam_pairset_new(im, PAIRS, "test", &e);
    siam_images_release(im);
    assert_non_null(ps);
    static const int32_t a[PAIRS] = {0, 1, 2, 3, 4, 5}, b[PAIRS] = {5, 4, 3, 0, 1, 2};
    for (int i = 0; i < PAIRS; i++)
        ps->pairs[i] = (siam_pair){a[i], b[i], i < 3 ? 1.0f : 0.0f, 0};
    return ps;
}

static int block_equal(const uint8_t *img, int W, int x, int y, const uint8_t *face)
{
    for (int r = 0; r < F; r++)
        if (memcmp(img + (size_t)(y + r) * W + x, face + r * F, F) != 0)
            return 0;
    return 1;
}

static int block_white(const uint8_t *img, int W, int x, int y, int w, int h)
{
    for (int r = 0; r < h; r++)
        for (int c = 0; c < w; c++)
            if (img[(size_t)(y + r) * W + x + c] != 255)
                return 0;
    return 1;
}

static void cells_hold_the_chosen_pairs(void **state)
{
    (void)state;
    siam_pairset *ps = make_set();
    /* threshold 0.5: pairs 0, 1 TP (0.9 surest), 2 FN, 3 FP, 4 5 TN (0.05 surest) */
    const float prob[PAIRS] = {0.9f, 0.6f, 0.2f, 0.7f, 0.4f, 0.05f};
    char dir[] = "/tmp/siam_psheet_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64];
    snprintf(path, sizeof path, "%s/sheet.png", dir);
    int picks[SIAM_SHEET_ROWS * K];
    siam_error e;
    assert_int_equal(siam_pairset_sheet_write(path, picks, ps, prob, PAIRS, 0.5f, K, NULL, &e), 0);
    static const int want[SIAM_SHEET_ROWS * K] = {
        0, 1, /* TP most sure */ 1, 0, /* TP least sure */
        3, -1, /* FP most sure */ 3, -1, /* FP least sure */
        5, 4, /* TN most sure */ 4, 5, /* TN least sure */
        2, -1, /* FN most sure */ 2, -1, /* FN least sure */
    };
    assert_memory_equal(picks, want, sizeof want);

    int W, H, ch;
    uint8_t *img = stbi_load(path, &W, &H, &ch, 1);
    assert_non_null(img);
    assert_int_equal(ch, 1);
    const int cell_w = 2 * F + GAP, cell_h = F + TEXT_H;
    /* A title line, then the rows. */
    const int top = MARGIN + TEXT_H + MARGIN;
    assert_int_equal(H, top + SIAM_SHEET_ROWS * (cell_h + MARGIN));
    const uint8_t *px = ps->images->pixels;
    /* The sheet is as wide as the title when that is wider: the cells'
     * column is found where the first pair's left face is. */
    int left = -1;
    for (int x = 0; x + F <= W && left < 0; x++)
        if (block_equal(img, W, x, top, px + ps->pairs[want[0]].a * F * F))
            left = x;
    assert_true(left > MARGIN + 100); /* the row labels' column */
    assert_true(W >= left + K * (cell_w + MARGIN));
    int ink = 0;
    for (int y = MARGIN; y < MARGIN + TEXT_H; y++)
        for (int x = 0; x < W; x++)
            ink += img[y * W + x] == 0;
    assert_true(ink > 300); /* "pairs, threshold 0.500" */
    for (int r = 0; r < SIAM_SHEET_ROWS; r++)
        for (int c = 0; c < K; c++) {
            int x = left + c * (cell_w + MARGIN), y = top + r * (cell_h + MARGIN);
            int i = want[r * K + c];
            if (i < 0) {
                assert_true(block_white(img, W, x, y, cell_w, cell_h));
                continue;
            }
            const siam_pair *p = &ps->pairs[i];
            assert_true(block_equal(img, W, x, y, px + p->a * F * F));
            assert_true(block_equal(img, W, x + F + GAP, y, px + p->b * F * F));
            assert_true(block_white(img, W, x + F, y, GAP, F));
        }
    /* The same as composing by hand through image_sheet.h. */
    uint8_t *ref;
    int rh, rw;
    assert_int_equal(siam_pairset_sheet_render(&ref, &rh, &rw, NULL, ps, prob, PAIRS, 0.5f, K,
                                               NULL, &e), 0);
    assert_int_equal(rh, H);
    assert_int_equal(rw, W);
    assert_memory_equal(ref, img, (size_t)W * H);
    free(ref);
    stbi_image_free(img);
    unlink(path);
    rmdir(dir);
    siam_pairset_free(ps);
}

static void bad_arguments_say_which(void **state)
{
    (void)state;
    siam_pairset *ps = make_set();
    const float prob[PAIRS] = {0.9f, 0.6f, 0.2f, 0.7f, 0.4f, 0.05f};
    uint8_t *img = (uint8_t *)1;
    int h, w;
    siam_error e;
    assert_int_equal(siam_pairset_sheet_render(&img, &h, &w, NULL, ps, prob, 5, 0.5f, K, NULL, &e),
                     -1);
    assert_null(img);
    assert_string_equal(e.msg, "pair sheet: 5 probabilities for 6 pairs");
    assert_int_equal(siam_pairset_sheet_render(&img, &h, &w, NULL, ps, prob, PAIRS, 0.5f, 0,
                                               NULL, &e), -1);
    assert_string_equal(e.msg, "pair sheet: per_kind must be in 1..64, got 0");
    assert_int_equal(siam_pairset_sheet_render(&img, &h, &w, NULL, ps, prob, PAIRS, NAN, 1,
                                               NULL, &e), -1);
    assert_string_equal(e.msg, "pair sheet: threshold must be finite, got nan");
    assert_int_equal(siam_pairset_sheet_write("/nonexistent/s.png", NULL, ps, prob, 4, 0.5f, 1,
                                              NULL, &e), -1);
    assert_string_equal(e.msg, "/nonexistent/s.png: pair sheet: 4 probabilities for 6 pairs");
    assert_int_equal(siam_pairset_sheet_write("/nonexistent/s.png", NULL, ps, prob, PAIRS, 0.5f,
                                              1, NULL, &e), -1);
    assert_non_null(strstr(e.msg, "/nonexistent/s.png"));
    siam_pairset_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cells_hold_the_chosen_pairs),
        cmocka_unit_test(bad_arguments_say_which),
    };
    return cmocka_run_group_tests_name("pairset_sheet", tests, NULL, NULL);
}
