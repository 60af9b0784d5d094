/* siam.Context: a backend (ops table) and its context as a Lua userdata.
 * Tensors (and later models) made on a context hold a reference to it in
 * their user value, so it is freed after them. */
#ifndef SIAM_BINDINGS_CONTEXT_H
#define SIAM_BINDINGS_CONTEXT_H

#include <lua.h>

#include "kernels/ops.h"

#define SIAM_CONTEXT_MT "siam.Context"

typedef struct siam_lua_context {
    const siam_ops *ops; /* borrowed: a static table */
    siam_ctx *ctx;       /* owned; NULL once closed */
} siam_lua_context;

/* Creates the metatable. */
void siam_lua_open_context(lua_State *L);

/* Pushes a new context on `ops` and returns it. Raises a Lua error when the
 * backend cannot make one. */
siam_lua_context *siam_lua_newcontext(lua_State *L, const siam_ops *ops,
                                      const siam_ctx_options *opt);

/* The CPU operator table siam.config.conv asks for (the per-layer choice,
 * "auto", when unset: kernels/cpu/conv2d_select.h); raises a Lua error for
 * an unknown value. Models and the shared CPU context both use it. */
const siam_ops *siam_lua_cpu_ops(lua_State *L);

/* The context options siam.config gives (threads, tf32, cudnn_algo) and the
 * environment (siam_backend_env_options: SIAM_CUDA_BATCHNORM,
 * SIAM_CUDA_VERBOSE); raises a Lua error for a bad environment value. Every
 * backend the bindings open gets these. */
void siam_lua_ctx_options(lua_State *L, siam_ctx_options *opt);

/* Pushes the Lua state's shared CPU context, made on first use with
 * siam.config.threads threads and kept in the registry. Tensors built from
 * Lua tables live there. */
siam_lua_context *siam_lua_cpu_context(lua_State *L);

/* The open context at arg, or a "bad argument" error. */
siam_lua_context *siam_lua_checkcontext(lua_State *L, int arg);

#endif
