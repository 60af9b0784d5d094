/* Training progress for people: a tqdm-style bar redrawn in place on a
 * terminal, one plain line per epoch otherwise (job logs stay readable), or
 * nothing (--quiet). Writes only to the FILE* it is given; no metrics
 * storage here (that is the run folder's job). */
#ifndef SIAM_PROGRESS_H
#define SIAM_PROGRESS_H

#include <stdio.h>

#include "kernels/error.h"

typedef enum siam_progress_mode {
    SIAM_PROGRESS_QUIET = 0,
    SIAM_PROGRESS_LINES = 1,   /* one line at the end of each epoch */
    SIAM_PROGRESS_BAR = 2,     /* \r-redrawn bar, throttled */
} siam_progress_mode;

/* BAR when `out` is a terminal, LINES otherwise, QUIET when `quiet`. */
siam_progress_mode siam_progress_mode_for(FILE *out, int quiet);

/* Monotonic seconds; the context is whatever was passed with it. */
typedef double (*siam_progress_clock)(void *ctx);

/* Redraws at most every SIAM_PROGRESS_INTERVAL seconds; a redraw per batch
 * would cost more than a small batch on a fast GPU and flood slow ttys. */
#define SIAM_PROGRESS_INTERVAL 0.1
#define SIAM_PROGRESS_BAR_WIDTH 20

/* Caller-owned; `out` is borrowed and must outlive the object. `clock` NULL
 * means CLOCK_MONOTONIC. Free with siam_progress_free (NULL fine). */
typedef struct siam_progress siam_progress;

siam_progress *siam_progress_new(FILE *out, siam_progress_mode mode, siam_progress_clock clock,
                                 void *clock_ctx, siam_error *err);
void siam_progress_free(siam_progress *p);

/* Starts epoch `epoch` (1-based) of `epochs`, with `batches` batches. */
void siam_progress_epoch_begin(siam_progress *p, int epoch, int epochs, long batches);

/* `n` more batches done; `loss` is the mean loss over them (NaN shows as
 * nan, which is what the user needs to see). */
void siam_progress_step(siam_progress *p, long n, double loss);

/* Ends the epoch: the bar is drawn complete and the line ended; in LINES
 * mode the one line is printed. `extra` (may be NULL) is appended, e.g.
 * "val_loss=0.41 val_acc=0.83". */
void siam_progress_epoch_end(siam_progress *p, const char *extra);

#endif
