/* The `siam` Lua module: the one call that makes it available in a Lua
 * state, with the configuration the command line gave it
 * (bindings/config.h). Each userdata type lives in its own bindings/<type>.c
 * (header <type>.h) and registers itself through its siam_lua_open_<type>
 * function, called from luaopen_siam. The root of the bindings' include
 * graph: no other binding includes this header. */
#ifndef SIAM_BINDINGS_SIAM_H
#define SIAM_BINDINGS_SIAM_H

#include <lua.h>

#include "bindings/config.h"

/* Opens the siam module in L: stores cfg (NULL: the defaults) as the config
 * table, registers luaopen_siam in package.preload, requires siam and sets
 * the global `siam`. Call after luaL_openlibs. Raises a Lua error on failure
 * (out of memory), so call it in protected mode. */
void siam_lua_openlibs(lua_State *L, const siam_lua_config *cfg);

/* The module loader: what `require "siam"` runs, in siamlua and in any Lua 5.4
 * (siam.so exports it; docs/embedding.md). Registers the embedded Lua modules
 * (siam.NAME) in package.preload and returns the module table; siam.config is
 * what siam_lua_openlibs stored, else the defaults. */
int luaopen_siam(lua_State *L);

#endif
