/* StepLR (torch.optim.lr_scheduler.StepLR). */
#include "host/schedule.h"

double siam_steplr_lr(const siam_steplr *s, int epoch)
{
    double lr = s->base_lr;
    if (s->step_size <= 0 || epoch <= 0)
        return lr;
    int decays = epoch / s->step_size;
    for (int i = 0; i < decays; i++)
        lr *= s->gamma;
    return lr;
}
