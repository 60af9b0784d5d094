/* siam.EarlyStop: the settings of host/early_stop.h's rule. */
#include "bindings/stop.h"

#include <string.h>

#include <lauxlib.h>

#include "bindings/util.h"

const siam_early_stop_config *siam_lua_toearlystop(lua_State *L, int idx)
{
    return luaL_testudata(L, idx, SIAM_EARLYSTOP_MT);
}

/* siam.stop.early{monitor="val_acc", mode= (max for *acc*, else min),
 * patience=5, min_delta=0, restore_best=false} */
static int stop_early(lua_State *L)
{
    static const char *const keys[] = { "monitor", "mode", "patience", "min_delta",
                                         "restore_best", NULL };
    static const char *const modes[] = { "min", "max", NULL };
    siam_lua_opts_check(L, 1, keys);
    const char *monitor = siam_lua_opt_string(L, 1, "monitor", "val_acc");
    size_t len = strlen(monitor);
    if (len == 0 || len >= sizeof((siam_early_stop_config *)0)->metric)
        return siam_lua_argerrorf(L, 1, "option 'monitor' must be a metric name of 1 to %d "
                                        "characters",
                                  (int)sizeof((siam_early_stop_config *)0)->metric - 1);
    int def_mode = strstr(monitor, "acc") != NULL || strstr(monitor, "auc") != NULL;
    int mode = siam_lua_opt_choice(L, 1, "mode", def_mode, modes);
    int patience = (int)siam_lua_opt_integer(L, 1, "patience", 5, 0, 1 << 30);
    double min_delta = siam_lua_opt_number(L, 1, "min_delta", 0.0);
    if (!(min_delta >= 0.0))
        return siam_lua_argerrorf(L, 1, "option 'min_delta' must be >= 0, got %f", min_delta);
    int restore = siam_lua_opt_boolean(L, 1, "restore_best", 0);
    siam_early_stop_config *c = lua_newuserdatauv(L, sizeof *c, 0);
    memset(c, 0, sizeof *c);
    memcpy(c->metric, monitor, len + 1);
    c->mode_max = mode;
    c->patience = patience;
    c->min_delta = min_delta;
    c->restore_best = restore;
    luaL_setmetatable(L, SIAM_EARLYSTOP_MT);
    return 1;
}

static int stop_index(lua_State *L)
{
    siam_early_stop_config *c = luaL_checkudata(L, 1, SIAM_EARLYSTOP_MT);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "monitor") == 0)
        lua_pushstring(L, c->metric);
    else if (strcmp(key, "mode") == 0)
        lua_pushstring(L, c->mode_max ? "max" : "min");
    else if (strcmp(key, "patience") == 0)
        lua_pushinteger(L, c->patience);
    else if (strcmp(key, "min_delta") == 0)
        lua_pushnumber(L, c->min_delta);
    else if (strcmp(key, "restore_best") == 0)
        lua_pushboolean(L, c->restore_best);
    else
        lua_pushnil(L);
    return 1;
}

static int stop_tostring(lua_State *L)
{
    siam_early_stop_config *c = luaL_checkudata(L, 1, SIAM_EARLYSTOP_MT);
    lua_pushfstring(L, "siam.EarlyStop(%s %s, patience %d, min_delta %f%s)", c->metric,
                    c->mode_max ? "max" : "min", c->patience, c->min_delta,
                    c->restore_best ? ", restore best" : "");
    return 1;
}

void siam_lua_open_stop(lua_State *L)
{
    /* __index is a function: fields (monitor, mode, ...), no methods. */
    static const luaL_Reg meta[] = { { "__tostring", stop_tostring }, { "__index", stop_index },
                                     { NULL, NULL } };
    static const luaL_Reg funcs[] = { { "early", stop_early }, { NULL, NULL } };
    siam_lua_newclass(L, SIAM_EARLYSTOP_MT, NULL, meta);
    luaL_newlib(L, funcs);
    lua_setfield(L, -2, "stop");
}
