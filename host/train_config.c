/* The training loop's configuration: its defaults and its checks against
 * the model and the pair sets (host/train_config.h). */
#include "host/train_config.h"

#include <string.h>

#include "host/predict.h"

void siam_train_config_default(siam_train_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->epochs = 1;
    cfg->batch_size = 16;
    cfg->mean = SIAM_DATA_MEAN; /* docs/data.md */
    cfg->std = SIAM_DATA_STD;
    cfg->threshold = 0.5f;
    siam_augment_defaults(&cfg->augment); /* paper settings, disabled */
    siam_wavg_config_default(&cfg->wavg);
    strcpy(cfg->early_stop.metric, "val_acc");
    cfg->early_stop.mode_max = 1;
    cfg->early_stop.patience = 5;
    cfg->objective = SIAM_OBJECTIVE_PAIR;
    cfg->triplet_margin = 0.2f;
    cfg->triplet_weight = 1.0f;
}

static const char *const objective_names[3] = { "pair", "triplet", "pair+triplet" };

int siam_objective_parse(const char *name, siam_objective *out, siam_error *err)
{
    for (int k = 0; k < 3; k++)
        if (strcmp(name, objective_names[k]) == 0) {
            *out = (siam_objective)k;
            return 0;
        }
    return siam_fail(err, "unknown objective '%s' (pair, triplet, pair+triplet)", name);
}

const char *siam_objective_name(int objective)
{
    return objective >= 0 && objective < 3 ? objective_names[objective] : "?";
}

int siam_train_pair_batches(const siam_train_config *cfg, const siam_pairset *train)
{
    size_t n = cfg->sampler ? siam_pair_sampler_count(cfg->sampler) : train->count;
    size_t bs = (size_t)cfg->batch_size;
    return (int)(cfg->drop_last ? n / bs : (n + bs - 1) / bs);
}

/* The triplet objectives' part of the check. */
static int check_objective(const siam_train_config *cfg, siam_model *m,
                           const siam_pairset *train, siam_error *err)
{
    if (cfg->objective < SIAM_OBJECTIVE_PAIR || cfg->objective > SIAM_OBJECTIVE_PAIR_TRIPLET)
        return siam_fail(err, "trainer: objective %d is not 0 (pair), 1 (triplet) or 2 "
                              "(pair+triplet)", (int)cfg->objective);
    if (cfg->objective == SIAM_OBJECTIVE_PAIR)
        return 0;
    const siam_identity_sampler *s = cfg->identity;
    if (!s)
        return siam_fail(err, "trainer: objective '%s' needs an identity sampler",
                         siam_objective_name(cfg->objective));
    if (siam_identity_sampler_base(s)->images != train->images)
        return siam_fail(err, "trainer: the identity sampler draws from another image bank "
                              "than the training set's");
    int n = siam_identity_sampler_batch_size(s);
    if (n > 2 * siam_model_max_batch(m))
        return siam_fail(err, "trainer: p x k = %d images per batch, more than the model's %d "
                              "(twice its max batch)", n, 2 * siam_model_max_batch(m));
    int batches = siam_identity_sampler_config_of(s)->batches;
    if (cfg->objective == SIAM_OBJECTIVE_PAIR_TRIPLET &&
        batches < siam_train_pair_batches(cfg, train))
        return siam_fail(err, "trainer: the identity sampler gives %d batches an epoch, fewer "
                              "than the %d pair batches", batches,
                         siam_train_pair_batches(cfg, train));
    if (!(cfg->triplet_margin >= 0.0f && cfg->triplet_margin <= 2.0f))
        return siam_fail(err, "trainer: triplet margin %g outside [0, 2]",
                         (double)cfg->triplet_margin);
    if (!(cfg->triplet_weight > 0.0f && cfg->triplet_weight < 1e30f))
        return siam_fail(err, "trainer: triplet weight %g must be positive and finite",
                         (double)cfg->triplet_weight);
    return 0;
}

int siam_train_config_check(const siam_train_config *cfg, siam_model *m,
                            const siam_pairset *train, const siam_pairset *val, siam_error *err)
{
    const siam_model_config *mc = siam_model_config_of(m);
    if (cfg->batch_size <= 0 || cfg->batch_size > siam_model_max_batch(m))
        return siam_fail(err, "trainer: batch_size %d outside 1..%d (the model's max batch)",
                         cfg->batch_size, siam_model_max_batch(m));
    if (cfg->epochs < 0 || !(cfg->std > 0.0f))
        return siam_fail(err, "trainer: epochs %d / std %g invalid", cfg->epochs,
                         (double)cfg->std);
    if (!train || train->count == 0)
        return siam_fail(err, "trainer: the training set is empty");
    if (cfg->sampler && siam_pair_sampler_base(cfg->sampler)->images != train->images)
        return siam_fail(err, "trainer: the pair sampler draws from another image bank than "
                              "the training set's");
    if (check_objective(cfg, m, train, err))
        return -1;
    if (cfg->drop_last && train->count < (size_t)cfg->batch_size)
        return siam_fail(err, "trainer: drop_last with %zu pairs and batch %d leaves no batch",
                         train->count, cfg->batch_size);
    const siam_pairset *sets[2] = { train, val };
    for (int k = 0; k < 2; k++) {
        if (!sets[k])
            continue;
        const char *what = k ? "validation" : "training";
        if (siam_pairs_check(sets[k], what, err))
            return -1;
        if (sets[k]->images->height != mc->in_h || sets[k]->images->width != mc->in_w)
            return siam_fail(err, "trainer: %s images are %dx%d, the model takes %dx%d", what,
                             sets[k]->images->height, sets[k]->images->width, mc->in_h,
                             mc->in_w);
    }
    if (val && val->images->crop != train->images->crop)
        return siam_fail(err, "trainer: training images are cropped to %d, validation images "
                              "to %d (0: whole image)", train->images->crop, val->images->crop);
    return 0;
}
