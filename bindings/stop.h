/* siam.stop.early{...}: early stopping settings (host/early_stop.h) as a
 * siam.EarlyStop userdata that fit runs in C; fit also takes any Lua
 * function(state) -> true to stop. */
#ifndef SIAM_BINDINGS_STOP_H
#define SIAM_BINDINGS_STOP_H

#include <lua.h>

#include "host/early_stop.h"

#define SIAM_EARLYSTOP_MT "siam.EarlyStop"

/* Adds siam.stop to the module table on the top of the stack. */
void siam_lua_open_stop(lua_State *L);

/* The settings at idx, or NULL when it is not a siam.EarlyStop. */
const siam_early_stop_config *siam_lua_toearlystop(lua_State *L, int idx);

#endif
