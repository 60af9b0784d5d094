/* Image sheet composition. Text comes from stb_easy_font (libstb-dev),
 * which turns a string into axis-aligned quads; filling those rectangles is
 * all the drawing needed, and it keeps the sheet independent of gnuplot
 * (the sheet is made even where gnuplot is missing). */
#include "host/image_sheet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/png.h"

/* The header defines every helper static; we use two of them. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#include <stb/stb_easy_font.h>
#pragma GCC diagnostic pop

enum {
    MARGIN = 8,          /* around the sheet and between cells */
    GAP = 2,             /* between the two faces of a pair */
    TEXT_LINE = 12,      /* stb_easy_font's line advance, unscaled */
    LABEL_MAX = SIAM_SHEET_TEXT_MAX + 1,
};

/* Printable ASCII copy: stb_easy_font indexes its table by (c - 32). */
static void clean_text(char *dst, const char *src)
{
    size_t i = 0;
    for (; src && src[i] && i < LABEL_MAX - 1; i++)
        dst[i] = (src[i] >= 32 && src[i] < 127) ? src[i] : '?';
    dst[i] = '\0';
}

static int text_width(const char *s)
{
    char buf[LABEL_MAX];
    clean_text(buf, s);
    return stb_easy_font_width(buf) * SIAM_SHEET_TEXT_SCALE;
}

/* Draws `s` in black with its top-left corner at (x, y). */
static void draw_text(uint8_t *img, int h, int w, int x, int y, const char *s)
{
    char buf[LABEL_MAX];
    clean_text(buf, s);
    /* 4 vertices of 16 bytes per quad; a glyph has at most a dozen quads. */
    static const int vbuf_size = LABEL_MAX * 16 * 64;
    float *vbuf = malloc((size_t)vbuf_size);
    if (!vbuf)
        return;
    int quads = stb_easy_font_print(0, 0, buf, NULL, vbuf, vbuf_size);
    const int S = SIAM_SHEET_TEXT_SCALE;
    for (int q = 0; q < quads; q++) {
        const float *v = vbuf + q * 16; /* 4 vertices x (x, y, z, rgba) */
        float x0 = v[0], x1 = v[0], y0 = v[1], y1 = v[1];
        for (int k = 1; k < 4; k++) {
            x0 = fminf(x0, v[4 * k]), x1 = fmaxf(x1, v[4 * k]);
            y0 = fminf(y0, v[4 * k + 1]), y1 = fmaxf(y1, v[4 * k + 1]);
        }
        for (int yy = y + (int)(y0 * S); yy < y + (int)(y1 * S); yy++)
            for (int xx = x + (int)(x0 * S); xx < x + (int)(x1 * S); xx++)
                if (yy >= 0 && yy < h && xx >= 0 && xx < w)
                    img[(size_t)yy * w + xx] = 0;
    }
    free(vbuf);
}

