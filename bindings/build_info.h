/* siam.build (bindings/build_info.c). */
#ifndef SIAM_BINDINGS_BUILD_INFO_H
#define SIAM_BINDINGS_BUILD_INFO_H

#include <lua.h>

/* Pushes the siam.build table. */
void siam_lua_push_build_info(lua_State *L);

#endif
