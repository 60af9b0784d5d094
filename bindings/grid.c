/* siam.grid and siam.args (bindings/grid.h). Keys keep the order they are
 * declared in and the last key varies fastest, as nested loops written in
 * that order would; a configuration's id hashes its own keys and values
 * only, so it does not change when other values are added to the grid. */
#include "bindings/grid.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/util.h"
#include "host/hash.h"

#define MAX_KEYS 32

/* The value at idx in the canonical text the id hashes. */
static void canonical(lua_State *L, int idx, char *buf, size_t cap)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(buf, cap, "%lld", (long long)lua_tointeger(L, idx));
        else
            snprintf(buf, cap, "%.17g", lua_tonumber(L, idx));
        break;
    case LUA_TBOOLEAN:
        snprintf(buf, cap, "%s", lua_toboolean(L, idx) ? "true" : "false");
        break;
    default:
        snprintf(buf, cap, "'%s'", lua_tostring(L, idx));
    }
}

/* Checks a value list at idx (a non-empty array of numbers, strings or
 * booleans; a single such value counts as a list of one) and pushes it as
 * an array. */
static int push_values(lua_State *L, int idx, const char *name)
{
    int type = lua_type(L, idx);
    if (type == LUA_TNUMBER || type == LUA_TSTRING || type == LUA_TBOOLEAN) {
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, idx);
        lua_rawseti(L, -2, 1);
        return 1;
    }
    if (type != LUA_TTABLE)
        return siam_lua_argerrorf(L, 1, "values of '%s' must be a table, got %s", name,
                                  luaL_typename(L, idx));
    lua_Integer n = luaL_len(L, idx);
    if (n < 1)
        return siam_lua_argerrorf(L, 1, "'%s' has no values", name);
    for (lua_Integer i = 1; i <= n; i++) {
        int t = lua_geti(L, idx, i);
        if (t != LUA_TNUMBER && t != LUA_TSTRING && t != LUA_TBOOLEAN)
            return siam_lua_argerrorf(L, 1, "value %I of '%s' is a %s (numbers, strings and "
                                            "booleans only)",
                                      i, name, luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    lua_pushvalue(L, idx);
    return 1;
}

static void check_name(lua_State *L, int idx, int nkeys)
{
    if (lua_type(L, idx) != LUA_TSTRING)
        siam_lua_argerrorf(L, 1, "key %d: a name (string) expected, got %s", nkeys + 1,
                           luaL_typename(L, idx));
    const char *name = lua_tostring(L, idx);
    if (strcmp(name, "id") == 0 || strcmp(name, "index") == 0)
        siam_lua_argerrorf(L, 1, "'%s' is reserved (every configuration gets it)", name);
    if (nkeys >= MAX_KEYS)
        siam_lua_argerrorf(L, 1, "more than %d keys", MAX_KEYS);
}

/* siam.grid(spec) -> array of configurations {key = value, ..., id=, index=}.
 * spec: {{"batch", {16, 32}}, {"lr", {0.001, 0.005}}}, or
 *       {order = {"batch", "lr"}, batch = {16, 32}, lr = {0.001, 0.005}}. */
static int grid(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    /* Names at 2..nkeys+1, value lists at MAX_KEYS+2.. */
    int nkeys = 0;
    lua_checkstack(L, 2 * MAX_KEYS + 16);
    lua_settop(L, 1 + 2 * MAX_KEYS);
    int names = 2, lists = 2 + MAX_KEYS;
    if (lua_getfield(L, 1, "order") != LUA_TNIL) {
        int order = lua_gettop(L);
        if (lua_type(L, order) != LUA_TTABLE)
            return siam_lua_argerrorf(L, 1, "'order' must be a table of key names");
        lua_Integer n = luaL_len(L, order);
        /* Every other key of spec must be in order, and the reverse. */
        lua_pushnil(L);
        while (lua_next(L, 1) != 0) {
            lua_pop(L, 1);
            if (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "order") == 0)
                continue;
            int found = 0;
            for (lua_Integer i = 1; i <= n && !found; i++) {
                lua_geti(L, order, i);
                found = lua_rawequal(L, -1, -2);
                lua_pop(L, 1);
            }
            if (!found)
                return siam_lua_argerrorf(L, 1, "key '%s' is not in 'order'",
                                          lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                                         : luaL_typename(L, -1));
        }
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, order, i);
            check_name(L, -1, nkeys);
            for (int j = 0; j < nkeys; j++)
                if (lua_rawequal(L, -1, names + j))
                    return siam_lua_argerrorf(L, 1, "key '%s' appears twice in 'order'",
                                              lua_tostring(L, -1));
            const char *name = lua_tostring(L, -1);
            if (lua_getfield(L, 1, name) == LUA_TNIL)
                return siam_lua_argerrorf(L, 1, "'order' names '%s', which has no values",
                                          name);
            push_values(L, lua_gettop(L), name);
            lua_replace(L, lists + nkeys);
            lua_pop(L, 1);
            lua_replace(L, names + nkeys);
            nkeys++;
        }
        lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
        lua_Integer n = luaL_len(L, 1);
        lua_pushnil(L);
        while (lua_next(L, 1) != 0) {
            lua_pop(L, 1);
            int isint = 0;
            lua_Integer k = lua_tointegerx(L, -1, &isint);
            if (lua_type(L, -1) != LUA_TNUMBER || !isint || k < 1 || k > n)
                return siam_lua_argerrorf(L, 1, "a grid spec is {{name, values}, ...} or has "
                                                "an 'order' list (key '%s' has no declared "
                                                "place)",
                                          luaL_tolstring(L, -1, NULL));
        }
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, 1, i) != LUA_TTABLE)
                return siam_lua_argerrorf(L, 1, "entry %I must be {name, values}, got %s", i,
                                          luaL_typename(L, -1));
            int entry = lua_gettop(L);
            lua_geti(L, entry, 1);
            check_name(L, -1, nkeys);
            for (int j = 0; j < nkeys; j++)
                if (lua_rawequal(L, -1, names + j))
                    return siam_lua_argerrorf(L, 1, "key '%s' appears twice",
                                              lua_tostring(L, -1));
            lua_geti(L, entry, 2);
            push_values(L, lua_gettop(L), lua_tostring(L, -2));
            lua_replace(L, lists + nkeys);
            lua_pop(L, 1);
            lua_replace(L, names + nkeys);
            lua_pop(L, 1);
            nkeys++;
        }
    }
    if (nkeys == 0)
        return luaL_argerror(L, 1, "the grid has no keys");
    lua_Integer total = 1, len[MAX_KEYS];
    for (int j = 0; j < nkeys; j++) {
        len[j] = luaL_len(L, lists + j);
        if (total > ((lua_Integer)1 << 24) / len[j])
            return luaL_argerror(L, 1, "the grid has too many configurations");
        total *= len[j];
    }
    lua_createtable(L, (int)total, 0);
    int out = lua_gettop(L);
    lua_Integer pos[MAX_KEYS] = { 0 };
    for (lua_Integer c = 1; c <= total; c++) {
        lua_createtable(L, 0, nkeys + 2);
        uint64_t h = SIAM_HASH64_INIT;
        for (int j = 0; j < nkeys; j++) {
            lua_geti(L, lists + j, pos[j] + 1);
            char text[128];
            canonical(L, -1, text, sizeof text);
            const char *name = lua_tostring(L, names + j);
            h = siam_hash64(h, name, strlen(name));
            h = siam_hash64(h, text, strlen(text));
            lua_setfield(L, -2, name);
        }
        char id[17];
        snprintf(id, sizeof id, "%08llx", (unsigned long long)(h >> 32));
        siam_lua_setstring(L, "id", id);
        siam_lua_setinteger(L, "index", c);
        lua_rawseti(L, out, c);
        for (int j = nkeys - 1; j >= 0; j--) { /* the last key varies fastest */
            if (++pos[j] < len[j])
                break;
            pos[j] = 0;
        }
    }
    return 1;
}