int siam_image_sheet_render(uint8_t **out, int *out_h, int *out_w,
                            const siam_sheet_pair *pairs, int rows, int cols,
                            const char *const *row_labels, const char *title, int height,
                            int width, siam_error *err)
{
    *out = NULL;
    if (rows <= 0 || cols <= 0 || height <= 0 || width <= 0)
        return siam_fail(err, "image sheet: bad layout %d rows x %d cols of %dx%d faces",
                         rows, cols, height, width);
    int label_w = 0;
    for (int r = 0; r < rows; r++) {
        int tw = row_labels ? text_width(row_labels[r]) : 0;
        label_w = tw > label_w ? tw : label_w;
    }
    const int text_h = TEXT_LINE * SIAM_SHEET_TEXT_SCALE;
    /* Small faces (the 32-pixel test sets) are narrower than their
     * probability text; the cell widens so texts never run together, and
     * the faces are centred in it. */
    const int pair_w = 2 * width + GAP, prob_w = text_width("p=0.000") + 2 * MARGIN;
    const int cell_w = pair_w > prob_w ? pair_w : prob_w, cell_h = height + text_h;
    const int left = MARGIN + label_w + (label_w ? MARGIN : 0);
    const int title_w = title ? text_width(title) + 2 * MARGIN : 0;
    const int top = MARGIN + (title ? text_h + MARGIN : 0);
    const int cells_w = left + cols * (cell_w + MARGIN);
    const int W = cells_w > title_w ? cells_w : title_w;
    const int H = top + rows * (cell_h + MARGIN);
    uint8_t *img = malloc((size_t)W * (size_t)H);
    if (!img)
        return siam_fail(err, "image sheet: out of memory for %dx%d pixels", H, W);
    memset(img, 255, (size_t)W * (size_t)H);
    if (title)
        draw_text(img, H, W, MARGIN, MARGIN, title);
    for (int r = 0; r < rows; r++) {
        int y = top + r * (cell_h + MARGIN);
        if (row_labels)
            draw_text(img, H, W, MARGIN, y + height / 2 - text_h / 2, row_labels[r]);
        for (int c = 0; c < cols; c++) {
            const siam_sheet_pair *p = &pairs[r * cols + c];
            if (!p->a || !p->b)
                continue;
            int x = left + c * (cell_w + MARGIN), fx = x + (cell_w - pair_w) / 2;
            for (int yy = 0; yy < height; yy++) {
                memcpy(img + (size_t)(y + yy) * W + fx, p->a + (size_t)yy * width,
                       (size_t)width);
                memcpy(img + (size_t)(y + yy) * W + fx + width + GAP, p->b + (size_t)yy * width,
                       (size_t)width);
            }
            char label[32];
            snprintf(label, sizeof label, "p=%.3f", (double)p->prob);
            int tx = x + (cell_w - text_width(label)) / 2;
            draw_text(img, H, W, tx, y + height + SIAM_SHEET_TEXT_SCALE * 2, label);
        }
    }
    *out = img;
    *out_h = H;
    *out_w = W;
    return 0;
}

int siam_image_sheet_write(const char *path, const siam_sheet_pair *pairs, int rows, int cols,
                           const char *const *row_labels, const char *title, int height,
                           int width, siam_error *err)
{
    uint8_t *img;
    int h, w;
    if (siam_image_sheet_render(&img, &h, &w, pairs, rows, cols, row_labels, title, height,
                                width, err) != 0)
        return siam_fail_wrap(err, "%s", path);
    int rc = siam_png_write(path, img, h, w, 1, err);
    free(img);
    return rc;
}

const char *siam_sheet_row_label(int row)
{
    static const char *const names[SIAM_SHEET_ROWS] = {
        "TP most sure", "TP least sure", "FP most sure", "FP least sure",
        "TN most sure", "TN least sure", "FN most sure", "FN least sure",
    };
    return row >= 0 && row < SIAM_SHEET_ROWS ? names[row] : "?";
}

typedef struct ranked {
    float dist;   /* |prob - threshold| */
    size_t index;
} ranked;

static int by_dist_desc(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->dist != b->dist)
        return a->dist > b->dist ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

static int by_dist_asc(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->dist != b->dist)
        return a->dist < b->dist ? -1 : 1;
    return a->index < b->index ? -1 : a->index > b->index;
}

int siam_sheet_pick(int *out, const float *prob, const float *label, size_t n,
                    float threshold, int k, siam_error *err)
{
    if (k <= 0)
        return siam_fail(err, "image sheet: need k >= 1 pairs per row, got %d", k);
    for (int i = 0; i < SIAM_SHEET_ROWS * k; i++)
        out[i] = -1;
    ranked *list = malloc((n ? n : 1) * sizeof *list);
    if (!list)
        return siam_fail(err, "image sheet: out of memory ranking %zu pairs", n);
    /* Categories in enum order: TP, FP, TN, FN. */
    for (int cat = 0; cat < 4; cat++) {
        int want_same_label = cat == 0 || cat == 3;
        int want_pred_same = cat <= 1;
        size_t m = 0;
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(prob[i]))
                continue;
            int same = label[i] > 0.5f, pred = prob[i] >= threshold;
            if (same == want_same_label && pred == want_pred_same)
                list[m++] = (ranked){fabsf(prob[i] - threshold), i};
        }
        int *sure = out + (2 * cat) * k, *unsure = out + (2 * cat + 1) * k;
        qsort(list, m, sizeof *list, by_dist_desc);
        for (int j = 0; j < k && (size_t)j < m; j++)
            sure[j] = (int)list[j].index;
        qsort(list, m, sizeof *list, by_dist_asc);
        for (int j = 0; j < k && (size_t)j < m; j++)
            unsure[j] = (int)list[j].index;
    }
    free(list);
    return 0;
}
