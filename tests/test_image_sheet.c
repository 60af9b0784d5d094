/* image_sheet: faces land pixel-exact where the layout puts them, text is
 * drawn (black on white) under each pair and beside each row, blank cells
 * stay white, the PNG decodes back to the same pixels, and the pair choice
 * per TP/FP/TN/FN row follows the documented order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb/stb_image.h>

#include "host/image_sheet.h"

enum { F = 105, CELL_W = 2 * F + 2, CELL_H = F + 24, M = 8 };

static int count_value(const uint8_t *img, int W, int x0, int y0, int w, int h, int v)
{
    int k = 0;
    for (int y = y0; y < y0 + h; y++)
        for (int x = x0; x < x0 + w; x++)
            k += img[y * W + x] == v;
    return k;
}

static void layout_faces_and_text(void **state)
{
    (void)state;
    uint8_t *a = malloc(F * F), *b = malloc(F * F);
    memset(a, 100, F * F);
    memset(b, 200, F * F);
    siam_sheet_pair pairs[4] = {
        {a, b, 0.973f}, {a, b, 0.125f},
        {b, a, 0.5f}, {NULL, NULL, 0},
    };
    const char *labels[2] = {"TP most sure", "FN least sure\x01"};
    uint8_t *img;
    int H, W;
    siam_error e;
    assert_int_equal(siam_image_sheet_render(&img, &H, &W, pairs, 2, 2, labels, NULL, F, F, &e), 0);
    assert_int_equal(H, M + 2 * (CELL_H + M));
    int left = W - 2 * (CELL_W + M);
    assert_true(left > 2 * M + 100); /* room for a 14-character label at scale 2 */
    for (int r = 0; r < 2; r++)
        for (int c = 0; c < 2; c++) {
            int x = left + c * (CELL_W + M), y = M + r * (CELL_H + M);
            if (r == 1 && c == 1) {
                assert_int_equal(count_value(img, W, x, y, CELL_W, CELL_H, 255),
                                 CELL_W * CELL_H);
                continue;
            }
            int va = r == 0 ? 100 : 200, vb = r == 0 ? 200 : 100;
            assert_int_equal(count_value(img, W, x, y, F, F, va), F * F);
            assert_int_equal(count_value(img, W, x + F, y, 2, F, 255), 2 * F);
            assert_int_equal(count_value(img, W, x + F + 2, y, F, F, vb), F * F);
            /* The probability text: black on white only, and some of it. */
            int ink = count_value(img, W, x, y + F, CELL_W, 24, 0);
            int paper = count_value(img, W, x, y + F, CELL_W, 24, 255);
            assert_true(ink > 50);
            assert_int_equal(ink + paper, CELL_W * 24);
        }
    /* "p=0.973" and "p=0.125" are drawn differently. */
    int x0 = left, x1 = left + CELL_W + M, y = M + F;
    int differ = 0;
    for (int yy = y; yy < y + 24; yy++)
        for (int xx = 0; xx < CELL_W; xx++)
            differ += img[yy * W + x0 + xx] != img[yy * W + x1 + xx];
    assert_true(differ > 10);
    /* Row labels: ink in the left column of each row. */
    assert_true(count_value(img, W, M, M, left - M, CELL_H, 0) > 100);
    assert_true(count_value(img, W, M, M + CELL_H + M, left - M, CELL_H, 0) > 100);
    assert_int_equal(count_value(img, W, 0, 0, W, M, 255), W * M); /* top margin */

    char path[] = "/tmp/siam_sheet_XXXXXX";
    assert_non_null(mkdtemp(path));
    char file[64];
    snprintf(file, sizeof file, "%s/pairs.png", path);
    assert_int_equal(siam_image_sheet_write(file, pairs, 2, 2, labels, NULL, F, F, &e), 0);
    int w2, h2, ch;
    uint8_t *back = stbi_load(file, &w2, &h2, &ch, 1);
    assert_non_null(back);
    assert_int_equal(w2, W);
    assert_int_equal(h2, H);
    assert_int_equal(ch, 1);
    assert_memory_equal(back, img, (size_t)W * H);
    stbi_image_free(back);
    remove(file);
    remove(path);
    free(img);

    assert_int_equal(siam_image_sheet_render(&img, &H, &W, pairs, 0, 2, labels, NULL, F, F, &e), -1);
    assert_string_equal(e.msg, "image sheet: bad layout 0 rows x 2 cols of 105x105 faces");
    assert_int_equal(siam_image_sheet_write("/nonexistent/x.png", pairs, 1, 1, NULL, NULL, F, F, &e),
                     -1);
    assert_non_null(strstr(e.msg, "/nonexistent/x.png"));
    free(a);
    free(b);
}

/* A title takes a line above the rows and widens the sheet to fit; the
 * cells move down by that line and are otherwise the same. */
