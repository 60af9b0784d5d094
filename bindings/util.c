/* Binding helpers: boxes, error conversion, options tables. No siam types
 * here; each type's binding lives in its own file. */
#include "bindings/util.h"

#include <stdarg.h>

#include <string.h>

#include "host/escape.h"

void siam_lua_newclass(lua_State *L, const char *tname, const luaL_Reg *methods,
                       const luaL_Reg *metamethods)
{
    luaL_newmetatable(L, tname); /* also sets __name, used by error messages */
    lua_newtable(L);
    if (methods != NULL)
        luaL_setfuncs(L, methods, 0);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__index");
    if (metamethods != NULL)
        luaL_setfuncs(L, metamethods, 1);
    else
        lua_pop(L, 1);
    lua_pop(L, 1);
}

siam_lua_box *siam_lua_newbox(lua_State *L, const char *tname)
{
    siam_lua_box *box = lua_newuserdatauv(L, sizeof *box, 1);
    box->ptr = NULL;
    luaL_setmetatable(L, tname);
    return box;
}

void siam_lua_setowner(lua_State *L, int box, int owner)
{
    box = lua_absindex(L, box);
    lua_pushvalue(L, owner);
    lua_setiuservalue(L, box, 1);
}

siam_lua_box *siam_lua_checkbox(lua_State *L, int arg, const char *tname)
{
    return luaL_checkudata(L, arg, tname);
}

void *siam_lua_checkobj(lua_State *L, int arg, const char *tname)
{
    siam_lua_box *box = luaL_checkudata(L, arg, tname);
    if (box->ptr == NULL) {
        lua_pushfstring(L, "%s is closed", tname);
        luaL_argerror(L, arg, lua_tostring(L, -1));
    }
    return box->ptr;
}

int siam_lua_error(lua_State *L, const siam_error *err)
{
    return luaL_error(L, "%s", err->msg);
}

const char *siam_lua_escaped(lua_State *L, int idx)
{
    size_t n;
    const char *s = lua_tolstring(L, idx, &n);
    luaL_Buffer b;
    /* Each byte becomes at most four; the escape needs its own NUL. */
    char *out = luaL_buffinitsize(L, &b, SIAM_ESCAPE_CAP(n));
    siam_escape(out, SIAM_ESCAPE_CAP(n), s ? s : "", s ? n : 0);
    luaL_pushresultsize(&b, strlen(out));
    return lua_tostring(L, -1);
}

int siam_lua_edit_distance(const char *a, const char *b)
{
    enum { CAP = 64 };
    size_t n = strlen(a), m = strlen(b);
    if (n >= CAP || m >= CAP)
        return CAP;
    int row[CAP];
    for (size_t j = 0; j <= m; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= n; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= m; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[m];
}

const char *siam_lua_nearest_name(const char *key, const char *const known[])
{
    const char *best = NULL;
    int best_d = 3;
    int limit = (int)strlen(key) / 2 + 1;
    for (int i = 0; known[i] != NULL; i++) {
        int d = siam_lua_edit_distance(key, known[i]);
        if (d < best_d && d <= limit) {
            best = known[i];
            best_d = d;
        }
    }
    return best;
}

int siam_lua_opts_check(lua_State *L, int arg, const char *const known[])
{
    if (lua_isnoneornil(L, arg))
        return 0;
    luaL_checktype(L, arg, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, arg) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pushfstring(L, "option names must be strings, got %s key", luaL_typename(L, -1));
            return luaL_argerror(L, arg, lua_tostring(L, -1));
        }
        const char *key = lua_tostring(L, -1);
        int found = 0;
        for (int i = 0; known[i] != NULL && !found; i++)
            found = strcmp(key, known[i]) == 0;
        if (!found) {
            const char *guess = siam_lua_nearest_name(key, known);
            const char *shown = siam_lua_escaped(L, -1);
            if (guess != NULL)
                lua_pushfstring(L, "unknown option '%s'; did you mean '%s'?", shown, guess);
            else
                lua_pushfstring(L, "unknown option '%s'", shown);
            return luaL_argerror(L, arg, lua_tostring(L, -1));
        }
    }
    return 1;
}

