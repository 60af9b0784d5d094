/* The training loop and validation (host/train.h). */
#include "host/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "host/epoch_order.h"
#include "host/metrics.h"
#include "host/predict.h"
#include "host/set_identity.h"
#include "host/train_finite.h"
#include "host/train_identity.h"
#include "host/train_step.h"
#include "host/validate.h"
#include "kernels/philox.h"
#include "kernels/rng.h"

struct siam_trainer {
    siam_model *m;
    siam_optim *opt;
    const siam_ops *ops;
    siam_ctx *ctx;
    const siam_pairset *train, *val;
    siam_train_config cfg;
    uint8_t *train_images, *val_images; /* device; val_images may alias */
    siam_dev_pairs tr;
    siam_validation v;  /* with a validation set */
    int32_t *host_idx, *perm;
    float *host_labels, *probs;
    int epochs_done;
    uint64_t augment_offset;
    siam_stop_reason stop;
    siam_early_stop es;
    siam_plateau plateau; /* with a plateau schedule */
    float *best;        /* device: params then BN buffers */
    int has_best;
    siam_history hist;  /* room for cfg.epochs rows */
    siam_wavg *wavg;    /* NULL unless cfg.wavg.kind is set */
    siam_pairset *epoch_set; /* the sampler's pairs of the current epoch (cfg.sampler) */
    char nan_msg[256];  /* what stopped training with SIAM_STOP_NAN */
    char es_msg[256];   /* early stopping chose no best epoch ("" otherwise) */
    int running;        /* between a run's first siam_trainer_epoch and its finish */
    uint64_t train_fp, val_fp; /* the sets' fingerprints, for a resume to check */
    siam_train_identity *ident; /* the triplet objectives' part (cfg.objective) */
    double epoch_pair_loss, epoch_triplet_loss; /* of the last trained epoch */
};

/* The triplet objectives' part and its history columns. */
static int identity_new(siam_trainer *t, siam_error *err)
{
    if (!(t->ident = siam_train_identity_new(t->m, &t->cfg, t->train_images, &t->augment_offset,
                                             err)))
        return -1;
    if (siam_history_add(&t->hist, "train_pair_loss", err) ||
        siam_history_add(&t->hist, "train_triplet_loss", err))
        return -1;
    return 0;
}

