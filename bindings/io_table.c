/* siam.io, tables part: siam.Table over host/results_table.h (rows of key ->
 * text, sorted by a metric, printed, written as CSV/Markdown, read back from
 * CSV for merging grid shards). */
#include "bindings/runio.h"

#include <lauxlib.h>
#include <stdio.h>
#include <stdlib.h>

#include "bindings/results.h"
#include "bindings/util.h"
#include "host/results_table.h"

static siam_table *check_table(lua_State *L)
{
    return siam_lua_checkobj(L, 1, SIAM_TABLE_MT);
}

/* siam.io.table() -> empty table */
static int table_new(lua_State *L)
{
    siam_lua_box *box = siam_lua_newbox(L, SIAM_TABLE_MT);
    siam_error err;
    box->ptr = siam_table_new(&err);
    if (box->ptr == NULL)
        return siam_lua_error(L, &err);
    return 1;
}

/* Sets one cell from the Lua value on the top of the stack: numbers through
 * %.6g, strings and booleans as text, nil unsets. */
static void set_cell(lua_State *L, siam_table *t, size_t row, const char *key)
{
    siam_error err;
    int rc;
    switch (lua_type(L, -1)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1))
            rc = siam_table_set(t, row, key, lua_tostring(L, -1), &err);
        else
            rc = siam_table_set_number(t, row, key, lua_tonumber(L, -1), &err);
        break;
    case LUA_TSTRING:
        rc = siam_table_set(t, row, key, lua_tostring(L, -1), &err);
        break;
    case LUA_TBOOLEAN:
        rc = siam_table_set(t, row, key, lua_toboolean(L, -1) ? "true" : "false", &err);
        break;
    case LUA_TNIL:
        rc = siam_table_set(t, row, key, NULL, &err);
        break;
    default:
        luaL_error(L, "value of column '%s' must be a number, string or boolean, got %s", key,
                   luaL_typename(L, -1));
        return;
    }
    if (rc != 0)
        siam_lua_error(L, &err);
}

/* t:add(row [, columns]) -> row number. `columns` (a list of keys) fixes the
 * order in which new columns appear; other keys follow in pairs() order. */
static int table_add(lua_State *L)
{
    siam_table *t = check_table(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    /* Every value is checked first, so a refused row adds nothing. */
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "bad argument #2 to 'add' (keys must be strings)");
        int t = lua_type(L, -1);
        if (t != LUA_TNUMBER && t != LUA_TSTRING && t != LUA_TBOOLEAN)
            return luaL_error(L, "value of column '%s' must be a number, string or boolean, "
                              "got %s", lua_tostring(L, -2), luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    siam_error err;
    long row = siam_table_add_row(t, &err);
    if (row < 0)
        return siam_lua_error(L, &err);
    if (lua_istable(L, 3)) {
        lua_Integer n = luaL_len(L, 3);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, 3, i) != LUA_TSTRING)
                return luaL_error(L, "bad argument #3 to 'add' (column %d must be a string)",
                                  (int)i);
            const char *key = lua_tostring(L, -1);
            lua_getfield(L, 2, key);
            set_cell(L, t, (size_t)row, key);
            lua_pop(L, 2);
        }
    }
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        const char *key = lua_tostring(L, -2);
        if (siam_table_get(t, (size_t)row, key) == NULL)
            set_cell(L, t, (size_t)row, key);
        lua_pop(L, 1);
    }
    lua_pushinteger(L, row + 1);
    return 1;
}

static size_t check_row(lua_State *L, siam_table *t, int arg)
{
    lua_Integer r = luaL_checkinteger(L, arg);
    luaL_argcheck(L, r >= 1 && (size_t)r <= siam_table_rows(t), arg, "row out of range");
    return (size_t)(r - 1);
}

/* t:set(row, key, value) */
static int table_set(lua_State *L)
{
    siam_table *t = check_table(L);
    size_t row = check_row(L, t, 2);
    const char *key = luaL_checkstring(L, 3);
    luaL_checkany(L, 4);
    lua_settop(L, 4);
    set_cell(L, t, row, key);
    return 0;
}

/* t:get(row, key) -> text or nil */
static int table_get(lua_State *L)
{
    siam_table *t = check_table(L);
    size_t row = check_row(L, t, 2);
    const char *v = siam_table_get(t, row, luaL_checkstring(L, 3));
    if (v == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, v);
    return 1;
}

static int table_rows(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)siam_table_rows(check_table(L)));
    return 1;
}

