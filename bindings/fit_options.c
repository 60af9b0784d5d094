/* Every option of siam.fit, read and checked in one place
 * (bindings/fit_options.h). */
#include "bindings/fit_options.h"

#include <math.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/augment.h"
#include "bindings/config.h"
#include "bindings/pairset.h"
#include "bindings/schedule.h"
#include "bindings/stop.h"
#include "bindings/util.h"
#include "host/weight_avg.h"

/* The nested table's keys are checked like the options themselves; an
 * error names the outer option, e.g. "option 'average': unknown key 'decy'". */
static void check_keys(lua_State *L, int arg, int idx, const char *opt,
                       const char *const known[])
{
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        int found = 0;
        if (lua_type(L, -1) == LUA_TSTRING)
            for (int i = 0; known[i] != NULL && !found; i++)
                found = strcmp(lua_tostring(L, -1), known[i]) == 0;
        if (!found)
            siam_lua_argerrorf(L, arg, "option '%s': unknown key '%s'", opt,
                               lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                              : luaL_typename(L, -1));
    }
}

/* t[key] of the table at idx as a number; def when absent. */
static double field_number(lua_State *L, int arg, int idx, const char *opt, const char *key,
                           double def, int integer)
{
    int type = lua_getfield(L, idx, key);
    double v = def;
    if (type != LUA_TNIL) {
        if (type != LUA_TNUMBER || (integer && !lua_isinteger(L, -1)))
            siam_lua_argerrorf(L, arg, "option '%s': '%s' must be %s, got %s", opt, key,
                               integer ? "an integer" : "a number",
                               type == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* average = {kind = "ema"|"swa", decay = 0.999, start = 1} (start: the
 * first epoch, 1-based, whose weights count). */
static void read_average(lua_State *L, int arg, int idx, siam_train_config *tc)
{
    static const char *const keys[] = { "kind", "decay", "start", NULL };
    static const char *const opt = "average";
    check_keys(L, arg, idx, opt, keys);
    if (lua_getfield(L, idx, "kind") != LUA_TSTRING)
        siam_lua_argerrorf(L, arg, "option 'average': 'kind' must be \"ema\" or \"swa\", got %s",
                           luaL_typename(L, -1));
    const char *kind = lua_tostring(L, -1);
    if (strcmp(kind, "ema") == 0)
        tc->wavg.kind = SIAM_WAVG_EMA;
    else if (strcmp(kind, "swa") == 0)
        tc->wavg.kind = SIAM_WAVG_SWA;
    else
        siam_lua_argerrorf(L, arg, "option 'average': 'kind' must be \"ema\" or \"swa\", "
                                   "got '%s'", kind);
    lua_pop(L, 1);
    int has_decay = lua_getfield(L, idx, "decay") != LUA_TNIL;
    lua_pop(L, 1);
    if (tc->wavg.kind == SIAM_WAVG_SWA && has_decay)
        siam_lua_argerrorf(L, arg, "option 'average': 'decay' is for kind \"ema\" only");
    double decay = field_number(L, arg, idx, opt, "decay", tc->wavg.decay, 0);
    if (!(decay >= 0.0 && decay < 1.0))
        siam_lua_argerrorf(L, arg, "option 'average': 'decay' must be in [0, 1), got %f", decay);
    tc->wavg.decay = decay;
    double start = field_number(L, arg, idx, opt, "start", 1, 1);
    if (start < 1 || start > 1000000)
        siam_lua_argerrorf(L, arg, "option 'average': 'start' must be an epoch >= 1, got %d",
                           (int)start);
    tc->wavg.start_epoch = (int)start - 1;
}

/* sample_pairs = {per_epoch = N, keep_base = true, exclude = "people"|"images"} */
static void read_sampling(lua_State *L, int arg, int idx, uint64_t seed, siam_lua_sampling *s)
{
    static const char *const keys[] = { "per_epoch", "keep_base", "exclude", NULL };
    static const char *const opt = "sample_pairs";
    check_keys(L, arg, idx, opt, keys);
    siam_pair_sampler_config_default(&s->cfg);
    s->use = 1;
    s->cfg.seed = seed;
    if (lua_getfield(L, idx, "per_epoch") == LUA_TNIL)
        siam_lua_argerrorf(L, arg, "option 'sample_pairs': 'per_epoch' is required");
    lua_pop(L, 1);
    double n = field_number(L, arg, idx, opt, "per_epoch", 0, 1);
    if (n < 1 || n > 100000000)
        siam_lua_argerrorf(L, arg, "option 'sample_pairs': 'per_epoch' must be in [1, 100000000], "
                                   "got %d", (int)n);
    s->cfg.extra_pairs = (size_t)n;
    int type = lua_getfield(L, idx, "keep_base");
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        siam_lua_argerrorf(L, arg, "option 'sample_pairs': 'keep_base' must be a boolean, got %s",
                           luaL_typename(L, -1));
    if (type == LUA_TBOOLEAN)
        s->cfg.keep_base = lua_toboolean(L, -1);
    lua_pop(L, 1);
    type = lua_getfield(L, idx, "exclude");
    if (type != LUA_TNIL) {
        const char *ex = type == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (ex != NULL && strcmp(ex, "people") == 0)
            s->cfg.exclude = SIAM_EXCLUDE_PEOPLE;
        else if (ex != NULL && strcmp(ex, "images") == 0)
            s->cfg.exclude = SIAM_EXCLUDE_IMAGES;
        else
            siam_lua_argerrorf(L, arg, "option 'sample_pairs': 'exclude' must be \"people\" or "
                                       "\"images\", got %s",
                               ex ? lua_pushfstring(L, "'%s'", ex) : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
}

/* The accuracy options (docs/training.md): `threshold` (a number, or "val":
 * chosen on the validation set, which must then be given), `average` and
 * `sample_pairs`. def_threshold is the model's threshold. */
static void read_accuracy(lua_State *L, int arg, double def_threshold, int has_val,
                          siam_train_config *tc, siam_lua_sampling *s)
{
    memset(s, 0, sizeof *s);
    int type = lua_getfield(L, arg, "threshold");
    if (type == LUA_TSTRING && strcmp(lua_tostring(L, -1), "val") == 0) {
        if (!has_val)
            siam_lua_argerrorf(L, arg, "option 'threshold' is \"val\" but no 'val' set was given");
        tc->threshold_from_val = 1;
        tc->threshold = (float)def_threshold;
    } else if (type == LUA_TNIL || type == LUA_TNUMBER) {
        double thr = type == LUA_TNIL ? def_threshold : lua_tonumber(L, -1);
        if (!(thr >= 0.0 && thr <= 1.0))
            siam_lua_argerrorf(L, arg, "option 'threshold' must be in [0, 1], got %f", thr);
        tc->threshold = (float)thr;
    } else {
        siam_lua_argerrorf(L, arg, "option 'threshold' must be a number in [0, 1] or \"val\", "
                                   "got %s",
                           type == LUA_TSTRING ? lua_pushfstring(L, "'%s'", lua_tostring(L, -1))
                                               : luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    if (lua_getfield(L, arg, "average") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            siam_lua_argerrorf(L, arg, "option 'average' must be a table, got %s",
                               luaL_typename(L, -1));
        read_average(L, arg, lua_gettop(L), tc);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, arg, "sample_pairs") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            siam_lua_argerrorf(L, arg, "option 'sample_pairs' must be a table, got %s",
                               luaL_typename(L, -1));
        read_sampling(L, arg, lua_gettop(L), tc->seed, s);
    }
    lua_pop(L, 1);
}

/* objective = "pair" | "triplet" | "pair+triplet"; triplet = {p = 8, k = 4,
 * margin = 0.2, soft = false, weight = 1, batches = N, exclude = "people"}
 * (docs/training.md, "Training on identities"). */
static void read_objective(lua_State *L, int arg, siam_train_config *tc, siam_lua_identity *id)
{
    static const char *const keys[] = { "p", "k", "margin", "soft", "weight", "batches",
                                        "exclude", NULL };
    static const char *const opt = "triplet";
    memset(id, 0, sizeof *id);
    int type = lua_getfield(L, arg, "objective");
    if (type != LUA_TNIL) {
        siam_error err;
        siam_objective o;
        if (type != LUA_TSTRING)
            siam_lua_argerrorf(L, arg, "option 'objective' must be \"pair\", \"triplet\" or "
                                       "\"pair+triplet\", got %s", luaL_typename(L, -1));
        if (siam_objective_parse(lua_tostring(L, -1), &o, &err))
            siam_lua_argerrorf(L, arg, "option 'objective': %s", err.msg);
        tc->objective = o;
    }
    lua_pop(L, 1);
    type = lua_getfield(L, arg, "triplet");
    int idx = lua_gettop(L);
    if (type != LUA_TNIL && type != LUA_TTABLE)
        siam_lua_argerrorf(L, arg, "option 'triplet' must be a table, got %s",
                           luaL_typename(L, -1));
    if (tc->objective == SIAM_OBJECTIVE_PAIR) {
        if (type != LUA_TNIL)
            siam_lua_argerrorf(L, arg, "option 'triplet' needs objective \"triplet\" or "
                                       "\"pair+triplet\"");
        lua_pop(L, 1);
        return;
    }
    id->use = 1;
    siam_identity_sampler_config_default(&id->cfg);
    id->cfg.seed = tc->seed;
    id->cfg.batches = 0;
    if (type == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    check_keys(L, arg, idx, opt, keys);
    double p = field_number(L, arg, idx, opt, "p", id->cfg.p, 1);
    double k = field_number(L, arg, idx, opt, "k", id->cfg.k, 1);
    if (p < 2 || p > 65536 || k < 2 || k > 65536)
        siam_lua_argerrorf(L, arg, "option 'triplet': 'p' and 'k' must be in [2, 65536], got "
                                   "%d and %d", (int)fmax(fmin(p, 1e9), -1e9),
                           (int)fmax(fmin(k, 1e9), -1e9));
    id->cfg.p = (int)p;
    id->cfg.k = (int)k;
    double batches = field_number(L, arg, idx, opt, "batches", 0, 1);
    if (lua_getfield(L, idx, "batches") != LUA_TNIL && (batches < 1 || batches > 100000000))
        siam_lua_argerrorf(L, arg, "option 'triplet': 'batches' must be in [1, 100000000], "
                                   "got %d", (int)fmax(fmin(batches, 1e9), -1e9));
    lua_pop(L, 1);
    id->cfg.batches = (int)batches;
    double margin = field_number(L, arg, idx, opt, "margin", tc->triplet_margin, 0);
    if (!(margin >= 0.0 && margin <= 2.0))
        siam_lua_argerrorf(L, arg, "option 'triplet': 'margin' must be in [0, 2] (a cosine "
                                   "distance), got %f", margin);
    tc->triplet_margin = (float)margin;
    double weight = field_number(L, arg, idx, opt, "weight", tc->triplet_weight, 0);
    if (!(weight > 0.0 && weight <= 1e6))
        siam_lua_argerrorf(L, arg, "option 'triplet': 'weight' must be in (0, 1e6], got %f",
                           weight);
    tc->triplet_weight = (float)weight;
    type = lua_getfield(L, idx, "soft");
    if (type != LUA_TNIL && type != LUA_TBOOLEAN)
        siam_lua_argerrorf(L, arg, "option 'triplet': 'soft' must be a boolean, got %s",
                           luaL_typename(L, -1));
    tc->triplet_soft = lua_toboolean(L, -1);
    lua_pop(L, 1);
    type = lua_getfield(L, idx, "exclude");
    if (type != LUA_TNIL) {
        const char *ex = type == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (ex != NULL && strcmp(ex, "people") == 0)
            id->cfg.exclude = SIAM_EXCLUDE_PEOPLE;
        else if (ex != NULL && strcmp(ex, "images") == 0)
            id->cfg.exclude = SIAM_EXCLUDE_IMAGES;
        else
            siam_lua_argerrorf(L, arg, "option 'triplet': 'exclude' must be \"people\" or "
                                       "\"images\", got %s",
                               ex ? lua_pushfstring(L, "'%s'", ex) : luaL_typename(L, -1));
    }
    lua_pop(L, 2);
}

const char *const siam_lua_fit_hook_names[] = { "on_start", "on_epoch_start", "on_batch_end",
                                                 "on_epoch_end", "on_end", NULL };

void siam_lua_fit_options_read(lua_State *L, int arg, siam_lua_model *lm, siam_lua_optim *lo,
                               siam_train_config *tc, siam_lua_fit_options *o)
{
    static const char *const keys[] = {
        "epochs", "batch_size", "val", "schedule", "stop", "augment", "seed", "threshold",
        "drop_last", "checkpoint", "verbose", "on_start", "on_epoch_start", "on_batch_end",
        "on_epoch_end", "on_end", "average", "sample_pairs", "resume", "objective", "triplet",
        NULL
    };
    siam_train_config_default(tc);
    memset(o, 0, sizeof *o);
    siam_lua_opts_check(L, arg, keys);
    tc->epochs = (int)siam_lua_opt_integer(L, arg, "epochs", 1, 1, 1000000);
    tc->batch_size = (int)siam_lua_opt_integer(L, arg, "batch_size", 32, 1, 65536);
    tc->seed = siam_lua_opt_seed(L, arg, "seed");
    tc->drop_last = siam_lua_opt_boolean(L, arg, "drop_last", 0);
    o->checkpoint = siam_lua_opt_string(L, arg, "checkpoint", NULL);
    o->resume = siam_lua_opt_string(L, arg, "resume", NULL);
    o->verbose = siam_lua_opt_boolean(L, arg, "verbose", !siam_lua_config_quiet(L));
    for (int h = 0; h < SIAM_FIT_NHOOKS; h++) {
        int type = lua_getfield(L, arg, siam_lua_fit_hook_names[h]);
        if (type != LUA_TNIL && type != LUA_TFUNCTION)
            siam_lua_argerrorf(L, arg, "option '%s' must be a function, got %s",
                               siam_lua_fit_hook_names[h], luaL_typename(L, -1));
        o->hook_idx[h] = type == LUA_TFUNCTION ? lua_gettop(L) : 0;
    }
    lua_getfield(L, arg, "augment");
    siam_lua_augment_read(L, arg, -1, &tc->augment);
    lua_pop(L, 1);
    o->val = NULL;
    if (lua_getfield(L, arg, "val") != LUA_TNIL) {
        if (luaL_testudata(L, -1, SIAM_PAIRSET_MT) == NULL)
            siam_lua_argerrorf(L, arg, "option 'val' must be a siam.PairSet, got %s",
                               luaL_typename(L, -1));
        o->val = siam_lua_checkpairset(L, -1); /* the options table keeps it alive */
        siam_lua_model_check_set(L, arg, lm, o->val);
    }
    lua_pop(L, 1);
    read_accuracy(L, arg, lm->threshold, o->val != NULL, tc, &o->sampling);
    read_objective(L, arg, tc, &o->identity);
    /* schedule: a siam.Schedule (StepLR, cosine or plateau, run in C) or a Lua function */
    o->base_lr = lo->o ? siam_optim_lr(lo->o) : lo->cfg.lr;
    if (lua_getfield(L, arg, "schedule") != LUA_TNIL) {
        const siam_schedule *s = siam_lua_toschedule(L, -1);
        if (s != NULL) {
            tc->use_schedule = 1;
            tc->schedule = *s;
            tc->schedule.base_lr = o->base_lr;
            const char *m = s->plateau.metric;
            if (s->kind == SIAM_SCHEDULE_PLATEAU && o->val == NULL && strncmp(m, "val_", 4) == 0)
                siam_lua_argerrorf(L, arg, "the plateau schedule monitors '%s' but no 'val' "
                                           "set was given", m);
        } else if (lua_type(L, -1) == LUA_TFUNCTION) {
            o->schedule_fn = lua_gettop(L);
        } else {
            siam_lua_argerrorf(L, arg, "option 'schedule' must be a siam.Schedule or a "
                                            "function, got %s",
                               luaL_typename(L, -1));
        }
    }
    /* stop: a siam.EarlyStop (run in C) or a Lua function */
    if (lua_getfield(L, arg, "stop") != LUA_TNIL) {
        const siam_early_stop_config *es = siam_lua_toearlystop(L, -1);
        if (es != NULL) {
            tc->use_early_stop = 1;
            tc->early_stop = *es;
            if (o->val == NULL && strncmp(es->metric, "val_", 4) == 0)
                siam_lua_argerrorf(L, arg, "early stopping monitors '%s' but no 'val' set "
                                                "was given",
                                   es->metric);
        } else if (lua_type(L, -1) == LUA_TFUNCTION) {
            o->stop_fn = lua_gettop(L);
        } else {
            siam_lua_argerrorf(L, arg, "option 'stop' must be a siam.EarlyStop or a "
                                            "function, got %s",
                               luaL_typename(L, -1));
        }
    }
}
