/* The siam.Tensor userdata: for other bindings that take or return tensors
 * (model parameters, forward outputs). */
#ifndef SIAM_BINDINGS_TENSOR_H
#define SIAM_BINDINGS_TENSOR_H

#include <lua.h>

#include "bindings/hosttensor.h"

#define SIAM_TENSOR_MT "siam.Tensor"

/* Adds tensor, zeros, ones to the module table on the top of the stack and
 * creates the metatable. */
void siam_lua_open_tensor(lua_State *L);

/* The tensor at arg; a "bad argument" error if it is not an open tensor. */
siam_hosttensor *siam_lua_checktensor(lua_State *L, int arg);

/* Pushes a new zero tensor of that shape and returns it; the userdata owns
 * it. Raises a Lua error for a bad shape or out of memory. */
siam_hosttensor *siam_lua_newtensor(lua_State *L, int ndim, const long long *shape);

#endif
