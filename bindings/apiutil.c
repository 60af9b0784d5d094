/* Helpers shared by the API bindings (bindings/apiutil.h). */
#include "bindings/apiutil.h"

#include <stdarg.h>
#include <stdio.h>

#include <lauxlib.h>

#include "bindings/siam.h"
#include "bindings/util.h"


static int push_config_field(lua_State *L, const char *key)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, SIAM_CONFIG_KEY) != LUA_TTABLE) {
        lua_pop(L, 1);
        lua_pushnil(L);
        return LUA_TNIL;
    }
    int type = lua_getfield(L, -1, key);
    lua_remove(L, -2);
    return type;
}

void siam_lua_config_string(lua_State *L, const char *key, const char *def, char *buf,
                            size_t cap)
{
    const char *v = def;
    if (push_config_field(L, key) == LUA_TSTRING)
        v = lua_tostring(L, -1);
    snprintf(buf, cap, "%s", v);
    lua_pop(L, 1);
}

void siam_lua_config_device(lua_State *L, char *buf, size_t cap)
{
    siam_lua_config_string(L, "device", "auto", buf, cap);
}

lua_Integer siam_lua_config_integer(lua_State *L, const char *key, lua_Integer def)
{
    lua_Integer v = def;
    if (push_config_field(L, key) == LUA_TNUMBER && lua_isinteger(L, -1))
        v = lua_tointeger(L, -1);
    lua_pop(L, 1);
    return v;
}

int siam_lua_config_boolean(lua_State *L, const char *key)
{
    push_config_field(L, key);
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

int siam_lua_config_quiet(lua_State *L)
{
    return siam_lua_config_boolean(L, "quiet");
}

uint64_t siam_lua_opt_seed(lua_State *L, int arg, const char *key)
{
    lua_Integer def = siam_lua_config_integer(L, "seed", 0);
    if (def < 0)
        def = 0;
    return (uint64_t)siam_lua_opt_integer(L, arg, key, def, 0, LUA_MAXINTEGER);
}

void siam_lua_setnumber(lua_State *L, const char *key, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

void siam_lua_setinteger(lua_State *L, const char *key, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, key);
}

void siam_lua_setstring(lua_State *L, const char *key, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

void siam_lua_setboolean(lua_State *L, const char *key, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, key);
}

void siam_lua_pushdoubles(lua_State *L, const double *v, size_t n)
{
    lua_createtable(L, (int)n, 0);
    for (size_t i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
}

int siam_lua_argerrorf(lua_State *L, int arg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    return luaL_argerror(L, arg, lua_tostring(L, -1));
}
