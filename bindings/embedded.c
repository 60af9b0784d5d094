/* Registers the embedded Lua modules and the API reference in package.preload. */
#include "bindings/embedded.h"

#include <lauxlib.h>
#include <lua.h>

static int load_embedded(lua_State *L)
{
    const siam_lua_module *m = lua_touserdata(L, lua_upvalueindex(1));
    if (luaL_loadbuffer(L, m->source, m->size, m->chunk) != LUA_OK)
        return lua_error(L);
    lua_pushvalue(L, 1); /* module name, as require passes it */
    lua_call(L, 1, 1);
    return 1;
}

static int load_api_doc(lua_State *L)
{
    lua_pushlstring(L, siam_api_doc, siam_api_doc_size);
    return 1;
}

void siam_lua_preload_embedded(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    lua_pushcfunction(L, load_api_doc);
    lua_setfield(L, -2, "siam.api_doc");
    for (const siam_lua_module *m = siam_lua_modules; m->name != NULL; m++) {
        lua_pushlightuserdata(L, (void *)m);
        lua_pushcclosure(L, load_embedded, 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 1);
}
