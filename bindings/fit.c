/* siam.fit (bindings/fit.h). The trainer runs in C; its hook calls the Lua
 * side at each epoch start, batch end and epoch end. Every Lua callback runs
 * under lua_pcall, so an error or a Ctrl-C inside one never unwinds through
 * the trainer: the error is kept, the trainer returns, is freed, and the
 * error is raised again. */
#include "bindings/fit.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>

#include "bindings/config.h"
#include "bindings/fit_config.h"
#include "bindings/fit_options.h"
#include "bindings/interrupt.h"
#include "bindings/model.h"
#include "bindings/optim.h"
#include "bindings/pairset.h"
#include "bindings/util.h"
#include "host/checkpoint.h"
#include "host/train.h"

#define RUN_MT "siam.FitRun"

enum { ARG_MODEL = 1, ARG_OPTIM = 2, ARG_TRAIN = 3, ARG_OPTS = 4 };

/* Stack slots fit reserves after its arguments; the options' functions
 * follow them. */
enum { SLOT_STATE = 5, SLOT_ERROR, SLOT_RUN };

enum {
    H_START = SIAM_FIT_ON_START, H_EPOCH_START = SIAM_FIT_ON_EPOCH_START,
    H_BATCH_END = SIAM_FIT_ON_BATCH_END, H_EPOCH_END = SIAM_FIT_ON_EPOCH_END,
    H_END = SIAM_FIT_ON_END, NHOOKS = SIAM_FIT_NHOOKS
};

typedef struct fit_run {
    lua_State *L;
    siam_trainer *t;
    int hook_idx[NHOOKS];  /* stack index of each hook, 0 when absent */
    int schedule_fn;       /* stack index of a Lua schedule, 0 when none */
    int stop_fn;           /* stack index of a Lua stopping rule, 0 when none */
    double base_lr;
    int failed;            /* a Lua callback raised; the error is in SLOT_ERROR */
    int interrupted;       /* Ctrl-C was seen */
    int verbose;
    int has_val;
    struct timespec start;
} fit_run;

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + 1e-9 * (double)(t.tv_nsec - t0->tv_nsec);
}

/* What a run owns, in a userdata so that any error frees it: the trainer,
 * private copies of the pair sets (a hook may close the caller's), and the
 * busy marks on the model and optimizer (a hook may not close or rebuild
 * them while the trainer holds their memory). */
typedef struct run_box {
    siam_trainer *t;
    siam_pairset *train, *val;
    siam_pair_sampler *sampler;
    siam_identity_sampler *identity;
    siam_lua_model *lm;
    siam_lua_optim *lo;
} run_box;

static void run_close(run_box *rb)
{
    siam_trainer_free(rb->t);
    siam_pair_sampler_free(rb->sampler); /* before the sets they borrow */
    siam_identity_sampler_free(rb->identity);
    siam_pairset_free(rb->train);
    siam_pairset_free(rb->val);
    if (rb->lm != NULL)
        rb->lm->busy = 0;
    if (rb->lo != NULL)
        rb->lo->busy = 0;
    memset(rb, 0, sizeof *rb);
}

static int run_gc(lua_State *L)
{
    run_close(luaL_checkudata(L, 1, RUN_MT));
    return 0;
}

/* A copy of ps sharing its image bank. */
static siam_pairset *copy_set(const siam_pairset *ps, siam_error *err)
{
    siam_pairset *c = siam_pairset_new(ps->images, ps->count, ps->source, err);
    if (c != NULL) {
        memcpy(c->pairs, ps->pairs, ps->count * sizeof *ps->pairs);
        c->folds = ps->folds;
    }
    return c;
}

/* The error on the top of the stack is the "interrupted!" that Ctrl-C
 * raises in Lua code (interrupt.h), not an error of the callback. */
static int is_interruption(lua_State *L)
{
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    size_t n = msg ? strlen(msg) : 0;
    return *siam_interrupt_flag() && n >= 12 && strcmp(msg + n - 12, "interrupted!") == 0;
}

/* Calls the function at stack index fn with the state table; leaves its
 * first result on the stack. Returns 0, or -1 after keeping the error (or
 * noting an interruption). */