siam_trainer *siam_trainer_new(siam_model *m, siam_optim *opt, const siam_pairset *train,
                               const siam_pairset *val, const siam_train_config *cfg,
                               siam_error *err)
{
    if (siam_train_config_check(cfg, m, train, val, err))
        return NULL;
    siam_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        siam_fail(err, "trainer: out of host memory");
        return NULL;
    }
    t->m = m;
    t->opt = opt;
    t->ops = siam_model_ops(m);
    t->ctx = siam_model_ctx(m);
    t->train = train;
    t->val = val;
    t->cfg = *cfg;
    siam_history_init(&t->hist, cfg->epochs);
    t->train_fp = siam_pairset_fingerprint(train);
    t->val_fp = val ? siam_pairset_fingerprint(val) : 0;
    /* With a sampler every epoch trains on its pairs (a fixed count). */
    size_t ntrain = cfg->sampler ? siam_pair_sampler_count(cfg->sampler) : train->count;
    if (cfg->sampler &&
        !(t->epoch_set = siam_pairset_new(train->images, ntrain, "pair sampler", err)))
        goto fail;
    t->host_idx = malloc(2 * ntrain * sizeof(int32_t));
    t->perm = malloc((ntrain + 1) * sizeof(int32_t));
    t->host_labels = malloc(ntrain * sizeof(float));
    t->probs = malloc(ntrain * sizeof(float));
    if (!t->host_idx || !t->perm || !t->host_labels || !t->probs) {
        siam_fail(err, "trainer: out of host memory for %zu pairs", ntrain);
        goto fail;
    }
    if (cfg->use_early_stop && siam_early_stop_init(&t->es, &cfg->early_stop, err))
        goto fail;
    siam_plateau_init(&t->plateau, &cfg->schedule.plateau);
    if (!(t->train_images = siam_images_to_device(t->ops, t->ctx, train->images, err)))
        goto fail;
    if (siam_dev_pairs_alloc(t->ops, t->ctx, &t->tr, ntrain, err))
        goto fail;
    if (cfg->wavg.kind != SIAM_WAVG_OFF && !(t->wavg = siam_wavg_new(m, &cfg->wavg, err)))
        goto fail;
    if (val) {
        if (val->images == train->images)
            t->val_images = t->train_images;
        else if (!(t->val_images = siam_images_to_device(t->ops, t->ctx, val->images, err)))
            goto fail;
        if (siam_validation_init(&t->v, m, val, t->val_images, cfg->mean, cfg->std,
                                 cfg->threshold_from_val, cfg->objective != SIAM_OBJECTIVE_PAIR,
                                 err))
            goto fail;
    }
    if (cfg->use_early_stop && cfg->early_stop.restore_best) {
        size_t nb = siam_model_numel(m) + siam_model_buffer_numel(m);
        if (!(t->best = t->ops->mem_alloc(t->ctx, nb * sizeof(float)))) {
            siam_fail(err, "trainer: device allocation of the best-weights copy failed: %s",
                      t->ops->ctx_error(t->ctx));
            goto fail;
        }
    }
    static const char *builtin[5] = { "train_loss", "train_acc", "val_loss", "val_acc", "lr" };
    for (int k = 0; k < 5; k++) {
        if (siam_history_add(&t->hist, builtin[k], err))
            goto fail;
    }
    if (cfg->objective != SIAM_OBJECTIVE_PAIR && identity_new(t, err))
        goto fail;
    return t;
fail:
    siam_trainer_free(t);
    return NULL;
}

void siam_trainer_free(siam_trainer *t)
{
    if (!t)
        return;
    if (t->val_images != t->train_images)
        t->ops->mem_free(t->ctx, t->val_images);
    t->ops->mem_free(t->ctx, t->train_images);
    siam_dev_pairs_free(t->ops, t->ctx, &t->tr);
    siam_validation_clear(&t->v, t->m);
    t->ops->mem_free(t->ctx, t->best);
    siam_wavg_free(t->wavg);
    siam_pairset_free(t->epoch_set);
    siam_train_identity_free(t->ident);
    siam_history_clear(&t->hist);
    free(t->host_idx);
    free(t->perm);
    free(t->host_labels);
    free(t->probs);
    free(t);
}

siam_stop_reason siam_trainer_stop_reason(const siam_trainer *t) { return t->stop; }
const char *siam_trainer_nan_message(const siam_trainer *t)
{
    return t->stop == SIAM_STOP_NAN ? t->nan_msg : NULL;
}
const char *siam_trainer_early_stop_message(const siam_trainer *t)
{
    return t->es_msg[0] ? t->es_msg : NULL;
}
int siam_trainer_epochs_done(const siam_trainer *t) { return t->epochs_done; }
siam_model *siam_trainer_model(siam_trainer *t) { return t->m; }
siam_optim *siam_trainer_optim(siam_trainer *t) { return t->opt; }
const siam_train_config *siam_trainer_config(const siam_trainer *t) { return &t->cfg; }
const siam_early_stop *siam_trainer_early_stop(const siam_trainer *t) { return &t->es; }
const siam_history *siam_trainer_history(const siam_trainer *t) { return &t->hist; }
siam_wavg *siam_trainer_wavg(siam_trainer *t) { return t->wavg; }

int siam_trainer_record(siam_trainer *t, const char *name, double value, siam_error *err)
{
    return siam_history_set(&t->hist, name, t->epochs_done, value, err);
}

