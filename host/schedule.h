/* Learning-rate schedules applied once per epoch: StepLR
 * (torch.optim.lr_scheduler.StepLR) and cosine annealing
 * (CosineAnnealingLR) as closed forms of the 0-based epoch, which need no
 * state in checkpoints; and ReduceLROnPlateau, which follows a metric and
 * so keeps a small state (siam_plateau) that checkpoints carry. A schedule
 * written elsewhere (Lua) can instead set the optimizer's lr directly each
 * epoch (siam_optim_set_lr). */
#ifndef SIAM_SCHEDULE_H
#define SIAM_SCHEDULE_H

typedef enum siam_schedule_kind {
    SIAM_SCHEDULE_STEP = 0,
    SIAM_SCHEDULE_COSINE = 1,
    SIAM_SCHEDULE_PLATEAU = 2
} siam_schedule_kind;

/* ReduceLROnPlateau's settings (torch.optim.lr_scheduler, PyTorch 1.13). */
typedef struct siam_plateau_config {
    char metric[32];    /* the history metric it follows: "val_loss", "val_acc", ... */
    int mode_max;       /* 1: larger is better ("max"); 0: smaller ("min") */
    double factor;      /* new lr = lr * factor, in (0, 1) */
    int patience;       /* bad epochs tolerated before a reduction (>= 0) */
    double threshold;   /* how much better counts as better (>= 0) */
    int threshold_abs;  /* 1: threshold_mode "abs"; 0: "rel" */
    int cooldown;       /* epochs after a reduction during which bad epochs are not counted */
    double min_lr;      /* the lr never goes below this (>= 0) */
    double eps;         /* a reduction smaller than this is not applied */
} siam_plateau_config;

/* What ReduceLROnPlateau keeps between epochs (its state_dict less the
 * settings); the current lr is the optimizer's. */
typedef struct siam_plateau {
    double best;         /* +inf ("min") or -inf ("max") before the first epoch */
    int num_bad_epochs;
    int cooldown_counter;
} siam_plateau;

typedef struct siam_schedule {
    siam_schedule_kind kind;
    double base_lr;
    int step_size;  /* STEP: epochs between decays, > 0 */
    double gamma;   /* STEP: factor per decay */
    int t_max;      /* COSINE: epochs from base_lr down to eta_min, > 0 */
    double eta_min; /* COSINE: the lowest lr */
    siam_plateau_config plateau; /* PLATEAU */
} siam_schedule;

/* The lr for 0-based `epoch`.
 * STEP: base_lr * gamma^floor(epoch / step_size), computed as repeated
 * multiplication in double, the way StepLR's chained form does it (lr *=
 * gamma each step_size epochs); step_size <= 0 means no decay.
 * COSINE: eta_min + (base_lr - eta_min) (1 + cos(pi epoch / t_max)) / 2,
 * PyTorch's closed form: base_lr at epoch 0, eta_min at t_max, and, as
 * there, rising again after t_max (period 2 t_max); t_max <= 0 means no
 * annealing. */
double siam_schedule_lr(const siam_schedule *s, int epoch);

/* "step", "cosine", "plateau". */
const char *siam_schedule_kind_name(siam_schedule_kind kind);

/* PyTorch's defaults: val_loss, min, factor 0.1, patience 10, threshold
 * 1e-4 relative, cooldown 0, min_lr 0, eps 1e-8. */
void siam_plateau_config_default(siam_plateau_config *c);
/* The state before the first epoch. */
void siam_plateau_init(siam_plateau *p, const siam_plateau_config *c);
/* One epoch's ReduceLROnPlateau.step(metric) with the optimizer at `lr`:
 * returns the lr for the next epoch. An epoch is better when the metric
 * beats best by the threshold (rel: best * (1 -/+ threshold), abs: best
 * -/+ threshold); after more than `patience` bad epochs in a row the lr
 * becomes max(lr * factor, min_lr), unless that changes it by no more
 * than eps, and `cooldown` epochs follow in which bad epochs are not
 * counted. A NaN metric is never better. */
double siam_plateau_step(siam_plateau *p, const siam_plateau_config *c, double metric,
                         double lr);

#endif