static int call_lua(fit_run *r, int fn, int nres)
{
    lua_State *L = r->L;
    lua_pushvalue(L, fn);
    lua_pushvalue(L, SLOT_STATE);
    if (lua_pcall(L, 1, nres, 0) == LUA_OK)
        return 0;
    if (is_interruption(L)) {
        r->interrupted = 1;
        lua_pop(L, 1);
        return -1;
    }
    lua_replace(L, SLOT_ERROR);
    r->failed = 1;
    return -1;
}

static int state_stop_requested(lua_State *L)
{
    lua_getfield(L, SLOT_STATE, "stop");
    int stop = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return stop;
}

/* The history columns as a table {name = ...} (val metrics only with a
 * validation set): each column's first n values as an array when epoch < 0,
 * else its value at the 0-based epoch (state.metrics). */
static void push_history_columns(fit_run *r, int n, int epoch)
{
    lua_State *L = r->L;
    siam_trainer *t = r->t;
    int cols = siam_history_count(siam_trainer_history(t));
    lua_createtable(L, 0, cols);
    for (int k = 0; k < cols; k++) {
        const char *name = siam_history_name(siam_trainer_history(t), k);
        if (!r->has_val && strncmp(name, "val_", 4) == 0)
            continue;
        if (epoch < 0)
            siam_lua_pushdoubles(L, siam_history_get(siam_trainer_history(t), name), (size_t)n);
        else
            lua_pushnumber(L, siam_history_get(siam_trainer_history(t), name)[epoch]);
        lua_setfield(L, -2, name);
    }
}

/* The first n epochs of the history. */
static void push_history(fit_run *r, int n)
{
    push_history_columns(r, n, -1);
}

/* state.metrics: the values of the epoch just recorded (0-based e). */
static void push_metrics(fit_run *r, int e)
{
    push_history_columns(r, 0, e);
}

static int is_builtin_metric(const char *name)
{
    static const char *const builtin[] = { "train_loss", "train_acc", "val_loss", "val_acc",
                                           "lr", "val_threshold", "val_acc_at_threshold",
                                           NULL };
    for (int i = 0; builtin[i]; i++)
        if (strcmp(name, builtin[i]) == 0)
            return 1;
    return 0;
}

/* Numbers a hook put in state.metrics under new names become metrics of
 * this epoch (history, early stopping's monitor). */
