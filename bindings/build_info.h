/* siamlua's version, and siam.build (bindings/build_info.c): what this
 * siamlua is and runs on. */
#ifndef SIAM_BINDINGS_BUILD_INFO_H
#define SIAM_BINDINGS_BUILD_INFO_H

#include <lua.h>

#define SIAM_VERSION "0.1.0"

/* Pushes the siam.build table. */
void siam_lua_push_build_info(lua_State *L);

#endif
