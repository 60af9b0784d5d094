/* siam.Context userdata: creation, the shared CPU context, and freeing. */
#include "bindings/context.h"

#include <string.h>

#include <lauxlib.h>

#include "bindings/config.h"
#include "bindings/util.h"
#include "host/backend.h"
#include "kernels/cpu/conv2d_select.h"

/* Registry key of the shared CPU context. */
#define CPU_CONTEXT_KEY "siam.cpu_context"

static int context_gc(lua_State *L)
{
    siam_lua_context *c = luaL_checkudata(L, 1, SIAM_CONTEXT_MT);
    if (c->ctx != NULL)
        c->ops->ctx_free(c->ctx);
    c->ctx = NULL;
    return 0;
}

static int context_tostring(lua_State *L)
{
    siam_lua_context *c = luaL_checkudata(L, 1, SIAM_CONTEXT_MT);
    if (c->ctx == NULL)
        lua_pushliteral(L, SIAM_CONTEXT_MT " (closed)");
    else
        lua_pushfstring(L, SIAM_CONTEXT_MT " %s", c->ops->name);
    return 1;
}

siam_lua_context *siam_lua_checkcontext(lua_State *L, int arg)
{
    siam_lua_context *c = luaL_checkudata(L, arg, SIAM_CONTEXT_MT);
    if (c->ctx == NULL)
        luaL_argerror(L, arg, SIAM_CONTEXT_MT " is closed");
    return c;
}

siam_lua_context *siam_lua_newcontext(lua_State *L, const siam_ops *ops,
                                      const siam_ctx_options *opt)
{
    siam_lua_context *c = lua_newuserdatauv(L, sizeof *c, 0);
    c->ops = ops;
    c->ctx = NULL;
    luaL_setmetatable(L, SIAM_CONTEXT_MT);
    siam_error err;
    c->ctx = ops->ctx_new(opt, &err);
    if (c->ctx == NULL)
        siam_lua_error(L, &err);
    return c;
}

const siam_ops *siam_lua_cpu_ops(lua_State *L)
{
    /* siam.config.conv: "auto" (default: the per-layer choice of
     * kernels/cpu/conv2d_select.h, tested equal to the direct path within
     * float rounding), "direct" (the im2col reference) or "fft". */
    char conv[16];
    siam_lua_config_string(L, "conv", "", conv, sizeof conv); /* "": unset */
    if (conv[0] == '\0')
        return siam_ops_cpu_conv_table(SIAM_CONV_AUTO);
    siam_conv_path path;
    siam_error err;
    if (siam_conv_path_parse(conv, &path, &err))
        luaL_error(L, "siam.config.%s", err.msg);
    return siam_ops_cpu_conv_table(path);
}

void siam_lua_ctx_options(lua_State *L, siam_ctx_options *opt)
{
    *opt = (siam_ctx_options){ 0 };
    opt->threads = (int)siam_lua_config_integer(L, "threads", 0);
    opt->allow_tf32 = siam_lua_config_boolean(L, "tf32");
    char algo[16];
    siam_lua_config_string(L, "cudnn_algo", "heuristic", algo, sizeof algo);
    opt->cudnn_find = strcmp(algo, "find") == 0;
    siam_error err;
    if (siam_backend_env_options(opt, &err))
        siam_lua_error(L, &err);
}

siam_lua_context *siam_lua_cpu_context(lua_State *L)
{
    if (lua_getfield(L, LUA_REGISTRYINDEX, CPU_CONTEXT_KEY) == LUA_TUSERDATA)
        return siam_lua_checkcontext(L, -1);
    lua_pop(L, 1);
    siam_ctx_options opt;
    siam_lua_ctx_options(L, &opt);
    const siam_ops *ops = siam_lua_cpu_ops(L);
    siam_lua_context *c = siam_lua_newcontext(L, ops, &opt);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, CPU_CONTEXT_KEY);
    return c;
}

void siam_lua_open_context(lua_State *L)
{
    static const luaL_Reg meta[] = {
        {"__gc", context_gc},
        {"__close", context_gc},
        {"__tostring", context_tostring},
        {NULL, NULL},
    };
    siam_lua_newclass(L, SIAM_CONTEXT_MT, NULL, meta);
}
