/* siam.optim.adam / adamw / sgd and the siam.Optimizer userdata
 * (bindings/optim.h). Defaults are torch.optim's (host/optim.h). */
#include "bindings/optim.h"

#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#include "bindings/util.h"

siam_lua_optim *siam_lua_checkoptim(lua_State *L, int arg)
{
    return siam_lua_checkobj(L, arg, SIAM_OPTIM_MT);
}

static int optim_gc(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_OPTIM_MT);
    siam_lua_optim *lo = box->ptr;
    if (lo != NULL && lo->busy) /* only opt:close() can get here during fit */
        return luaL_error(L, "siam.Optimizer: cannot close the optimizer fit is using");
    if (lo != NULL) {
        siam_optim_free(lo->o);
        siam_backend_release(lo->be);
        free(lo);
        box->ptr = NULL;
    }
    return 0;
}

siam_optim *siam_lua_optim_bind(lua_State *L, int arg, siam_lua_optim *lo, siam_lua_model *lm)
{
    size_t n = siam_model_numel(lm->m);
    if (lo->o != NULL) {
        if (lo->be != lm->be || siam_optim_numel(lo->o) != n)
            siam_lua_argerrorf(L, arg, "this optimizer is bound to another model (make one "
                                       "optimizer per model)");
        return lo->o;
    }
    siam_error err;
    lo->o = siam_optim_new(lm->be->ops, lm->be->ctx, &lo->cfg, n, &err);
    if (lo->o == NULL)
        siam_lua_error(L, &err);
    siam_backend_retain(lm->be);
    lo->be = lm->be;
    return lo->o;
}

/* opts[key] under siam_optim_rule, the rule the lr setter also follows. */
static double opt_hyper(lua_State *L, const char *key, double def)
{
    double v = siam_lua_opt_number(L, 1, key, def);
    const char *rule = siam_optim_rule(key, v);
    if (rule != NULL)
        siam_lua_argerrorf(L, 1, "option '%s' must be %s, got %f", key, rule, v);
    return v;
}

static int push_optim(lua_State *L, const siam_optim_config *cfg)
{
    siam_lua_box *box = siam_lua_newbox(L, SIAM_OPTIM_MT);
    siam_lua_optim *lo = calloc(1, sizeof *lo);
    if (lo == NULL)
        return luaL_error(L, "optimizer: out of memory");
    lo->cfg = *cfg;
    box->ptr = lo;
    return 1;
}

static int new_adam(lua_State *L, siam_optim_kind kind)
{
    static const char *const keys[] = { "lr", "betas", "eps", "weight_decay", NULL };
    siam_lua_opts_check(L, 1, keys);
    siam_optim_config cfg;
    siam_optim_config_default(&cfg, kind);
    cfg.lr = opt_hyper(L, "lr", cfg.lr);
    cfg.eps = opt_hyper(L, "eps", cfg.eps);
    cfg.weight_decay = opt_hyper(L, "weight_decay", cfg.weight_decay);
    if (lua_type(L, 1) == LUA_TTABLE && lua_getfield(L, 1, "betas") != LUA_TNIL) {
        double b[2];
        if (lua_type(L, -1) != LUA_TTABLE || luaL_len(L, -1) != 2)
            return luaL_argerror(L, 1, "option 'betas' must be a table of 2 numbers");
        for (int k = 0; k < 2; k++) {
            lua_geti(L, -1, k + 1);
            if (lua_type(L, -1) != LUA_TNUMBER)
                return luaL_argerror(L, 1, "option 'betas' must be a table of 2 numbers");
            b[k] = lua_tonumber(L, -1);
            const char *rule = siam_optim_rule("betas", b[k]);
            if (rule != NULL)
                return siam_lua_argerrorf(L, 1, "option 'betas' values must be %s, got %f", rule,
                                          b[k]);
            lua_pop(L, 1);
        }
        cfg.beta1 = b[0];
        cfg.beta2 = b[1];
        lua_pop(L, 1);
    }
    return push_optim(L, &cfg);
}

/* siam.optim.adam{lr=1e-3, betas={0.9, 0.999}, eps=1e-8, weight_decay=0} */
static int optim_adam(lua_State *L)
{
    return new_adam(L, SIAM_OPTIM_ADAM);
}

/* siam.optim.adamw{...}: the same, decoupled weight decay (default 1e-2) */
static int optim_adamw(lua_State *L)
{
    return new_adam(L, SIAM_OPTIM_ADAMW);
}

/* siam.optim.sgd{lr=1e-2, momentum=0, nesterov=false, weight_decay=0} */
static int optim_sgd(lua_State *L)
{
    static const char *const keys[] = { "lr", "momentum", "nesterov", "weight_decay", NULL };
    siam_lua_opts_check(L, 1, keys);
    siam_optim_config cfg;
    siam_optim_config_default(&cfg, SIAM_OPTIM_SGD);
    cfg.lr = opt_hyper(L, "lr", cfg.lr);
    cfg.momentum = opt_hyper(L, "momentum", cfg.momentum);
    cfg.weight_decay = opt_hyper(L, "weight_decay", cfg.weight_decay);
    cfg.nesterov = siam_lua_opt_boolean(L, 1, "nesterov", 0);
    if (cfg.nesterov && cfg.momentum <= 0.0)
        return luaL_argerror(L, 1, "nesterov needs momentum > 0");
    return push_optim(L, &cfg);
}

