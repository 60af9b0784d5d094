/* Learning-rate schedules applied once per epoch. StepLR follows
 * torch.optim.lr_scheduler.StepLR; a schedule written elsewhere (Lua) can
 * instead set the optimizer's lr directly each epoch (siam_optim_set_lr). */
#ifndef SIAM_SCHEDULE_H
#define SIAM_SCHEDULE_H

typedef struct siam_steplr {
    double base_lr;
    int step_size; /* epochs between decays, > 0 */
    double gamma;
} siam_steplr;

/* The lr for 0-based `epoch`: base_lr * gamma^floor(epoch / step_size),
 * computed as repeated multiplication in double, the way StepLR's chained
 * form does it (lr *= gamma each step_size epochs). step_size <= 0 means no
 * decay. */
double siam_steplr_lr(const siam_steplr *s, int epoch);

#endif