/* t:columns() -> list of column names in order */
static int table_columns(lua_State *L)
{
    siam_lua_push_table_columns(L, check_table(L));
    return 1;
}

/* t:row(i) -> {key = text, ...} */
static int table_row(lua_State *L)
{
    siam_table *t = check_table(L);
    size_t row = check_row(L, t, 2);
    size_t n = siam_table_cols(t);
    lua_createtable(L, 0, (int)n);
    for (size_t c = 0; c < n; c++) {
        const char *key = siam_table_col_name(t, c);
        const char *v = siam_table_get(t, row, key);
        if (v != NULL) {
            lua_pushstring(L, v);
            lua_setfield(L, -2, key);
        }
    }
    return 1;
}

/* t:sort(key [, "desc"|"asc" [, column, {values}]]) ; default descending
 * (accuracy-like); rows whose `column` holds one of `values` go last. */
static int table_sort(lua_State *L)
{
    siam_table *t = check_table(L);
    const char *key = luaL_checkstring(L, 2);
    static const char *const orders[] = {"desc", "asc", NULL};
    int order = luaL_checkoption(L, 3, "desc", orders);
    const char *demote_col = luaL_optstring(L, 4, NULL);
    const char *values[9] = {NULL};
    if (demote_col) {
        luaL_checktype(L, 5, LUA_TTABLE);
        lua_Integer n = luaL_len(L, 5);
        luaL_argcheck(L, n <= 8, 5, "at most 8 values");
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, 5, i);
            values[i - 1] = luaL_checkstring(L, -1); /* anchored by the table */
            lua_pop(L, 1);
        }
    }
    siam_error err;
    if (siam_table_sort_demoting(t, key, order == 0, demote_col, values, &err) != 0)
        return siam_lua_error(L, &err);
    return 0;
}

static const char *const formats[] = {"text", "csv", "markdown", NULL};

/* t:format([fmt]) -> string (text, csv or markdown) */
static int table_format(lua_State *L)
{
    siam_table *t = check_table(L);
    int fmt = luaL_checkoption(L, 2, "text", formats);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (fp == NULL)
        return luaL_error(L, "format: out of memory");
    int rc = fmt == 0   ? siam_table_print(t, fp)
             : fmt == 1 ? siam_table_write_csv(t, fp)
                        : siam_table_write_markdown(t, fp);
    if (fclose(fp) != 0)
        rc = -1;
    if (rc != 0) {
        free(buf);
        return luaL_error(L, "format: could not write the table");
    }
    lua_pushlstring(L, buf, len);
    free(buf);
    return 1;
}

/* t:save(path, fmt) -> true | nil, message (atomic) */
static int table_save(lua_State *L)
{
    siam_table *t = check_table(L);
    const char *path = luaL_checkstring(L, 2);
    int fmt = luaL_checkoption(L, 3, NULL, formats);
    static const siam_table_format f[] = {SIAM_TABLE_TEXT, SIAM_TABLE_CSV, SIAM_TABLE_MARKDOWN};
    siam_error err;
    if (siam_table_save(t, path, f[fmt], &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* t:read_csv(text [, source]) -> true | nil, message */
static int table_read_csv(lua_State *L)
{
    siam_table *t = check_table(L);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    const char *source = luaL_optstring(L, 3, "csv");
    siam_error err;
    if (siam_table_read_csv(t, text, len, source, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* t:load_csv(path) -> true | nil, message */
static int table_load_csv(lua_State *L)
{
    siam_table *t = check_table(L);
    const char *path = luaL_checkstring(L, 2);
    siam_error err;
    if (siam_table_load_csv(t, path, &err) != 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err.msg);
        return 2;
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int table_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_TABLE_MT);
    siam_table_free(box->ptr);
    box->ptr = NULL;
    return 0;
}

static const luaL_Reg table_methods[] = {
    {"add", table_add},         {"set", table_set},
    {"get", table_get},         {"rows", table_rows},
    {"columns", table_columns}, {"row", table_row},
    {"sort", table_sort},       {"format", table_format},
    {"save", table_save},       {"read_csv", table_read_csv},
    {"load_csv", table_load_csv}, {"close", table_gc},
    {NULL, NULL},
};
static const luaL_Reg table_meta[] = {
    {"__gc", table_gc}, {"__close", table_gc}, {NULL, NULL},
};

void siam_lua_open_io_table(lua_State *L)
{
    siam_lua_newclass(L, SIAM_TABLE_MT, table_methods, table_meta);
    lua_pushcfunction(L, table_new);
    lua_setfield(L, -2, "table");
}
