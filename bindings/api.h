/* The siam API beyond tensors: data, model, optimizers, schedules,
 * stopping rules, fit, evaluate, grid and results, opened together. */
#ifndef SIAM_BINDINGS_API_H
#define SIAM_BINDINGS_API_H

#include <lua.h>

/* Adds every API function and table to the module table on the top of the
 * stack and creates the userdata metatables. */
void siam_lua_open_api(lua_State *L);

#endif
