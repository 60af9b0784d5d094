/* siam.results: result tables (host/results_table.h) as the siam.Results
 * userdata: add and set cells, sort, print, write CSV and Markdown, read CSV.
 * The one table binding: scripts and siam.gridrun both use it. */
#ifndef SIAM_BINDINGS_RESULTS_H
#define SIAM_BINDINGS_RESULTS_H

#include <lua.h>

#define SIAM_RESULTS_MT "siam.Results"

/* Adds siam.results (new, load) to the module table on the top of the
 * stack and creates the metatable. */
void siam_lua_open_results(lua_State *L);

#endif