/* One command-line value: integer, number, true/false, else the string. */
static void push_word(lua_State *L, const char *s, size_t len)
{
    lua_pushlstring(L, s, len);
    if (lua_stringtonumber(L, lua_tostring(L, -1)) != 0) {
        lua_remove(L, -2);
        return;
    }
    if (len == 4 && memcmp(s, "true", 4) == 0) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    } else if (len == 5 && memcmp(s, "false", 5) == 0) {
        lua_pop(L, 1);
        lua_pushboolean(L, 0);
    }
}

/* Whether siam.args' second argument is a spec ({name = default, ...}:
 * some key is a string) rather than a list of known names. */
static int is_spec(lua_State *L, int idx)
{
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int named = lua_type(L, -2) == LUA_TSTRING;
        lua_pop(L, 1);
        if (named) {
            lua_pop(L, 1);
            return 1;
        }
    }
    return 0;
}

/* siam.args(words[, known]) -> {key = value or {v1, v2, ...}}: parses
 * "key=value" and "key=v1,v2" words (e.g. the script's arg table). A word
 * without '=' or, when `known` (an array of names) is given, a key not in it
 * is an error. siam.args(words, spec[, about]) (spec: {name = default or
 * declaration}) is the Lua module siam.argspec's: checked values, --help. */