float siam_trainer_threshold(const siam_trainer *t)
{
    const double *h =
        t->cfg.threshold_from_val ? siam_history_get(&t->hist, "val_threshold") : NULL;
    if (!h || t->epochs_done == 0)
        return t->cfg.threshold;
    int e = t->has_best && t->es.best_epoch >= 0 && t->es.best_epoch < t->epochs_done
        ? t->es.best_epoch : t->epochs_done - 1;
    return isnan(h[e]) ? t->cfg.threshold : (float)h[e];
}

static int uses_plateau(const siam_train_config *cfg)
{
    return cfg->use_schedule && cfg->schedule.kind == SIAM_SCHEDULE_PLATEAU;
}

void siam_trainer_get_state(const siam_trainer *t, siam_trainer_state *s)
{
    s->epochs_done = t->epochs_done;
    s->seed = t->cfg.seed;
    s->augment_offset = t->augment_offset;
    s->stop_reason = t->stop;
    s->early_stop = t->es;
    s->has_best = t->has_best;
    s->train_fingerprint = t->train_fp;
    s->train_pairs = t->train->count;
    s->val_fingerprint = t->val ? t->val_fp : 0;
    s->val_pairs = t->val ? t->val->count : 0;
    s->batch_size = t->cfg.batch_size;
    s->has_plateau = uses_plateau(&t->cfg);
    s->plateau = t->plateau;
}

void siam_trainer_set_state(siam_trainer *t, const siam_trainer_state *s)
{
    t->epochs_done = s->epochs_done;
    t->cfg.seed = s->seed;
    t->augment_offset = s->augment_offset;
    t->stop = s->stop_reason;
    /* The counters come from the state; the rule stays the trainer's own. */
    siam_early_stop_config rule = t->es.cfg;
    t->es = s->early_stop;
    t->es.cfg = rule;
    t->has_best = s->has_best && t->best;
    /* A run that starts following a plateau at a resume starts it afresh. */
    if (s->has_plateau && uses_plateau(&t->cfg))
        t->plateau = s->plateau;
    t->running = 0;
}

void siam_trainer_parts(siam_trainer *t, siam_train_parts *p)
{
    siam_trainer_get_state(t, &p->state);
    p->history = &t->hist;
    p->best = t->best;
    p->wavg = t->wavg;
}

/* The best epoch's weights, kept by early stopping with restore_best. */
static int best_copy(siam_trainer *t, int to_model, siam_error *err)
{
    return siam_model_weights_copy(t->m, t->best, to_model, "trainer: best weights", err);
}

int siam_trainer_evaluate(siam_trainer *t, const siam_pairset *ps, double *loss, double *acc,
                          float *probs, siam_error *err)
{
    const uint8_t *images;
    if (ps->images == t->train->images)
        images = t->train_images;
    else if (t->val && ps->images == t->val->images)
        images = t->val_images;
    else
        return siam_fail(err, "evaluate: the pair set's images are not the trainer's");
    if (siam_pairs_check(ps, "evaluation", err))
        return -1;
    float *out = probs ? probs : malloc((ps->count + 1) * sizeof(float));
    if (!out)
        return siam_fail(err, "evaluate: out of host memory for %zu pairs", ps->count);
    int rc = siam_predict_pairs(t->m, ps, images, t->cfg.mean, t->cfg.std, SIAM_TTA_NONE, loss,
                                out, "evaluate", err);
    if (!rc && acc)
        *acc = siam_pairs_accuracy(ps, out, siam_trainer_threshold(t));
    if (out != probs)
        free(out);
    return rc;
}

static int call_hook(siam_trainer *t, siam_train_event *ev, siam_error *err)
{
    if (!t->cfg.hook)
        return 0;
    int rc = t->cfg.hook(t->cfg.hook_user, t, ev, err);
    if (rc < 0)
        return siam_fail_wrap(err, "training hook at epoch %d", ev->epoch + 1);
    if (rc > 0)
        t->stop = SIAM_STOP_HOOK;
    return 0;
}

