/* The siam module table: version, config, and the functions of every
 * binding file (tensors now; model, data, fit and evaluate slot in the same
 * way through their siam_lua_open_* calls). */
#include "bindings/siam.h"

#include <lauxlib.h>
#include <lualib.h>

#include "bindings/api.h"
#include "bindings/build_info.h"
#include "bindings/context.h"
#include "bindings/embedded.h"
#include "bindings/runio.h"
#include "bindings/tensor.h"

void siam_lua_config_default(siam_lua_config *cfg)
{
    cfg->device = "auto";
    cfg->threads = 0;
    cfg->seed = 0;
    cfg->quiet = 0;
}

static void push_config(lua_State *L, const siam_lua_config *cfg)
{
    lua_createtable(L, 0, 4);
    lua_pushstring(L, cfg->device);
    lua_setfield(L, -2, "device");
    lua_pushinteger(L, cfg->threads);
    lua_setfield(L, -2, "threads");
    lua_pushinteger(L, (lua_Integer)cfg->seed);
    lua_setfield(L, -2, "seed");
    lua_pushboolean(L, cfg->quiet);
    lua_setfield(L, -2, "quiet");
}

int luaopen_siam(lua_State *L)
{
    lua_newtable(L);
    lua_pushliteral(L, SIAM_VERSION);
    lua_setfield(L, -2, "version");
    lua_pushliteral(L, LUA_RELEASE);
    lua_setfield(L, -2, "lua_version");
#ifdef SIAM_CUDA
    lua_pushboolean(L, 1);
#else
    lua_pushboolean(L, 0);
#endif
    lua_setfield(L, -2, "has_cuda");
    siam_lua_push_build_info(L);
    lua_setfield(L, -2, "build");
    if (lua_getfield(L, LUA_REGISTRYINDEX, SIAM_CONFIG_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        siam_lua_config cfg;
        siam_lua_config_default(&cfg);
        push_config(L, &cfg);
    }
    lua_setfield(L, -2, "config");
    siam_lua_open_context(L);
    siam_lua_open_tensor(L);
    siam_lua_open_api(L);
    siam_lua_open_io(L);
    return 1;
}

void siam_lua_openlibs(lua_State *L, const siam_lua_config *cfg)
{
    siam_lua_config def;
    if (cfg == NULL) {
        siam_lua_config_default(&def);
        cfg = &def;
    }
    push_config(L, cfg);
    lua_setfield(L, LUA_REGISTRYINDEX, SIAM_CONFIG_KEY);
    siam_lua_preload_embedded(L); /* require "siam.NAME" for the Lua-written parts */
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_siam);
    lua_setfield(L, -2, "siam");
    lua_pop(L, 1);
    luaL_requiref(L, "siam", luaopen_siam, 1);
    lua_pop(L, 1);
}