static int args(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE && is_spec(L, 2)) {
        lua_getglobal(L, "require");
        lua_pushliteral(L, "siam.argspec");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "parse");
        lua_insert(L, 1);
        lua_settop(L, 4); /* parse, words, spec, about */
        lua_call(L, 3, 1);
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    lua_Integer n = luaL_len(L, 1);
    lua_newtable(L);
    int out = lua_gettop(L);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 1, i) != LUA_TSTRING)
            return siam_lua_argerrorf(L, 1, "word %I is a %s, expected key=value", i,
                                      luaL_typename(L, -1));
        const char *w = lua_tostring(L, -1);
        const char *eq = strchr(w, '=');
        if (eq == NULL || eq == w)
            return luaL_error(L, "bad argument '%s': expected key=value (e.g. lr=0.005 or "
                                 "batch=16,32)",
                              siam_lua_escaped(L, -1));
        lua_pushlstring(L, w, (size_t)(eq - w));
        const char *key = lua_tostring(L, -1);
        if (!lua_isnoneornil(L, 2)) {
            lua_Integer m = luaL_len(L, 2);
            int found = 0;
            for (lua_Integer j = 1; j <= m && !found; j++) {
                lua_geti(L, 2, j);
                found = lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), key) == 0;
                lua_pop(L, 1);
            }
            if (!found) {
                luaL_Buffer b;
                luaL_buffinit(L, &b);
                for (lua_Integer j = 1; j <= m; j++) {
                    lua_geti(L, 2, j);
                    if (j > 1)
                        luaL_addstring(&b, ", ");
                    luaL_addvalue(&b);
                }
                luaL_pushresult(&b);
                const char *known_names = lua_tostring(L, -1);
                return luaL_error(L, "unknown argument '%s' (known: %s)",
                                  siam_lua_escaped(L, -2), known_names);
            }
        }
        const char *v = eq + 1;
        if (strchr(v, ',') != NULL) {
            lua_newtable(L);
            lua_Integer k = 0;
            for (;;) {
                const char *comma = strchr(v, ',');
                size_t len = comma ? (size_t)(comma - v) : strlen(v);
                push_word(L, v, len);
                lua_rawseti(L, -2, ++k);
                if (!comma)
                    break;
                v = comma + 1;
            }
        } else {
            push_word(L, v, strlen(v));
        }
        lua_setfield(L, out, key);
        lua_pop(L, 2);
    }
    return 1;
}

void siam_lua_open_grid(lua_State *L)
{
    lua_pushcfunction(L, grid);
    lua_setfield(L, -2, "grid");
    lua_pushcfunction(L, args);
    lua_setfield(L, -2, "args");
}