/* Batches in one epoch: the pair batches, or with the triplet loss alone
 * the identity sampler's. */
static int epoch_batches(const siam_trainer *t)
{
    if (t->cfg.objective == SIAM_OBJECTIVE_TRIPLET)
        return siam_identity_sampler_config_of(t->cfg.identity)->batches;
    return siam_train_pair_batches(&t->cfg, t->train);
}

/* The exponential average of an update, in the halves the step order
 * allows: the batch-norm statistics right after the update (its step's
 * readback found them finite, and the next forward changes them), the
 * parameters once the next readback or the epoch's last check has found
 * them finite. After a stop on non-finite parameters the average thus holds
 * one set of statistics more than of parameters. */
static int ema_active(const siam_trainer *t, int epoch)
{
    const siam_train_config *cfg = &t->cfg;
    return t->wavg && cfg->wavg.kind == SIAM_WAVG_EMA && epoch >= cfg->wavg.start_epoch;
}

/* One epoch of training; sets t->stop on a signal/hook stop. */
static int train_epoch(siam_trainer *t, int epoch, double *loss, double *acc, siam_error *err)
{
    const siam_train_config *cfg = &t->cfg;
    const siam_pairset *set = t->train;
    if (cfg->sampler) {
        if (siam_pair_sampler_epoch(cfg->sampler, epoch, t->epoch_set->pairs, err))
            return -1;
        set = t->epoch_set;
    }
    size_t n = set->count;
    int bs = cfg->batch_size, pair = cfg->objective != SIAM_OBJECTIVE_TRIPLET;
    /* The order is a function of (seed, epoch) alone, so a resumed run
     * shuffles identically; so are the identity batches. */
    if (pair) {
        siam_epoch_order(cfg->seed, epoch, n, t->perm);
        siam_pairs_layout(set, t->perm, bs, t->host_idx, t->host_labels);
        if (siam_dev_pairs_upload(t->ops, t->ctx, &t->tr, t->host_idx, t->host_labels, err))
            return -1;
    }
    if (t->ident && siam_train_identity_epoch(t->ident, epoch, err))
        return -1;
    int batches = epoch_batches(t);
    siam_model_set_training(t->m, 1);
    double lsum = 0.0, psum = 0.0, tsum = 0.0, wsum = 0.0;
    size_t correct = 0, seen = 0;
    siam_train_steps steps;
    siam_train_steps_init(&steps, t->m, t->opt, 1);
    steps.pair = pair;
    for (int k = 0; k < batches; k++) {
        size_t s = (size_t)k * bs;
        int nb = !pair ? 0 : n - s < (size_t)bs ? (int)(n - s) : bs;
        float l;
        if (pair && siam_batch_assemble(t->m, t->train_images, t->tr.idx, s, nb, cfg->mean,
                                        cfg->std, &cfg->augment, cfg->seed, t->augment_offset,
                                        err))
            return -1;
        t->augment_offset += 2 * (uint64_t)nb;
        steps.embed = t->ident ? siam_train_identity_batch(t->ident, k) : NULL;
        const float *y = pair ? t->tr.labels + s : NULL;
        char where[64], after[80];
        snprintf(where, sizeof where, "at epoch %d, batch %d", epoch + 1, k + 1);
        snprintf(after, sizeof after, "after the update of epoch %d, batch %d", epoch + 1, k + 1);
        int checked = steps.unchecked; /* the previous update's, by this run */
        int found = siam_train_steps_run(&steps, y, nb, where, &l, t->probs, t->nan_msg,
                                         sizeof t->nan_msg, err);
        if (found < 0)
            return siam_fail_wrap(err, "epoch %d, batch %d", epoch + 1, k + 1);
        if (found) {
            t->stop = SIAM_STOP_NAN;
            return 0;
        }
        if (checked && ema_active(t, epoch) && siam_wavg_update_params(t->wavg, err))
            return siam_fail_wrap(err, "epoch %d, batch %d", epoch + 1, k);
        if (siam_train_steps_update(&steps, after, err) ||
            (ema_active(t, epoch) && siam_wavg_update_buffers(t->wavg, err)))
            return siam_fail_wrap(err, "epoch %d, batch %d", epoch + 1, k + 1);
        for (int i = 0; i < nb; i++)
            correct += (t->probs[i] >= cfg->threshold) == (t->host_labels[s + i] >= 0.5f);
        /* A step's losses weigh by its pairs, or equally without them. */
        double w = pair ? nb : 1.0;
        lsum += (double)l * w;
        psum += pair ? (double)steps.pair_loss * w : 0.0;
        tsum += t->ident ? (double)steps.embed->values[0] * w : 0.0;
        wsum += w;
        seen += (size_t)nb;
        siam_train_event ev = { SIAM_EVENT_BATCH_END, epoch, k, batches,
                                pair ? nb : siam_train_identity_images(t->ident), l, siam_optim_lr(t->opt) };
        if (call_hook(t, &ev, err))
            return -1;
        if (cfg->stop_flag && *cfg->stop_flag)
            t->stop = SIAM_STOP_SIGNAL;
        if (t->stop)
            break;
    }
    /* The last update of the epoch (or before a stop) is checked here,
     * before validation, a checkpoint or the average take it in. */
    int checked = steps.unchecked;
    int found = siam_train_steps_flush(&steps, t->nan_msg, sizeof t->nan_msg, err);
    if (found < 0)
        return siam_fail_wrap(err, "epoch %d", epoch + 1);
    if (found) {
        t->stop = SIAM_STOP_NAN;
        return 0;
    }
    if (checked && ema_active(t, epoch) && siam_wavg_update_params(t->wavg, err))
        return siam_fail_wrap(err, "epoch %d", epoch + 1);
    if (t->stop)
        return 0;
    *loss = lsum / wsum;
    *acc = seen ? (double)correct / (double)seen : NAN;
    t->epoch_pair_loss = pair ? psum / wsum : NAN;
    t->epoch_triplet_loss = t->ident ? tsum / wsum : NAN;
    return 0;
}

