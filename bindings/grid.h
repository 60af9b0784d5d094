/* siam.grid(spec): the configurations of a hyper-parameter grid in a
 * deterministic order with stable ids; siam.args(arg): key=value words
 * from the command line, for choosing a subset of a grid. */
#ifndef SIAM_BINDINGS_GRID_H
#define SIAM_BINDINGS_GRID_H

#include <lua.h>

/* Adds grid and args to the module table on the top of the stack. */
void siam_lua_open_grid(lua_State *L);

#endif
