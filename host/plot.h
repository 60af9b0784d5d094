/* Plots of a run and of a grid, drawn by gnuplot: for each plot NAME this
 * writes NAME.dat (the numbers), NAME.gp (a script made from a template in
 * scripts/plots/, runnable by hand to restyle) and NAME.png, all in one
 * folder. Without gnuplot the .dat and .gp files are still written. No
 * metric computation here: callers pass finished numbers. */
#ifndef SIAM_PLOT_H
#define SIAM_PLOT_H

#include <stddef.h>

#include "kernels/error.h"

/* Returned by the plot functions when gnuplot is not installed: data and
 * script were written, the PNG was not. */
#define SIAM_PLOT_SKIPPED 1

/* Owns the template folder name and the gnuplot path found on PATH when it
 * was made. Caller-owned; siam_plotter_free (NULL fine). */
typedef struct siam_plotter siam_plotter;

/* `template_dir` holds training.gp, confusion.gp, roc.gp, grid.gp,
 * sweep.gp, runs.gp (normally <repo>/scripts/plots). Fails when it is unreadable;
 * a missing gnuplot is not a failure. */
siam_plotter *siam_plotter_new(const char *template_dir, siam_error *err);
void siam_plotter_free(siam_plotter *p);

/* 1 when gnuplot was found. */
int siam_plotter_has_gnuplot(const siam_plotter *p);

/* After a plot was skipped for want of gnuplot, the first call returns a
 * one-line explanation for the user and every later call NULL, so a grid of
 * hundreds of runs says it once. NULL whenever nothing was skipped. */
const char *siam_plotter_take_notice(siam_plotter *p);

/* One row of per-epoch metrics; NaN marks a value not measured. */
typedef struct siam_plot_epoch {
    double epoch;
    double train_loss, val_loss;
    double train_acc, val_acc;
} siam_plot_epoch;

/* What the training plot says beyond the numbers. */
typedef struct siam_plot_training_marks {
    const char *loss_label; /* the loss axis' label; NULL: SIAM_PLOT_LOSS_LABEL */
    double best_epoch;      /* marked on both panels (a line and the validation point);
                             * NaN or not one of the rows' epochs: no mark */
} siam_plot_training_marks;

/* The loss that siamlua trains with (host/model.h): its label. */
#define SIAM_PLOT_LOSS_LABEL "binary cross-entropy loss"

/* Loss (left) and accuracy (right) against epoch, train and validation,
 * with integer epoch ticks. marks may be NULL (defaults, no best epoch). */
int siam_plot_training(siam_plotter *p, const char *dir, const char *name, const char *title,
                       const siam_plot_epoch *rows, size_t n,
                       const siam_plot_training_marks *marks, siam_error *err);

/* 2x2 confusion matrix heat map with the counts written in the cells; rows
 * are the truth (different, same), columns the prediction. */
int siam_plot_confusion(siam_plotter *p, const char *dir, const char *name, const char *title,
                        long tp, long fp, long tn, long fn, siam_error *err);

/* ROC curve through the `n` points (fpr[i], tpr[i]), with the AUC shown. */
int siam_plot_roc(siam_plotter *p, const char *dir, const char *name, const char *title,
                  const double *fpr, const double *tpr, size_t n, double auc,
                  siam_error *err);

/* Grid comparison: validation and test accuracy per configuration (bars,
 * left) and training time in seconds (bars, right), in the order given
 * (callers pass them ranked). */
int siam_plot_grid(siam_plotter *p, const char *dir, const char *name, const char *title,
                   const char *const *labels, const double *val_acc, const double *test_acc,
                   const double *train_s, size_t n, siam_error *err);

/* One run's per-epoch values of a metric. */
typedef struct siam_plot_series {
    const char *label;      /* the run's name in the key */
    const double *epoch, *value;
    size_t n;               /* may be 0: the run is named in the data file only */
} siam_plot_series;

/* Several runs' curves of one metric against epoch on one figure (the run
 * comparison of scripts/runs.lua), integer epoch ticks. */
int siam_plot_runs(siam_plotter *p, const char *dir, const char *name, const char *title,
                   const char *metric, const siam_plot_series *series, size_t count,
                   siam_error *err);

/* Accuracy against one hyper-parameter `param` with the others fixed:
 * validation and test curves together; `logx` for learning rates. */
int siam_plot_sweep(siam_plotter *p, const char *dir, const char *name, const char *title,
                    const char *param, const double *x, const double *val_acc,
                    const double *test_acc, size_t n, int logx, siam_error *err);

#endif