/* Validation, the epoch's history, the EPOCH_END hook and early stopping
 * of epoch e. */
static int epoch_end(siam_trainer *t, siam_train_event *ev, int e, double lr, double tl,
                     double ta, siam_error *err)
{
    const siam_train_config *cfg = &t->cfg;
    double vl = NAN, va = NAN;
    if (t->val && siam_validation_run(&t->v, t->m, cfg->threshold, &t->hist, e, &vl, &va, err))
        return -1;
    if (siam_trainer_record(t, "train_loss", tl, err) ||
        siam_trainer_record(t, "train_acc", ta, err) ||
        siam_trainer_record(t, "val_loss", vl, err) ||
        siam_trainer_record(t, "val_acc", va, err) || siam_trainer_record(t, "lr", lr, err))
        return -1;
    if (t->ident && (siam_trainer_record(t, "train_pair_loss", t->epoch_pair_loss, err) ||
                     siam_trainer_record(t, "train_triplet_loss", t->epoch_triplet_loss, err)))
        return -1;
    ev->kind = SIAM_EVENT_EPOCH_END;
    ev->lr = lr;
    if (call_hook(t, ev, err))
        return -1;
    /* ReduceLROnPlateau steps on the finished epoch's metric; the next
     * epoch trains at the lr it returns. */
    if (uses_plateau(cfg)) {
        const double *h = siam_history_get(&t->hist, cfg->schedule.plateau.metric);
        if (!h)
            return siam_fail(err, "plateau schedule: metric '%s' was not recorded in epoch %d",
                             cfg->schedule.plateau.metric, e + 1);
        siam_optim_set_lr(t->opt, siam_plateau_step(&t->plateau, &cfg->schedule.plateau, h[e],
                                                    siam_optim_lr(t->opt)));
    }
    if (cfg->use_early_stop) {
        const double *h = siam_history_get(&t->hist, cfg->early_stop.metric);
        if (!h)
            return siam_fail(err, "early stopping: metric '%s' was not recorded in epoch %d",
                             cfg->early_stop.metric, e + 1);
        if (siam_early_stop_update(&t->es, e, h[e]) && t->best) {
            if (best_copy(t, 0, err))
                return -1;
            t->has_best = 1;
        }
        if (t->es.stopped)
            t->stop = SIAM_STOP_EARLY;
    }
    return 0;
}

