/* siam.Results (bindings/results.h). Cells are text in the C table;
 * numbers are written with %.6g, so a table prints the same everywhere. */
#include "bindings/results.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/util.h"
#include "host/results_table.h"

/* The box's user value 1 is the array of declared column names. */
static siam_table *check_results(lua_State *L, int arg)
{
    return siam_lua_checkobj(L, arg, SIAM_RESULTS_MT);
}

static int results_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_RESULTS_MT);
    siam_table_free(box->ptr);
    box->ptr = NULL;
    return 0;
}

static siam_table *push_new(lua_State *L)
{
    siam_lua_box *box = lua_newuserdatauv(L, sizeof *box, 1);
    box->ptr = NULL;
    luaL_setmetatable(L, SIAM_RESULTS_MT);
    siam_error err;
    box->ptr = siam_table_new(&err);
    if (box->ptr == NULL)
        siam_lua_error(L, &err);
    return box->ptr;
}

/* siam.results.new([columns]): columns (an array of names) fixes the order
 * of those columns; others follow in the order of sorted names. */
static int results_new(lua_State *L)
{
    if (!lua_isnoneornil(L, 1)) {
        luaL_checktype(L, 1, LUA_TTABLE);
        lua_Integer n = luaL_len(L, 1);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, 1, i) != LUA_TSTRING)
                return siam_lua_argerrorf(L, 1, "column %I must be a name, got %s", i,
                                          luaL_typename(L, -1));
            lua_pop(L, 1);
        }
    }
    push_new(L);
    if (lua_istable(L, 1)) {
        lua_pushvalue(L, 1);
        lua_setiuservalue(L, -2, 1);
    }
    return 1;
}

/* Sets one cell from the Lua value at idx (argument arg, for the message):
 * integers exactly, other numbers with %.6g, booleans as true/false; nil
 * unsets. */
static void set_cell(lua_State *L, siam_table *t, size_t row, const char *key, int idx, int arg)
{
    siam_error err;
    int rc;
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            char buf[32];
            snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, idx));
            rc = siam_table_set(t, row, key, buf, &err);
        } else {
            rc = siam_table_set_number(t, row, key, lua_tonumber(L, idx), &err);
        }
        break;
    case LUA_TSTRING:
        rc = siam_table_set(t, row, key, lua_tostring(L, idx), &err);
        break;
    case LUA_TBOOLEAN:
        rc = siam_table_set(t, row, key, lua_toboolean(L, idx) ? "true" : "false", &err);
        break;
    case LUA_TNIL:
        rc = siam_table_set(t, row, key, NULL, &err);
        break;
    default:
        siam_lua_argerrorf(L, arg, "value of '%s' must be a number, string or boolean, got %s",
                           key, luaL_typename(L, idx));
        return;
    }
    if (rc < 0)
        siam_lua_error(L, &err);
}

/* The row number at arg (1-based) as a C index, or a range error. */
static size_t check_row(lua_State *L, const siam_table *t, int arg)
{
    lua_Integer i = luaL_checkinteger(L, arg);
    if (i < 1 || (size_t)i > siam_table_rows(t))
        siam_lua_argerrorf(L, arg, "row %I out of range [1, %I]", i,
                           (lua_Integer)siam_table_rows(t));
    return (size_t)i - 1;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* r:add(row) -> the new row's number. Keys of the declared columns come
 * first in their order, then the others by name. */
static int results_add(lua_State *L)
{
    siam_table *t = check_results(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    size_t nkeys = 0;
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return siam_lua_argerrorf(L, 2, "column names must be strings, got a %s key",
                                      luaL_typename(L, -1));
        int vt = lua_getfield(L, 2, lua_tostring(L, -1));
        if (vt != LUA_TNUMBER && vt != LUA_TSTRING && vt != LUA_TBOOLEAN)
            return siam_lua_argerrorf(L, 2, "value of '%s' must be a number, string or boolean, "
                                            "got %s",
                                      lua_tostring(L, -2), luaL_typename(L, -1));
        lua_pop(L, 1);
        nkeys++;
    }
    const char **names = lua_newuserdatauv(L, (nkeys + 1) * sizeof(char *), 0);
    size_t k = 0;
    lua_pushnil(L);
    while (lua_next(L, 2) != 0) {
        lua_pop(L, 1);
        names[k++] = lua_tostring(L, -1); /* anchored by the row table */
    }
    qsort(names, nkeys, sizeof *names, compare_names);
    siam_error err;
    long row = siam_table_add_row(t, &err);
    if (row < 0)
        return siam_lua_error(L, &err);
    /* Declared columns first. */
    if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
        lua_Integer n = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, -1, i);
            const char *key = lua_tostring(L, -1);
            if (lua_getfield(L, 2, key) != LUA_TNIL)
                set_cell(L, t, (size_t)row, key, lua_gettop(L), 2);
            lua_pop(L, 2);
        }
    }
    lua_pop(L, 1);
    for (k = 0; k < nkeys; k++) {
        lua_getfield(L, 2, names[k]);
        if (siam_table_get(t, (size_t)row, names[k]) == NULL)
            set_cell(L, t, (size_t)row, names[k], lua_gettop(L), 2);
        lua_pop(L, 1);
    }
    lua_pushinteger(L, row + 1);
    return 1;
}

/* r:sort(key[, descending=false[, column, values]]) -> r. Non-numeric
 * cells go last, and so do the rows whose `column` holds one of `values`
 * (at most 8 strings: a grid's "failed" and "nan" runs); a "rank" column
 * (1..n) becomes the first column. */