static int record_custom_metrics(fit_run *r, siam_error *err)
{
    lua_State *L = r->L;
    if (lua_getfield(L, SLOT_STATE, "metrics") != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    lua_pushnil(L);
    while (lua_next(L, -2) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TNUMBER &&
            !is_builtin_metric(lua_tostring(L, -2))) {
            const char *name = lua_tostring(L, -2);
            if (strlen(name) >= 32) {
                lua_pop(L, 3);
                return siam_fail(err, "metric name '%.40s...' is longer than 31 characters",
                                 name);
            }
            if (siam_trainer_record(r->t, name, lua_tonumber(L, -1), err) < 0) {
                lua_pop(L, 3);
                return -1;
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

static void print_epoch(fit_run *r, int e, int epochs)
{
    siam_trainer *t = r->t;
    double tl = siam_history_get(siam_trainer_history(t), "train_loss")[e];
    double ta = siam_history_get(siam_trainer_history(t), "train_acc")[e];
    double lr = siam_history_get(siam_trainer_history(t), "lr")[e];
    printf("epoch %3d/%d  loss %.4f  acc %.4f", e + 1, epochs, tl, ta);
    if (r->has_val)
        printf("  val_loss %.4f  val_acc %.4f",
               siam_history_get(siam_trainer_history(t), "val_loss")[e],
               siam_history_get(siam_trainer_history(t), "val_acc")[e]);
    /* With the threshold chosen on validation, what early stopping compares:
     * the balanced accuracy at that epoch's best threshold. */
    const double *bal = siam_history_get(siam_trainer_history(t), "val_acc_at_threshold");
    if (r->has_val && bal)
        printf("  val_bal %.4f @ %.3f", bal[e],
               siam_history_get(siam_trainer_history(t), "val_threshold")[e]);
    printf("  lr %.3g  %.1fs\n", lr, seconds_since(&r->start));
    fflush(stdout);
}

/* The trainer's hook (host/train.h): 0 go on, 1 stop, -1 fail. */
static int on_event(void *user, siam_trainer *t, const siam_train_event *ev, siam_error *err)
{
    fit_run *r = user;
    lua_State *L = r->L;
    int top = lua_gettop(L);
    int rc = 0;
    r->t = t;
    lua_pushinteger(L, ev->epoch + 1);
    lua_setfield(L, SLOT_STATE, "epoch");
    if (ev->kind == SIAM_EVENT_EPOCH_BEGIN) {
        if (r->schedule_fn) {
            lua_pushvalue(L, r->schedule_fn);
            lua_pushinteger(L, ev->epoch + 1);
            lua_pushnumber(L, r->base_lr);
            if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
                if (is_interruption(L)) {
                    r->interrupted = 1;
                    lua_settop(L, top);
                    return 1;
                }
                lua_replace(L, SLOT_ERROR);
                r->failed = 1;
                lua_settop(L, top);
                return siam_fail(err, "schedule failed");
            }
            int isnum = 0;
            double lr = lua_tonumberx(L, -1, &isnum);
            if (!isnum || siam_optim_rule("lr", lr) != NULL) {
                lua_pushfstring(L, "schedule returned %s for epoch %d (a learning rate >= 0 "
                                   "expected)",
                                isnum ? lua_tostring(L, -1) : luaL_typename(L, -1),
                                ev->epoch + 1);
                lua_replace(L, SLOT_ERROR);
                r->failed = 1;
                lua_settop(L, top);
                return siam_fail(err, "schedule failed");
            }
            siam_optim_set_lr(siam_trainer_optim(t), lr);
            lua_pop(L, 1);
        }
        lua_pushinteger(L, 0);
        lua_setfield(L, SLOT_STATE, "batch");
        lua_pushinteger(L, ev->batches);
        lua_setfield(L, SLOT_STATE, "batches");
        lua_pushnumber(L, siam_optim_lr(siam_trainer_optim(t)));
        lua_setfield(L, SLOT_STATE, "lr");
        if (r->hook_idx[H_EPOCH_START])
            rc = call_lua(r, r->hook_idx[H_EPOCH_START], 0);
    } else if (ev->kind == SIAM_EVENT_BATCH_END) {
        lua_pushinteger(L, ev->batch + 1);
        lua_setfield(L, SLOT_STATE, "batch");
        lua_pushinteger(L, ev->batches);
        lua_setfield(L, SLOT_STATE, "batches");
        lua_pushinteger(L, ev->batch_size);
        lua_setfield(L, SLOT_STATE, "batch_size");
        lua_pushnumber(L, ev->loss);
        lua_setfield(L, SLOT_STATE, "loss");
        lua_pushnumber(L, ev->lr);
        lua_setfield(L, SLOT_STATE, "lr");
        if (r->hook_idx[H_BATCH_END])
            rc = call_lua(r, r->hook_idx[H_BATCH_END], 0);
    } else {
        push_metrics(r, ev->epoch);
        lua_setfield(L, SLOT_STATE, "metrics");
        push_history(r, ev->epoch + 1); /* the trainer counts this epoch after the hook */
        lua_setfield(L, SLOT_STATE, "history");
        lua_pushnumber(L, seconds_since(&r->start));
        lua_setfield(L, SLOT_STATE, "seconds");
        if (r->hook_idx[H_EPOCH_END])
            rc = call_lua(r, r->hook_idx[H_EPOCH_END], 0);
        if (rc == 0 && record_custom_metrics(r, err) < 0) {
            lua_settop(L, top);
            return -1;
        }
        if (r->verbose)
            print_epoch(r, ev->epoch, siam_trainer_config(t)->epochs);
        if (rc == 0 && r->stop_fn) {
            rc = call_lua(r, r->stop_fn, 1);
            if (rc == 0 && lua_toboolean(L, -1)) {
                lua_pushboolean(L, 1);
                lua_setfield(L, SLOT_STATE, "stop");
            }
        }
    }
    lua_settop(L, top);
    if (rc < 0) {
        if (r->failed)
            return siam_fail(err, "Lua hook failed");
        return 1; /* interrupted inside a callback: stop like the flag does */
    }
    return state_stop_requested(L);
}

/* Reads fit's options (bindings/fit_options.h) into tc and the run; the
 * hooks, a Lua schedule and a Lua stopping rule stay on the stack, at the
 * indices recorded in r. */
static void read_options(lua_State *L, fit_run *r, siam_train_config *tc, siam_lua_model *lm,
                         siam_lua_optim *lo, const siam_pairset **val, const char **ckpt,
                         const char **resume, siam_lua_sampling *sampling,
                         siam_lua_identity *identity)
{
    siam_lua_fit_options o;
    siam_lua_fit_options_read(L, ARG_OPTS, lm, lo, tc, &o);
    memcpy(r->hook_idx, o.hook_idx, sizeof r->hook_idx);
    r->schedule_fn = o.schedule_fn;
    r->stop_fn = o.stop_fn;
    r->base_lr = o.base_lr;
    r->verbose = o.verbose;
    r->has_val = o.val != NULL;
    *val = o.val;
    *ckpt = o.checkpoint;
    *resume = o.resume;
    *sampling = o.sampling;
    *identity = o.identity;
}

static const char *stop_name(siam_stop_reason s, int interrupted)
{
    if (interrupted || s == SIAM_STOP_SIGNAL)
        return "interrupted";
    switch (s) {
    case SIAM_STOP_EARLY: return "early";
    case SIAM_STOP_HOOK: return "requested";
    case SIAM_STOP_NAN: return "nan";
    default: return "completed";
    }
}

/* A checkpoint written by fit holds everything the run depends on
 * (weights, moments, counters, early stopping, history), so training goes
 * on from its last finished epoch as if it had never stopped. */
static int resume_run(siam_trainer *t, const char *path, siam_error *err)
{
    siam_train_parts parts;
    siam_trainer_parts(t, &parts);
    siam_model *m = siam_trainer_model(t);
    if (siam_checkpoint_load(path, m, NULL, siam_trainer_optim(t), &parts, err) < 0)
        return -1;
    siam_trainer_set_state(t, &parts.state);
    return 0;
}

/* The epochs, with a checkpoint after each when `ckpt` is set. The file
 * also makes a usable model (siam.load): `meta`, with the threshold the
 * run would use now. */
static int run_epochs(siam_trainer *t, siam_model_meta meta, const char *ckpt, siam_error *err)
{
    int rc;
    while ((rc = siam_trainer_epoch(t, err)) > 0) {
        if (ckpt == NULL)
            continue;
        meta.threshold = siam_trainer_threshold(t);
        siam_train_parts parts;
        siam_trainer_parts(t, &parts);
        if (siam_checkpoint_save(ckpt, siam_trainer_model(t), &meta, siam_trainer_optim(t),
                                 &parts, err) < 0)
            return siam_fail_wrap(err, "after epoch %d", siam_trainer_epochs_done(t));
    }
    return rc < 0 ? -1 : siam_trainer_finish(t, err);
}

/* siam.fit(model, optimizer, train[, opts]) -> history */
static int fit(lua_State *L)
{
    siam_lua_model *lm = siam_lua_checkmodel(L, ARG_MODEL);
    siam_lua_optim *lo = siam_lua_checkoptim(L, ARG_OPTIM);
    siam_pairset *train = siam_lua_checkpairset(L, ARG_TRAIN);
    if (!lua_isnoneornil(L, ARG_OPTS))
        luaL_checktype(L, ARG_OPTS, LUA_TTABLE);
    lua_settop(L, ARG_OPTS);
    if (lua_isnil(L, ARG_OPTS)) { /* no options: all defaults */
        lua_newtable(L);
        lua_replace(L, ARG_OPTS);
    }
    if (lm->busy || lo->busy)
        return luaL_error(L, "fit: this %s is already being trained (fit called from a hook)",
                          lm->busy ? "model" : "optimizer");
    /* Training defines the input the model expects, so the training set's
     * crop becomes the model's (validation sets are then checked against it). */
    lm->crop = train->images->crop;
    siam_lua_model_check_set(L, ARG_TRAIN, lm, train);
    if (*siam_interrupt_flag())
        return luaL_error(L, "interrupted!");
    lua_newtable(L); /* SLOT_STATE */
    lua_pushnil(L);  /* SLOT_ERROR */
    run_box *box = lua_newuserdatauv(L, sizeof *box, 0); /* SLOT_RUN */
    memset(box, 0, sizeof *box);
    luaL_setmetatable(L, RUN_MT);
    fit_run r;
    memset(&r, 0, sizeof r);
    r.L = L;
    siam_train_config tc;
    const siam_pairset *val;
    const char *ckpt, *resume;
    siam_lua_sampling sampling;
    siam_lua_identity identity;
    read_options(L, &r, &tc, lm, lo, &val, &ckpt, &resume, &sampling, &identity);
    if (tc.drop_last && train->count < (size_t)tc.batch_size)
        return siam_lua_argerrorf(L, ARG_OPTS, "drop_last with %I pairs and batch_size %d "
                                               "leaves no batch",
                                  (lua_Integer)train->count, tc.batch_size);
    /* A P x K batch runs its p * k images through the tower as a pair batch
     * runs its 2B. */
    int pk = identity.use ? identity.cfg.p * identity.cfg.k : 0;
    siam_lua_model_reserve(L, lm, tc.batch_size > (pk + 1) / 2 ? tc.batch_size : (pk + 1) / 2);
    siam_optim *opt = siam_lua_optim_bind(L, ARG_OPTIM, lo, lm);
    tc.hook = on_event;
    tc.hook_user = &r;
    tc.stop_flag = siam_interrupt_flag();
    siam_error err;
    if ((box->train = copy_set(train, &err)) == NULL ||
        (val != NULL && (box->val = copy_set(val, &err)) == NULL))
        return siam_lua_error(L, &err);
    if (sampling.use) {
        box->sampler = siam_pair_sampler_new(box->train, box->val, &sampling.cfg, &err);
        if (box->sampler == NULL) {
            run_close(box);
            return siam_lua_error(L, &err);
        }
        tc.sampler = box->sampler;
        if (tc.drop_last && siam_pair_sampler_count(box->sampler) < (size_t)tc.batch_size)
            return siam_lua_argerrorf(L, ARG_OPTS, "drop_last with %I pairs and batch_size %d "
                                                   "leaves no batch",
                                      (lua_Integer)siam_pair_sampler_count(box->sampler),
                                      tc.batch_size);
    }
    if (identity.use) {
        /* Without `batches` an epoch has as many steps as a pair epoch. */
        size_t n = box->sampler ? siam_pair_sampler_count(box->sampler) : box->train->count;
        size_t bs = (size_t)tc.batch_size, pb = tc.drop_last ? n / bs : (n + bs - 1) / bs;
        if (identity.cfg.batches == 0)
            identity.cfg.batches = pb > 100000000 ? 100000000 : (int)pb;
        box->identity = siam_identity_sampler_new(box->train, box->val, &identity.cfg, &err);
        if (box->identity == NULL) {
            run_close(box);
            return siam_lua_error(L, &err);
        }
        tc.identity = box->identity;
    }
    box->t = siam_trainer_new(lm->m, opt, box->train, box->val, &tc, &err);
    if (box->t == NULL || (resume != NULL && resume_run(box->t, resume, &err) < 0)) {
        run_close(box);
        return siam_lua_error(L, &err);
    }
    r.t = box->t;
    box->lm = lm;
    box->lo = lo;
    lm->busy = lo->busy = 1;
    /* The state table every hook receives. */
    lua_pushvalue(L, ARG_MODEL);
    lua_setfield(L, SLOT_STATE, "model");
    lua_pushvalue(L, ARG_OPTIM);
    lua_setfield(L, SLOT_STATE, "optimizer");
    lua_pushvalue(L, ARG_TRAIN);
    lua_setfield(L, SLOT_STATE, "train");
    if (val != NULL) {
        lua_getfield(L, ARG_OPTS, "val");
        lua_setfield(L, SLOT_STATE, "val");
    }
    lua_pushinteger(L, tc.epochs);
    lua_setfield(L, SLOT_STATE, "epochs");
    lua_pushinteger(L, 0);
    lua_setfield(L, SLOT_STATE, "epoch");
    lua_pushnumber(L, siam_optim_lr(opt));
    lua_setfield(L, SLOT_STATE, "lr");
    lua_pushboolean(L, 0);
    lua_setfield(L, SLOT_STATE, "stop");
    lua_newtable(L);
    lua_setfield(L, SLOT_STATE, "metrics");
    lua_newtable(L);
    lua_setfield(L, SLOT_STATE, "history");
    siam_lua_fit_extra fx = { &sampling, r.schedule_fn != 0, r.stop_fn != 0, r.has_val, ckpt,
                              resume, &identity };
    siam_lua_push_fit_config(L, &tc, &fx);
    lua_setfield(L, SLOT_STATE, "config");
    clock_gettime(CLOCK_MONOTONIC, &r.start);

    int rc = 0;
    if (r.hook_idx[H_START] && call_lua(&r, r.hook_idx[H_START], 0) < 0)
        rc = -1;
    if (rc == 0 && !state_stop_requested(L)) {
        siam_model_meta meta = { lm->threshold, lm->crop, lm->tta, lm->init, lm->seed };
        rc = run_epochs(r.t, meta, ckpt, &err);
        if (rc < 0 && !r.failed) {
            run_close(box);
            return siam_lua_error(L, &err);
        }
    }
    if (r.failed) {
        run_close(box);
        lua_pushvalue(L, SLOT_ERROR);
        return lua_error(L);
    }
    if (*siam_interrupt_flag()) {
        /* Training stopped at a batch boundary; the Lua stop hook that the
         * signal also armed would end the script at its next line. Fit
         * returns normally instead, so the script can keep what it has; the
         * flag stays set, so a later fit in this run refuses to start. */
        r.interrupted = 1;
        lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
        lua_sethook(lua_tothread(L, -1), NULL, 0, 0);
        lua_pop(L, 1);
    }
    /* The threshold chosen on validation becomes the model's. */
    if (tc.threshold_from_val && siam_trainer_epochs_done(r.t) > 0)
        lm->threshold = siam_trainer_threshold(r.t);
    push_history(&r, siam_trainer_epochs_done(r.t));
    int hist = lua_gettop(L);
    lua_getfield(L, SLOT_STATE, "config");
    lua_setfield(L, hist, "config");
    siam_lua_setnumber(L, "threshold", siam_trainer_threshold(r.t));
    siam_lua_setinteger(L, "epochs", siam_trainer_epochs_done(r.t));
    siam_lua_setstring(L, "stopped", stop_name(siam_trainer_stop_reason(r.t), r.interrupted));
    siam_lua_setnumber(L, "seconds", seconds_since(&r.start));
    /* How training ended badly is part of the result (a grid keeps it) and,
     * unless quiet, said on stderr at once, whatever `verbose` is. */
    const char *notes[2][2] = { { "nan", siam_trainer_nan_message(r.t) },
                                { "stop_message", siam_trainer_early_stop_message(r.t) } };
    for (int k = 0; k < 2; k++) {
        if (notes[k][1] == NULL)
            continue;
        siam_lua_setstring(L, notes[k][0], notes[k][1]);
        if (!siam_lua_config_quiet(L))
            fprintf(stderr, "fit: %s%s\n", k == 0 ? "training stopped: " : "", notes[k][1]);
    }
    if (tc.use_early_stop) {
        const siam_early_stop *es = siam_trainer_early_stop(r.t);
        if (es->best_epoch >= 0) {
            siam_lua_setinteger(L, "best_epoch", es->best_epoch + 1);
            siam_lua_setnumber(L, "best", es->best);
        }
    }
    lua_pushvalue(L, hist);
    lua_setfield(L, SLOT_STATE, "history");
    if (r.hook_idx[H_END] && call_lua(&r, r.hook_idx[H_END], 0) < 0 && r.failed) {
        run_close(box);
        lua_pushvalue(L, SLOT_ERROR);
        return lua_error(L);
    }
    run_close(box);
    lua_settop(L, hist);
    return 1;
}

void siam_lua_open_fit(lua_State *L)
{
    static const luaL_Reg meta[] = { { "__gc", run_gc }, { "__close", run_gc }, { NULL, NULL } };
    siam_lua_newclass(L, RUN_MT, NULL, meta);
    lua_pushcfunction(L, fit);
    lua_setfield(L, -2, "fit");
}
