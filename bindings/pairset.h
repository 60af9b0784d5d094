/* The siam.PairSet userdata (a host/dataset.h pair set) and the siam.data
 * functions that make them: load (LFW View 1 or 2), find (LFW, else the
 * synthetic set), synthetic, files (pairs of image files). */
#ifndef SIAM_BINDINGS_PAIRSET_H
#define SIAM_BINDINGS_PAIRSET_H

#include <lua.h>

#include "host/dataset.h"

#define SIAM_PAIRSET_MT "siam.PairSet"

/* Creates siam.data (and the alias siam.lfw = siam.data.load) in the module
 * table on the top of the stack, and the metatable. */
void siam_lua_open_data(lua_State *L);

/* The pair set at arg; a "bad argument" error when it is not an open one. */
siam_pairset *siam_lua_checkpairset(lua_State *L, int arg);

#endif
