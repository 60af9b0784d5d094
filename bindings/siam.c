/* The siam module table: version, config (bindings/config.c), and the functions of every
 * binding file (tensors now; model, data, fit and evaluate slot in the same
 * way through their siam_lua_open_* calls). */
#include "bindings/siam.h"

#include <lauxlib.h>
#include <lualib.h>

#include "bindings/api.h"
#include "bindings/build_info.h"
#include "bindings/config.h"
#include "bindings/context.h"
#include "bindings/embedded.h"
#include "bindings/runio.h"
#include "bindings/tensor.h"

int luaopen_siam(lua_State *L)
{
    /* Here rather than in siam_lua_openlibs, so that the module loaded by
     * another Lua (lua5.4 -l siam, an embedding program) has them too. */
    siam_lua_preload_embedded(L);
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
    siam_lua_open_config(L);
    siam_lua_open_context(L);
    siam_lua_open_tensor(L);
    siam_lua_open_api(L);
    siam_lua_open_io(L);
    return 1;
}

void siam_lua_openlibs(lua_State *L, const siam_lua_config *cfg)
{
    siam_lua_config_store(L, cfg);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, luaopen_siam);
    lua_setfield(L, -2, "siam");
    lua_pop(L, 1);
    luaL_requiref(L, "siam", luaopen_siam, 1);
    lua_pop(L, 1);
}
