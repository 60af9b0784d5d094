/* StepLR, cosine annealing and ReduceLROnPlateau (torch.optim.lr_scheduler). */
#include "host/schedule.h"

#include <math.h>
#include <string.h>

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
    switch (s->kind) {
    case SIAM_SCHEDULE_COSINE: return cosine_lr(s, epoch);
    case SIAM_SCHEDULE_STEP: return step_lr(s, epoch);
    default: return s->base_lr; /* the plateau's lr is not a function of the epoch */
    }
}

const char *siam_schedule_kind_name(siam_schedule_kind kind)
{
    switch (kind) {
    case SIAM_SCHEDULE_STEP: return "step";
    case SIAM_SCHEDULE_COSINE: return "cosine";
    default: return "plateau";
    }
}

void siam_plateau_config_default(siam_plateau_config *c)
{
    memset(c, 0, sizeof *c);
    strcpy(c->metric, "val_loss");
    c->factor = 0.1;
    c->patience = 10;
    c->threshold = 1e-4;
    c->eps = 1e-8;
}

void siam_plateau_init(siam_plateau *p, const siam_plateau_config *c)
{
    p->best = c->mode_max ? -INFINITY : INFINITY;
    p->num_bad_epochs = 0;
    p->cooldown_counter = 0;
}

/* ReduceLROnPlateau.is_better (PyTorch 1.13, torch/optim/lr_scheduler.py). */
static int plateau_better(const siam_plateau_config *c, double a, double best)
{
    if (c->mode_max)
        return c->threshold_abs ? a > best + c->threshold : a > best * (1.0 + c->threshold);
    return c->threshold_abs ? a < best - c->threshold : a < best * (1.0 - c->threshold);
}

double siam_plateau_step(siam_plateau *p, const siam_plateau_config *c, double metric,
                         double lr)
{
    if (plateau_better(c, metric, p->best)) {
        p->best = metric;
        p->num_bad_epochs = 0;
    } else {
        p->num_bad_epochs++;
    }
    if (p->cooldown_counter > 0) {
        p->cooldown_counter--;
        p->num_bad_epochs = 0;
    }
    if (p->num_bad_epochs > c->patience) {
        double reduced = fmax(lr * c->factor, c->min_lr);
        if (lr - reduced > c->eps)
            lr = reduced;
        p->cooldown_counter = c->cooldown;
        p->num_bad_epochs = 0;
    }
    return lr;
}
