/* The siam.PairSet userdata (a host/dataset.h pair set) and its methods.
 * siam.data (bindings/data.h) makes them. */
#ifndef SIAM_BINDINGS_PAIRSET_H
#define SIAM_BINDINGS_PAIRSET_H

#include <lua.h>

#include "host/dataset.h"

#define SIAM_PAIRSET_MT "siam.PairSet"

/* Creates the metatable (and set:batches' iterator's). A new set is a box
 * (siam_lua_newbox) with this metatable; its user value 1 may hold what the
 * image cache did, for set:info().cache. */
void siam_lua_open_pairset(lua_State *L);

/* The pair set at arg; a "bad argument" error when it is not an open one. */
siam_pairset *siam_lua_checkpairset(lua_State *L, int arg);

#endif
