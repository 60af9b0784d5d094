/* siam.fit's resolved options as a table (bindings/fit_config.h). */
#include "bindings/fit_config.h"

#include <stdio.h>
#include <stdlib.h>

#include <lauxlib.h>

#include "bindings/util.h"

/* A float option as the decimal it was given as (0.8, not
 * 0.800000011920929): the shortest of 7 significant digits, which reads
 * back to the same float. */
static void setfloat(lua_State *L, const char *key, float v)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.7g", (double)v);
    siam_lua_setnumber(L, key, strtod(buf, NULL));
}

static void push_augment(lua_State *L, const siam_augment *a)
{
    if (!a->enabled) {
        lua_pushboolean(L, 0);
        return;
    }
    lua_createtable(L, 0, 9);
    setfloat(L, "p_component", a->p_component);
    setfloat(L, "rotate_deg", a->rotate_deg);
    setfloat(L, "shear", a->shear);
    setfloat(L, "scale_min", a->scale_min);
    setfloat(L, "scale_max", a->scale_max);
    setfloat(L, "translate_px", a->translate_px);
    setfloat(L, "p_flip", a->p_flip);
    setfloat(L, "brightness", a->brightness);
    setfloat(L, "contrast", a->contrast);
}

static void push_schedule(lua_State *L, const siam_train_config *tc, int lua_fn)
{
    if (lua_fn) {
        lua_pushliteral(L, "<Lua function>");
        return;
    }
    if (!tc->use_schedule) {
        lua_pushboolean(L, 0);
        return;
    }
    const siam_schedule *s = &tc->schedule;
    lua_createtable(L, 0, 4);
    if (s->kind == SIAM_SCHEDULE_PLATEAU) {
        const siam_plateau_config *p = &s->plateau;
        siam_lua_setstring(L, "kind", "plateau");
        siam_lua_setstring(L, "monitor", p->metric);
        siam_lua_setstring(L, "mode", p->mode_max ? "max" : "min");
        siam_lua_setnumber(L, "factor", p->factor);
        siam_lua_setinteger(L, "patience", p->patience);
        siam_lua_setnumber(L, "threshold", p->threshold);
        siam_lua_setstring(L, "threshold_mode", p->threshold_abs ? "abs" : "rel");
        siam_lua_setinteger(L, "cooldown", p->cooldown);
        siam_lua_setnumber(L, "min_lr", p->min_lr);
        siam_lua_setnumber(L, "eps", p->eps);
    } else if (s->kind == SIAM_SCHEDULE_COSINE) {
        siam_lua_setstring(L, "kind", "cosine");
        siam_lua_setinteger(L, "t_max", s->t_max);
        siam_lua_setnumber(L, "eta_min", s->eta_min);
    } else {
        siam_lua_setstring(L, "kind", "step");
        siam_lua_setinteger(L, "step_size", s->step_size);
        siam_lua_setnumber(L, "gamma", s->gamma);
    }
    siam_lua_setnumber(L, "base_lr", s->base_lr);
}

static void push_stop(lua_State *L, const siam_train_config *tc, int lua_fn)
{
    if (lua_fn) {
        lua_pushliteral(L, "<Lua function>");
        return;
    }
    if (!tc->use_early_stop) {
        lua_pushboolean(L, 0);
        return;
    }
    const siam_early_stop_config *e = &tc->early_stop;
    lua_createtable(L, 0, 5);
    siam_lua_setstring(L, "monitor", e->metric);
    siam_lua_setstring(L, "mode", e->mode_max ? "max" : "min");
    siam_lua_setinteger(L, "patience", e->patience);
    siam_lua_setnumber(L, "min_delta", e->min_delta);
    siam_lua_setboolean(L, "restore_best", e->restore_best);
}

static void push_average(lua_State *L, const siam_wavg_config *w)
{
    if (w->kind == SIAM_WAVG_OFF) {
        lua_pushboolean(L, 0);
        return;
    }
    lua_createtable(L, 0, 3);
    siam_lua_setstring(L, "kind", w->kind == SIAM_WAVG_EMA ? "ema" : "swa");
    if (w->kind == SIAM_WAVG_EMA)
        siam_lua_setnumber(L, "decay", w->decay);
    siam_lua_setinteger(L, "start", w->start_epoch + 1); /* 1-based, as the option */
}

static void push_sampling(lua_State *L, const siam_lua_sampling *s)
{
    if (s == NULL || !s->use) {
        lua_pushboolean(L, 0);
        return;
    }
    lua_createtable(L, 0, 3);
    siam_lua_setinteger(L, "per_epoch", (lua_Integer)s->cfg.extra_pairs);
    siam_lua_setboolean(L, "keep_base", s->cfg.keep_base);
    siam_lua_setstring(L, "exclude", s->cfg.exclude == SIAM_EXCLUDE_PEOPLE ? "people" : "images");
}

static void push_triplet(lua_State *L, const siam_train_config *tc, const siam_lua_identity *id)
{
    if (id == NULL || !id->use) {
        lua_pushboolean(L, 0);
        return;
    }
    lua_createtable(L, 0, 7);
    siam_lua_setinteger(L, "p", id->cfg.p);
    siam_lua_setinteger(L, "k", id->cfg.k);
    siam_lua_setinteger(L, "batches", id->cfg.batches);
    setfloat(L, "margin", tc->triplet_margin);
    siam_lua_setboolean(L, "soft", tc->triplet_soft);
    setfloat(L, "weight", tc->triplet_weight);
    siam_lua_setstring(L, "exclude", id->cfg.exclude == SIAM_EXCLUDE_PEOPLE ? "people"
                                                                             : "images");
}

static void push_path(lua_State *L, const char *key, const char *path)
{
    if (path)
        lua_pushstring(L, path);
    else
        lua_pushboolean(L, 0);
    lua_setfield(L, -2, key);
}

void siam_lua_push_fit_config(lua_State *L, const siam_train_config *tc,
                              const siam_lua_fit_extra *x)
{
    lua_createtable(L, 0, 16);
    siam_lua_setinteger(L, "epochs", tc->epochs);
    siam_lua_setinteger(L, "batch_size", tc->batch_size);
    siam_lua_setinteger(L, "seed", (lua_Integer)tc->seed);
    siam_lua_setboolean(L, "drop_last", tc->drop_last);
    setfloat(L, "mean", tc->mean);
    setfloat(L, "std", tc->std);
    if (tc->threshold_from_val)
        siam_lua_setstring(L, "threshold", "val");
    else
        setfloat(L, "threshold", tc->threshold);
    siam_lua_setboolean(L, "val", x->has_val);
    push_augment(L, &tc->augment);
    lua_setfield(L, -2, "augment");
    push_schedule(L, tc, x->lua_schedule);
    lua_setfield(L, -2, "schedule");
    push_stop(L, tc, x->lua_stop);
    lua_setfield(L, -2, "stop");
    push_average(L, &tc->wavg);
    lua_setfield(L, -2, "average");
    push_sampling(L, x->sampling);
    lua_setfield(L, -2, "sample_pairs");
    siam_lua_setstring(L, "objective", siam_objective_name(tc->objective));
    push_triplet(L, tc, x->identity);
    lua_setfield(L, -2, "triplet");
    push_path(L, "checkpoint", x->checkpoint);
    push_path(L, "resume", x->resume);
}
