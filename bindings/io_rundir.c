/* siam.io, run-folder part: creating a folder only when it is new, the
 * folder lock (host/run_dir.h), and the string hash that names a run's
 * configuration (host/hash.h). */
#include "bindings/runio.h"

#include <lauxlib.h>
#include <stdio.h>

#include "bindings/util.h"
#include "host/hash.h"
#include "host/run_dir.h"

/* siam.io.mkdir(path) -> "created" | "exists" | nil, message */
static int io_mkdir(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    siam_error err;
    int rc = siam_mkdir_new(path, &err);
    if (rc < 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushstring(L, rc == 0 ? "created" : "exists");
    return 1;
}

/* siam.io.lock(dir) -> lock | nil, message, holder pid (-1 when unknown;
 * absent when the lock file itself failed) */
static int io_lock(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    siam_lua_box *box = siam_lua_newbox(L, SIAM_DIRLOCK_MT);
    long holder = 0;
    siam_error err;
    box->ptr = siam_dir_lock_take(dir, &holder, &err);
    if (box->ptr != NULL)
        return 1;
    luaL_pushfail(L);
    lua_pushstring(L, err.msg);
    if (holder == 0)
        return 2;
    lua_pushinteger(L, holder);
    return 3;
}

static int lock_release(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_DIRLOCK_MT);
    siam_dir_lock_release(box->ptr);
    box->ptr = NULL;
    return 0;
}

/* siam.io.hash(text) -> 16 hex digits (siam_hash64 of the string as one
 * piece, from SIAM_HASH64_INIT) */
static int io_hash(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    char hex[17];
    snprintf(hex, sizeof hex, "%016llx",
             (unsigned long long)siam_hash64(SIAM_HASH64_INIT, s, n));
    lua_pushstring(L, hex);
    return 1;
}

static const luaL_Reg lock_methods[] = {
    {"release", lock_release},
    {NULL, NULL},
};
static const luaL_Reg lock_meta[] = {
    {"__gc", lock_release}, {"__close", lock_release}, {NULL, NULL},
};

static const luaL_Reg rundir_functions[] = {
    {"mkdir", io_mkdir},
    {"lock", io_lock},
    {"hash", io_hash},
    {NULL, NULL},
};

void siam_lua_open_io_rundir(lua_State *L)
{
    siam_lua_newclass(L, SIAM_DIRLOCK_MT, lock_methods, lock_meta);
    luaL_setfuncs(L, rundir_functions, 0);
}