static int results_sort(lua_State *L)
{
    siam_table *t = check_results(L, 1);
    const char *key = luaL_checkstring(L, 2);
    int desc = lua_toboolean(L, 3);
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TBOOLEAN);
    const char *demote_col = luaL_optstring(L, 4, NULL);
    const char *values[9] = { NULL };
    if (demote_col) {
        luaL_checktype(L, 5, LUA_TTABLE);
        lua_Integer n = luaL_len(L, 5);
        if (n > 8)
            return siam_lua_argerrorf(L, 5, "at most 8 values, got %I", n);
        for (lua_Integer i = 1; i <= n; i++) {
            if (lua_geti(L, 5, i) != LUA_TSTRING)
                return siam_lua_argerrorf(L, 5, "value %I must be a string, got %s", i,
                                          luaL_typename(L, -1));
            values[i - 1] = lua_tostring(L, -1); /* anchored by the list */
            lua_pop(L, 1);
        }
    }
    int known = 0;
    for (size_t c = 0; c < siam_table_cols(t) && !known; c++)
        known = strcmp(siam_table_col_name(t, c), key) == 0;
    if (!known && siam_table_rows(t) > 0)
        return siam_lua_argerrorf(L, 2, "no column named '%s'", key);
    siam_error err;
    if (siam_table_sort_demoting(t, key, desc, demote_col, values, &err) < 0)
        return siam_lua_error(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int results_print(lua_State *L)
{
    siam_table *t = check_results(L, 1);
    fflush(stdout);
    if (siam_table_print(t, stdout) < 0)
        return luaL_error(L, "results: writing to stdout failed");
    fflush(stdout);
    return 0;
}

static int write_as(lua_State *L, siam_table_format format)
{
    siam_table *t = check_results(L, 1);
    const char *path = luaL_checkstring(L, 2);
    siam_error err;
    if (siam_table_save(t, path, format, &err) < 0)
        return siam_lua_error(L, &err);
    lua_settop(L, 1);
    return 1;
}

static int results_write_csv(lua_State *L)
{
    return write_as(L, SIAM_TABLE_CSV);
}

static int results_write_markdown(lua_State *L)
{
    return write_as(L, SIAM_TABLE_MARKDOWN);
}

static int results_write_text(lua_State *L)
{
    return write_as(L, SIAM_TABLE_TEXT);
}

/* r:get(i, key) -> the cell's text or nil */
static int results_get(lua_State *L)
{
    siam_table *t = check_results(L, 1);
    size_t row = check_row(L, t, 2);
    const char *v = siam_table_get(t, row, luaL_checkstring(L, 3));
    if (v == NULL)
        lua_pushnil(L);
    else
        lua_pushstring(L, v);
    return 1;
}

/* r:set(i, key, value) -> r: one cell, converted as add converts it; nil
 * unsets it. */
static int results_set(lua_State *L)
{
    siam_table *t = check_results(L, 1);
    size_t row = check_row(L, t, 2);
    const char *key = luaL_checkstring(L, 3);
    luaL_checkany(L, 4);
    set_cell(L, t, row, key, 4, 4);
    lua_settop(L, 1);
    return 1;
}

/* r:row(i) -> {key = text, ...}, the cells that are set */
static int results_row(lua_State *L)
{
    siam_table *t = check_results(L, 1);
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

/* r:read_csv(text[, source="csv"]) -> r: appends the rows of a CSV text
 * (the header names the columns); errors name source, line and column. */
static int results_read_csv(lua_State *L)
{
    siam_table *t = check_results(L, 1);
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    const char *source = luaL_optstring(L, 3, "csv");
    siam_error err;
    if (siam_table_read_csv(t, text, len, source, &err) < 0)
        return siam_lua_error(L, &err);
    lua_settop(L, 1);
    return 1;
}

/* r:columns() -> the column names in order */
static int results_columns(lua_State *L)
{
    const siam_table *t = check_results(L, 1);
    size_t n = siam_table_cols(t);
    lua_createtable(L, (int)n, 0);
    for (size_t c = 0; c < n; c++) {
        lua_pushstring(L, siam_table_col_name(t, c));
        lua_rawseti(L, -2, (lua_Integer)c + 1);
    }
    return 1;
}

static int results_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)siam_table_rows(check_results(L, 1)));
    return 1;
}

static int results_tostring(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_RESULTS_MT);
    siam_table *t = box->ptr;
    if (t == NULL)
        lua_pushliteral(L, "siam.Results (closed)");
    else
        lua_pushfstring(L, "siam.Results(%I rows, %I columns)", (lua_Integer)siam_table_rows(t),
                        (lua_Integer)siam_table_cols(t));
    return 1;
}

/* siam.results.load(path) -> a table read from a CSV file */
static int results_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    siam_table *t = push_new(L);
    siam_error err;
    if (siam_table_load_csv(t, path, &err) < 0)
        return siam_lua_error(L, &err);
    return 1;
}

static const luaL_Reg results_methods[] = {
    { "add", results_add }, { "sort", results_sort }, { "print", results_print },
    { "write_csv", results_write_csv }, { "write_markdown", results_write_markdown },
    { "write_text", results_write_text }, { "get", results_get },
    { "columns", results_columns }, { "set", results_set }, { "row", results_row },
    { "rows", results_len }, { "read_csv", results_read_csv }, { "close", results_gc },
    { NULL, NULL }
};

static const luaL_Reg results_meta[] = {
    { "__len", results_len }, { "__tostring", results_tostring }, { "__gc", results_gc },
    { "__close", results_gc }, { NULL, NULL }
};

void siam_lua_open_results(lua_State *L)
{
    siam_lua_newclass(L, SIAM_RESULTS_MT, results_methods, results_meta);
    lua_newtable(L);
    lua_pushcfunction(L, results_new);
    lua_setfield(L, -2, "new");
    lua_pushcfunction(L, results_load);
    lua_setfield(L, -2, "load");
    lua_setfield(L, -2, "results");
}
