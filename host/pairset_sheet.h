/* The image sheet of a pair set's evaluation: which pairs go on it
 * (siam_sheet_pick) and their faces, taken straight from the set's image
 * bank, so no pixel has to pass through Lua. Composition is image_sheet.h's. */
#ifndef SIAM_PAIRSET_SHEET_H
#define SIAM_PAIRSET_SHEET_H

#include <stddef.h>
#include <stdint.h>

#include "host/dataset.h"
#include "kernels/error.h"

/* Largest per_kind (cells per row) accepted. */
#define SIAM_PAIRSET_SHEET_MAX_PER_KIND 64

/* Renders the SIAM_SHEET_ROWS x per_kind sheet of `ps` with prob[i] the
 * model's probability for pair i (n must equal ps->count), under the title
 * "<title>, threshold T" (title NULL: "pairs"); a pair is predicted
 * same when its probability is >= T. Categories with fewer pairs leave blank cells. picks, when not NULL, receives the
 * SIAM_SHEET_ROWS * per_kind chosen pair indices (0-based, -1 for a blank
 * cell) in row-major order. *out is malloc'd (*out_h x *out_w grey); the
 * caller frees it. Returns 0 or -1 with a message in err. */
int siam_pairset_sheet_render(uint8_t **out, int *out_h, int *out_w, int *picks,
                              const siam_pairset *ps, const float *prob, size_t n,
                              float threshold, int per_kind, const char *title,
                              siam_error *err);

/* The same, written atomically as a grey PNG at `path`. */
int siam_pairset_sheet_write(const char *path, int *picks, const siam_pairset *ps,
                             const float *prob, size_t n, float threshold, int per_kind,
                             const char *title, siam_error *err);

#endif
