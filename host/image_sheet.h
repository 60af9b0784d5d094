/* A contact sheet of face pairs for looking at a model's mistakes: rows of
 * (left face | right face) cells with the predicted probability written
 * under each pair and a label per row, as an 8-bit grey image or a PNG; and
 * the choice of which pairs to show (most and least confident true/false
 * positives/negatives). No model evaluation here. */
#ifndef SIAM_IMAGE_SHEET_H
#define SIAM_IMAGE_SHEET_H

#include <stddef.h>
#include <stdint.h>

#include "kernels/error.h"

typedef struct siam_sheet_pair {
    const uint8_t *a, *b;  /* height x width grey each; a == NULL: blank cell */
    float prob;            /* the model's probability of "same person" */
} siam_sheet_pair;

/* Text scale: stb_easy_font glyphs are about 7 pixels high; doubled they
 * stay legible next to 105-pixel faces. */
#define SIAM_SHEET_TEXT_SCALE 2

/* Longest label or title drawn; longer ones are cut. */
#define SIAM_SHEET_TEXT_MAX 159

/* Composes `rows` x `cols` cells, pairs[r * cols + c], row_labels[r] at the
 * left of row r and `title` (NULL: none) above them all (printable ASCII;
 * others show as '?'). *out is malloc'd (*out_h x *out_w grey, row-major);
 * the caller frees it. */
int siam_image_sheet_render(uint8_t **out, int *out_h, int *out_w,
                            const siam_sheet_pair *pairs, int rows, int cols,
                            const char *const *row_labels, const char *title, int height,
                            int width, siam_error *err);

/* The same, written atomically as a grey PNG at `path`. */
int siam_image_sheet_write(const char *path, const siam_sheet_pair *pairs, int rows, int cols,
                           const char *const *row_labels, const char *title, int height,
                           int width, siam_error *err);

/* The eight rows of the usual sheet, in this order. */
enum {
    SIAM_SHEET_TP_SURE, SIAM_SHEET_TP_UNSURE,   /* same, predicted same */
    SIAM_SHEET_FP_SURE, SIAM_SHEET_FP_UNSURE,   /* different, predicted same */
    SIAM_SHEET_TN_SURE, SIAM_SHEET_TN_UNSURE,   /* different, predicted different */
    SIAM_SHEET_FN_SURE, SIAM_SHEET_FN_UNSURE,   /* same, predicted different */
    SIAM_SHEET_ROWS
};

/* Row labels for the enum above ("TP most sure", ...). */
const char *siam_sheet_row_label(int row);

/* Picks, for each of the SIAM_SHEET_ROWS rows, up to `k` pair indices into
 * out[row * k + j], -1 where the category has fewer pairs. A pair is
 * predicted same when prob >= threshold; label is 1 for same, 0 for
 * different. "Sure" rows hold the pairs farthest from the threshold
 * (for FP/FN: the worst mistakes), "unsure" rows the nearest; ties keep the
 * lower index first. */
int siam_sheet_pick(int *out, const float *prob, const float *label, size_t n,
                    float threshold, int k, siam_error *err);

#endif