/* Pushes opts[key] (nil when there is no table) and says whether it is
 * absent. */
static int push_field(lua_State *L, int arg, const char *key)
{
    if (lua_type(L, arg) != LUA_TTABLE) {
        lua_pushnil(L);
        return 1;
    }
    return lua_getfield(L, arg, key) == LUA_TNIL;
}

static int field_error(lua_State *L, int arg, const char *key, const char *what)
{
    lua_pushfstring(L, "option '%s' must be %s, got %s", key, what, luaL_typename(L, -1));
    return luaL_argerror(L, arg, lua_tostring(L, -1));
}

lua_Integer siam_lua_opt_integer(lua_State *L, int arg, const char *key, lua_Integer def,
                                 lua_Integer min, lua_Integer max)
{
    lua_Integer v = def;
    if (!push_field(L, arg, key)) {
        int isint = 0;
        v = lua_tointegerx(L, -1, &isint);
        if (lua_type(L, -1) == LUA_TNUMBER && !isint) {
            /* 1.5, NaN, inf: the value says more than its type */
            lua_pushfstring(L, "option '%s' must be an integer, got %s", key,
                            luaL_tolstring(L, -1, NULL));
            return luaL_argerror(L, arg, lua_tostring(L, -1));
        }
        if (!isint || lua_type(L, -1) != LUA_TNUMBER)
            return field_error(L, arg, key, "an integer");
        if (v < min || v > max) {
            lua_pushfstring(L, "option '%s' must be in [%I, %I], got %I", key, min, max, v);
            return luaL_argerror(L, arg, lua_tostring(L, -1));
        }
    }
    lua_pop(L, 1);
    return v;
}

lua_Number siam_lua_opt_number(lua_State *L, int arg, const char *key, lua_Number def)
{
    lua_Number v = def;
    if (!push_field(L, arg, key)) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            return field_error(L, arg, key, "a number");
        v = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

int siam_lua_opt_boolean(lua_State *L, int arg, const char *key, int def)
{
    int v = def;
    if (!push_field(L, arg, key)) {
        if (lua_type(L, -1) != LUA_TBOOLEAN)
            return field_error(L, arg, key, "a boolean");
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

const char *siam_lua_opt_string(lua_State *L, int arg, const char *key, const char *def)
{
    const char *v = def;
    if (!push_field(L, arg, key)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            return field_error(L, arg, key, "a string"), NULL;
        v = lua_tostring(L, -1); /* anchored by the options table */
    }
    lua_pop(L, 1);
    return v;
}

int siam_lua_opt_choice(lua_State *L, int arg, const char *key, int def,
                        const char *const choices[])
{
    if (push_field(L, arg, key)) {
        lua_pop(L, 1);
        return def;
    }
    if (lua_type(L, -1) != LUA_TSTRING)
        return field_error(L, arg, key, "a string");
    const char *v = lua_tostring(L, -1);
    for (int i = 0; choices[i] != NULL; i++)
        if (strcmp(v, choices[i]) == 0) {
            lua_pop(L, 1);
            return i;
        }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    lua_pushfstring(L, "option '%s' must be one of ", key);
    luaL_addvalue(&b);
    for (int i = 0; choices[i] != NULL; i++) {
        if (i > 0)
            luaL_addstring(&b, ", ");
        lua_pushfstring(L, "'%s'", choices[i]);
        luaL_addvalue(&b);
    }
    lua_pushfstring(L, ", got '%s'", v);
    luaL_addvalue(&b);
    luaL_pushresult(&b);
    return luaL_argerror(L, arg, lua_tostring(L, -1));
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
