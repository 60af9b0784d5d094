/* StepLR and cosine annealing (torch.optim.lr_scheduler). */
#include "host/schedule.h"

#include <math.h>

static double step_lr(const siam_schedule *s, int epoch)
{
    double lr = s->base_lr;
    if (s->step_size <= 0 || epoch <= 0)
        return lr;
    int decays = epoch / s->step_size;
    for (int i = 0; i < decays; i++)
        lr *= s->gamma;
    return lr;
}

static double cosine_lr(const siam_schedule *s, int epoch)
{
    if (s->t_max <= 0 || epoch <= 0)
        return s->base_lr;
    /* pi is not a C11 constant; acos(-1) is exact to the last bit in glibc */
    double pi = acos(-1.0);
    return s->eta_min +
           (s->base_lr - s->eta_min) * (1.0 + cos(pi * (double)epoch / (double)s->t_max)) / 2.0;
}

double siam_schedule_lr(const siam_schedule *s, int epoch)
{
    return s->kind == SIAM_SCHEDULE_COSINE ? cosine_lr(s, epoch) : step_lr(s, epoch);
}
