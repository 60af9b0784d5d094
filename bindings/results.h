/* siam.results: result tables (host/results_table.h) as the siam.Results
 * userdata: add rows, sort, print, write CSV and Markdown, read CSV. */
#ifndef SIAM_BINDINGS_RESULTS_H
#define SIAM_BINDINGS_RESULTS_H

#include <lua.h>

#include "host/results_table.h"

#define SIAM_RESULTS_MT "siam.Results"

/* Adds siam.results (new, load) to the module table on the top of the
 * stack and creates the metatable. */
void siam_lua_open_results(lua_State *L);

/* Pushes the column names of t, in order, as a Lua list (r:columns() here,
 * t:columns() for siam.io's siam.Table). */
void siam_lua_push_table_columns(lua_State *L, const siam_table *t);

#endif