static int run_epoch(siam_trainer *t, siam_error *err)
{
    const siam_train_config *cfg = &t->cfg;
    if (!t->running) {
        t->running = 1;
        t->nan_msg[0] = '\0';
        /* A run restored from a checkpoint written after early stopping
         * fired stays stopped (and still restores its best weights). */
        t->stop = cfg->use_early_stop && t->es.stopped ? SIAM_STOP_EARLY : SIAM_STOP_NONE;
    }
    if (t->epochs_done >= cfg->epochs || t->stop)
        return 0;
    int e = t->epochs_done;
    if (cfg->use_schedule && !uses_plateau(cfg))
        siam_optim_set_lr(t->opt, siam_schedule_lr(&cfg->schedule, e));
    siam_train_event ev = { SIAM_EVENT_EPOCH_BEGIN, e, 0, epoch_batches(t), 0, 0.0,
                            siam_optim_lr(t->opt) };
    if (call_hook(t, &ev, err))
        return -1;
    if (t->stop)
        return 0;
    double lr = siam_optim_lr(t->opt), tl = NAN, ta = NAN;
    if (train_epoch(t, e, &tl, &ta, err))
        return -1;
    if (t->stop == SIAM_STOP_SIGNAL || t->stop == SIAM_STOP_NAN ||
        (t->stop == SIAM_STOP_HOOK && isnan(tl)))
        return 0; /* stopped mid-epoch: nothing of it is recorded or checkpointed */
    if (t->wavg && cfg->wavg.kind == SIAM_WAVG_SWA && e >= cfg->wavg.start_epoch &&
        siam_wavg_update(t->wavg, err))
        return siam_fail_wrap(err, "epoch %d", e + 1);
    /* From validation to the best-weights copy the model holds the
     * average, so that both see the weights that will be used. */
    int swapped = t->wavg && siam_wavg_count(t->wavg) > 0;
    if (swapped && siam_wavg_swap(t->wavg, err))
        return -1;
    int rc = epoch_end(t, &ev, e, lr, tl, ta, err);
    if (swapped && siam_wavg_swap(t->wavg, rc ? NULL : err))
        rc = -1;
    if (rc)
        return -1;
    t->epochs_done++;
    return 1;
}

int siam_trainer_epoch(siam_trainer *t, siam_error *err)
{
    int rc = run_epoch(t, err);
    if (rc < 0)
        t->running = 0; /* a failed run is over: the next call starts another */
    return rc;
}

int siam_trainer_finish(siam_trainer *t, siam_error *err)
{
    t->running = 0;
    t->es_msg[0] = '\0';
    if (t->cfg.use_early_stop)
        siam_early_stop_no_best_note(&t->cfg.early_stop, t->es.best_epoch,
                                     siam_history_get(&t->hist, t->cfg.early_stop.metric),
                                     t->epochs_done, t->es_msg, sizeof t->es_msg);
    if (t->stop == SIAM_STOP_SIGNAL)
        return 0;
    /* After a NaN stop the model holds weights from inside the lost epoch,
     * so the best epoch's copy goes back even when it was the last one. */
    if (t->best && t->has_best &&
        (t->stop == SIAM_STOP_NAN || t->es.best_epoch != t->epochs_done - 1))
        return best_copy(t, 1, err);
    if (t->wavg && siam_wavg_count(t->wavg) > 0)
        return siam_wavg_apply(t->wavg, err);
    return 0;
}
