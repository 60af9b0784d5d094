/* The metric history of a training run: named columns of one double per
 * epoch. The trainer records into it, a checkpoint writes and reads it
 * whole, the Lua layer reads it; it holds no training logic. */
#ifndef SIAM_HISTORY_H
#define SIAM_HISTORY_H

#include "kernels/error.h"

#define SIAM_HISTORY_MAX_METRICS 16
#define SIAM_HISTORY_NAME_MAX 32 /* bytes, with the terminating zero */

typedef struct siam_history_col {
    char name[SIAM_HISTORY_NAME_MAX];
    double *v;                  /* capacity values, NaN where not recorded */
} siam_history_col;

typedef struct siam_history {
    siam_history_col cols[SIAM_HISTORY_MAX_METRICS];
    int ncols;
    int capacity;               /* rows every column has room for */
} siam_history;

/* An empty history with room for `capacity` rows (at least 1); nothing is
 * allocated before the first column. */
void siam_history_init(siam_history *h, int capacity);
/* Frees the columns; the history is empty afterwards. */
void siam_history_clear(siam_history *h);

/* Adds a column of NaN (an error past SIAM_HISTORY_MAX_METRICS columns or
 * for a name that does not fit). */
int siam_history_add(siam_history *h, const char *name, siam_error *err);
/* Sets row `row` of `name`, adding the column when it is new; a row past
 * the capacity is ignored. */
int siam_history_set(siam_history *h, const char *name, int row, double value, siam_error *err);
/* Values of `name` (capacity rows) or NULL when there is no such column. */
const double *siam_history_get(const siam_history *h, const char *name);
int siam_history_count(const siam_history *h);
/* Name of column k, or NULL outside 0..count-1. */
const char *siam_history_name(const siam_history *h, int k);
/* Replaces the whole history by `count` columns of `rows` values each (a
 * loaded checkpoint's); rows beyond the capacity are an error. */
int siam_history_replace(siam_history *h, int count, const char *const *names,
                         const double *const *values, int rows, siam_error *err);

#endif
