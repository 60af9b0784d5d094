/* The sheet of a pair set: pick with siam_sheet_pick, point the cells at the
 * bank's pixels (no copy), compose with siam_image_sheet_render. */
#include "host/pairset_sheet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/image_sheet.h"
#include "host/png.h"

int siam_pairset_sheet_render(uint8_t **out, int *out_h, int *out_w, int *picks,
                              const siam_pairset *ps, const float *prob, size_t n,
                              float threshold, int per_kind, const char *title,
                              siam_error *err)
{
    *out = NULL;
    if (ps == NULL || ps->images == NULL)
        return siam_fail(err, "pair sheet: no pair set");
    if (n != ps->count)
        return siam_fail(err, "pair sheet: %zu probabilities for %zu pairs", n, ps->count);
    if (per_kind < 1 || per_kind > SIAM_PAIRSET_SHEET_MAX_PER_KIND)
        return siam_fail(err, "pair sheet: per_kind must be in 1..%d, got %d",
                         SIAM_PAIRSET_SHEET_MAX_PER_KIND, per_kind);
    if (!isfinite(threshold))
        return siam_fail(err, "pair sheet: threshold must be finite, got %g", (double)threshold);
    const int cells = SIAM_SHEET_ROWS * per_kind;
    float *label = malloc((n ? n : 1) * sizeof *label);
    int *pick = malloc((size_t)cells * sizeof *pick);
    siam_sheet_pair *pairs = malloc((size_t)cells * sizeof *pairs);
    int rc = -1;
    if (!label || !pick || !pairs) {
        siam_fail(err, "pair sheet: out of memory for %zu pairs", n);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        label[i] = ps->pairs[i].label;
    if (siam_sheet_pick(pick, prob, label, n, threshold, per_kind, err) != 0)
        goto done;
    const siam_images *im = ps->images;
    const size_t face = (size_t)im->height * (size_t)im->width;
    for (int c = 0; c < cells; c++) {
        pairs[c] = (siam_sheet_pair){NULL, NULL, 0.0f};
        if (pick[c] < 0)
            continue;
        const siam_pair *p = &ps->pairs[pick[c]];
        pairs[c].a = im->pixels + (size_t)p->a * face;
        pairs[c].b = im->pixels + (size_t)p->b * face;
        pairs[c].prob = prob[pick[c]];
    }
    const char *labels[SIAM_SHEET_ROWS];
    for (int r = 0; r < SIAM_SHEET_ROWS; r++)
        labels[r] = siam_sheet_row_label(r);
    char head[SIAM_SHEET_TEXT_MAX + 1];
    snprintf(head, sizeof head, "%s, threshold %.3f", title ? title : "pairs",
             (double)threshold);
    rc = siam_image_sheet_render(out, out_h, out_w, pairs, SIAM_SHEET_ROWS, per_kind, labels,
                                 head, im->height, im->width, err);
    if (rc == 0 && picks)
        for (int c = 0; c < cells; c++)
            picks[c] = pick[c];
done:
    free(label);
    free(pick);
    free(pairs);
    return rc;
}

int siam_pairset_sheet_write(const char *path, int *picks, const siam_pairset *ps,
                             const float *prob, size_t n, float threshold, int per_kind,
                             const char *title, siam_error *err)
{
    uint8_t *img;
    int h, w;
    if (siam_pairset_sheet_render(&img, &h, &w, picks, ps, prob, n, threshold, per_kind, title,
                                  err) != 0)
        return siam_fail_wrap(err, "%s", path);
    int rc = siam_png_write(path, img, h, w, 1, err);
    free(img);
    return rc;
}
