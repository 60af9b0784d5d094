/* siam.data: the functions that make siam.PairSet userdata (bindings/
 * pairset.h): load (LFW View 1 or 2), find (LFW, else the synthetic set),
 * synthetic, files (pairs of image files), and augment's settings. */
#ifndef SIAM_BINDINGS_DATA_H
#define SIAM_BINDINGS_DATA_H

#include <lua.h>

/* Creates siam.data (and the alias siam.lfw = siam.data.load) in the module
 * table on the top of the stack, and the PairSet metatable. */
void siam_lua_open_data(lua_State *L);

#endif