/* opt.lr (read and write), opt.kind, opt.steps, opt.weight_decay,
 * opt.momentum, opt.betas, opt.bound */
static int optim_index(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_OPTIM_MT);
    siam_lua_optim *lo = box->ptr;
    const char *key = lua_type(L, 2) == LUA_TSTRING && lo != NULL ? lua_tostring(L, 2) : "";
    if (strcmp(key, "lr") == 0) {
        lua_pushnumber(L, lo->o ? siam_optim_lr(lo->o) : lo->cfg.lr);
    } else if (strcmp(key, "kind") == 0) {
        lua_pushstring(L, siam_optim_kind_name(lo->cfg.kind));
    } else if (strcmp(key, "steps") == 0) {
        lua_pushinteger(L, lo->o ? siam_optim_steps(lo->o) : 0);
    } else if (strcmp(key, "weight_decay") == 0) {
        lua_pushnumber(L, lo->cfg.weight_decay);
    } else if (strcmp(key, "momentum") == 0 && lo->cfg.kind == SIAM_OPTIM_SGD) {
        lua_pushnumber(L, lo->cfg.momentum);
    } else if (strcmp(key, "nesterov") == 0 && lo->cfg.kind == SIAM_OPTIM_SGD) {
        lua_pushboolean(L, lo->cfg.nesterov);
    } else if (strcmp(key, "eps") == 0 && lo->cfg.kind != SIAM_OPTIM_SGD) {
        lua_pushnumber(L, lo->cfg.eps);
    } else if (strcmp(key, "betas") == 0 && lo->cfg.kind != SIAM_OPTIM_SGD) {
        lua_createtable(L, 2, 0);
        lua_pushnumber(L, lo->cfg.beta1);
        lua_rawseti(L, -2, 1);
        lua_pushnumber(L, lo->cfg.beta2);
        lua_rawseti(L, -2, 2);
    } else if (strcmp(key, "bound") == 0) {
        lua_pushboolean(L, lo->o != NULL);
    } else {
        lua_pushvalue(L, 2);
        lua_gettable(L, lua_upvalueindex(1));
    }
    return 1;
}

static int optim_newindex(lua_State *L)
{
    siam_lua_optim *lo = siam_lua_checkoptim(L, 1);
    const char *key = luaL_checkstring(L, 2);
    if (strcmp(key, "lr") != 0)
        return luaL_error(L, "siam.Optimizer: field '%s' cannot be set (only 'lr')", key);
    if (lua_type(L, 3) != LUA_TNUMBER)
        return luaL_error(L, "siam.Optimizer: lr must be a number, got %s", luaL_typename(L, 3));
    double lr = lua_tonumber(L, 3);
    const char *rule = siam_optim_rule("lr", lr);
    if (rule != NULL)
        return luaL_error(L, "siam.Optimizer: lr must be %s, got %f", rule, lr);
    lo->cfg.lr = lr;
    if (lo->o)
        siam_optim_set_lr(lo->o, lr);
    return 0;
}

static int optim_tostring(lua_State *L)
{
    siam_lua_box *box = siam_lua_checkbox(L, 1, SIAM_OPTIM_MT);
    siam_lua_optim *lo = box->ptr;
    if (lo == NULL) {
        lua_pushliteral(L, "siam.Optimizer (closed)");
        return 1;
    }
    double lr = lo->o ? siam_optim_lr(lo->o) : lo->cfg.lr;
    if (lo->cfg.kind == SIAM_OPTIM_SGD)
        lua_pushfstring(L, "siam.Optimizer(sgd, lr %f, momentum %f, nesterov %s, weight_decay %f)",
                        lr, lo->cfg.momentum, lo->cfg.nesterov ? "on" : "off",
                        lo->cfg.weight_decay);
    else
        lua_pushfstring(L, "siam.Optimizer(%s, lr %f, betas (%f, %f), eps %f, weight_decay %f)",
                        siam_optim_kind_name(lo->cfg.kind), lr, lo->cfg.beta1, lo->cfg.beta2,
                        lo->cfg.eps, lo->cfg.weight_decay);
    return 1;
}

static const luaL_Reg optim_methods[] = { { "close", optim_gc }, { NULL, NULL } };

static const luaL_Reg optim_meta[] = {
    { "__index", optim_index }, { "__newindex", optim_newindex },
    { "__tostring", optim_tostring }, { "__gc", optim_gc }, { "__close", optim_gc },
    { NULL, NULL }
};

static const luaL_Reg optim_funcs[] = {
    { "adam", optim_adam }, { "adamw", optim_adamw }, { "sgd", optim_sgd }, { NULL, NULL }
};

void siam_lua_open_optim(lua_State *L)
{
    siam_lua_newclass(L, SIAM_OPTIM_MT, optim_methods, optim_meta);
    lua_newtable(L);
    luaL_setfuncs(L, optim_funcs, 0);
    lua_setfield(L, -2, "optim");
}
