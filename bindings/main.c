/* siamlua: the Lua 5.4 interpreter with the siam library loaded. This first
 * version runs a script (or -e code) in a protected call with a traceback. */
#include <stdio.h>
#include <string.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int run_chunk(lua_State *L, int status)
{
    if (status == LUA_OK) {
        lua_pushcfunction(L, traceback);
        lua_insert(L, -2);
        status = lua_pcall(L, 0, 0, -2);
        lua_remove(L, 1);
    }
    if (status != LUA_OK) {
        fprintf(stderr, "siamlua: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return status;
}

int main(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    if (L == NULL) {
        fprintf(stderr, "siamlua: cannot create Lua state: not enough memory\n");
        return 1;
    }
    luaL_openlibs(L);
    int status = LUA_OK;
    if (argc >= 3 && strcmp(argv[1], "-e") == 0)
        status = run_chunk(L, luaL_loadstring(L, argv[2]));
    else if (argc >= 2) {
        lua_createtable(L, argc, 1);
        for (int i = 0; i < argc; i++) {
            lua_pushstring(L, argv[i]);
            lua_rawseti(L, -2, i - 1);
        }
        lua_setglobal(L, "arg");
        status = run_chunk(L, luaL_loadfile(L, argv[1]));
    } else
        printf("siamlua (Lua 5.4): usage: siamlua script.lua | siamlua -e code\n");
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
