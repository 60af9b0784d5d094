/* siam.Schedule: StepLR, cosine annealing and ReduceLROnPlateau settings
 * (torch.optim.lr_scheduler.StepLR, CosineAnnealingLR, ReduceLROnPlateau);
 * the first two are callable from Lua to see the learning rate of an
 * epoch. */
#include "bindings/schedule.h"

#include <math.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/util.h"

const siam_schedule *siam_lua_toschedule(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, SIAM_SCHEDULE_MT);
}

/* The option `key` of the table at 1: a count of epochs >= 1 that has no
 * default, so its absence is an error (`why` follows the message). */
static int required_epochs(lua_State *L, const char *key, const char *why)
{
    lua_getfield(L, 1, key);
    int missing = lua_isnil(L, -1);
    lua_pop(L, 1);
    if (missing)
        luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' is required%s", key, why));
    return (int)siam_lua_opt_integer(L, 1, key, 1, 1, 1 << 30);
}

/* siam.schedule.step{step_size=, gamma=0.1} */
static int schedule_step(lua_State *L)
{
    static const char *const keys[] = { "step_size", "gamma", NULL };
    luaL_checktype(L, 1, LUA_TTABLE);
    siam_lua_opts_check(L, 1, keys);
    int step = required_epochs(L, "step_size", "");
    double gamma = siam_lua_opt_number(L, 1, "gamma", 0.1);
    if (!(gamma > 0.0))
        return luaL_argerror(L, 1, lua_pushfstring(L, "option 'gamma' must be > 0, got %f",
                                                   gamma));
    siam_schedule *s = lua_newuserdatauv(L, sizeof *s, 0);
    *s = (siam_schedule){ .kind = SIAM_SCHEDULE_STEP, .step_size = step, .gamma = gamma };
    luaL_setmetatable(L, SIAM_SCHEDULE_MT);
    return 1;
}

/* siam.schedule.cosine{t_max=, eta_min=0} */
static int schedule_cosine(lua_State *L)
{
    static const char *const keys[] = { "t_max", "eta_min", NULL };
    luaL_checktype(L, 1, LUA_TTABLE);
    siam_lua_opts_check(L, 1, keys);
    int t_max = required_epochs(L, "t_max", " (the epochs of one descent)");
    double eta_min = siam_lua_opt_number(L, 1, "eta_min", 0.0);
    if (!(eta_min >= 0.0) || !isfinite(eta_min))
        return luaL_argerror(L, 1, lua_pushfstring(L, "option 'eta_min' must be >= 0, got %f",
                                                   eta_min));
    siam_schedule *s = lua_newuserdatauv(L, sizeof *s, 0);
    *s = (siam_schedule){ .kind = SIAM_SCHEDULE_COSINE, .t_max = t_max, .eta_min = eta_min };
    luaL_setmetatable(L, SIAM_SCHEDULE_MT);
    return 1;
}

static int bad_option(lua_State *L, const char *key, const char *rule, double got)
{
    return luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' must be %s, got %f", key, rule,
                                               got));
}

/* siam.schedule.plateau{monitor="val_loss", mode= (max for *acc* or *auc*,
 * else min), factor=0.1, patience=10, threshold=1e-4, threshold_mode="rel",
 * cooldown=0, min_lr=0, eps=1e-8} */
static int schedule_plateau(lua_State *L)
{
    static const char *const keys[] = { "monitor", "mode", "factor", "patience", "threshold",
                                        "threshold_mode", "cooldown", "min_lr", "eps", NULL };
    static const char *const modes[] = { "min", "max", NULL };
    static const char *const tmodes[] = { "rel", "abs", NULL };
    luaL_checktype(L, 1, LUA_TTABLE);
    siam_lua_opts_check(L, 1, keys);
    siam_plateau_config c;
    siam_plateau_config_default(&c);
    const char *monitor = siam_lua_opt_string(L, 1, "monitor", c.metric);
    size_t len = strlen(monitor);
    if (len == 0 || len >= sizeof c.metric)
        return luaL_argerror(L, 1, lua_pushfstring(L, "option 'monitor' must be a metric name "
                                                      "of 1 to %d characters",
                                                   (int)sizeof c.metric - 1));
    memcpy(c.metric, monitor, len + 1);
    int def_mode = strstr(monitor, "acc") != NULL || strstr(monitor, "auc") != NULL;
    c.mode_max = siam_lua_opt_choice(L, 1, "mode", def_mode, modes);
    c.factor = siam_lua_opt_number(L, 1, "factor", c.factor);
    if (!(c.factor > 0.0 && c.factor < 1.0))
        return bad_option(L, "factor", "in (0, 1) (the lr is multiplied by it)", c.factor);
    c.patience = (int)siam_lua_opt_integer(L, 1, "patience", c.patience, 0, 1 << 30);
    c.threshold = siam_lua_opt_number(L, 1, "threshold", c.threshold);
    if (!(c.threshold >= 0.0) || !isfinite(c.threshold))
        return bad_option(L, "threshold", "a finite number >= 0", c.threshold);
    c.threshold_abs = siam_lua_opt_choice(L, 1, "threshold_mode", 0, tmodes);
    c.cooldown = (int)siam_lua_opt_integer(L, 1, "cooldown", 0, 0, 1 << 30);
    c.min_lr = siam_lua_opt_number(L, 1, "min_lr", 0.0);
    if (!(c.min_lr >= 0.0) || !isfinite(c.min_lr))
        return bad_option(L, "min_lr", "a finite number >= 0", c.min_lr);
    c.eps = siam_lua_opt_number(L, 1, "eps", c.eps);
    if (!(c.eps >= 0.0) || !isfinite(c.eps))
        return bad_option(L, "eps", "a finite number >= 0", c.eps);
    siam_schedule *s = lua_newuserdatauv(L, sizeof *s, 0);
    *s = (siam_schedule){ .kind = SIAM_SCHEDULE_PLATEAU, .plateau = c };
    luaL_setmetatable(L, SIAM_SCHEDULE_MT);
    return 1;
}

