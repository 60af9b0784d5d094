/* The siam.Tensor userdata, over host/tensor.h: for other bindings that
 * take or return tensors (model parameters, forward outputs). */
#ifndef SIAM_BINDINGS_TENSOR_H
#define SIAM_BINDINGS_TENSOR_H

#include <lua.h>

#include "bindings/util.h"
#include "host/tensor.h"

#define SIAM_TENSOR_MT "siam.Tensor"

/* Adds tensor, zeros, ones to the module table on the top of the stack and
 * creates the metatable. */
void siam_lua_open_tensor(lua_State *L);

/* The tensor at arg; a "bad argument" error if it is not an open tensor. */
siam_tensor *siam_lua_checktensor(lua_State *L, int arg);

/* Pushes an empty siam.Tensor box that keeps the value at `owner` alive (a
 * siam.Context, or a model whose memory a view points into). The caller
 * then makes the siam_tensor and stores it in box->ptr; the box frees it.
 * Creating the box first means an error in between leaks nothing. */
siam_lua_box *siam_lua_newtensorbox(lua_State *L, int owner);

/* Pushes a new zero tensor of that shape on the context at `context` (a
 * siam.Context) and returns it. Raises a Lua error for a bad shape or when
 * the backend cannot allocate. */
siam_tensor *siam_lua_newtensor(lua_State *L, int context, int ndim, const int *shape);

#endif