static void a_title_goes_above_the_rows(void **state)
{
    (void)state;
    uint8_t a[F * F], b[F * F];
    memset(a, 60, sizeof a);
    memset(b, 160, sizeof b);
    siam_sheet_pair pairs[1] = {{a, b, 0.7f}};
    uint8_t *plain, *titled;
    int H, W, TH, TW;
    siam_error e;
    assert_int_equal(siam_image_sheet_render(&plain, &H, &W, pairs, 1, 1, NULL, NULL, F, F, &e), 0);
    const char *title = "a title long enough to be wider than one pair of faces";
    assert_int_equal(siam_image_sheet_render(&titled, &TH, &TW, pairs, 1, 1, NULL, title, F, F,
                                             &e), 0);
    assert_int_equal(TH, H + 24 + M);
    assert_true(TW > W);
    assert_true(count_value(titled, TW, M, M, TW - 2 * M, 24, 0) > 300);
    assert_int_equal(count_value(titled, TW, M, M + 24 + M, F, F, 60), F * F);
    /* past the cells, under the title: paper only */
    assert_int_equal(count_value(titled, TW, W, M + 24 + M, TW - W, TH - (M + 24 + M), 255),
                     (TW - W) * (TH - (M + 24 + M)));
    free(plain);
    free(titled);
}

static void pick_orders_each_category(void **state)
{
    (void)state;
    const float prob[10] = {0.9f, 0.6f, 0.4f, 0.1f, 0.95f, 0.55f, 0.3f, 0.05f, 0.5f, NAN};
    const float label[10] = {1, 1, 1, 1, 0, 0, 0, 0, 0, 1};
    int out[SIAM_SHEET_ROWS * 3];
    siam_error e;
    assert_int_equal(siam_sheet_pick(out, prob, label, 10, 0.5f, 2, &e), 0);
    const int want[SIAM_SHEET_ROWS * 2] = {
        0, 1, 1, 0,   /* TP: sure 0.9, 0.6; unsure 0.6, 0.9 */
        4, 5, 8, 5,   /* FP: sure 0.95, 0.55; unsure 0.5 (on the threshold), 0.55 */
        7, 6, 6, 7,   /* TN: sure 0.05, 0.3; unsure 0.3, 0.05 */
        3, 2, 2, 3,   /* FN: sure 0.1, 0.4; unsure 0.4, 0.1 */
    };
    assert_memory_equal(out, want, sizeof want);
    assert_int_equal(siam_sheet_pick(out, prob, label, 10, 0.5f, 3, &e), 0);
    assert_int_equal(out[SIAM_SHEET_TP_SURE * 3 + 2], -1);
    assert_int_equal(out[SIAM_SHEET_FP_SURE * 3 + 2], 8);
    assert_int_equal(out[SIAM_SHEET_FP_UNSURE * 3 + 2], 4);
    assert_int_equal(siam_sheet_pick(out, prob, label, 10, 0.5f, 0, &e), -1);
    assert_string_equal(e.msg, "image sheet: need k >= 1 pairs per row, got 0");
    assert_string_equal(siam_sheet_row_label(SIAM_SHEET_FN_UNSURE), "FN least sure");
    assert_string_equal(siam_sheet_row_label(99), "?");
}

/* Faces narrower than "p=0.000" (39 pixels at scale 1, 78 at 2): cells
 * widen to the text plus a margin each side, faces centred, and no text
 * reaches the gutters between cells. */
static void small_faces_widen_cells(void **state)
{
    (void)state;
    enum { S = 12, TEXT_W = 2 * 39 + 2 * M, PAIR_W = 2 * S + 2 };
    uint8_t a[S * S], b[S * S];
    memset(a, 50, sizeof a);
    memset(b, 150, sizeof b);
    siam_sheet_pair pairs[2] = {{a, b, 0.888f}, {b, a, 0.111f}};
    uint8_t *img;
    int H, W;
    siam_error e;
    assert_int_equal(siam_image_sheet_render(&img, &H, &W, pairs, 1, 2, NULL, NULL, S, S, &e), 0);
    assert_int_equal(W, M + 2 * (TEXT_W + M));
    assert_int_equal(H, M + S + 24 + M);
    for (int c = 0; c < 2; c++) {
        int x = M + c * (TEXT_W + M), fx = x + (TEXT_W - PAIR_W) / 2;
        assert_int_equal(count_value(img, W, fx, M, S, S, c == 0 ? 50 : 150), S * S);
        assert_int_equal(count_value(img, W, fx + S + 2, M, S, S, c == 0 ? 150 : 50), S * S);
        assert_int_equal(count_value(img, W, x, M, fx - x, S, 255), (fx - x) * S);
        assert_true(count_value(img, W, x, M + S, TEXT_W, 24, 0) > 50);
        /* the gutter after the cell: white from top to bottom */
        assert_int_equal(count_value(img, W, x + TEXT_W, 0, M, H, 255), M * H);
    }
    assert_int_equal(count_value(img, W, 0, 0, M, H, 255), M * H);
    free(img);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(layout_faces_and_text),
        cmocka_unit_test(small_faces_widen_cells),
        cmocka_unit_test(a_title_goes_above_the_rows),
        cmocka_unit_test(pick_orders_each_category),
    };
    return cmocka_run_group_tests_name("image_sheet", tests, NULL, NULL);
}
