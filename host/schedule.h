/* Learning-rate schedules applied once per epoch, as closed forms of the
 * 0-based epoch: StepLR (torch.optim.lr_scheduler.StepLR) and cosine
 * annealing (CosineAnnealingLR). Being pure functions of the epoch, they
 * need no state in checkpoints: a resumed run gets the same lr. A schedule
 * written elsewhere (Lua) can instead set the optimizer's lr directly each
 * epoch (siam_optim_set_lr). */
#ifndef SIAM_SCHEDULE_H
#define SIAM_SCHEDULE_H

typedef enum siam_schedule_kind {
    SIAM_SCHEDULE_STEP = 0,
    SIAM_SCHEDULE_COSINE = 1
} siam_schedule_kind;

typedef struct siam_schedule {
    siam_schedule_kind kind;
    double base_lr;
    int step_size;  /* STEP: epochs between decays, > 0 */
    double gamma;   /* STEP: factor per decay */
    int t_max;      /* COSINE: epochs from base_lr down to eta_min, > 0 */
    double eta_min; /* COSINE: the lowest lr */
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

#endif
