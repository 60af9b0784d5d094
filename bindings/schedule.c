/* siam.Schedule: StepLR and cosine annealing settings
 * (torch.optim.lr_scheduler.StepLR, CosineAnnealingLR), callable from Lua
 * to see the learning rate of an epoch. */
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

/* s(epoch, base_lr) -> lr, epoch counted from 1 as in fit. */
static int schedule_call(lua_State *L)
{
    siam_schedule s = *(siam_schedule *)luaL_checkudata(L, 1, SIAM_SCHEDULE_MT);
    lua_Integer epoch = luaL_checkinteger(L, 2);
    luaL_argcheck(L, epoch >= 1, 2, "epochs count from 1");
    s.base_lr = luaL_checknumber(L, 3);
    lua_pushnumber(L, siam_schedule_lr(&s, (int)(epoch - 1)));
    return 1;
}

static int schedule_index(lua_State *L)
{
    siam_schedule *s = luaL_checkudata(L, 1, SIAM_SCHEDULE_MT);
    const char *key = luaL_checkstring(L, 2);
    int step = s->kind == SIAM_SCHEDULE_STEP;
    if (strcmp(key, "kind") == 0)
        lua_pushstring(L, step ? "step" : "cosine");
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
    if (s->kind == SIAM_SCHEDULE_STEP)
        lua_pushfstring(L, "siam.Schedule(step, step_size %d, gamma %f)", s->step_size, s->gamma);
    else
        lua_pushfstring(L, "siam.Schedule(cosine, t_max %d, eta_min %f)", s->t_max, s->eta_min);
    return 1;
}

void siam_lua_open_schedule(lua_State *L)
{
    /* __index is a function, over the empty methods table: fields
     * (kind, and step_size, gamma or t_max, eta_min), no methods. */
    static const luaL_Reg meta[] = { { "__call", schedule_call },
                                     { "__tostring", schedule_tostring },
                                     { "__index", schedule_index }, { NULL, NULL } };
    static const luaL_Reg funcs[] = { { "step", schedule_step },
                                     { "cosine", schedule_cosine },
                                     { NULL, NULL } };
    siam_lua_newclass(L, SIAM_SCHEDULE_MT, NULL, meta);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "schedule");
}