/* s(epoch, base_lr) -> lr, epoch counted from 1 as in fit. */
static int schedule_call(lua_State *L)
{
    siam_schedule s = *(siam_schedule *)luaL_checkudata(L, 1, SIAM_SCHEDULE_MT);
    if (s.kind == SIAM_SCHEDULE_PLATEAU)
        return luaL_error(L, "a plateau schedule's lr depends on the metric it follows, not on "
                             "the epoch: it has no lr to give for an epoch alone");
    lua_Integer epoch = luaL_checkinteger(L, 2);
    luaL_argcheck(L, epoch >= 1, 2, "epochs count from 1");
    s.base_lr = luaL_checknumber(L, 3);
    lua_pushnumber(L, siam_schedule_lr(&s, (int)(epoch - 1)));
    return 1;
}

static void plateau_index(lua_State *L, const siam_plateau_config *c, const char *key)
{
    if (strcmp(key, "monitor") == 0)
        lua_pushstring(L, c->metric);
    else if (strcmp(key, "mode") == 0)
        lua_pushstring(L, c->mode_max ? "max" : "min");
    else if (strcmp(key, "factor") == 0)
        lua_pushnumber(L, c->factor);
    else if (strcmp(key, "patience") == 0)
        lua_pushinteger(L, c->patience);
    else if (strcmp(key, "threshold") == 0)
        lua_pushnumber(L, c->threshold);
    else if (strcmp(key, "threshold_mode") == 0)
        lua_pushstring(L, c->threshold_abs ? "abs" : "rel");
    else if (strcmp(key, "cooldown") == 0)
        lua_pushinteger(L, c->cooldown);
    else if (strcmp(key, "min_lr") == 0)
        lua_pushnumber(L, c->min_lr);
    else if (strcmp(key, "eps") == 0)
        lua_pushnumber(L, c->eps);
    else
        lua_pushnil(L);
}

static int schedule_index(lua_State *L)
{
    siam_schedule *s = luaL_checkudata(L, 1, SIAM_SCHEDULE_MT);
    const char *key = luaL_checkstring(L, 2);
    int step = s->kind == SIAM_SCHEDULE_STEP;
    if (strcmp(key, "kind") == 0)
        lua_pushstring(L, siam_schedule_kind_name(s->kind));
    else if (s->kind == SIAM_SCHEDULE_PLATEAU)
        plateau_index(L, &s->plateau, key);
    else if (step && strcmp(key, "step_size") == 0)
        lua_pushinteger(L, s->step_size);
    else if (step && strcmp(key, "gamma") == 0)
        lua_pushnumber(L, s->gamma);
    else if (!step && strcmp(key, "t_max") == 0)
        lua_pushinteger(L, s->t_max);
    else if (!step && strcmp(key, "eta_min") == 0)
        lua_pushnumber(L, s->eta_min);
    else
        lua_pushnil(L);
    return 1;
}

static int schedule_tostring(lua_State *L)
{
    siam_schedule *s = luaL_checkudata(L, 1, SIAM_SCHEDULE_MT);
    const siam_plateau_config *p = &s->plateau;
    if (s->kind == SIAM_SCHEDULE_STEP)
        lua_pushfstring(L, "siam.Schedule(step, step_size %d, gamma %f)", s->step_size, s->gamma);
    else if (s->kind == SIAM_SCHEDULE_PLATEAU)
        lua_pushfstring(L, "siam.Schedule(plateau, %s %s, factor %f, patience %d, threshold %f "
                           "%s, cooldown %d, min_lr %f)", p->metric, p->mode_max ? "max" : "min",
                        p->factor, p->patience, p->threshold, p->threshold_abs ? "abs" : "rel",
                        p->cooldown, p->min_lr);
    else
        lua_pushfstring(L, "siam.Schedule(cosine, t_max %d, eta_min %f)", s->t_max, s->eta_min);
    return 1;
}

void siam_lua_open_schedule(lua_State *L)
{
    /* __index is a function, over the empty methods table: fields
     * (kind, and the settings of that kind), no methods. */
    static const luaL_Reg meta[] = { { "__call", schedule_call },
                                     { "__tostring", schedule_tostring },
                                     { "__index", schedule_index }, { NULL, NULL } };
    static const luaL_Reg funcs[] = { { "step", schedule_step },
                                     { "cosine", schedule_cosine },
                                     { "plateau", schedule_plateau },
                                     { NULL, NULL } };
    siam_lua_newclass(L, SIAM_SCHEDULE_MT, NULL, meta);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "schedule");
}
